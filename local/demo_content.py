"""What the demo desk is made of (local/demo.py puts it in the database): the teams, the
catalog, the calendar and SLA policies, the people, and the words of the conversations."""

from __future__ import annotations

from typing import Any

# (local part, role, name): more people than the sign-in accounts of local/seed.py, so the
# queues and the dashboard's split by team look like a desk and not a test fixture.
PEOPLE = (
    ("sam.support", "agent", "Sam Support"),
    ("jo.tech", "agent", "Jo Tech"),
    ("priya.patel", "requester", "Priya Patel"),
    ("marco.rossi", "requester", "Marco Rossi"),
    ("lena.schmidt", "requester", "Lena Schmidt"),
    ("tom.okafor", "requester", "Tom Okafor"),
    ("yuki.tanaka", "requester", "Yuki Tanaka"),
    ("nora.berg", "requester", "Nora Berg"),
)

# name -> (description, assignment strategy, members by local part)
TEAMS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "Service Desk": (
        "First line: triage, questions, everything without a better home.",
        "manual",
        ("agent", "sam.support", "manager"),
    ),
    "Hardware": ("Laptops, monitors, phones, printers.", "round_robin", ("agent", "jo.tech")),
    "Network & Access": (
        "VPN, Wi-Fi, accounts and permissions.",
        "least_open",
        ("agent2", "sam.support"),
    ),
    "Applications": ("Business applications and licences.", "manual", ("agent2", "jo.tech")),
}

EMPTY: dict[str, Any] = {}


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


DEVICES = ["Laptop", "Desktop", "Monitor", "Phone", "Printer", "Dock"]
SYSTEMS = ["ERP", "CRM", "Payroll", "Shared drive", "Git server", "Wiki"]
APPS = ["Office suite", "Chat", "Video calls", "Expenses", "Design tools", "Browser"]
SITES = ["Head office", "Warehouse", "Remote", "Branch office"]

# name -> (description, team, fields schema or None, titles with a description each)
CATEGORIES: dict[str, tuple[str, str, dict[str, Any] | None, list[tuple[str, str]]]] = {
    "Hardware problem": (
        "Something physical is broken, slow or missing.",
        "Hardware",
        _schema(
            {
                "device": {"type": "string", "title": "Device", "enum": DEVICES},
                "asset_tag": {"type": "string", "title": "Asset tag", "maxLength": 20},
                "under_warranty": {"type": "boolean", "title": "Under warranty"},
            },
            ["device"],
        ),
        [
            ("Laptop will not charge", "The charger light is on but the battery stays at 3 %."),
            ("Second monitor flickers", "The external screen goes black every few minutes."),
            ("Keyboard missing keys", "The E and R keys came off; typing is painful."),
            ("Printer on floor 2 jams", "Every second page jams in tray 1."),
            ("Phone screen cracked", "Dropped it this morning; the touch screen still works."),
            ("Docking station not detected", "Nothing happens when I plug the laptop in."),
            ("Laptop fan very loud", "The fan runs at full speed even when idle."),
            ("Need a headset for calls", "My old headset's microphone stopped working."),
        ],
    ),
    "Access request": (
        "Access to a system, a shared drive or a distribution list.",
        "Network & Access",
        _schema(
            {
                "system": {"type": "string", "title": "System", "enum": SYSTEMS},
                "access_level": {
                    "type": "string",
                    "title": "Access level",
                    "enum": ["Read", "Write", "Admin"],
                },
                "needed_by": {"type": "string", "title": "Needed by", "format": "date"},
            },
            ["system", "access_level"],
        ),
        [
            ("Access to the finance share", "I joined the finance team and need the reports."),
            ("CRM account for new hire", "Our new colleague starts on Monday."),
            ("Write access to the wiki", "I maintain the onboarding pages now."),
            ("Remove access for leaver", "A contractor's engagement ended on Friday."),
            ("Git server access", "I need to review pull requests for the billing service."),
            ("Payroll read access", "Needed for the quarterly audit."),
        ],
    ),
    "Software issue": (
        "An application crashes, misbehaves or needs installing.",
        "Applications",
        _schema(
            {
                "application": {"type": "string", "title": "Application", "enum": APPS},
                "version": {"type": "string", "title": "Version", "maxLength": 30},
                "users_affected": {
                    "type": "integer",
                    "title": "People affected",
                    "minimum": 1,
                    "maximum": 5000,
                },
            },
            ["application"],
        ),
        [
            ("Spreadsheet crashes on save", "Saving a large workbook closes the application."),
            ("Video calls drop after 10 minutes", "Everyone in the call is disconnected."),
            ("Expense app rejects receipts", "Uploading a PDF receipt fails with an error."),
            ("Chat notifications stopped", "I no longer get notified of direct messages."),
            ("Install design tools", "I need the design suite for the new brochure."),
            ("Browser extension blocked", "The password manager extension was disabled."),
            ("Calendar invites arrive late", "Invitations show up hours after being sent."),
        ],
    ),
    "Network / VPN": (
        "Wi-Fi, VPN, slow or no connection.",
        "Network & Access",
        _schema(
            {
                "site": {"type": "string", "title": "Location", "enum": SITES},
                "wired": {"type": "boolean", "title": "Wired connection"},
            },
            ["site"],
        ),
        [
            ("VPN disconnects every hour", "I have to log in again every hour when remote."),
            ("Wi-Fi slow in meeting room 3", "Video calls freeze in that room only."),
            ("No network at my desk", "The wall socket seems dead; the light is off."),
            ("Cannot reach the intranet", "The intranet times out; other sites load."),
            ("Guest Wi-Fi for visitors", "We have a workshop with 12 external guests."),
        ],
    ),
    "General question": (
        "Anything else: how do I, where is, who can.",
        "Service Desk",
        None,
        [
            ("How do I set up mail on my phone?", "I'd like my work mail on my own phone."),
            ("Where do I order a new mouse?", "Is there a catalogue for accessories?"),
            ("Password expiry reminder", "I got a message my password expires; what now?"),
            ("Out-of-office for a shared inbox", "Can the support inbox auto-reply at night?"),
            ("Recommended backup for my files", "Where should I store project files?"),
        ],
    ),
}

