"""A help centre for each demo tenant of `make dev` (local/demo.py calls it): a category
tree and articles a real IT desk would have written, mostly published for requesters, a few
internal runbooks, one draft, one waiting for review and one with an earlier version to
diff against.

Written straight into the tables like the rest of the demo history (nobody wrote these
things now), but each published article is announced with the ``kb.article.published``
event the API would emit, so the knowledge consumer embeds it and semantic search works
in `make dev` as soon as the poller has run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert

from servicedesk.kb.models import KbArticle, KbArticleVersion, KbCategory
from servicedesk.platform import outbox
from servicedesk.platform.tenancy import RequestContext

# (key, name, description, parent key)
CATEGORIES: list[tuple[str, str, str, str | None]] = [
    ("accounts", "Accounts & sign-in", "Passwords, MFA and access to company systems", None),
    ("passwords", "Passwords", "Resetting and changing passwords", "accounts"),
    ("mfa", "Multi-factor authentication", "Authenticator apps and security keys", "accounts"),
    ("network", "Network & VPN", "Office Wi-Fi, working remotely, the VPN client", None),
    ("hardware", "Hardware", "Laptops, docks, monitors and printers", None),
    ("printers", "Printers", "Printing and scanning in the offices", "hardware"),
    ("software", "Software & e-mail", "Outlook, Teams and requesting software", None),
]


@dataclass
class Draft:
    title: str
    summary: str
    body: str
    category: str
    tags: list[str]
    audience: str = "public"
    state: str = "published"
    # Earlier published bodies, oldest first (the article's body is the newest).
    history: list[str] = field(default_factory=list)
    views: int = 0
    helpful: int = 0
    not_helpful: int = 0


VPN_BODY = """If the VPN client says **"Unable to establish the VPN connection"**:

1. Check that you are online: open any public website.
2. Quit the VPN client completely (right-click its icon, then *Quit*) and start it again.
3. Sign in with your company e-mail address and approve the prompt in your authenticator app.
4. Still failing? Switch networks (a phone hotspot works): some hotel and café networks
   block VPN traffic.

## Error codes

| Code | Meaning | What to do |
|---|---|---|
| `809` | The network blocks the connection | Try another network |
| `691` | Wrong password or expired account | Reset your password first |
| `ERR_SSL_PROTOCOL_ERROR` | The client is out of date | Update it from the Software Center |

If none of this helps, open a request and include the error code and the network you are on.
"""

ARTICLES: list[Draft] = [
    Draft(
        "Reset your password",
        "Forgot your password or it expired? Reset it yourself in two minutes.",
        """You can reset your own password at any time, even when you are locked out.

1. Go to the sign-in page and choose **Forgot password**.
2. Enter your work e-mail address. We send you a link that works for 30 minutes.
3. Choose a new password: at least 12 characters. A short sentence is easier to remember
   than a jumble of symbols.

Your new password works everywhere at once: e-mail, Wi-Fi, the VPN and your laptop (the
laptop may ask for the old one once, the next time it is on the company network).

> Never share your password, not even with the service desk. We will never ask for it.
""",
        "passwords",
        ["password", "locked out", "account"],
        views=412,
        helpful=57,
        not_helpful=4,
    ),
    Draft(
        "Your account is locked after too many attempts",
        "Ten wrong passwords lock an account for 15 minutes.",
        """After ten wrong passwords in a row your account is locked for **15 minutes**, to stop
someone guessing it. Wait, then sign in again — or reset your password straight away, which
also unlocks the account.

Phones and tablets that still have your *old* password keep trying it in the background:
update the password in their mail app, or remove the account and add it again.
""",
        "passwords",
        ["password", "locked out"],
        views=133,
        helpful=21,
        not_helpful=2,
    ),
    Draft(
        "Set up the authenticator app on a new phone",
        "Moving to a new phone? Move your sign-in approvals first.",
        """Before you wipe or hand in the old phone:

1. Go to **My account → Security info** and choose *Add sign-in method → Authenticator app*.
2. Install the authenticator app on the new phone and scan the QR code shown.
3. Approve the test notification, then delete the old phone from the list.

Already lost the old phone? Open a request: an agent checks who you are by video call and
gives you a one-time code.
""",
        "mfa",
        ["mfa", "authenticator", "phone"],
        views=201,
        helpful=33,
        not_helpful=5,
    ),
    Draft(
        "VPN will not connect",
        "What to try when the VPN client cannot connect from home or on the road.",
        VPN_BODY,
        "network",
        ["vpn", "remote work", "error"],
        views=530,
        helpful=61,
        not_helpful=12,
        history=[
            """If the VPN client cannot connect, restart it and sign in again. If that does not
help, restart your computer. Still failing? Open a request.
""",
        ],
    ),
    Draft(
        "Connect to the office Wi-Fi",
        "Which network to choose in the office, and how guests get online.",
        """In every office, choose **Corp** and sign in with your work e-mail address and password.
Your laptop remembers it after the first time.

Guests use **Corp-Guest**: the reception desk prints a voucher valid for one day. Do not give
guests your own password.
""",
        "network",
        ["wifi", "office", "guest"],
        views=188,
        helpful=19,
        not_helpful=1,
    ),
    Draft(
        "Print from your laptop (follow-me printing)",
        "Send to the one printer queue, then collect at any printer with your badge.",
        """All offices use *follow-me* printing: print to the queue **FollowMe** and collect the
pages at any printer by holding your badge to the reader.

