"""Signed links in mail: the key, and the magic link that lets a requester follow a ticket.

A magic link is an HMAC, not a row: the e-mail consumer mints one per requester mail with
no database write. It signs (tenant, user, ticket, expiry, the person's link generation);
the generation is bumped when the person sets a password, which ends every link they hold.
Binary payload, base64url: about a hundred characters, so the URL survives mail clients.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time
import uuid
from dataclasses import dataclass

from servicedesk.platform.config import Environment, Settings, resolve_secret

# Only for dev and test, where the tokens protect nothing; elsewhere the setting is
# required (without it no reply address, unsubscribe or magic link is made).
_DEV_KEY = b"servicedesk-dev-reply-token-key"
_LABEL = b"servicedesk-magic-link\x00"  # so no other token signed with the key passes
_LAYOUT = struct.Struct(">16s16s16sQI")  # tenant, user, ticket, expiry (epoch s), generation
_SIG_BYTES = 16
MAX_TOKEN_LENGTH = 200


def mail_key(settings: Settings) -> bytes | None:
    """The key that signs reply addresses, unsubscribe links and magic links."""
    value = resolve_secret(settings.email_token_secret, settings.email_token_secret_arn)
    if value:
        return value.encode()
    if settings.environment in (Environment.DEV, Environment.TEST):
        return _DEV_KEY
    return None


@dataclass(frozen=True)
class MagicLink:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    ticket_id: uuid.UUID
    expires_at: int
    generation: int


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _LABEL + payload, hashlib.sha256).digest()[:_SIG_BYTES]


def make_token(key: bytes, link: MagicLink) -> str:
    payload = _LAYOUT.pack(
        link.tenant_id.bytes,
        link.user_id.bytes,
        link.ticket_id.bytes,
        link.expires_at,
        link.generation,
    )
    return base64.urlsafe_b64encode(payload + _sign(key, payload)).decode().rstrip("=")


def read_token(key: bytes, token: str, *, now: float | None = None) -> MagicLink | None:
    """What a genuine, unexpired token names, or None (malformed, forged or expired)."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _LAYOUT.size + _SIG_BYTES:
        return None
    payload, signature = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
    if not hmac.compare_digest(_sign(key, payload), signature):
        return None
    tenant, user, ticket, expires_at, generation = _LAYOUT.unpack(payload)
    if expires_at <= (time.time() if now is None else now):
        return None
    ids = (uuid.UUID(bytes=tenant), uuid.UUID(bytes=user), uuid.UUID(bytes=ticket))
    return MagicLink(*ids, expires_at=expires_at, generation=generation)


def seal(key: bytes, label: bytes, payload: bytes) -> str:
    """A signed token of ``payload`` under ``label`` (so no token of another kind passes
    for one), base64url: what each kind of link in mail (approval decisions, ...) carries."""
    signature = hmac.new(key, label + payload, hashlib.sha256).digest()[:_SIG_BYTES]
    return base64.urlsafe_b64encode(payload + signature).decode().rstrip("=")


def unseal(key: bytes, label: bytes, token: str, size: int) -> bytes | None:
    """The payload of a genuine ``seal`` token of ``size`` bytes, or None (malformed, too
    long or forged). Expiry is the caller's: it tells an expired link (410) from none."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != size + _SIG_BYTES:
        return None
    payload, signature = raw[:size], raw[size:]
    expected = hmac.new(key, label + payload, hashlib.sha256).digest()[:_SIG_BYTES]
    return payload if hmac.compare_digest(expected, signature) else None
