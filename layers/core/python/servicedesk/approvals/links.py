"""The approve / reject links of an approver's e-mail: signed (tenant, approver, request,
stage, decision, expiry) under the mail key with a label of their own, no row. Single use
because a seat decides once (the database's unique decision per stage and seat: a second
use is 409); a link for a stage no longer current is 409 too, an expired one 410.

GET shows the confirmation page and records nothing (mail scanners open every link); POST
records the decision, as the approver."""

from __future__ import annotations

import struct
import time
import uuid
from dataclasses import dataclass

from servicedesk.platform.mail_links import MAX_TOKEN_LENGTH, seal, unseal

_LABEL = b"servicedesk-approval-link\x00"
_LAYOUT = struct.Struct(">16s16s16s16sBQ")  # tenant, approver, request, stage, decision, exp
_DECISIONS = ("approve", "reject")
LINK_SECONDS = 7 * 24 * 3600
__all__ = ["LINK_SECONDS", "MAX_TOKEN_LENGTH", "DecisionLink", "make_token", "read_token"]


@dataclass(frozen=True)
class DecisionLink:
    tenant_id: uuid.UUID
    approver_id: uuid.UUID
    approval_id: uuid.UUID
    stage_id: uuid.UUID
    decision: str
    expires_at: int

    @property
    def expired(self) -> bool:
        return self.expires_at <= time.time()


def make_token(key: bytes, link: DecisionLink) -> str:
    payload = _LAYOUT.pack(
        link.tenant_id.bytes,
        link.approver_id.bytes,
        link.approval_id.bytes,
        link.stage_id.bytes,
        _DECISIONS.index(link.decision),
        link.expires_at,
    )
    return seal(key, _LABEL, payload)


def read_token(key: bytes, token: str) -> DecisionLink | None:
    """What a genuine token names (expired or not), or None."""
    payload = unseal(key, _LABEL, token, _LAYOUT.size)
    if payload is None:
        return None
    tenant, approver, request, stage, decision, expires_at = _LAYOUT.unpack(payload)
    if decision >= len(_DECISIONS):
        return None
    return DecisionLink(
        uuid.UUID(bytes=tenant),
        uuid.UUID(bytes=approver),
        uuid.UUID(bytes=request),
        uuid.UUID(bytes=stage),
        decision=_DECISIONS[decision],
        expires_at=expires_at,
    )


def links_for(
    key: bytes,
    tenant_id: uuid.UUID,
    approver_id: uuid.UUID,
    approval_id: uuid.UUID,
    stage_id: uuid.UUID,
    *,
    now: float | None = None,
) -> dict[str, str]:
    """The approver's two tokens for the stage: {"approve": ..., "reject": ...}."""
    expires = int((time.time() if now is None else now) + LINK_SECONDS)
    return {
        decision: make_token(
            key, DecisionLink(tenant_id, approver_id, approval_id, stage_id, decision, expires)
        )
        for decision in _DECISIONS
    }
