"""Provider hook requests (servicedesk/mail/providers.py): forms taken byte for byte,
credentials checked as each provider documents them. No network, no database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse

import pytest

from servicedesk.mail import providers
from servicedesk.platform.errors import PayloadTooLarge, Unauthorized, ValidationProblem

RAW = (
    b"Return-Path: <ann@customer.example>\r\nFrom: Ann <ann@customer.example>\r\n"
    b"Message-ID: <m1@customer.example>\r\nSubject: Gr\xfc\xdfe\r\n"
    b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nK\xf6ln\r\n"
)


def _multipart(fields: dict[str, bytes], part_type: bytes = b"") -> tuple[bytes, str]:
    boundary = "xYzZY"
    body = b"".join(
        b"--"
        + boundary.encode()
        + b'\r\nContent-Disposition: form-data; name="'
        + name.encode()
        + b'"\r\n'
        + part_type
        + b"\r\n"
        + value
        + b"\r\n"
        for name, value in fields.items()
    )
    return (
        body + b"--" + boundary.encode() + b"--\r\n",
        f'multipart/form-data; boundary="{boundary}"',
    )


def _mailgun_fields(key: str, stamp: int) -> dict[str, bytes]:
    token = "t" * 50
    signature = hmac.new(key.encode(), f"{stamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "timestamp": str(stamp).encode(),
        "token": token.encode(),
        "signature": signature.encode(),
        "sender": b"<>",
        "Message-Id": b"<mg-1@customer.example>",
        "body-mime": RAW,
    }


def test_a_multipart_field_is_taken_byte_for_byte_whatever_its_declared_type() -> None:
    now = time.time()
    body, ctype = _multipart(
        _mailgun_fields("k" * 32, int(now)), b"Content-Type: message/rfc822\r\n"
    )
    delivery = providers.verify("mailgun", "k" * 32, body, {"content-type": ctype}, now=now)
    assert delivery.raw == RAW
    assert delivery.external_id == "<mg-1@customer.example>"
    assert delivery.mail_from == ""  # Mailgun's sender <>: the null sender


def test_a_urlencoded_field_keeps_its_8bit_bytes() -> None:
    now = time.time()
    fields = _mailgun_fields("k" * 32, int(now))
    body = urllib.parse.urlencode(fields).encode("ascii")
    delivery = providers.verify(
        "mailgun", "k" * 32, body, {"content-type": "application/x-www-form-urlencoded"}, now=now
    )
    assert delivery.raw == RAW


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_mailgun_timestamp_outside_five_minutes_is_refused(offset: int) -> None:
    now = time.time()
    body, ctype = _multipart(_mailgun_fields("k" * 32, int(now) + offset))
    with pytest.raises(Unauthorized):
        providers.verify("mailgun", "k" * 32, body, {"content-type": ctype}, now=now)


def test_malformed_forms_are_422_not_500() -> None:
    for body, ctype in (
        (b"no boundary here", "multipart/form-data; boundary=abc"),
        (b"--abc\r\nContent-Disposition: form-data\r\n", "multipart/form-data; boundary=abc"),
        (b"x", "multipart/form-data"),
        (b"x", "text/plain"),
    ):
        with pytest.raises(ValidationProblem):
            providers._form(body, ctype)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer s3cret-s3cret",
        "Basic " + base64.b64encode(b"someone:s3cret-s3cret").decode(),
        "Basic " + base64.b64encode(b"servicedesk:wrong").decode(),
        "Basic !!!not-base64",
    ],
)
def test_postmark_and_sendgrid_want_our_basic_credentials(authorization: str | None) -> None:
    payload = json.dumps({"MessageID": "pm-1", "RawEmail": RAW.decode("latin-1")}).encode()
    headers = {"authorization": authorization} if authorization else {}
    with pytest.raises(Unauthorized):
        providers.verify("postmark", "s3cret-s3cret", payload, headers)


def test_postmark_raw_email_with_a_lone_surrogate_is_taken_not_a_500() -> None:
    good = "Basic " + base64.b64encode(b"servicedesk:s3cret-s3cret").decode()
    payload = b'{"MessageID": "pm-2", "RawEmail": "Subject: x\\r\\n\\r\\n\\ud800"}'
    delivery = providers.verify("postmark", "s3cret-s3cret", payload, {"authorization": good})
    assert delivery.external_id == "pm-2" and delivery.raw.startswith(b"Subject: x")


def test_bodies_over_the_hook_limit_are_413_before_anything_else() -> None:
    with pytest.raises(PayloadTooLarge):
        providers.verify("generic", "s", b"x" * (providers.MAX_BODY_BYTES + 1), {})


def test_the_envelope_sender_is_the_return_path_else_the_from() -> None:
    assert providers.envelope_sender(RAW) == "ann@customer.example"
    assert providers.envelope_sender(b"Return-Path: <>\r\nFrom: a@b.example\r\n\r\n") == ""
    assert providers.envelope_sender(b"From: Bob <Bob@B.example>\r\n\r\nhi") == "bob@b.example"
    assert providers.envelope_sender(b"Subject: none\r\n\r\n") == ""


def test_without_a_message_id_the_key_is_a_digest_of_the_bytes() -> None:
    raw = b"From: a@b.example\r\n\r\nhello"
    assert providers._message_key(raw) == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert providers._message_key(RAW) == "<m1@customer.example>"
