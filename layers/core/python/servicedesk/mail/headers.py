"""Header values a sender controls, decoded without trusting them: RFC 2047 words, raw
8-bit bytes, charsets (declared, mislabelled or unknown), addresses, message ids, dates."""

from __future__ import annotations

import base64
import codecs
import quopri
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_ID_CHARS = 998  # a header line's limit: a longer "id" is garbage
MAX_REFERENCES = 50
MAX_ADDRESSES = 100

# Names mail software writes that Python's codecs spell differently, and the supersets
# mail clients really mean (as browsers do: WHATWG's encoding table).
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "windows-31j": "cp932",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}
# Charsets that would decode anything and so hide a mislabelled UTF-8 body.
_SINGLE_BYTE = frozenset({"cp1252", "latin_1", "iso8859-15", "cp1250", "cp1254"})
# Python codecs that are text encodings but no mail charset (escape and IDNA codecs).
_NOT_MAIL_CODECS = frozenset(
    {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "mbcs", "oem"}
)
# Codecs that are not text encodings (codecs.lookup knows "rot13", "zlib", "base64"...).
_TEXT_CODEC = re.compile(r"^[a-z0-9_-]+$")


def codec_for(charset: str | None) -> str | None:
    """The Python codec for a declared charset, or None when it is unknown or not text."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    if not _TEXT_CODEC.match(name):
        return None
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_MAIL_CODECS:
        return None
    return _CHARSET_ALIASES.get(info.name, info.name)


def _mislabelled_utf8(
    data: bytes, codec: str | None, charset: str | None, defects: list[str]
) -> str | None:
    """UTF-8 labelled as Latin-1/ASCII (or unlabelled) is the commonest mislabel; valid
    multi-byte UTF-8 is almost never intended as Latin-1 text."""
    if codec is not None and codec not in _SINGLE_BYTE:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if codec is not None and charset and not data.isascii():
        defects.append(f"charset {charset.strip()[:40]!r} mislabels UTF-8")
    return text


def decode_bytes(data: bytes, charset: str | None, defects: list[str]) -> str:
    """Text from ``data`` declared as ``charset``: the declared codec when it fits, else UTF-8,
    else Windows-1252, else Latin-1 (which never fails); a defect names each fallback."""
    codec = codec_for(charset)
    if charset and codec is None:
        defects.append(f"unknown charset {charset.strip()[:40]!r}")
    text = _mislabelled_utf8(data, codec, charset, defects)
    if text is not None:
        return text
    if codec is not None:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            defects.append(f"bytes invalid in charset {charset!r}")
        except (LookupError, ValueError):  # a codec that refuses to decode (e.g. "idna")
            defects.append(f"charset {charset!r} cannot decode")
    for fallback in ("utf-8", "cp1252"):
        try:
            return data.decode(fallback)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# RFC 2047 encoded words; whitespace between two adjacent words is not part of the text.
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(=\?[^?\s]{1,60}\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?)")


def _decode_word(match: re.Match[str], defects: list[str]) -> str:
    charset, encoding, payload = match.group(1), match.group(2).lower(), match.group(3)
    charset = charset.split("*", 1)[0]  # RFC 2231 language suffix: =?utf-8*en?Q?...?=
    try:
        if encoding == "b":
            data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=False)
        else:
            data = quopri.decodestring(
                payload.replace("_", " ").encode("ascii", "replace"), header=True
            )
    except ValueError:
        defects.append("bad encoded word in header")
        return match.group(0)
    return decode_bytes(data, charset, defects)


def unfold(value: str, defects: list[str]) -> str:
    """A raw header value (from the compat32 parser: 8-bit bytes surrogate-escaped) as one
    line of text, encoded words left as they are (address headers are parsed first, so
    that an encoded word cannot smuggle "<" or "," into their structure)."""
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        raw = value.encode("ascii", "surrogateescape")
        value = decode_bytes(raw, "utf-8", defects)
        defects.append("8-bit bytes in a header")
    return " ".join(re.sub(r"\r?\n[ \t]*", " ", value).replace("\x00", "").split())


def decode_header(value: str, defects: list[str]) -> str:
    """A raw header value as text: unfolded, RFC 2047 encoded words decoded."""
    value = unfold(value, defects)
    if "=?" in value:
        value = _BETWEEN_WORDS.sub(r"\1", value)
        value = _ENCODED_WORD.sub(lambda m: _decode_word(m, defects), value)
        value = " ".join(value.replace("\x00", "").split())
    return value


# Strict addresses: "Name <local@domain>", "local@domain" or "local@domain (Name)".
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\uffff]+"
_LOCAL = rf'(?:{_ATOM}(?:\.{_ATOM})*|"(?:[^"\\\r\n]|\\.)+")'
_LABEL = r"[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\-\u0080-\uffff]{0,61}[A-Za-z0-9\u0080-\uffff])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})+"
ADDR_SPEC = re.compile(rf"{_LOCAL}@{_DOMAIN}")
# The display name: quoted strings, comments, or text without "@", brackets or parentheses,
# so that "alice@example.org)<bob@example.org>" (CVE-2023-27043's shape) is no mailbox.
_ANGLE = re.compile(
    r'^(?P<name>(?:"(?:[^"\\]|\\.)*"|\([^()<>@"]*\)|[^<>"@()])*)'
    r"<(?P<addr>[^<>]*)>\s*(?:\([^()]*\))?$"
)
_BARE = re.compile(r"^(?P<addr>[^\s<>()\",;:]+)\s*(?:\((?P<name>[^()]*)\))?$")


def parse_mailbox(value: str, defects: list[str]) -> tuple[str | None, str]:
    """(addr-spec in lower case or None, decoded display name) of ONE mailbox; anything
    ambiguous (two addresses, garbage around the address) gives None."""
    value = value.strip()
    if len(value) > MAX_ID_CHARS:
        return None, ""
    match = _ANGLE.match(value) or _BARE.match(value)
    if match is None:
        return None, ""
    addr = match.group("addr").strip()
    if not ADDR_SPEC.fullmatch(addr) or len(addr) > 320:
        return None, ""
    name = (match.group("name") or "").strip()
    if name.startswith('"') and name.endswith('"') and len(name) >= 2:
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    return addr.lower(), decode_header(name, defects)[:200]


def _split_addresses(value: str) -> list[str]:
    """Split an address list on commas outside quotes, angle brackets and comments."""
    parts: list[str] = []
    depth_angle = depth_paren = 0
    quoted = escaped = False
    current: list[str] = []
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth_angle += 1
        elif not quoted and ch == ">":
            depth_angle = max(0, depth_angle - 1)
        elif not quoted and ch == "(":
            depth_paren += 1
        elif not quoted and ch == ")":
            depth_paren = max(0, depth_paren - 1)
        elif ch in ",;" and not quoted and not depth_angle and not depth_paren:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p for p in (p.strip() for p in parts) if p]


def parse_address_list(values: list[str], defects: list[str]) -> tuple[str, ...]:
    """The valid addr-specs of address-list headers, lower case, deduplicated, bounded.
    Group syntax ("undisclosed-recipients:;") yields nothing."""
    found: dict[str, None] = {}
    for value in values:
        for item in _split_addresses(value[: MAX_ADDRESSES * 400]):
            mailbox = item
            if ":" in item and "<" not in item.split(":", 1)[0]:
                mailbox = item.split(":", 1)[1]  # after a group's name
                if not mailbox.strip():
                    continue
            addr, _ = parse_mailbox(mailbox, defects)
            if addr is not None:
                found.setdefault(addr)
            if len(found) >= MAX_ADDRESSES:
                return tuple(found)
    return tuple(found)


_MSG_ID = re.compile(r"<\s*([^<>\s]+?)\s*>")


def normalise_message_id(value: str) -> str | None:
    """``<local@domain>`` with the domain in lower case (domains are case-insensitive; some
    gateways change their case), or None. Accepts a missing pair of angle brackets."""
    value = value.strip()
    match = _MSG_ID.search(value)
    ident = match.group(1) if match else value
    if not ident or len(ident) > MAX_ID_CHARS or any(c.isspace() or c in "<>" for c in ident):
        return None
    if "@" in ident:
        local, _, domain = ident.rpartition("@")
        if not local or not domain:
            return None
        ident = f"{local}@{domain.lower()}"
    return f"<{ident}>"


def message_ids(value: str, *, keep_last: int = MAX_REFERENCES) -> tuple[str, ...]:
    """Every message id in a References/In-Reply-To value (the last ``keep_last``),
    normalised and deduplicated in order."""
    ids = [normalise_message_id(m) for m in _MSG_ID.findall(value[: 200 * keep_last * 10])]
    if not ids and value.strip() and "@" in value:
        ids = [normalise_message_id(value.split(maxsplit=1)[0])]
    unique = tuple(dict.fromkeys(i for i in ids if i is not None))
    return unique[-keep_last:]


def parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
