"""Each of the parser's limits holds, and a hostile message costs bounded time."""

import io
import time
import zipfile
from pathlib import Path

import pytest

from servicedesk.mail.message import Limits, Unparseable
from servicedesk.mail.parsing import parse

HEAD = b"From: Mallory <mallory@evil.example>\r\nTo: acme@mail.example.test\r\nSubject: limits\r\nMIME-Version: 1.0\r\n"
CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "email"
BOUND_SECONDS = 3.0  # CPU seconds (time.process_time): waiting for a core does not count
DEFAULTS = Limits()


def nested(depth: int) -> bytes:
    """A multipart nested ``depth`` levels deep (each level one child)."""
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return HEAD + opening + b"Content-Type: text/plain\r\n\r\ndeep inside" + closing


def flat(parts: int) -> bytes:
    body = b"".join(
        b"--flat\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(parts)
    )
    return HEAD + b'Content-Type: multipart/mixed; boundary="flat"\r\n\r\n' + body + b"--flat--\r\n"


def timed_unparseable(raw: bytes, limits: Limits = DEFAULTS) -> str:
    started = time.process_time()
    with pytest.raises(Unparseable) as caught:
        parse(raw, limits)
    assert time.process_time() - started < BOUND_SECONDS
    return caught.value.reason


def test_200_deep_nesting_is_refused_as_too_deep_in_bounded_time() -> None:
    assert timed_unparseable(nested(200)) == "too_deep"


def test_5000_deep_nesting_stops_early_without_recursion_error() -> None:
    assert timed_unparseable(nested(5000)) == "too_deep"


def test_nesting_at_the_depth_limit_parses() -> None:
    mail = parse(nested(11), Limits(max_depth=12))
    assert mail.text == "deep inside"


def test_forwarded_messages_nested_past_the_depth_limit_are_refused() -> None:
    raw = b"Content-Type: text/plain\r\n\r\ninnermost\r\n"
    for i in range(20):
        raw = b"From: f%d@x.example\r\nContent-Type: message/rfc822\r\n\r\n" % i + raw
    assert timed_unparseable(HEAD + raw) == "too_deep"


def test_more_parts_than_max_parts_is_refused() -> None:
    assert timed_unparseable(flat(201), Limits(max_parts=200)) == "too_many_parts"
    assert len(parse(flat(150), Limits(max_parts=200)).text) > 0


def test_ten_thousand_empty_parts_are_refused_quickly() -> None:
    raw = (
        HEAD
        + b'Content-Type: multipart/mixed; boundary="e"\r\n\r\n'
        + b"--e\r\n\r\n" * 10_000
        + b"--e--\r\n"
    )
    assert timed_unparseable(raw) == "too_many_parts"


def test_more_bytes_than_max_bytes_is_refused_before_parsing() -> None:
    raw = HEAD + b"Content-Type: text/plain\r\n\r\n" + b"x" * 2_000_000
    assert timed_unparseable(raw, Limits(max_bytes=1_000_000)) == "too_large"


def test_a_header_block_over_max_header_bytes_is_refused() -> None:
    raw = HEAD + b"X-Filler: " + b"a" * 300_000 + b"\r\n\r\nbody"
    assert timed_unparseable(raw, Limits(max_header_bytes=256 * 1024)) == "headers_too_large"


def test_attachments_over_the_limit_are_dropped_with_a_defect() -> None:
    parts = b"--m\r\nContent-Type: text/plain\r\n\r\nsee files\r\n" + b"".join(
        b'--m\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="f%d.pdf"\r\n\r\n%%PDF-1.4\r\n'
        % i
        for i in range(60)
    )
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n' + parts + b"--m--\r\n"
    mail = parse(raw, Limits(max_attachments=50))
    assert len(mail.attachments) == 50
    assert mail.attachments[-1].filename == "f49.pdf"
    assert any("10 attachments over the limit" in d for d in mail.defects)


def test_text_over_max_text_chars_is_cut_with_a_defect() -> None:
    raw = HEAD + b"Content-Type: text/plain\r\n\r\n" + b"word " * 100_000
    mail = parse(raw, Limits(max_text_chars=10_000))
    assert len(mail.text) == 10_000
    assert len(mail.reply_text) <= 10_000
    assert any("text cut at 10000" in d for d in mail.defects)


def test_a_ten_megabyte_single_line_costs_bounded_time() -> None:
    raw = HEAD + b"Content-Type: text/plain\r\n\r\n" + b"A" * 10_000_000
    started = time.process_time()
    mail = parse(raw)
    assert time.process_time() - started < BOUND_SECONDS * 2
    assert len(mail.text) == Limits().max_text_chars


def test_deeply_nested_html_becomes_text_without_recursion_error() -> None:
    html = b"<div>" * 20_000 + b"bottom" + b"</div>" * 20_000
    raw = HEAD + b"Content-Type: text/html\r\n\r\n" + html
    started = time.process_time()
    mail = parse(raw)
    assert time.process_time() - started < BOUND_SECONDS
    assert "bottom" in mail.text


def test_a_zip_bomb_is_kept_compressed_and_never_expanded() -> None:
    raw = (
        (CORPUS / "zip-bomb-attachment.eml")
        .read_bytes()
        .replace(b"{{TO}}", b"acme@mail.example.test")
    )
    started = time.process_time()
    mail = parse(raw)
    assert time.process_time() - started < BOUND_SECONDS
    (bomb,) = mail.attachments
    assert len(bomb.content) < 100_000
    with zipfile.ZipFile(io.BytesIO(bomb.content)) as archive:
        assert archive.infolist()[0].file_size == 10 * 1024 * 1024


def test_reply_stripping_of_a_long_hostile_text_is_bounded() -> None:
    line = "On " + "x" * 390 + " <a@b.example> wrote" + "\n"
    lines = "".join(line if i % 2 else "From: x\nSent: y\n" + "> q\n" * 3 for i in range(2_000))
    raw = HEAD + b"Content-Type: text/plain; charset=utf-8\r\n\r\nmine\r\n" + lines.encode()
    started = time.process_time()
    mail = parse(raw)
    assert time.process_time() - started < BOUND_SECONDS
    assert mail.reply_text.startswith("mine")


def test_a_long_from_header_is_not_an_address_and_costs_nothing() -> None:
    raw = b'From: "' + b'\\"a' * 5_000 + b'" <x@y.example>\r\nSubject: s\r\n\r\nbody'
    started = time.process_time()
    mail = parse(raw)
    assert time.process_time() - started < BOUND_SECONDS
    assert mail.from_address is None


def test_html_past_what_the_text_keeps_is_not_laid_out() -> None:
    html = b"<p>para with <b>bold</b> &amp; <a href='https://x.example/'>link</a></p>\n" * 40_000
    raw = HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html
    started = time.process_time()
    mail = parse(raw, Limits(max_text_chars=100_000))
    assert time.process_time() - started < BOUND_SECONDS * 2
    assert any("HTML past 500000 characters not converted" in d for d in mail.defects)
    assert len(mail.text) == 100_000
