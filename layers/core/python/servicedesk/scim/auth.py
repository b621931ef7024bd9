"""The SCIM bearer token: one per tenant, made (and rotated) by an admin, shown once and
stored as its SHA-256 like every other opaque token here (identity/sessions.token_hash);
and the request pipeline of the SCIM routes: token -> tenant transaction -> rate limit."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from fastapi import Request
from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.identity.sessions import token_hash
from servicedesk.platform import db
from servicedesk.platform.config import get_settings
from servicedesk.platform.context import client_ip, plain_publish, request_id
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.scim.errors import ScimError

TOKEN_PREFIX = "scim_"  # noqa: S105 - a recognisable prefix, not a secret


def new_token() -> tuple[str, bytes, str]:
    """(token, its hash, the prefix shown to admins)."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return raw, token_hash(raw), raw[: len(TOKEN_PREFIX) + 6]


def _unauthorized(detail: str) -> ScimError:
    return ScimError(401, detail, headers={"WWW-Authenticate": 'Bearer realm="scim"'})


def bearer(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise _unauthorized("Authorization: a SCIM bearer token is required")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise _unauthorized("Authorization: must be 'Bearer <token>'")
    return token


def scim_context(request: Request) -> Iterator[RequestContext]:
    """One tenant transaction for a SCIM request, as the token's tenant. The actor is the
    admin who made the token (the audit says so, with ``via: scim``)."""
    token = bearer(request)
    with db.transaction() as session:
        owner = session.execute(
            text("SELECT tenant_id, actor_id FROM scim_token_owner(:h)"), {"h": token_hash(token)}
        ).one_or_none()
        if owner is None or owner.actor_id is None:
            request.state.auth_failure = "unknown, revoked or disabled SCIM token"
            raise _unauthorized("Authorization: the token is unknown, revoked or disabled")
        db.set_tenant(session, tenant_id=owner.tenant_id, user_id=owner.actor_id)
        if not _owner_is_admin(session, owner.tenant_id, owner.actor_id):
            # The token acts as the admin who made it: it lapses with their admin rights
            # (deactivated, demoted or removed), until an admin rotates it.
            request.state.auth_failure = "SCIM token of a member who is no longer an admin"
            raise _unauthorized("Authorization: the token is unknown, revoked or disabled")
        _limit(session, owner.tenant_id)
        ctx = RequestContext(
            session=session,
            tenant_id=owner.tenant_id,
            user_id=owner.actor_id,
            role=Role.ADMIN,
            request_id=request_id(request),
            client_ip=client_ip(request),
            extra={"scim": True},
        )
        request.state.principal = {"tenant_id": str(owner.tenant_id), "user_id": "scim"}
        yield ctx
    plain_publish(session)


def _owner_is_admin(session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return bool(
        session.execute(
            text(
                "SELECT 1 FROM memberships WHERE tenant_id = :t AND user_id = :u"
                " AND active AND role = 'admin'"
            ),
            {"t": tenant_id, "u": user_id},
        ).first()
    )


def _limit(session: Session, tenant_id: uuid.UUID) -> None:
    """At most ``scim_requests_per_minute`` per tenant and minute (a fixed window; the
    row lock also queues a tenant's concurrent requests, which IdPs send few of)."""
    limit = get_settings().scim_requests_per_minute
    now = datetime.now(UTC)
    window = now.replace(second=0, microsecond=0)
    count = session.execute(
        text(
            "INSERT INTO scim_request_windows (tenant_id, window_start, requests)"
            " VALUES (:t, :w, 1) ON CONFLICT (tenant_id, window_start)"
            " DO UPDATE SET requests = scim_request_windows.requests + 1 RETURNING requests"
        ),
        {"t": tenant_id, "w": window},
    ).scalar_one()
    if count == 1:  # the first of a window clears the old ones
        session.execute(
            text("DELETE FROM scim_request_windows WHERE tenant_id = :t AND window_start < :w"),
            {"t": tenant_id, "w": window},
        )
    if count > limit:
        wait = int((window + timedelta(minutes=1) - now).total_seconds()) + 1
        raise ScimError(
            429,
            f"more than {limit} SCIM requests a minute; retry later",
            None,
            {"Retry-After": str(wait)},
        )
