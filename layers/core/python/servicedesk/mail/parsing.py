"""Raw MIME in, :class:`ParsedMail` out, never trusting the sender.

The standard library's parser (compat32 policy: header values stay raw, so decoding them
is ours and cannot raise) builds the tree; a counting message factory stops it once a
message has more parts than ``Limits.max_parts``, so a gigantic or deeply nested message
costs bounded time and memory before it is rejected. Bodies and headers decode through a
fallback chain of charsets (``mail.headers``); attachments are kept as the bytes sent
(never decompressed); HTML becomes safe text (``mail.html``); the reply is cut from its
history (``mail.html`` for marked HTML, ``mail.quotes`` for text); ``mail.auto`` says
whether a machine sent it.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from email import errors as email_errors
from email import policy
from email.message import Message
from email.parser import BytesFeedParser

from servicedesk.mail import headers as hdr
from servicedesk.mail import html as html_text
from servicedesk.mail import quotes
from servicedesk.mail.auto import detect as detect_auto
from servicedesk.mail.message import Attachment, Limits, ParsedMail, Unparseable

MAX_HEADERS_KEPT = 200
MAX_HEADER_VALUE_CHARS = 2000
MAX_FILENAME_CHARS = 150
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
_FEED_CHUNK = 64 * 1024
DEFAULT_LIMITS = Limits()


class _OverLimit(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _bounded_parser(limits: Limits) -> BytesFeedParser:
    """A parser whose message factory refuses the part after ``max_parts`` and any part
    deeper than ``max_depth``: the parser creates one message per part as it reads, so it
    stops there instead of building the rest. (The depth comes from the parser's stack of
    open messages, a CPython detail read defensively; the walk checks depth again.)"""
    count = 0
    made: list[BytesFeedParser] = []  # empty while the parser's constructor probes the factory

    class Bounded(Message):
        def __init__(self, *args: object, **kwargs: object) -> None:
            nonlocal count
            if made:
                count += 1
                if count > limits.max_parts:
                    raise _OverLimit("too_many_parts")
                if len(getattr(made[0], "_msgstack", ())) > limits.max_depth:
                    raise _OverLimit("too_deep")
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    made.append(BytesFeedParser(_factory=Bounded, policy=policy.compat32))
    return made[0]


def _read_tree(raw: bytes, limits: Limits) -> Message:
    if len(raw) > limits.max_bytes:
        raise Unparseable("too_large", f"{len(raw)} bytes")
    end = _HEADER_END.search(raw, 0, limits.max_header_bytes + 4)
    if end is None and len(raw) > limits.max_header_bytes:
        raise Unparseable("headers_too_large")
    parser = _bounded_parser(limits)
    try:
        for start in range(0, len(raw), _FEED_CHUNK):
            parser.feed(raw[start : start + _FEED_CHUNK])
        message = parser.close()
    except _OverLimit as over:
        raise Unparseable(
            over.reason, f"parts {limits.max_parts}, depth {limits.max_depth}"
        ) from None
    except RecursionError:
        raise Unparseable("too_deep") from None
    if not message.keys():
        raise Unparseable("not_mime", "no headers")
    return message


@dataclass
class _Body:
    """What the walk collects."""

    limits: Limits
    defects: list[str]
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    report: str | None = None  # multipart/report's report-type
    dropped_attachments: int = 0

    def attach(self, attachment: Attachment) -> None:
        if len(self.attachments) >= self.limits.max_attachments:
            self.dropped_attachments += 1
            return
        self.attachments.append(attachment)


def _content_type(part: Message) -> str:
    value = part.get_content_type().lower()
    return (
        value if re.fullmatch(r"[a-z0-9.+_-]+/[a-z0-9.+_-]+", value) else "application/octet-stream"
    )


def _payload(part: Message, defects: list[str]) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, AssertionError):
        defects.append("undecodable part body")
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("ascii", "surrogateescape") if isinstance(raw, str) else b""


def _text_of(part: Message, body: _Body) -> str:
    charset = part.get_param("charset")
    text = hdr.decode_bytes(
        _payload(part, body.defects), charset if isinstance(charset, str) else None, body.defects
    )
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _extension(content_type: str) -> str:
    known = {"message/rfc822": ".eml", "text/calendar": ".ics", "text/html": ".html"}
    if content_type in known:
        return known[content_type]
    if content_type.startswith(("text/", "message/")):
        return ".txt"
    return mimetypes.guess_extension(content_type) or ".bin"


def _filename(part: Message, body: _Body, content_type: str) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except (ValueError, TypeError, LookupError, UnicodeError):
        name = ""
        body.defects.append("unreadable filename")
    if isinstance(name, tuple):  # an RFC 2231 value get_param did not collapse
        name = name[2]
    name = hdr.decode_header(str(name), body.defects)
    name = _UNSAFE_FILENAME.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        name = (
            f"{stem[: MAX_FILENAME_CHARS - 10]}.{ext[:8]}"
            if dot and len(ext) <= 8
            else name[:MAX_FILENAME_CHARS]
        )
    if not name:
        name = f"attachment-{len(body.attachments) + 1}{_extension(content_type)}"
    return name


def _content_id(part: Message) -> str | None:
    value = part.get("Content-ID")
    if not value:
        return None
    ident = str(value).strip().strip("<>").strip()
    return ident[:250] or None


def _disposition(part: Message) -> str:
    value = part.get("Content-Disposition")
    return str(value).split(";", 1)[0].strip().lower() if value else ""


def _is_body_text(part: Message, content_type: str) -> bool:
    if content_type not in ("text/plain", "text/html"):
        return False
    if _disposition(part) == "attachment":
        return False
    return not part.get_filename()


def _serialised(part: Message, defects: list[str]) -> bytes:
    """The bytes of a message/* part the parser split into messages (message/rfc822: the
    forwarded message; message/delivery-status: its blocks of fields)."""
    blocks = [p for p in part.get_payload() if isinstance(p, Message)]
    try:
        return b"\n".join(p.as_bytes(policy=policy.compat32) for p in blocks)
    except (ValueError, TypeError, LookupError, UnicodeError, email_errors.MessageError):
        defects.append("unserialisable message part")
        return b""


def _add_attachment(part: Message, body: _Body, content_type: str, *, inline: bool) -> None:
    data = _serialised(part, body.defects) if part.is_multipart() else _payload(part, body.defects)
    cid = _content_id(part)
    body.attach(
        Attachment(
            filename=_filename(part, body, content_type),
            content_type=content_type,
            content=data,
            content_id=cid,
            inline=inline and cid is not None,
        )
    )


def _walk(part: Message, body: _Body, depth: int, *, in_related: bool = False) -> None:
    if depth > body.limits.max_depth:
        raise Unparseable("too_deep", f"deeper than {body.limits.max_depth}")
    content_type = _content_type(part)
    maintype = content_type.split("/", 1)[0]
    if content_type == "message/rfc822":
        _forwarded(part, body, depth)
        return
    if maintype == "multipart":
        _multipart(part, content_type, body, depth)
        return
    if _is_body_text(part, content_type):
        (body.plain if content_type == "text/plain" else body.html).append(_text_of(part, body))
        return
    if content_type in ("message/delivery-status", "message/global-delivery-status"):
        body.report = body.report or "delivery-status"
    disposition = _disposition(part)
    _add_attachment(part, body, content_type, inline=in_related or disposition == "inline")


def _multipart(part: Message, content_type: str, body: _Body, depth: int) -> None:
    children = [c for c in part.get_payload() if isinstance(c, Message)]
    if not children:
        body.defects.append(f"empty {content_type}")
        return
    if content_type == "multipart/alternative":
        _alternative(children, body, depth)
        return
    if content_type == "multipart/report":
        body.report = str(part.get_param("report-type") or "delivery-status").lower()
    related = content_type == "multipart/related"
    for child in children:
        _walk(child, body, depth + 1, in_related=related)


def _alternative(children: list[Message], body: _Body, depth: int) -> None:
    """Keep the plain text if it is real, the HTML always (converted when no plain)."""
    sub = _Body(limits=body.limits, defects=body.defects)
    for child in children:
        _walk(child, sub, depth + 1)
    plain = "\n".join(sub.plain)
    if plain.strip():
        body.plain.append(plain)
    if sub.html:
        body.html.append("\n".join(sub.html))
        if not plain.strip():
            body.plain.append(html_text.to_text(sub.html[0]))
    body.forwarded.extend(sub.forwarded)
    for attachment in sub.attachments:
        body.attach(attachment)
    body.report = body.report or sub.report


def _forwarded(part: Message, body: _Body, depth: int) -> None:
    """A forwarded message: its text shown as the forwarded part, the .eml kept."""
    _add_attachment(part, body, "message/rfc822", inline=False)
    inner = part.get_payload(0) if part.is_multipart() else None
    if not isinstance(inner, Message):
        return
    sub = _Body(limits=body.limits, defects=body.defects)
    _walk(inner, sub, depth + 1)
    lines = ["---------- Forwarded message ----------"]
    for name in ("From", "Date", "Subject", "To"):
        value = inner.get(name)
        if value:
            lines.append(f"{name}: {hdr.decode_header(str(value), body.defects)}")
    text = "\n".join(sub.plain) or "\n".join(html_text.to_text(h) for h in sub.html)
    body.forwarded.append("\n".join(lines) + "\n\n" + text.strip())
    for attachment in sub.attachments:
        body.attach(attachment)


def _raw_headers(message: Message, defects: list[str]) -> list[tuple[str, str]]:
    kept: list[tuple[str, str]] = []
    for name, value in message.raw_items():
        if len(kept) >= MAX_HEADERS_KEPT:
            defects.append("too many headers kept")
            break
        kept.append(
            (
                str(name)[:100],
                hdr.decode_header(str(value)[: MAX_HEADER_VALUE_CHARS * 4], defects)[
                    :MAX_HEADER_VALUE_CHARS
                ],
            )
        )
    return kept


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    lower = name.lower()
    return next((value for key, value in headers if key.lower() == lower), None)


def _all(message: Message, name: str) -> list[str]:
    """A header's raw values (8-bit bytes still surrogate-escaped: ``decode_header`` decodes)."""
    lower = name.lower()
    return [str(v) for k, v in message.raw_items() if k.lower() == lower]


def _addresses(message: Message, name: str, defects: list[str]) -> tuple[str, ...]:
    return hdr.parse_address_list([hdr.decode_header(v, []) for v in _all(message, name)], defects)


def _bounded(text: str, limit: int, what: str, defects: list[str]) -> str:
    if len(text) <= limit:
        return text
    defects.append(f"{what} cut at {limit} characters")
    return text[:limit]


def parse(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> ParsedMail:
    """The message in ``raw``; raises :class:`Unparseable` when it cannot be taken."""
    if not isinstance(raw, bytes | bytearray):
        raise Unparseable("not_mime", "not bytes")
    message = _read_tree(bytes(raw), limits)
    defects: list[str] = [type(d).__name__ for d in message.defects[:20]]
    headers = _raw_headers(message, defects)
    raw_from = _all(message, "From")
    from_address, from_name = (None, "")
    if len(raw_from) == 1:
        from_address, from_name = hdr.parse_mailbox(
            hdr.decode_header(str(raw_from[0]), []), defects
        )
    elif len(raw_from) > 1:
        defects.append("more than one From header")
    reply_to = _addresses(message, "Reply-To", defects)

    body = _Body(limits=limits, defects=defects)
    _walk(message, body, 0)
    _collect_part_defects(message, defects)

    html = "\n".join(body.html) if body.html else None
    own = "\n\n".join(p.strip("\n") for p in body.plain if p.strip())
    if not own and html:
        own = html_text.to_text(html)
    text = "\n\n".join(t for t in [own, *body.forwarded] if t.strip())
    reply = _reply_text(own, html, limits)
    if not reply.strip():
        reply = text
    if body.dropped_attachments:
        defects.append(f"{body.dropped_attachments} attachments over the limit dropped")

    ids = hdr.message_ids(" ".join(_all(message, "Message-ID")[:1]), keep_last=1)
    return ParsedMail(
        message_id=ids[0] if ids else None,
        in_reply_to=hdr.message_ids(" ".join(_all(message, "In-Reply-To")), keep_last=10),
        references=hdr.message_ids(" ".join(_all(message, "References"))),
        from_address=from_address,
        from_name=from_name,
        reply_to=reply_to[0] if reply_to else None,
        to=_addresses(message, "To", defects),
        cc=_addresses(message, "Cc", defects),
        subject=(_first(headers, "Subject") or "")[:998],
        date=hdr.parse_date(_first(headers, "Date")),
        text=_bounded(text, limits.max_text_chars, "text", defects),
        reply_text=_bounded(reply, limits.max_text_chars, "reply text", defects),
        html=_bounded(html, limits.max_text_chars * 5, "html", defects) if html else None,
        attachments=tuple(body.attachments),
        auto=detect_auto(headers, from_address, body.report),
        headers=tuple(headers),
        defects=tuple(dict.fromkeys(defects))[:100],
    )


def _reply_text(own: str, html: str | None, limits: Limits) -> str:
    """The sender's own words: the HTML's marked structure first, else text heuristics."""
    if html and len(html) <= limits.max_text_chars * 5:
        marked = html_text.reply_text(html)
        if marked is not None and marked.strip():
            return quotes.strip_reply(marked)
    return quotes.strip_reply(own)


def _collect_part_defects(message: Message, defects: list[str]) -> None:
    for part in message.walk():
        for defect in part.defects[:10]:
            name = type(defect).__name__
            if isinstance(defect, email_errors.MessageDefect):
                defects.append(name)
        if len(defects) > 100:
            return
