"""Sessions: one per sign-in, a refresh-token family. Opaque tokens stored as hashes,
rotated on every use.

Presenting a token that was already rotated means it was copied: the whole family (every
session descended from that login) is revoked. A family remembers its device (user agent
and address, of the sign-in and then of each refresh) and when it was last used; the
person lists and revokes their own, an admin revokes all of a member's. Our access tokens
name their family (``sid``), so a revoked session's access tokens are refused at once
(``platform.tenancy``), its refresh token no longer rotates, and its WebSocket connections
are forgotten here and closed by the broadcaster (``session.revoked``).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform import audit, outbox
from servicedesk.platform.config import Settings
from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import Conflict, NotFound, field_error
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.tokens import issue_access_token


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    session_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Device:
    """Where a sign-in or a refresh came from, as the platform saw it (never trusted for
    anything but showing it to the person)."""

    user_agent: str | None = None
    ip_address: str | None = None

    @classmethod
    def of(cls, user_agent: str | None, ip_address: str | None) -> Device:
        return cls((user_agent or "")[:USER_AGENT_MAX] or None, (ip_address or "")[:64] or None)


USER_AGENT_MAX = 512
NO_DEVICE = Device()


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


# Who vouched for a session's person: their password (and second step), or an
# organisation's identity provider or directory.
SignIn = Literal["password", "sso", "directory"]


def sign_in_of(session: Session, family_id: uuid.UUID) -> str | None:
    """How the session (refresh-token family) was started; None for no such session here."""
    found = session.execute(
        text("SELECT sign_in FROM refresh_token_families WHERE id = :f"), {"f": family_id}
    ).scalar()
    return None if found is None else str(found)


def start(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
    settings: Settings,
    device: Device = NO_DEVICE,
    sign_in: SignIn = "password",
) -> IssuedTokens:
    """A new login: a new family, its first refresh token, an access token. ``sign_in``
    says who vouched for the person (migration 0050): ``sso`` and ``directory`` sessions
    are their organisation's credential and do not switch organisations."""
    family_id = session.execute(
        text(
            "INSERT INTO refresh_token_families"
            " (tenant_id, user_id, user_agent, ip_address, sign_in)"
            " VALUES (:t, :u, :ua, :ip, :how) RETURNING id"
        ),
        {
            "t": tenant_id,
            "u": user_id,
            "ua": device.user_agent,
            "ip": device.ip_address,
            "how": sign_in,
        },
    ).scalar_one()
    refresh = _new_refresh_token(
        session, tenant_id=tenant_id, family_id=family_id, settings=settings
    )
    access, ttl = issue_access_token(
        user_id=user_id, tenant_id=tenant_id, role=role, settings=settings, session_id=family_id
    )
    return IssuedTokens(access, ttl, refresh, tenant_id, user_id, family_id)


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, revoked or reused."""


def rotate(
    session: Session, *, raw: str, settings: Settings, device: Device = NO_DEVICE
) -> IssuedTokens:
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
    session.execute(
        text(
            "UPDATE refresh_token_families SET last_used_at = now(),"
            " user_agent = coalesce(:ua, user_agent), ip_address = coalesce(:ip, ip_address)"
            " WHERE id = :f"
        ),
        {"f": row.family_id, "ua": device.user_agent, "ip": device.ip_address},
    )
    refresh = _new_refresh_token(
        session, tenant_id=owner.tenant_id, family_id=row.family_id, settings=settings
    )
    access, ttl = issue_access_token(
        user_id=owner.user_id,
        tenant_id=owner.tenant_id,
        role=member.role,
        settings=settings,
        session_id=row.family_id,
    )
    return IssuedTokens(access, ttl, refresh, owner.tenant_id, owner.user_id, row.family_id)


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


# --- the person's sessions, and an admin's revocation ------------------------------------

# A session is live while its family is not revoked and its newest refresh token is unused
# and unexpired (an expired one can never be refreshed again: it is over).
_LIVE = (
    "f.revoked_at IS NULL AND EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = f.id"
    " AND r.used_at IS NULL AND r.expires_at > now())"
)


@dataclass(frozen=True)
class SessionView:
    id: uuid.UUID
    user_agent: str | None
    ip_address: str | None
    created_at: datetime
    last_used_at: datetime
    current: bool


def list_mine(ctx: RequestContext) -> list[SessionView]:
    """The caller's live sessions in this tenant, the most recently used first."""
    rows = ctx.session.execute(
        text(
            "SELECT f.id, f.user_agent, f.ip_address, f.created_at, f.last_used_at"
            " FROM refresh_token_families f"
            f" WHERE f.tenant_id = :t AND f.user_id = :u AND {_LIVE}"
            " ORDER BY f.last_used_at DESC, f.created_at DESC, f.id"
        ),
        {"t": ctx.tenant_id, "u": ctx.user_id},
    ).all()
    return [
        SessionView(
            id=r.id,
            user_agent=r.user_agent,
            ip_address=r.ip_address,
            created_at=r.created_at,
            last_used_at=r.last_used_at,
            current=r.id == ctx.session_id,
        )
        for r in rows
    ]