- Jobs wait 24 hours, then they are deleted.
- Colour printing is on the same queue; pick *Colour* in the print dialog.
- Scanning: hold your badge, choose **Scan to me**, and the PDF arrives in your mailbox.
""",
        "printers",
        ["printer", "badge", "scan"],
        views=264,
        helpful=30,
        not_helpful=6,
    ),
    Draft(
        "The laptop does not charge or wake up on the dock",
        "Docks need the right cable and a firmware update now and then.",
        """- Use the dock's own USB-C cable; phone chargers do not deliver enough power.
- Press and hold the power button for 15 seconds, then start the laptop normally.
- If the screens stay black, unplug the dock's power for 30 seconds.

A laptop that does not start at all, even off the dock, needs a look: open a request and
tell us the asset tag on the sticker underneath.
""",
        "hardware",
        ["laptop", "dock", "charging"],
        views=97,
        helpful=12,
        not_helpful=3,
    ),
    Draft(
        "Outlook error 0x80070005 when sending",
        "Access denied while sending usually means a stale offline profile.",
        """The error `0x80070005` ("access denied") appears when Outlook's offline copy of your
mailbox is out of step with the server.

1. Close Outlook.
2. Open **Control Panel → Mail → Show profiles**, and add a new profile.
3. Start Outlook with the new profile and let it download your mailbox (this can take a while).

Your mail, calendar and contacts live on the server: nothing is lost.
""",
        "software",
        ["outlook", "email", "error"],
        views=145,
        helpful=26,
        not_helpful=2,
    ),
    Draft(
        "Request new software",
        "Most approved software installs itself from the Software Center.",
        """Open the **Software Center** on your laptop: everything listed there is approved and
installs without an administrator.

Need something that is not listed? Open a request with the name of the software, what you
need it for and, for paid software, your manager's name: licences need their approval.
""",
        "software",
        ["software", "install", "licence"],
        views=120,
        helpful=14,
        not_helpful=1,
    ),
    Draft(
        "Runbook: unlock an account in the directory",
        "Staff only: when self-service reset is not possible.",
        """1. Verify the person by video call against their badge photo.
2. In the directory console, find the user and choose **Unlock account**.
3. Force a password change at next sign-in; never read a password out.
4. Note in the ticket how the identity was verified.
""",
        "passwords",
        ["runbook", "account"],
        audience="internal",
    ),
    Draft(
        "Runbook: replace a lost MFA device",
        "Staff only: issuing a temporary access pass.",
        """Verify identity first (video call, badge photo). Issue a temporary access pass valid for
one hour, single use, and ask the person to register the new device while on the call.
""",
        "mfa",
        ["runbook", "mfa"],
        audience="internal",
    ),
    Draft(
        "Book a meeting room screen",
        "Draft: how to share your screen in meeting rooms.",
        """Plug in the HDMI or USB-C cable on the table, or use the room's wireless sharing code
shown on the screen.
""",
        "hardware",
        ["meeting room", "screen"],
        state="draft",
    ),
    Draft(
        "Teams calls drop on the VPN",
        "Calls stay off the VPN tunnel; check the client version.",
        """Teams audio and video go straight to the internet, not through the VPN. If calls drop
only while the VPN is connected, update the VPN client from the Software Center.
""",
        "software",
        ["teams", "vpn", "calls"],
        state="in_review",
    ),
]


def seed_kb(ctx: RequestContext, *, now: datetime) -> list[uuid.UUID]:
    """The tenant's knowledge base, in the caller's transaction; the outbox ids it wrote."""
    session, tenant = ctx.session, ctx.tenant_id
    ids = {key: uuid.uuid4() for key, *_ in CATEGORIES}
    session.execute(
        insert(KbCategory),
        [
            {
                "id": ids[key],
                "tenant_id": tenant,
                "parent_id": ids[parent] if parent else None,
                "name": name,
                "description": description,
                "position": position,
            }
            for position, (key, name, description, parent) in enumerate(CATEGORIES)
        ],
    )
    articles: list[dict[str, object]] = []
    versions: list[dict[str, object]] = []
    announced: list[uuid.UUID] = []
    for index, draft in enumerate(ARTICLES):
        article_id = uuid.uuid4()
        created = now - timedelta(days=50 - 3 * index, hours=index)
        published = draft.state == "published"
        bodies = [*draft.history, draft.body] if published else []
        row = {
            "id": article_id,
            "tenant_id": tenant,
            "category_id": ids[draft.category],
            "title": draft.title,
            "summary": draft.summary,
            "body": draft.body,
            "tags": draft.tags,
            "audience": draft.audience,
            "state": draft.state,
            "owner_id": ctx.user_id,
            "created_by": ctx.user_id,
            "updated_by": ctx.user_id,
            "published_version": len(bodies),
            "published_at": created + timedelta(days=len(bodies) * 7) if published else None,
            "view_count": draft.views,
            "helpful_count": draft.helpful,
            "not_helpful_count": draft.not_helpful,
            "created_at": created,
            "updated_at": created + timedelta(days=len(bodies) * 7),
        }
        articles.append(row)
        for number, body in enumerate(bodies, start=1):
            versions.append(
                {
                    "tenant_id": tenant,
                    "article_id": article_id,
                    "number": number,
                    "title": draft.title,
                    "summary": draft.summary,
                    "body": body,
                    "tags": draft.tags,
                    "audience": draft.audience,
                    "category_id": ids[draft.category],
                    "published_by": ctx.user_id,
                    "published_at": created + timedelta(days=number * 7),
                }
            )
    session.execute(insert(KbArticle), articles)
    if versions:
        session.execute(insert(KbArticleVersion), versions)
    for row in articles:
        if row["state"] != "published":
            continue
        announced.append(
            outbox.emit(
                session,
                tenant_id=tenant,
                event_type="kb.article.published",
                aggregate_type="kb_article",
                aggregate_id=row["id"],
                payload={"article_id": row["id"], "state": "published"},
            )
        )
    return announced
