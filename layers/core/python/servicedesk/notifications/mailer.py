"""E-mail out: an RFC 5322 message (multipart/alternative, text + HTML), sent through
SES v2 as raw content — or, when `mail_catcher_dir` is set (dev, test), written there as
`<timestamp>-<event>-<recipient>.eml` for a developer to read (the local runtime's mail
viewer, local/devmail.py).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from servicedesk.notifications.templates import Rendered, one_line, reply_domain
from servicedesk.platform import aws
from servicedesk.platform.config import Settings
from servicedesk.platform.schemas import EMAIL_RE

TENANT_HEADER = "X-Servicedesk-Tenant"
EVENT_HEADER = "X-Servicedesk-Event"
CAUGHT_NAME = re.compile(
    r"^[0-9]{8}T[0-9]{12}Z-[a-z._]{1,40}-[A-Za-z0-9@._+-]{1,120}(?:-[0-9]+)?\.eml$"
)


@dataclass(frozen=True)
class Outgoing:
    to: str
    from_name: str
    rendered: Rendered
    event_type: str
    event_id: uuid.UUID
    tenant_id: uuid.UUID
    ticket_id: uuid.UUID | None = None


def sendable(address: str) -> bool:
    """A plain dot-atom address (platform.schemas.EMAIL_RE). Addresses that came in some
    other way (an identity provider's claim, older data) and are not are skipped, never
    written into a header where "a<b@x.com" would name another mailbox."""
    return EMAIL_RE.fullmatch(address) is not None


# Raw header values (set_raw) are written as given, never refolded.
_POLICY = policy.SMTP.clone(refold_source="none")
_URL_HEADERS = frozenset({"List-Unsubscribe"})


# A value the policy would write exactly as given: printable ASCII words, single spaces,
# nothing that reads as an RFC 2047 encoded-word, short enough never to be folded.
_PLAIN_VALUE = re.compile(r"[!-~]+(?: [!-~]+)*")
_FOLD_AT = 78


def _put(message: EmailMessage, name: str, value: str) -> None:
    """Set a header; a plain one raw (`set_raw`), sparing the header parser, which costs
    more than the rest of the message (the consumer sends one mail per recipient)."""
    plain = len(name) + 2 + len(value) <= _FOLD_AT and "=?" not in value
    if plain and _PLAIN_VALUE.fullmatch(value):
        message.set_raw(name, value)
    else:
        message[name] = value


def build(mail: Outgoing, settings: Settings) -> EmailMessage:
    if not sendable(mail.to):
        raise ValueError("recipient is not a plain e-mail address")
    message = EmailMessage(policy=_POLICY)
    sender = parseaddr(settings.email_sender)[1] or "no-reply@servicedesk.local"
    local, _, domain = sender.rpartition("@")
    message["From"] = Address(one_line(mail.from_name, 100), local, domain)
    message["To"] = Address(addr_spec=mail.to)
    message["Subject"] = mail.rendered.subject
    _put(message, "Date", format_datetime(datetime.now(UTC)))
    _put(
        message,
        "Message-ID",
        make_msgid(idstring=str(mail.event_id), domain=reply_domain(settings)),
    )
    if mail.ticket_id is not None:
        # One thread per ticket in the recipient's mail client.
        thread = f"<ticket-{mail.ticket_id}@{reply_domain(settings)}>"
        _put(message, "In-Reply-To", thread)
        _put(message, "References", thread)
    for name, value in mail.rendered.headers.items():
        if name in _URL_HEADERS:
            # RFC 2369: the <URL> as it is. The policy would fold a long one into RFC 2047
            # encoded-words, which no mail client reads as a link; a raw header line may be
            # up to 998 characters (RFC 5322), and is kept as given.
            message.set_raw(name, one_line(value, 900))
        else:
            _put(message, name, value)
    _put(message, "Auto-Submitted", "auto-generated")
    _put(message, EVENT_HEADER, mail.event_type)
    _put(message, TENANT_HEADER, str(mail.tenant_id))
    message.set_content(mail.rendered.text)
    message.add_alternative(mail.rendered.html, subtype="html")
    return message


def send(mail: Outgoing, settings: Settings) -> str:
    """Send (or catch) one message; its SES message id, or the caught file's name."""
    message = build(mail, settings)
    if settings.mail_catcher_dir:
        return catch(Path(settings.mail_catcher_dir), message, mail.event_type, mail.to).name
    result = aws.ses().send_email(
        Destination={"ToAddresses": [mail.to]}, Content={"Raw": {"Data": message.as_bytes()}}
    )
    return str(result.get("MessageId", ""))


def catch(directory: Path, message: EmailMessage, event_type: str, recipient: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    who = re.sub(r"[^A-Za-z0-9@._+-]", "_", recipient)[:120]
    event = re.sub(r"[^a-z._]", "_", event_type.lower())[:40]
    base = f"{stamp}-{event}-{who}"
    for n in range(100):
        path = directory / (f"{base}.eml" if n == 0 else f"{base}-{n}.eml")
        try:
            with path.open("xb") as handle:  # never overwrite another message
                handle.write(message.as_bytes())
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"too many messages named {base}")
