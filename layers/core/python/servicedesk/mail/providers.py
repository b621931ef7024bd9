"""Inbound-mail providers' hook requests: verify, then take out the raw MIME. No database.

Each provider is followed as it documents itself:

- ``mailgun``: a route's ``forward()`` to a URL ending in ``mime`` posts a form
  (``multipart/form-data``, or urlencoded without attachments) with the whole message in
  ``body-mime``, the envelope sender in ``sender``, and ``timestamp``, ``token``, ``signature``:
  the hex HMAC-SHA256 of ``timestamp + token`` keyed by the account's HTTP webhook signing
  key (which the tenant's admin gives us). Stale timestamps are refused.
- ``postmark``: the inbound webhook posts JSON; ``RawEmail`` carries the message when the
  stream's "Include raw email content in JSON payload" is on. Postmark authenticates with
  HTTP Basic credentials in the webhook URL (``https://user:password@host/...``).
- ``sendgrid``: Inbound Parse with "POST the raw, full MIME message" posts
  ``multipart/form-data`` with the message in ``email`` and the SMTP envelope (JSON) in
  ``envelope``; secured, as SendGrid suggests, by HTTP Basic credentials in the URL.
- ``generic``: the body is the raw message (``message/rfc822``), signed with our
  ``Servicedesk-Signature`` header (``webhooks/signing.py``, as outbound webhooks are).

Basic credentials carry no timestamp: replays are caught by the dedupe on the message id.
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import getaddresses, parseaddr
from typing import Any

from servicedesk.platform.errors import PayloadTooLarge, Unauthorized, ValidationProblem
from servicedesk.platform.errors import field_error as _field
from servicedesk.webhooks import signing

PROVIDERS = ("mailgun", "postmark", "sendgrid", "generic")
# What a hook request may carry. API Gateway takes 10 MB, but a Lambda's synchronous
# payload is 6 MB and the bodies of these hooks arrive base64-encoded (binary media types,
# stacks/constructs/rest_api.py): 4 MiB * 4/3 plus the event envelope stays under it.
# Larger mail comes in through SES or IMAP, up to ``email_max_message_bytes``.
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_FORM_FIELDS = 200
BASIC_USERNAME = "servicedesk"
TOLERANCE_SECONDS = signing.TOLERANCE_SECONDS
MAX_EXTERNAL_ID = 998
# Providers that retry anything but 200 (Mailgun: "200 (Success)"; Postmark: "a non-200
# code" is retried); the others answer 202 like our other hooks.
STATUS: dict[str, int] = {"mailgun": 200, "postmark": 200, "sendgrid": 202, "generic": 202}


@dataclass(frozen=True)
class Delivery:
    """One verified message."""

    raw: bytes
    external_id: str  # the provider's message id, else the Message-ID, else a digest
    mail_from: str  # the envelope sender when the provider tells it ("" for a null sender)


def refused(provider: str) -> Unauthorized:
    """The one answer for an unknown or disabled hook and for bad credentials."""
    if provider == "generic":
        challenge = f'{signing.SIGNATURE_HEADER} realm="servicedesk-mail"'
    elif provider == "mailgun":
        challenge = 'Mailgun-Signature realm="servicedesk-mail"'
    else:
        challenge = 'Basic realm="servicedesk-mail"'
    return Unauthorized(
        "unknown hook, or missing, invalid or stale credentials",
        headers={"WWW-Authenticate": challenge},
    )


def verify(
    provider: str,
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float | None = None,
) -> Delivery:
    """The message in a request whose credentials ``secret`` verifies; 401/413/422 else."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"hook bodies must not exceed {MAX_BODY_BYTES} bytes")
    current = time.time() if now is None else now
    if provider == "mailgun":
        return _mailgun(secret, body, headers, current)
    if provider == "generic":
        try:
            signing.verify(secret, headers.get(signing.SIGNATURE_HEADER), body, now=current)
        except signing.SignatureError as exc:
            raise refused(provider) from exc
        return Delivery(body, _message_key(body), envelope_sender(body))
    _basic(provider, secret, headers.get("authorization"))
    if provider == "postmark":
        return _postmark(body)
    return _sendgrid(body, headers)


# --- per provider ------------------------------------------------------------------------


