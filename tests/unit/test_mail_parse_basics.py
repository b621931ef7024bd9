"""The parser's contract on small hand-made messages (servicedesk/mail/parsing.py)."""

import pytest

from servicedesk.mail.message import Limits, Unparseable
from servicedesk.mail.parsing import parse

SIMPLE = (
    b"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen@Example.COM>\r\n"
    b'To: acme@in.example.com, "B, C" <b@x.org>\r\n'
    b"Subject: =?utf-8?b?SGVsbG8gd8O2cmxk?=\r\n"
    b"Message-ID: <ABC@Mail.Example.COM>\r\n"
    b"References: <a@b.example> <c@D.example>\r\n"
    b"Date: Fri, 4 Dec 2026 10:00:00 +0100\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Printer on floor 3 is jammed.\r\n"
)


def test_headers_are_decoded_and_normalised() -> None:
    mail = parse(SIMPLE)
    assert mail.from_address == "juergen@example.com"
    assert mail.from_name == "Jürgen Müller"
    assert mail.subject == "Hello wörld"
    assert mail.to == ("acme@in.example.com", "b@x.org")
    assert mail.message_id == "<ABC@mail.example.com>"
    assert mail.references == ("<a@b.example>", "<c@d.example>")
    assert mail.date is not None and mail.date.utcoffset() is not None
    assert mail.text == "Printer on floor 3 is jammed."
    assert mail.reply_text == mail.text
    assert mail.auto is None


def test_over_max_bytes_is_unparseable() -> None:
    with pytest.raises(Unparseable) as caught:
        parse(SIMPLE, Limits(max_bytes=100))
    assert caught.value.reason == "too_large"


def test_bytes_without_headers_are_unparseable() -> None:
    with pytest.raises(Unparseable) as caught:
        parse(b"\r\n\r\njust a body")
    assert caught.value.reason == "not_mime"
