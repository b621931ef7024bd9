"""Whatever bytes arrive, the parser answers ParsedMail or Unparseable, in bounded time."""

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicedesk.mail.message import ParsedMail, Unparseable
from servicedesk.mail.parsing import parse

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "email"
FIXTURES = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
SECONDS_PER_MESSAGE = 2.0
# Bytes that matter to MIME: boundaries, header syntax, encodings, quoting, HTML.
TOKENS = [
    b"\r\n",
    b"\n",
    b"--",
    b":",
    b";",
    b"=",
    b'"',
    b"<",
    b">",
    b"=?utf-8?b?",
    b"?=",
    b"=?x?q?",
    b"boundary=",
    b'Content-Type: multipart/mixed; boundary="a"\r\n\r\n--a\r\n',
    b"Content-Type: message/rfc822\r\n\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"charset=",
    b"\x00",
    b"\xff",
    b"\xc3",
    b'<div class="gmail_quote">',
    b'<blockquote type="cite">',
    b"On Mon, 1 Jan 2026, X <x@y.z> wrote:\n",
    b"> ",
    b"-- \n",
    b"From: ",
    b"filename*0*=",
]


def outcome(raw: bytes) -> None:
    started = time.process_time()
    try:
        result = parse(raw)
    except Unparseable as refused:
        assert refused.reason
    else:
        assert isinstance(result, ParsedMail)
        assert isinstance(result.text, str) and isinstance(result.reply_text, str)
        assert result.from_address is None or "@" in result.from_address
    assert time.process_time() - started < SECONDS_PER_MESSAGE


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes(raw: bytes) -> None:
    outcome(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=12)), max_size=200))
def test_mime_shaped_noise(pieces: list[bytes]) -> None:
    outcome(b"From: a@b.example\r\nSubject: s\r\n" + b"".join(pieces))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(FIXTURES)))
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "duplicate"]))
        at = draw(st.integers(0, max(0, len(raw) - 1)))
        if kind == "flip" and raw:
            raw[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del raw[at:]
        elif kind == "insert":
            raw[at:at] = draw(st.sampled_from(TOKENS))
        elif kind == "delete":
            del raw[at : at + draw(st.integers(1, 64))]
        else:
            raw[at:at] = raw[at : at + draw(st.integers(1, 256))]
    return bytes(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_fixtures(raw: bytes) -> None:
    outcome(raw)
