"""One MIME part at a time: its type, decoded bytes, text, file name and identifiers, each
read without trusting what the sender declared."""

from __future__ import annotations

import mimetypes
import re
from email import errors as email_errors
from email import policy
from email.message import Message

from servicedesk.mail import headers as hdr

MAX_FILENAME_CHARS = 150
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def content_type_of(part: Message) -> str:
    value = part.get_content_type().lower()
    return (
        value if re.fullmatch(r"[a-z0-9.+_-]+/[a-z0-9.+_-]+", value) else "application/octet-stream"
    )


def payload(part: Message, defects: list[str]) -> bytes:
    """The decoded bytes of a leaf part (base64/quoted-printable/uuencode undone leniently,
    the library recording defects); the raw bytes when the encoding is unknown."""
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, AssertionError):
        defects.append("undecodable part body")
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def text_of(part: Message, defects: list[str]) -> str:
    """A text part's body as text, line ends normalised."""
    charset = part.get_param("charset")
    text = hdr.decode_bytes(
        payload(part, defects), charset if isinstance(charset, str) else None, defects
    )
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _extension(content_type: str) -> str:
    known = {"message/rfc822": ".eml", "text/calendar": ".ics", "text/html": ".html"}
    if content_type in known:
        return known[content_type]
    if content_type.startswith(("text/", "message/")):
        return ".txt"
    return mimetypes.guess_extension(content_type) or ".bin"


def filename(part: Message, content_type: str, number: int, defects: list[str]) -> str:
    """A safe file name: the sender's (RFC 2231 or 2047 decoded, path and control
    characters removed, bounded) or ``attachment-<number><ext>``."""
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except (ValueError, TypeError, LookupError, UnicodeError):
        name = ""
        defects.append("unreadable filename")
    if isinstance(name, tuple):  # an RFC 2231 value get_param did not collapse
        name = name[2]
    name = hdr.decode_header(str(name), defects)
    name = _UNSAFE_FILENAME.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        name = (
            f"{stem[: MAX_FILENAME_CHARS - 10]}.{ext[:8]}"
            if dot and len(ext) <= 8
            else name[:MAX_FILENAME_CHARS]
        )
    if not name:
        name = f"attachment-{number}{_extension(content_type)}"
    return name


def content_id(part: Message) -> str | None:
    value = part.get("Content-ID")
    if not value:
        return None
    ident = str(value).strip().strip("<>").strip()
    return ident[:250] or None


def disposition(part: Message) -> str:
    value = part.get("Content-Disposition")
    return str(value).split(";", 1)[0].strip().lower() if value else ""


def is_body_text(part: Message, content_type: str) -> bool:
    if content_type not in ("text/plain", "text/html"):
        return False
    if disposition(part) == "attachment":
        return False
    return not part.get_filename()


def serialised(part: Message, defects: list[str]) -> bytes:
    """The bytes of a message/* part the parser split into messages (message/rfc822: the
    forwarded message; message/delivery-status: its blocks of fields)."""
    blocks = [p for p in part.get_payload() if isinstance(p, Message)]
    try:
        return b"\n".join(p.as_bytes(policy=policy.compat32) for p in blocks)
    except (ValueError, TypeError, LookupError, UnicodeError, email_errors.MessageError):
        defects.append("unserialisable message part")
        return b""
