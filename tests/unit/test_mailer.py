"""The mailer sets plain headers raw and writes the multipart/alternative body itself (the
standard library's header parser cost more than the rest of the e-mail consumer's work per
mail). The bytes must be the ones the library writes: each message is compared with one
built the library's way (headers through the parser, `set_content` + `add_alternative`)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import pytest

from servicedesk.notifications import mailer
from servicedesk.notifications.templates import Rendered, reply_domain
from servicedesk.platform.config import get_settings

BODIES = {
    "ascii": ("Hello Alex,\n\n> The printer jams.\n", "<p>Hello</p>"),
    "non-ascii short lines (8bit)": ("Grüße, Zoë\n\n> Ça marche ✓\n", "<p>é</p>"),
    "long ascii line (quoted-printable)": ("short\n", "<p>" + "x" * 300 + "</p>"),
    "long non-ascii lines (base64)": ("Ü" * 100 + "\n", "é" * 300),
    "more than ten long lines": (
        "a " * 60 + "\n" * 12 + "b" * 100,
        "<p>" + "y" * 90 + "</p>\n" * 15,
    ),
    "empty": ("", ""),
}
SUBJECTS = [
    "[TCK-2026-000123] New ticket: Printer",
    "[TCK-2026-000123] New ticket: the printer on floor 3 jams on every second page, again",
    "Ünïcödé subject ✓",
    "two  spaces and =?utf-8?q?not-a-word?=",
]


def _reference(mail: mailer.Outgoing, date: str, message_id: str) -> EmailMessage:
    """The same message built only through the library's own header and content code."""
    settings = get_settings()
    message = EmailMessage(policy=mailer._POLICY)
    sender = parseaddr(settings.email_sender)[1] or "no-reply@servicedesk.local"
    local, _, domain = sender.rpartition("@")
    message["From"] = Address(mail.from_name, local, domain)
    message["To"] = Address(addr_spec=mail.to)
    message["Subject"] = mail.rendered.subject
    message["Date"] = date
    message["Message-ID"] = message_id
    if mail.ticket_id is not None:
        thread = f"<ticket-{mail.ticket_id}@{reply_domain(settings)}>"
        message["In-Reply-To"] = thread
        message["References"] = thread
    for name, value in mail.rendered.headers.items():
        if name == "List-Unsubscribe":
            message.set_raw(name, value)
        else:
            message[name] = value
    message["Auto-Submitted"] = "auto-generated"
    message[mailer.EVENT_HEADER] = mail.event_type
    message[mailer.TENANT_HEADER] = str(mail.tenant_id)
    message.set_content(mail.rendered.text)
    message.add_alternative(mail.rendered.html, subtype="html")
    return message


def _same_parts(data: bytes) -> bytes:
    """Random parts equalled: the boundary, the date and the message id."""
    data = re.sub(rb"={15}\d{19}==", b"BOUNDARY", data)
    return re.sub(rb"(?m)^(Date|Message-ID): [^\r\n]*", rb"\1: X", data)


@pytest.mark.parametrize("body", list(BODIES), ids=list(BODIES))
@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("ticket", [True, False], ids=["ticket", "no-ticket"])
def test_the_mailer_writes_the_bytes_the_library_would(body: str, subject: str, ticket: bool):
    text, html = BODIES[body]
    headers = {
        "Reply-To": "reply+TCK-2026-000123.0123456789abcdef@servicedesk.local",
        "List-Unsubscribe": "<https://desk.example/v1/notifications/unsubscribe?token="
        + "t" * 120
        + ">",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    rendered = Rendered(subject, "title", "summary", text, html, headers)
    for from_name in ("Acme", "Acme Service Desk 2", 'Äcme, "Inc"', "Acme Inc.", "A" * 80):
        mail = mailer.Outgoing(
            to="agent@acme.example",
            from_name=from_name,
            rendered=rendered,
            event_type="ticket.created",
            event_id=uuid.uuid4(),
            tenant_id=uuid.uuid4(),
            ticket_id=uuid.uuid4() if ticket else None,
        )
        built = mailer.build(mail, get_settings())
        ours = mailer.encode(built)
        assert ours == built.as_bytes()  # the library's generator on our message
        theirs = _reference(
            mail, format_datetime(datetime.now(UTC)), make_msgid(domain="servicedesk.local")
        ).as_bytes()
        assert _same_parts(ours) == _same_parts(theirs)