def revoke_mine(ctx: RequestContext, *, session_id: uuid.UUID) -> None:
    """End one of the caller's sessions (the current one too: that is signing out there).
    Another person's session, an unknown or an ended one: 404, the same answer for each."""
    ended = _revoke(
        ctx,
        user_id=ctx.user_id,
        where="f.id = :sid",
        params={"sid": session_id},
        reason="revoked",
    )
    if not ended:
        raise NotFound("no such session", errors=[field_error("session_id", "unknown or ended")])


def revoke_others(ctx: RequestContext) -> int:
    """ "Sign out everywhere else": every live session of the caller in this tenant but the
    one making the request. How many ended."""
    if ctx.session_id is None:
        raise Conflict(
            "this access token names no session; sign in again to sign out elsewhere",
            errors=[field_error("Authorization", "a token without a session")],
        )
    return len(
        _revoke(
            ctx,
            user_id=ctx.user_id,
            where="f.id <> :sid",
            params={"sid": ctx.session_id},
            reason="revoked_others",
        )
    )


def revoke_user(ctx: RequestContext, *, user_id: uuid.UUID) -> int:
    """An admin ends every session of a member of this tenant (their sessions elsewhere are
    other tenants' business). Access tokens issued before now without a session are
    refused too (``memberships.sessions_revoked_at``). 404 for a non-member."""
    member = ctx.session.execute(
        text(
            "UPDATE memberships SET sessions_revoked_at = now()"
            " WHERE tenant_id = :t AND user_id = :u RETURNING user_id"
        ),
        {"t": ctx.tenant_id, "u": user_id},
    ).first()
    if member is None:
        raise NotFound("no such user", errors=[field_error("user_id", "unknown")])
    return len(_revoke(ctx, user_id=user_id, where="true", params={}, reason="admin"))


def _revoke(
    ctx: RequestContext,
    *,
    user_id: uuid.UUID,
    where: str,
    params: dict[str, object],
    reason: str,
) -> list[uuid.UUID]:
    """Revoke the person's live sessions in this tenant matching ``where``; forget the
    WebSocket connections they opened, have the broadcaster close them (the outbox's
    ``session.revoked``) and audit it. The ids of the sessions that ended."""
    ended = [
        uuid.UUID(str(r))
        for r in ctx.session.execute(
            text(
                "UPDATE refresh_token_families f SET revoked_at = now(), revoked_reason = :r"
                f" WHERE f.tenant_id = :t AND f.user_id = :u AND {_LIVE} AND ({where})"
                " RETURNING f.id"
            ),
            {"t": ctx.tenant_id, "u": user_id, "r": reason, **params},
        ).scalars()
    ]
    if not ended:
        return ended
    connections = sorted(
        ctx.session.execute(
            text(
                "DELETE FROM realtime_connections WHERE tenant_id = :t AND session_id = ANY(:s)"
                " RETURNING connection_id"
            ),
            {"t": ctx.tenant_id, "s": ended},
        ).scalars()
    )
    ids = sorted(str(s) for s in ended)
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=REVOKED_EVENT,
        aggregate_type="user",
        aggregate_id=user_id,
        payload={
            "user_id": str(user_id),
            "actor_id": str(ctx.user_id),
            "session_ids": ids,
            "connection_ids": connections,
            "reason": reason,
        },
    )
    audit.record(
        ctx,
        action=REVOKED_EVENT,
        entity_type="user",
        entity_id=user_id,
        data={"session_ids": ids, "reason": reason, "connections": len(connections)},
    )
    return ended


REVOKED_EVENT = "session.revoked"
