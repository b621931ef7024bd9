"""Refresh-token families: opaque tokens stored as hashes, rotated on every use.

Presenting a token that was already rotated means it was copied: the whole family (every
session descended from that login) is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform.config import Settings
from servicedesk.platform.db import set_tenant
from servicedesk.platform.tokens import issue_access_token


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    tenant_id: uuid.UUID
    user_id: uuid.UUID


def token_hash(raw: str) -> bytes:
    return hashlib.sha256(raw.encode()).digest()


def _new_refresh_token(
    session: Session, *, tenant_id: uuid.UUID, family_id: uuid.UUID, settings: Settings
) -> str:
    raw = secrets.token_urlsafe(32)
    session.execute(
        text(
            "INSERT INTO refresh_tokens (tenant_id, family_id, token_hash, expires_at)"
            " VALUES (:t, :f, :h, :e)"
        ),
        {
            "t": tenant_id,
            "f": family_id,
            "h": token_hash(raw),
            "e": datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_seconds),
        },
    )
    return raw


def start(
    session: Session, *, tenant_id: uuid.UUID, user_id: uuid.UUID, role: str, settings: Settings
) -> IssuedTokens:
    """A new login: a new family, its first refresh token, an access token."""
    family_id = session.execute(
        text(
            "INSERT INTO refresh_token_families (tenant_id, user_id) VALUES (:t, :u) RETURNING id"
        ),
        {"t": tenant_id, "u": user_id},
    ).scalar_one()
    refresh = _new_refresh_token(
        session, tenant_id=tenant_id, family_id=family_id, settings=settings
    )
    access, ttl = issue_access_token(
        user_id=user_id, tenant_id=tenant_id, role=role, settings=settings
    )
    return IssuedTokens(access, ttl, refresh, tenant_id, user_id)


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, revoked or reused."""


def rotate(session: Session, *, raw: str, settings: Settings) -> IssuedTokens:
    digest = token_hash(raw)
    owner = session.execute(
        text("SELECT tenant_id, user_id FROM auth_refresh_owner(:h)"), {"h": digest}
    ).one_or_none()
    if owner is None:
        raise RefreshRefused("unknown refresh token")
    set_tenant(session, tenant_id=owner.tenant_id, user_id=owner.user_id)
    # Lock the token row: of two concurrent uses of one token, exactly one rotates it.
    row = session.execute(
        text(
            "SELECT r.id, r.used_at, r.expires_at, f.id AS family_id, f.revoked_at"
            " FROM refresh_tokens r JOIN refresh_token_families f ON f.id = r.family_id"
            " WHERE r.token_hash = :h FOR UPDATE OF r, f"
        ),
        {"h": digest},
    ).one()
    if row.revoked_at is not None:
        raise RefreshRefused("family revoked")
    if row.used_at is not None:
        revoke_family(session, family_id=row.family_id, reason="reuse")
        raise RefreshRefused("refresh token reused; family revoked")
    if row.expires_at <= datetime.now(UTC):
        raise RefreshRefused("refresh token expired")
    member = session.execute(
        text("SELECT role, active FROM memberships WHERE tenant_id = :t AND user_id = :u"),
        {"t": owner.tenant_id, "u": owner.user_id},
    ).one_or_none()
    if member is None or not member.active:
        revoke_family(session, family_id=row.family_id, reason="inactive")
        raise RefreshRefused("membership inactive")
    session.execute(
        text("UPDATE refresh_tokens SET used_at = now() WHERE id = :id"), {"id": row.id}
    )
    refresh = _new_refresh_token(
        session, tenant_id=owner.tenant_id, family_id=row.family_id, settings=settings
    )
    access, ttl = issue_access_token(
        user_id=owner.user_id, tenant_id=owner.tenant_id, role=member.role, settings=settings
    )
    return IssuedTokens(access, ttl, refresh, owner.tenant_id, owner.user_id)


def revoke_family(session: Session, *, family_id: uuid.UUID, reason: str) -> None:
    session.execute(
        text(
            "UPDATE refresh_token_families SET revoked_at = now(), revoked_reason = :r"
            " WHERE id = :f AND revoked_at IS NULL"
        ),
        {"f": family_id, "r": reason},
    )


def revoke_by_token(session: Session, *, raw: str) -> None:
    """Logout: revoke the family of the presented token, if it is one of ours."""
    digest = token_hash(raw)
    owner = session.execute(
        text("SELECT tenant_id, user_id FROM auth_refresh_owner(:h)"), {"h": digest}
    ).one_or_none()
    if owner is None:
        return
    set_tenant(session, tenant_id=owner.tenant_id, user_id=owner.user_id)
    family_id = session.execute(
        text("SELECT family_id FROM refresh_tokens WHERE token_hash = :h"), {"h": digest}
    ).scalar_one()
    revoke_family(session, family_id=family_id, reason="logout")
