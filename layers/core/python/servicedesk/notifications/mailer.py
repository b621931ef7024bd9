"""E-mail out: an RFC 5322 message (multipart/alternative, text + HTML), sent through
SES v2 as raw content — or, when `mail_catcher_dir` is set (dev, test), written there as
`<timestamp>-<event>-<recipient>.eml` for a developer to read (the local runtime's mail
viewer, local/devmail.py).
"""

from __future__ import annotations

import binascii
import hashlib
import re
import secrets
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy, quoprimime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from servicedesk.notifications.templates import Rendered, one_line, reply_domain
from servicedesk.platform import aws, metrics
from servicedesk.platform.config import Settings
from servicedesk.platform.metric_names import EMAILS_SENT
from servicedesk.platform.schemas import EMAIL_RE

TENANT_HEADER = "X-Servicedesk-Tenant"
EVENT_HEADER = "X-Servicedesk-Event"
CAUGHT_NAME = re.compile(
    r"^[0-9]{8}T[0-9]{12}Z-[a-z._]{1,40}-[A-Za-z0-9@._+-]{1,120}(?:-[0-9]+)?\.eml$"
)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # maintype/subtype
    data: bytes


@dataclass(frozen=True)
class Outgoing:
    to: str
    from_name: str
    rendered: Rendered
    event_type: str
    event_id: uuid.UUID
    tenant_id: uuid.UUID
    ticket_id: uuid.UUID | None = None
    # A ticket mail's own Message-ID (recorded, so that replies thread by it), and the
    # Message-ID of the mail that opened the ticket, which its thread then answers.
    message_id: str | None = None
    origin: str | None = None
    # Files (a scheduled report): the message becomes multipart/mixed around the text+HTML.
    attachments: tuple[Attachment, ...] = ()


def message_id_for(event_id: uuid.UUID, recipient_key: str, settings: Settings) -> str:
    """A ticket mail's Message-ID: the same for a redelivery of the same mail; its domain in
    lower case, as the intake's parser normalises the ids it reads."""
    digest = hashlib.sha256(recipient_key.encode()).hexdigest()[:12]
    return f"<{event_id.hex}.{digest}@{reply_domain(settings).lower()}>"


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
_PLAIN_NAME = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")  # a display name never quoted


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
    name = one_line(mail.from_name, 100)
    if _PLAIN_NAME.fullmatch(name) and _PLAIN_VALUE.fullmatch(sender):
        _put(message, "From", f"{name} <{sender}>")  # what Address() would write
    else:
        message["From"] = Address(name, local, domain)
    _put(message, "To", mail.to)  # a plain dot-atom address (sendable)
    _put(message, "Subject", mail.rendered.subject)
    _put(message, "Date", format_datetime(datetime.now(UTC)))
    _put(
        message,
        "Message-ID",
        mail.message_id or make_msgid(idstring=str(mail.event_id), domain=reply_domain(settings)),
    )
    if mail.ticket_id is not None:
        # One thread per ticket in the recipient's mail client; under the requester's own
        # first mail when the ticket came in by e-mail.
        thread = f"<ticket-{mail.ticket_id}@{reply_domain(settings)}>"
        _put(message, "In-Reply-To", mail.origin or thread)
        _put(message, "References", f"{mail.origin} {thread}" if mail.origin else thread)
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
    _alternatives(message, mail.rendered.text, mail.rendered.html)
    if mail.attachments:
        message.make_mixed()
        for attachment in mail.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(
                attachment.data,
                maintype=maintype,
                subtype=subtype,
                filename=one_line(attachment.filename, 100),
            )
    return message


def _alternatives(message: EmailMessage, text: str, html: str) -> None:
    """multipart/alternative of the text and the HTML, byte for byte what `set_content`
    and `add_alternative` write (tests/unit/test_mailer.py compares them), with every
    header set raw: through the header parser they cost a millisecond a mail."""
    boundary = _boundary(text + html)
    message.set_raw("MIME-Version", "1.0")
    message.set_raw("Content-Type", f'multipart/alternative;\n boundary="{boundary}"')
    for body, subtype in ((text, "plain"), (html, "html")):
        part = EmailMessage(policy=_POLICY)
        encoding, payload = _encoded(body)
        part.set_raw("Content-Type", f'text/{subtype}; charset="utf-8"')
        part.set_raw("Content-Transfer-Encoding", encoding)
        if subtype == "html":
            part.set_raw("MIME-Version", "1.0")  # as add_alternative writes it
        part.set_payload(payload)
        message.attach(part)


