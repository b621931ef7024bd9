"""An image's size from its header (attachments/imagesize.py), for the avatar check: PNG,
JPEG (past metadata segments) and the three WebP flavours; damaged or truncated headers
are unreadable, never an exception."""

from __future__ import annotations

import struct
import zlib

import pytest

from servicedesk.attachments import avatars
from servicedesk.attachments.imagesize import dimensions


def png(width: int, height: int) -> bytes:
    """A real PNG (grey, 8 bits) of that size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg(width: int, height: int, *, exif: int = 0) -> bytes:
    """SOI, an APP1 of `exif` bytes, a quantisation table, then SOF0 (the header only)."""
    app1 = b"\xff\xe1" + struct.pack(">H", exif + 2) + b"E" * exif if exif else b""
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + bytes(65)
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + bytes(9)
    return b"\xff\xd8" + app1 + dqt + sof + b"\xff\xda\x00\x08" + bytes(6)


def webp_lossy(width: int, height: int) -> bytes:
    frame = b"\x00\x00\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + bytes(10)
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(frame))
        + b"WEBP"
        + b"VP8 "
        + struct.pack("<I", len(frame))
        + frame
    )


def webp_lossless(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    frame = b"\x2f" + struct.pack("<I", bits) + bytes(10)
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(frame))
        + b"WEBP"
        + b"VP8L"
        + struct.pack("<I", len(frame))
        + frame
    )


def webp_extended(width: int, height: int) -> bytes:
    body = bytes(4) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(body))
        + b"WEBP"
        + b"VP8X"
        + struct.pack("<I", len(body))
        + body
        + bytes(8)
    )


@pytest.mark.parametrize(
    ("content_type", "data", "size"),
    [
        ("image/png", png(3, 2), (3, 2)),
        ("image/png", png(256, 1), (256, 1)),
        ("image/jpeg", jpeg(640, 480), (640, 480)),
        ("image/jpeg", jpeg(120, 90, exif=60_000), (120, 90)),
        ("image/webp", webp_lossy(200, 100), (200, 100)),
        ("image/webp", webp_lossless(16_384, 1), (16_384, 1)),
        ("image/webp", webp_extended(300, 256), (300, 256)),
    ],
)
def test_the_size_is_read_from_the_header(
    content_type: str, data: bytes, size: tuple[int, int]
) -> None:
    assert dimensions(content_type, data) == size


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/png", png(3, 2)[:20]),  # truncated inside IHDR
        ("image/png", b"\x89PNG\r\n\x1a\n" + bytes(30)),  # no IHDR first
        ("image/jpeg", jpeg(120, 90, exif=60_000)[:30_000]),  # the frame is past the end
        ("image/jpeg", b"\xff\xd8\x00\x00\x00\x00"),  # not at a marker
        ("image/jpeg", b"\xff\xd8\xff\xda\x00\x08" + bytes(20)),  # a scan before any frame
        ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x00" + bytes(20)),  # a length below 2
        ("image/webp", b"RIFF\x00\x00\x00\x00WEBPJUNK" + bytes(30)),
        ("image/gif", b"GIF89a" + bytes(30)),  # not an avatar type
        ("image/png", png(3, 2)[:0]),
    ],
)
def test_an_unreadable_header_is_none(content_type: str, data: bytes) -> None:
    assert dimensions(content_type, data) is None


def test_the_avatar_check_names_what_is_wrong() -> None:
    assert avatars.check_dimensions("image/png", png(256, 256)) is None
    too_wide = avatars.check_dimensions("image/webp", webp_lossy(257, 10))
    assert too_wide is not None and "257x10" in too_wide
    assert avatars.check_dimensions("image/jpeg", jpeg(0, 10)) == "the image has no pixels"
    unreadable = avatars.check_dimensions("image/png", b"\x89PNG\r\n\x1a\n")
    assert unreadable is not None and "header" in unreadable


@pytest.mark.parametrize(
    ("fmt", "content_type", "options"),
    [
        ("PNG", "image/png", {}),
        ("JPEG", "image/jpeg", {"exif": b"Exif\x00\x00" + bytes(5_000)}),
        ("JPEG", "image/jpeg", {"progressive": True}),
        ("WEBP", "image/webp", {"lossless": False}),
        ("WEBP", "image/webp", {"lossless": True}),
    ],
)
def test_images_a_real_encoder_wrote(
    fmt: str, content_type: str, options: dict[str, object]
) -> None:
    """Pillow (already installed for the PDF reports) only as the encoder of real files."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (123, 45), (200, 30, 30)).save(out, fmt, **options)
    assert dimensions(content_type, out.getvalue()) == (123, 45)
