"""Raw MIME in, :class:`ParsedMail` out, never trusting the sender.

The standard library's parser (compat32 policy: header values stay raw, so decoding them
is ours and cannot raise) builds the tree; its message factory stops it at the first part
past ``Limits.max_parts`` or deeper than ``Limits.max_depth``, so a gigantic or deeply
nested message costs bounded time and memory before it is rejected. Each part is read by
``mail.parts``. Bodies and headers decode through a
fallback chain of charsets (``mail.headers``); attachments are kept as the bytes sent
(never decompressed); HTML becomes safe text (``mail.html``); the reply is cut from its
history (``mail.html`` for marked HTML, ``mail.quotes`` for text); ``mail.auto`` says
whether a machine sent it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesFeedParser

from servicedesk.mail import headers as hdr
from servicedesk.mail import html as html_text
from servicedesk.mail import parts, quotes
from servicedesk.mail.auto import detect as detect_auto
from servicedesk.mail.message import Attachment, Limits, ParsedMail, Unparseable

MAX_HEADERS_KEPT = 200
MAX_HEADER_VALUE_CHARS = 2000
_HEADER_END = re.compile(rb"\r?\n\r?\n")
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

    def to_text(self, markup: str) -> str:
        """HTML as text; markup past what the text could keep is not laid out (bounded time:
        the layout costs about a second a megabyte)."""
        limit = self.limits.max_text_chars * 5
        if len(markup) > limit:
            self.defects.append(f"HTML past {limit} characters not converted")
            markup = markup[:limit]
        return html_text.to_text(markup)

    def attach(self, attachment: Attachment) -> None:
        if len(self.attachments) >= self.limits.max_attachments:
            self.dropped_attachments += 1
            return
        self.attachments.append(attachment)


def _add_attachment(part: Message, body: _Body, content_type: str, *, inline: bool) -> None:
    defects = body.defects
    data = parts.serialised(part, defects) if part.is_multipart() else parts.payload(part, defects)
    cid = parts.content_id(part)
    body.attach(
        Attachment(
            filename=parts.filename(part, content_type, len(body.attachments) + 1, defects),
            content_type=content_type,
            content=data,
            content_id=cid,
            inline=inline and cid is not None,
        )
    )


def _walk(part: Message, body: _Body, depth: int, *, in_related: bool = False) -> None:
    if depth > body.limits.max_depth:
        raise Unparseable("too_deep", f"deeper than {body.limits.max_depth}")
    content_type = parts.content_type_of(part)
    maintype = content_type.split("/", 1)[0]
    if content_type == "message/rfc822":
        _forwarded(part, body, depth)
        return
    if maintype == "multipart":
        _multipart(part, content_type, body, depth)
        return
    if parts.is_body_text(part, content_type):
        text = parts.text_of(part, body.defects)
        (body.plain if content_type == "text/plain" else body.html).append(text)
        return
    if content_type in ("message/delivery-status", "message/global-delivery-status"):
        body.report = body.report or "delivery-status"
    inline = in_related or parts.disposition(part) == "inline"
    _add_attachment(part, body, content_type, inline=inline)


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
    """One rendering of the same content: the plain text if it is real, else the HTML as
    text; the HTML is kept either way. Parts that are not text (a calendar invite, an
    inline image) are attachments."""
    sub = _Body(limits=body.limits, defects=body.defects)
    for child in children:
        _walk(child, sub, depth + 1)
    plain = sub.plain[0].strip("\n") if sub.plain else ""
    markup = sub.html[-1] if sub.html else None  # the last alternative is the richest
    if markup is not None:
        body.html.append(markup)
    text = _pick_text(plain, markup, body)
    if text:
        body.plain.append(text)
    body.forwarded.extend(sub.forwarded)
    for attachment in sub.attachments:
        body.attach(attachment)
    body.report = body.report or sub.report


# A plain alternative this much shorter than the HTML's text is a stub ("view this message
# in a browser"), not the message.
_STUB_CHARS = 200
_STUB_RATIO = 3


def _pick_text(plain: str, markup: str | None, body: _Body) -> str:
    if markup is None or len(plain.strip()) >= _STUB_CHARS:
        return plain
    converted = body.to_text(markup)
    if not plain.strip() or len(converted) > _STUB_RATIO * len(plain) + 100:
        if plain.strip():
            body.defects.append("plain-text alternative is a stub: HTML used")
        return converted
    return plain


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
        for value in _all(inner, name)[:1]:
            lines.append(f"{name}: {hdr.decode_header(value, body.defects)}")
    text = "\n".join(sub.plain) or "\n".join(body.to_text(h) for h in sub.html)
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
    return hdr.parse_address_list([hdr.unfold(v, []) for v in _all(message, name)], defects)


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
    defects: list[str] = []
    headers = _raw_headers(message, defects)
    raw_from = _all(message, "From")
    from_address, from_name = (None, "")
    if len(raw_from) == 1:
        from_address, from_name = hdr.parse_mailbox(hdr.unfold(raw_from[0], []), defects)
    elif len(raw_from) > 1:
        defects.append("more than one From header")
    reply_to = _addresses(message, "Reply-To", defects)

    body = _Body(limits=limits, defects=defects)
    _walk(message, body, 0)
    _collect_part_defects(message, defects)

    html = "\n".join(body.html) if body.html else None
    own = "\n\n".join(p.strip("\n") for p in body.plain if p.strip())
    if not own and html:
        own = body.to_text(html)
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
        defects.extend(type(defect).__name__ for defect in part.defects[:10])
        if len(defects) > 100:
            return