def _mailgun(secret: str, body: bytes, headers: Mapping[str, str], now: float) -> Delivery:
    form = _form(body, headers.get("content-type", ""))
    timestamp = _text(form.get("timestamp"))
    token = _text(form.get("token"))
    signature = _text(form.get("signature"))
    expected = hmac.new(
        secret.encode("utf-8"), (timestamp + token).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    fresh = timestamp.isdigit() and abs(now - int(timestamp)) <= TOLERANCE_SECONDS
    # Both checks run whatever the first says: the time taken tells nothing.
    matches = hmac.compare_digest(expected, signature)
    if not (matches and fresh and token):
        raise refused("mailgun")
    raw = _required(form, "body-mime", "forward to a URL ending in /mime")
    sender = _text(form.get("sender")) if "sender" in form else envelope_sender(raw)
    message_id = _text(form.get("Message-Id"))
    return Delivery(raw, message_id[:MAX_EXTERNAL_ID] or _message_key(raw), _addr(sender))


def _postmark(body: bytes) -> Delivery:
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ValidationProblem(errors=[_field("body", "malformed JSON")]) from exc
    if not isinstance(payload, dict):
        raise ValidationProblem(errors=[_field("body", "must be a JSON object")])
    raw_email = payload.get("RawEmail")
    if not isinstance(raw_email, str) or not raw_email:
        raise ValidationProblem(
            "the payload has no RawEmail",
            errors=[
                _field(
                    "RawEmail",
                    'turn on "Include raw email content in JSON payload" for the stream',
                )
            ],
        )
    raw = raw_email.encode("utf-8", "surrogatepass")  # JSON may escape lone surrogates
    message_id = payload.get("MessageID")
    external = str(message_id)[:MAX_EXTERNAL_ID] if message_id else _message_key(raw)
    return Delivery(raw, external, envelope_sender(raw))


def _sendgrid(body: bytes, headers: Mapping[str, str]) -> Delivery:
    form = _form(body, headers.get("content-type", ""))
    raw = _required(form, "email", 'turn on "POST the raw, full MIME message"')
    sender: str | None = None
    try:
        envelope: Any = json.loads(form.get("envelope", b"{}"))
        if isinstance(envelope, dict) and isinstance(envelope.get("from"), str):
            sender = envelope["from"]
    except ValueError:
        sender = None
    return Delivery(
        raw, _message_key(raw), _addr(sender) if sender is not None else envelope_sender(raw)
    )


# --- helpers -----------------------------------------------------------------------------


def _basic(provider: str, secret: str, authorization: str | None) -> None:
    scheme, _, encoded = (authorization or "").partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    username, _, password = decoded.partition(":")
    user_ok = hmac.compare_digest(username.encode(), BASIC_USERNAME.encode())
    password_ok = hmac.compare_digest(password.encode(), secret.encode())
    if scheme.lower() != "basic" or not (user_ok and password_ok):
        raise refused(provider)


def _form(body: bytes, content_type: str) -> dict[str, bytes]:
    """A posted form's fields (the first of each name), each value byte for byte: a raw
    message may hold 8-bit text in any charset."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return _urlencoded(body)
    if kind != "multipart/form-data":
        raise ValidationProblem(
            errors=[_field("Content-Type", "must be multipart/form-data or a urlencoded form")]
        )
    head = email.parser.HeaderParser().parsestr(f"Content-Type: {content_type}\r\n\r\n")
    boundary = head.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70:
        raise ValidationProblem(errors=[_field("Content-Type", "no multipart boundary")])
    return _multipart(body, boundary.encode("latin-1"))


def _urlencoded(body: bytes) -> dict[str, bytes]:
    # Latin-1 maps each percent-decoded byte to one character and back: nothing is lost.
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("latin-1"),
            keep_blank_values=True,
            max_num_fields=MAX_FORM_FIELDS,
            encoding="latin-1",
        )
    except ValueError as exc:
        raise ValidationProblem(errors=[_field("body", "malformed form")]) from exc
    fields: dict[str, bytes] = {}
    for name, value in pairs:
        fields.setdefault(name, value.encode("latin-1"))
    return fields


def _multipart(body: bytes, boundary: bytes) -> dict[str, bytes]:
    """RFC 7578 (RFC 2046 framing): parts between ``--boundary`` lines; no transfer
    encodings (RFC 7578 section 4.7), so a part's content is its bytes as sent."""
    delimiter = b"\r\n--" + boundary
    sections = (b"\r\n" + body).split(delimiter)
    if len(sections) < 3 or not sections[-1].startswith(b"--"):
        raise ValidationProblem(errors=[_field("body", "malformed multipart form")])
    if len(sections) - 2 > MAX_FORM_FIELDS:
        raise ValidationProblem(errors=[_field("body", "too many form fields")])
    fields: dict[str, bytes] = {}
    for section in sections[1:-1]:
        _, _, rest = section.partition(b"\r\n")  # the rest of the delimiter line
        raw_headers, found, content = rest.partition(b"\r\n\r\n")
        if not found:
            raise ValidationProblem(errors=[_field("body", "malformed multipart form")])
        headers = email.parser.BytesHeaderParser().parsebytes(raw_headers + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if isinstance(name, str):
            fields.setdefault(name, content)
    return fields


def _required(form: dict[str, bytes], name: str, hint: str) -> bytes:
    value = form.get(name)
    if not value:
        raise ValidationProblem(f"the form has no {name}", errors=[_field(name, hint)])
    return value


def _text(value: bytes | None) -> str:
    return (value or b"").decode("utf-8", "replace").strip()


def _addr(value: str) -> str:
    """The address of ``value`` ("" for the null sender ``<>`` or nonsense)."""
    address = parseaddr(value)[1].strip()
    return address.lower() if "@" in address else ""


def _headers(raw: bytes) -> Any:
    return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw[:262144])


def envelope_sender(raw: bytes) -> str:
    """For doors that do not see the SMTP envelope: the ``Return-Path`` the delivering
    server wrote (``<>`` for bounces: the null sender), else the ``From`` address."""
    headers = _headers(raw)
    return_path = headers.get("Return-Path")
    if return_path is not None:
        return _addr(str(return_path))
    found = getaddresses([str(v) for v in headers.get_all("From", [])])
    return next((a.lower() for _, a in found if "@" in a), "")


def _message_key(raw: bytes) -> str:
    """The Message-ID, else a digest of the bytes (the same message gives the same key)."""
    value = _headers(raw).get("Message-ID")
    message_id = str(value).strip() if value is not None else ""
    if message_id and len(message_id) <= MAX_EXTERNAL_ID and message_id.isprintable():
        return message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest()


__all__ = ["PROVIDERS", "Delivery", "envelope_sender", "refused", "verify"]
