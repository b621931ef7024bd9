"""Input checks at the edge, before any route runs: what PostgreSQL or the parser would
refuse with an error of their own (a NUL character, JSON nested without bound) is a 422
naming the field instead.

PostgreSQL stores no NUL (U+0000) in text or jsonb, so a NUL anywhere a route may read it,
in the JSON body at any depth, a query or path parameter or a header, is refused here,
once for every route. JSON nesting is measured on the raw bytes without recursion before
anything parses it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from servicedesk.platform.errors import field_error

MAX_JSON_DEPTH = 64
NUL_MESSAGE = "must not contain the NUL character (\\u0000)"
_SIGNIFICANT = re.compile(rb'["\\\[\]{}]')
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects deeper than ``limit`` (strings skipped).

    Linear in the body and visits only quotes, backslashes and brackets."""
    depth = 0
    in_string = False
    skip_to = -1
    for match in _SIGNIFICANT.finditer(body):
        at = match.start()
        if at < skip_to:
            continue
        char = body[at]
        if in_string:
            if char == _BACKSLASH:
                skip_to = at + 2
            elif char == _QUOTE:
                in_string = False
        elif char == _QUOTE:
            in_string = True
        elif char in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif char in _CLOSE:
            depth -= 1
    return False


def _label(path: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in path) or "body"


def nul_fields(document: Any) -> list[str]:
    """The dotted paths of every string (value or key) holding a NUL, walked without recursion."""
    found: list[str] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                found.append(_label(path))
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    found.append(_label((*path, key.replace("\x00", "\\u0000"))))
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, index), item) for index, item in enumerate(value))
    return sorted(found)


def _error(field: str, where: str, message: str = NUL_MESSAGE) -> dict[str, Any]:
    return {**field_error(field, message), "in": where}


def header_name(raw: str) -> str:
    return "-".join(part.capitalize() for part in raw.split("-"))


def header_errors(headers: Iterable[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    return [
        _error(header_name(name.decode("latin-1")), "header")
        for name, value in headers
        if b"\x00" in value or b"\x00" in name
    ]


def query_errors(query_string: bytes) -> list[dict[str, Any]]:
    if b"\x00" not in query_string and b"%00" not in query_string:
        return []
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    names = {name for name, value in pairs if "\x00" in name or "\x00" in value}
    return [_error(name.replace("\x00", "\\u0000"), "query") for name in sorted(names)]


def path_errors(path: str, patterns: Iterable[re.Pattern[str]]) -> list[dict[str, Any]]:
    """The path parameters holding a NUL, named by the first route whose pattern matches."""
    if "\x00" not in path:
        return []
    for pattern in patterns:
        match = pattern.match(path)
        if match:
            names = [name for name, value in match.groupdict().items() if "\x00" in value]
            return [_error(name, "path") for name in names]
    return [_error("path", "path")]


def is_json(content_type: str | None) -> bool:
    """Bodies FastAPI would parse as JSON: no content type, or a JSON media type."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def body_errors(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> list[dict[str, Any]]:
    if not body:
        return []
    if json_depth_exceeds(body, max_depth):
        return [_error("body", "body", f"must not nest deeper than {max_depth} levels")]
    # Only a body that can hold a NUL is parsed here (UTF-16/32 JSON always has NUL bytes).
    if b"\\u0000" not in body and b"\x00" not in body:
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []  # malformed: the route's own parsing names it
    return [_error(field, "body") for field in nul_fields(document)]
