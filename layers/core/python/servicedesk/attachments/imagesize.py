"""An image's width and height from its header, without decoding its pixels.

For the avatar check (``avatars.check_dimensions``): the uploaded bytes are untrusted, so
nothing here decompresses anything. PNG keeps the size in its first chunk (IHDR), WebP in
the first chunk of its RIFF container (``VP8 ``, ``VP8L`` or ``VP8X``), JPEG in its
start-of-frame segment, found by walking the segment lengths (the metadata segments before
it, EXIF or ICC profiles, can be tens of kilobytes, so the caller hands over as much of the
file as it has). Pure functions of bytes: no new dependency in the Lambda layer (Pillow
would add ~10 MB and a native decoder on the request path).
"""

from __future__ import annotations

# JPEG start-of-frame markers: SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length: TEM, RST0-7, SOI.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})


def _be16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "big")


def _le(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at : at + size], "little")


def _png(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _jpeg(data: bytes) -> tuple[int, int] | None:
    at = 2  # after SOI
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None  # not at a marker: a damaged file
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or the scan, before any frame
            return None
        length = _be16(data, at + 2)
        if length < 2:
            return None
        if marker in _SOF:
            if at + 9 > len(data):
                return None
            return _be16(data, at + 7), _be16(data, at + 5)
        at += 2 + length
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    if len(data) < 30 or data[0:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        return _le(data, 26, 2) & 0x3FFF, _le(data, 28, 2) & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = _le(data, 21, 4)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return _le(data, 24, 3) + 1, _le(data, 27, 3) + 1
    return None


_READERS = {"image/png": _png, "image/jpeg": _jpeg, "image/webp": _webp}


def dimensions(content_type: str, data: bytes) -> tuple[int, int] | None:
    """(width, height) read from the header of an image of that type; None when the header
    is not there or not readable (a truncated or damaged file, another type)."""
    reader = _READERS.get(content_type)
    return reader(data) if reader is not None else None
