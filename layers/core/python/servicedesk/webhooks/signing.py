"""The webhook signature: ``t=<unix ts>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``.

Used both ways: outbound deliveries are signed with the endpoint's secret, and inbound hooks
are verified with ``inbound_hook_secret``. docs/webhooks.md documents it with test vectors;
its verification recipe mirrors :func:`verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence

SIGNATURE_HEADER = "Servicedesk-Signature"
EVENT_ID_HEADER = "Servicedesk-Event-Id"
EVENT_TYPE_HEADER = "Servicedesk-Event-Type"
SEQ_HEADER = "Servicedesk-Seq"
TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret
MAX_HEADER_LENGTH = 1024


class SignatureError(Exception):
    """The signature header is missing, malformed, stale, or does not match."""


def generate_secret() -> str:
    """32 random bytes, hex, with a recognisable prefix; the whole string is the HMAC key."""
    return SECRET_PREFIX + secrets.token_hex(32)


def compute(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(signing_secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """The header value: one ``v1`` per secret (two while a rotated secret is still valid)."""
    parts = [f"t={timestamp}"]
    parts.extend(f"v1={compute(secret, timestamp, body)}" for secret in signing_secrets)
    return ",".join(parts)


def parse(header: str) -> tuple[int, list[str]]:
    if len(header) > MAX_HEADER_LENGTH:
        raise SignatureError("signature header too long")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            if timestamp is not None or not value.isdigit() or len(value) > 12:
                raise SignatureError("malformed timestamp")
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("signature header needs t= and v1=")
    return timestamp, signatures


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """The signed timestamp, if ``header`` signs ``body`` with ``secret`` within ``tolerance``
    seconds of ``now`` (either way: a clock far ahead is as suspect as a replay)."""
    if not header:
        raise SignatureError("missing signature header")
    timestamp, signatures = parse(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    expected = compute(secret, timestamp, body)
    # Compare against every v1 without stopping early: constant time per candidate.
    matches = [hmac.compare_digest(expected, candidate) for candidate in signatures]
    if not any(matches):
        raise SignatureError("signature does not match")
    return timestamp
