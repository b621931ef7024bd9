"""One-click unsubscribe (RFC 8058): a signed token naming a member and an event type.

The token is ``<base64url(tenant.user.event_type)>.<hmac>`` under the e-mail token secret
(the reply-address key, with a label of its own so one token can never pass for the
other). It has no expiry: a List-Unsubscribe link must keep working for as long as the mail
sits in an inbox, and all it can do is switch one kind of e-mail off for one person.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from dataclasses import dataclass

from servicedesk.notifications.schemas import EVENT_TYPES

_LABEL = b"servicedesk-unsubscribe\x00"
_SIG_CHARS = 32
MAX_TOKEN_LENGTH = 256


@dataclass(frozen=True)
class Unsubscribe:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    event_type: str


def _sign(key: bytes, payload: str) -> str:
    return hmac.new(key, _LABEL + payload.encode(), hashlib.sha256).hexdigest()[:_SIG_CHARS]


def make_token(key: bytes, what: Unsubscribe) -> str:
    payload = f"{what.tenant_id}.{what.user_id}.{what.event_type}"
    encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{encoded}.{_sign(key, payload)}"


def read_token(key: bytes, token: str) -> Unsubscribe | None:
    """What a genuine token names, or None (malformed, forged, or an unknown event)."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    encoded, _, signature = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not hmac.compare_digest(_sign(key, payload), signature):
        return None
    tenant, _, rest = payload.partition(".")
    user, _, event_type = rest.partition(".")
    if event_type not in EVENT_TYPES:
        return None
    try:
        return Unsubscribe(uuid.UUID(tenant), uuid.UUID(user), event_type)
    except ValueError:
        return None
