"""What a parsed inbound message is: the one shape the parser (``mail.parsing``) returns
and the intake (threading, tickets, comments) consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class Unparseable(ValueError):
    """The message cannot be taken at all (not MIME, over a limit, no usable sender): the
    intake records it as rejected with ``reason`` and never half-writes a ticket."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason  # a stable code, e.g. "too_large", "too_deep", "no_sender"
        self.detail = detail


@dataclass(frozen=True)
class Limits:
    """Bounds on everything a sender controls (the parser enforces them)."""

    max_bytes: int = 30 * 1024 * 1024
    max_parts: int = 200
    max_depth: int = 12
    max_attachments: int = 50
    max_text_chars: int = 200_000  # the body kept as text (longer is cut, with a defect)
    max_header_bytes: int = 256 * 1024
    max_decompressed_ratio: int = 100  # a compressed transfer/attachment may not expand more


@dataclass(frozen=True)
class Attachment:
    filename: str  # sanitised, never empty ("attachment-1.bin" when none was given)
    content_type: str  # as declared (lower case); the attachments pipeline sniffs the bytes
    content: bytes
    content_id: str | None = None  # for inline images referenced as cid: from the HTML
    inline: bool = False


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None  # "<id@host>", normalised; None when absent or malformed
    in_reply_to: tuple[str, ...]  # message ids, normalised like message_id
    references: tuple[str, ...]
    from_address: str | None  # the sender's addr-spec, lower case; None when unusable
    from_name: str
    reply_to: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str  # decoded (RFC 2047), one line
    date: datetime | None
    text: str  # the whole body as plain text (HTML converted to safe text)
    reply_text: str  # only what the sender wrote: quoted reply and signature stripped
    html: str | None  # the original HTML part, kept for staff; never rendered unsanitised
    attachments: tuple[Attachment, ...] = ()
    # Why this is machine mail (None: a person wrote it): "auto_submitted", "precedence",
    # "autoreply_header", "null_sender", "bounce", "mailer_daemon", ...
    auto: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # decoded, bounded: for staff
    defects: tuple[str, ...] = field(default=())  # tolerated problems, for staff
