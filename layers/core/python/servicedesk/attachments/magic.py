"""What a file really is, from its first bytes: the allow-list of attachment types.

The declared content type must agree with the content. Executables, HTML and SVG are
refused whatever they are called; plain text and CSV must be UTF-8 without NUL bytes,
checked over the whole file as it streams (``TextCheck``).
"""

from __future__ import annotations

import codecs
from typing import Literal, get_args

AllowedType = Literal[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "text/plain",
    "text/csv",
]
ALLOWED_TYPES: tuple[AllowedType, ...] = get_args(AllowedType)
TEXT_TYPES = frozenset({"text/plain", "text/csv"})
# Bytes read from the start of the object to decide.
SNIFF_BYTES = 512

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or an empty archive
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "application/zip": _ZIP,
    # Office Open XML documents are zip containers.
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _ZIP,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _ZIP,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _ZIP,
    # Legacy Office documents are OLE compound files.
    "application/msword": _OLE,
    "application/vnd.ms-excel": _OLE,
    "application/vnd.ms-powerpoint": _OLE,
}

EXECUTABLES: dict[bytes, str] = {
    b"MZ": "a Windows executable",
    b"\x7fELF": "an ELF executable",
    b"\xfe\xed\xfa\xce": "a Mach-O executable",
    b"\xfe\xed\xfa\xcf": "a Mach-O executable",
    b"\xce\xfa\xed\xfe": "a Mach-O executable",
    b"\xcf\xfa\xed\xfe": "a Mach-O executable",
    b"\xca\xfe\xba\xbe": "a Mach-O universal binary",
    b"#!": "a script",
}
# Markup a browser would render: looked for near the start of text, case-insensitively.
MARKUP = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<iframe")


def _executable(head: bytes) -> str | None:
    for signature, what in EXECUTABLES.items():
        if head.startswith(signature):
            return what
    return None


def _markup(head: bytes) -> bool:
    lowered = head.lower().lstrip(b"\xef\xbb\xbf \t\r\n")
    if lowered.startswith(b"<?xml"):
        return True
    return any(tag in lowered for tag in MARKUP)


def _text_problem(head: bytes) -> str | None:
    if _markup(head):
        return "the file is HTML, SVG or XML markup"
    check = TextCheck()
    check.feed(head, final=False)
    return check.problem


def _binary_matches(declared: str, head: bytes) -> bool:
    if declared == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return any(head.startswith(signature) for signature in SIGNATURES[declared])


def mismatch(declared: str, head: bytes) -> str | None:
    """Why ``head`` (the first bytes) is not an acceptable ``declared`` file; None if it is."""
    if declared not in ALLOWED_TYPES:
        return f"{declared} is not an accepted type"
    what = _executable(head)
    if what is not None:
        return f"the file is {what}"
    if declared in TEXT_TYPES:
        return _text_problem(head)
    return None if _binary_matches(declared, head) else f"the file's content is not {declared}"


class TextCheck:
    """Streaming check that text is UTF-8 without NUL bytes."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.problem: str | None = None

    def feed(self, chunk: bytes, *, final: bool) -> None:
        if self.problem is not None:
            return
        if b"\x00" in chunk:
            self.problem = "text contains NUL bytes"
            return
        try:
            self._decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            self.problem = "text is not valid UTF-8"
