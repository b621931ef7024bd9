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


def alternative(plain: bytes, html: bytes) -> bytes:
    return (
        b"From: a@customer.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="x"\r\n\r\n'
        b"--x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + plain + b"\r\n"
        b"--x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + b"\r\n--x--\r\n"
    )


def test_a_real_plain_alternative_is_preferred_to_the_html() -> None:
    mail = parse(alternative(b"Plain words.", b"<p>HTML <b>words</b>.</p>"))
    assert mail.text == "Plain words."
    assert mail.html == "<p>HTML <b>words</b>.</p>"


def test_a_stub_plain_alternative_gives_way_to_the_html() -> None:
    html = b"<p>" + b"The real content of the newsletter. " * 30 + b"</p>"
    mail = parse(alternative(b"View this message in a browser.", html))
    assert mail.text.startswith("The real content of the newsletter.")
    assert "plain-text alternative is a stub: HTML used" in mail.defects


def test_an_empty_plain_alternative_gives_way_to_the_html() -> None:
    mail = parse(alternative(b"", b"<div>Only <a href='https://x.example/a'>here</a></div>"))
    assert mail.text == "Only here (https://x.example/a)"


def test_apple_mail_text_image_text_keeps_both_texts_in_order() -> None:
    raw = (
        b"From: a@customer.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="Apple-Mail=_1"\r\n\r\n'
        b"--Apple-Mail=_1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nBefore the photo.\r\n"
        b"--Apple-Mail=_1\r\nContent-Disposition: inline; filename=photo.png\r\nContent-Type: image/png; name=photo.png\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
        b"--Apple-Mail=_1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nAfter the photo.\r\n--Apple-Mail=_1--\r\n"
    )
    mail = parse(raw)
    assert mail.text == "Before the photo.\n\nAfter the photo."
    (photo,) = mail.attachments
    assert (photo.filename, photo.content, photo.inline) == (
        "photo.png",
        b"\x89PNG\r\n\x1a\n",
        False,
    )


def test_an_rfc2231_charset_parameter_and_a_path_in_the_filename() -> None:
    raw = (
        b"From: a@customer.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
        b"--m\r\nContent-Type: text/plain; charset*=utf-8''utf-8\r\n\r\nK\xc3\xa4se\r\n"
        b'--m\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="C:\\\\fakepath\\\\evil\x01.bat"\r\n\r\nx\r\n'
        b"--m--\r\n"
    )
    mail = parse(raw)
    assert mail.text == "Käse"
    assert mail.attachments[0].filename == "evil_.bat"


def test_uuencoded_and_unknown_transfer_encodings_are_tolerated() -> None:
    raw = (
        b"From: a@customer.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
        b"--m\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-gzip64\r\n\r\nas sent\r\n"
        b"--m\r\nContent-Type: application/octet-stream; name=a.bin\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n"
        b"begin 644 a.bin\r\n#86)C\r\n`\r\nend\r\n--m--\r\n"
    )
    mail = parse(raw)
    assert mail.text == "as sent"
    assert mail.attachments[0].content == b"abc"


def test_control_characters_in_html_do_not_break_the_layout() -> None:
    # found by the fuzz test: lxml refuses to set text holding control characters
    html = "<p>a\x01b <a href='https://x.example/\x02'>link\x1f</a>\ufffe</p>".encode()
    raw = (
        b"From: a@customer.example\r\nSubject: s\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + html
    )
    assert parse(raw).text == "ab link (https://x.example/)"
