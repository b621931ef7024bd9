"""The survey link's token: signed (tenant, requester, survey, expiry), single-use because
the survey row records its answer once, and stored only as its SHA-256.

Binary payload, base64url, under the mail key with a label of its own, so no other token
signed with that key (magic links, unsubscribe, reply addresses) passes for one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import uuid
from dataclasses import dataclass

_LABEL = b"servicedesk-csat-survey\x00"
_LAYOUT = struct.Struct(">16s16s16sQ")  # tenant, requester, survey, expiry (epoch s)
_SIG_BYTES = 16
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class SurveyLink:
    tenant_id: uuid.UUID
    requester_id: uuid.UUID
    survey_id: uuid.UUID
    expires_at: int


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _LABEL + payload, hashlib.sha256).digest()[:_SIG_BYTES]


def make_token(key: bytes, link: SurveyLink) -> str:
    payload = _LAYOUT.pack(
        link.tenant_id.bytes, link.requester_id.bytes, link.survey_id.bytes, link.expires_at
    )
    return base64.urlsafe_b64encode(payload + _sign(key, payload)).decode().rstrip("=")


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def read_token(key: bytes, token: str) -> SurveyLink | None:
    """What a genuine token names (expired or not: the caller tells 410 from 404), or None."""
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
    tenant, requester, survey, expires_at = _LAYOUT.unpack(payload)
    return SurveyLink(
        uuid.UUID(bytes=tenant), uuid.UUID(bytes=requester), uuid.UUID(bytes=survey), expires_at
    )