def encode(message: EmailMessage) -> bytes:
    """`message.as_bytes()` for what `build` makes, written directly: the generator parses
    each part's Content-Type again several times, which cost as much as building the mail.
    Headers are folded by the policy as the generator folds them; bodies get CRLF line
    ends; a surrogate-escaped 8bit body goes back to its bytes (tests/unit/test_mailer.py
    compares the result with `as_bytes()`)."""
    out = [_header_block(message)]
    parts = message.get_payload()
    if not isinstance(parts, list) or message.get_content_subtype() != "alternative":
        return message.as_bytes()  # not the shape build makes (attachments): the library
    boundary = message.get_boundary()
    delimiter = f"--{boundary}\r\n".encode("ascii")
    for index, part in enumerate(parts):
        out.append(delimiter if index == 0 else b"\r\n" + delimiter)
        out.append(_header_block(part))
        # As stored: get_payload() would decode an 8bit body (parsing headers to do it).
        body = part._payload
        if isinstance(body, str) and body:
            lines = _LINE_ENDS.split(body)
            out.append("\r\n".join(lines).encode("ascii", "surrogateescape"))
    out.append(f"\r\n--{boundary}--\r\n".encode("ascii"))
    return b"".join(out)


_LINE_ENDS = re.compile(r"\r\n|\r|\n")


def _header_block(message: EmailMessage) -> bytes:
    folded = b"".join(_POLICY.fold_binary(name, value) for name, value in message.raw_items())
    return folded + b"\r\n"


def _boundary(text: str) -> str:
    """As email.generator makes one: 15 "=", a random 19-digit number, "=="; never a
    string the bodies contain."""
    while True:
        boundary = f"{'=' * 15}{secrets.randbelow(sys.maxsize):019d}=="
        if boundary not in text:
            return boundary


def _encoded(text: str) -> tuple[str, str]:
    """(Content-Transfer-Encoding, body) for UTF-8 text, chosen as the standard library's
    content manager chooses them under this policy (email.contentmanager._encode_text):
    7bit or 8bit when no line is longer than the policy allows, else the shorter of
    quoted-printable and base64 on the first ten lines."""
    lines = text.encode("utf-8").splitlines()
    limit = _POLICY.max_line_length or sys.maxsize
    normal = b"\n".join(lines) + b"\n"
    if max((len(line) for line in lines), default=0) <= limit:
        return ("7bit" if normal.isascii() else "8bit"), normal.decode("ascii", "surrogateescape")
    embedded = b"\r\n".join(lines[:10]) + b"\r\n"
    sniff_qp = quoprimime.body_encode(embedded.decode("latin-1"), limit)
    if len(sniff_qp) > len(binascii.b2a_base64(embedded)):
        data = b"\r\n".join(lines) + b"\r\n"
        return "base64", _base64_lines(data, limit)
    if len(lines) <= 10:
        return "quoted-printable", sniff_qp
    return "quoted-printable", quoprimime.body_encode(normal.decode("latin-1"), limit)


def _base64_lines(data: bytes, limit: int) -> str:
    """email.contentmanager._encode_base64: base64 in lines of at most `limit`."""
    width = limit // 4 * 3
    return "".join(
        binascii.b2a_base64(data[start : start + width]).decode("ascii")
        for start in range(0, len(data), width)
    )


def send(mail: Outgoing, settings: Settings) -> str:
    """Send (or catch) one message; its SES message id, or the caught file's name."""
    message = build(mail, settings)
    metrics.count(EMAILS_SENT)
    if settings.mail_catcher_dir:
        return catch(Path(settings.mail_catcher_dir), message, mail.event_type, mail.to).name
    result = aws.ses().send_email(
        Destination={"ToAddresses": [mail.to]}, Content={"Raw": {"Data": encode(message)}}
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
                handle.write(encode(message))
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"too many messages named {base}")