# Conversations: what agents and requesters say, by moment.
FIRST_REPLIES = [
    "Thanks for reporting this. I'm looking into it now.",
    "Hi, thanks for the details. I've picked this up and will update you shortly.",
    "Thanks! Could you tell me when this started and whether anything changed?",
    "Got it. I'll check with the team and come back to you today.",
]
QUESTIONS = [
    "Could you send a photo or a screenshot of what you see?",
    "Can you try restarting once and tell me if it still happens?",
    "Which room or desk are you at, so we can come by?",
    "Does your manager approve this request? A quick reply here is enough.",
]
REQUESTER_REPLIES = [
    "Thanks, here is what I see. It happened again this morning.",
    "Restarting did not help, unfortunately.",
    "I'm at desk 4.12, on the fourth floor.",
    "Yes, approved by my manager (she's in copy).",
    "Any news on this? It's blocking my work.",
    "That worked, thank you!",
]
NOTES = [
    "Checked the asset register: still under warranty, vendor case opened.",
    "Same issue as last week on floor 2; probably the switch. Watching it.",
    "Waiting for the licence order to be approved by purchasing.",
    "Known bug in the current version; the fix ships with the next update.",
    "Spoke to the requester by phone; they are fine with a swap next week.",
]
RESOLUTIONS = [
    "This is fixed now: I replaced the part. Let me know if anything else comes up.",
    "Access is granted; it can take 15 minutes to show up. Closing this for now.",
    "Updated the configuration on our side; it should work again. Thanks for your patience.",
    "Installed and tested with you. Resolving the ticket.",
]
CANCEL_REASONS = [
    "Never mind, it started working again.",
    "Sorry, I filed this twice; please ignore.",
]

# A few small files (text and PNG) for the attachments; PNG bytes are built at seed time.
TEXT_FILES = [
    ("error-log.txt", "2026-01-12 09:14:02 ERROR sync failed: timeout after 30 s\n" * 6),
    ("steps-to-reproduce.txt", "1. Open the app\n2. Save the file\n3. It closes\n"),
]
