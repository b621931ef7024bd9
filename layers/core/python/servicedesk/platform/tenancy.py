"""Who is calling, in which tenant: the request context every service receives.

Framework-free (no FastAPI, no Starlette), so the WebSocket handlers and the consumers share
it with the HTTP pipeline (``platform.context``) without importing a web framework.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform import db
from servicedesk.platform.errors import Unauthorized
from servicedesk.platform.permissions import TEAM_SCOPED, Access, Permission, access, builtin
from servicedesk.platform.roles import Role

if TYPE_CHECKING:  # only a type here: consumers resolve no tokens and need no jwt
    from servicedesk.platform.tokens import Claims


@dataclass
class RequestContext:
    """What a service needs to know about the request; passed explicitly, never global."""

    session: Session
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    role: Role
    request_id: str | None = None
    client_ip: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # A magic-link session: the one ticket it may reach (platform.rbac.requires refuses it
    # on every route that does not declare `ticket_scope=True`); None for a full session.
    ticket_scope: uuid.UUID | None = None
    # The sign-in (refresh-token family) the access token belongs to, when it names one.
    session_id: uuid.UUID | None = None
    # What the caller may do: the member's custom role's permissions, else the built-in
    # role's (platform.permissions); None here means the built-in role's.
    permissions: frozenset[Permission] | None = None
    # A team-scoped custom role's team: its TEAM_SCOPED permissions hold on that team's
    # tickets only (``can_on``; the visibility rule adds that team's tickets).
    team_scope: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if self.permissions is None:
            self.permissions = builtin(self.role)

    @property
    def is_staff(self) -> bool:
        """The tier (staff vs requester), not a permission: what the person *is* (an
        assignee, a reply by staff, the staff MFA policy) rather than what they may do."""
        return self.role.is_staff

    def can(self, permission: Permission) -> bool:
        """Held at all (globally or for a team): what a route checks."""
        return permission in (self.permissions or ())

    def can_on(self, permission: Permission, team_id: uuid.UUID | None) -> bool:
        """Held for a ticket of ``team_id`` (a team scope limits the ticket permissions)."""
        if not self.can(permission):
            return False
        return (
            self.team_scope is None or permission not in TEAM_SCOPED or team_id == self.team_scope
        )

    @classmethod
    def of(
        cls,
        session: Session,
        tenant_id: uuid.UUID,
        user_id: uuid.UUID,
        role: Role,
        granted: Access,
        **extra: Any,
    ) -> RequestContext:
        """A context with a member's access (their permissions and team scope)."""
        return cls(
            session=session,
            tenant_id=tenant_id,
            user_id=user_id,
            role=role,
            permissions=granted.permissions,
            team_scope=granted.team_id,
            **extra,
        )


# Tenant, user, built-in role (the tier) and what they may do (a custom role's permissions
# and team scope, else the built-in role's permissions).
Principal = tuple[uuid.UUID, uuid.UUID, Role, Access]
ExternalPrincipal = Callable[[Session, "Claims"], Principal]
# Who turns an external issuer's claims into a principal (provisioning what is missing).
# The identity package installs it when imported (identity/provisioning.py), so that
# platform imports no domain; every entry point that authenticates imports it.
_external: list[ExternalPrincipal] = []


def accept_external(resolver: ExternalPrincipal) -> None:
    _external[:] = [resolver]


def resolve_principal(session: Session, claims: Claims, *, scoped_ok: bool = False) -> Principal:
    """Tenant, user, role and permissions of verified claims. A ticket-scoped (magic-link) token is
    refused unless the caller enforces the scope (``scoped_ok``: the HTTP pipeline, whose
    routes refuse it by default), and is only ever a requester's."""
    if claims.scope is not None and not scoped_ok:
        raise Unauthorized("this session is limited to one ticket", header="Authorization")
    if claims.kind == "external":
        if not _external:
            raise RuntimeError("external tokens need servicedesk.identity.provisioning loaded")
        return _external[0](session, claims)
    tenant_id, user_id = uuid.UUID(str(claims.tenant)), uuid.UUID(claims.subject)
    db.set_tenant(session, tenant_id=tenant_id, user_id=user_id)
    # The role is read per request, so a demotion or deactivation takes effect at once.
    # The tenant's settings come in the same statement (one round trip less per request);
    # the domains read their part from db.TENANT_SETTINGS instead of querying tenants again.
    sid = claims.session_id
    row = session.execute(_PRINCIPAL, {"t": tenant_id, "u": user_id, "s": sid}).one_or_none()
    if row is None or not row.active:
        raise Unauthorized("this account is not active in the tenant", header="Authorization")
    if _revoked(claims, row.sessions_revoked_at) or (sid is not None and row.session_ended):
        raise Unauthorized("this session has ended; sign in again", header="Authorization")
    if claims.scope is not None and row.role != Role.REQUESTER.value:
        raise Unauthorized("a ticket link never opens a staff session", header="Authorization")
    session.info[db.TENANT_SETTINGS] = row.settings if isinstance(row.settings, dict) else {}
    role = Role(row.role)
    return tenant_id, user_id, role, access(role, row.custom_permissions, row.custom_team_id)


def member_access(
    session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Role, Access] | None:
    """An active member's role and permissions read now (the consumers and jobs that act as
    a person: exports, report deliveries, WebSocket frames), or None if not an active member.
    The tenant must be set on the session."""
    row = session.execute(_MEMBER, {"t": tenant_id, "u": user_id}).one_or_none()
    if row is None or not row.active:
        return None
    role = Role(row.role)
    return role, access(role, row.custom_permissions, row.custom_team_id)


def member_context(
    session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID
) -> RequestContext | None:
    """The context a request of this member would have (tenant and user set on the session,
    their role read now), or None if they are no longer an active member: what a job that
    acts for a person (an export, a CMDB import) runs as."""
    db.set_tenant(session, tenant_id=tenant_id, user_id=user_id)
    member = member_access(session, tenant_id, user_id)
    if member is None:
        return None
    role, granted = member
    return RequestContext.of(session, tenant_id, user_id, role, granted)


def _revoked(claims: Claims, revoked_at: datetime | None) -> bool:
    """Issued before the person's sessions were ended (a password reset or set). ``iat``
    has whole seconds: a token issued in the second of the reset still passes."""
    if revoked_at is None or claims.issued_at is None:
        return False
    return claims.issued_at < int(revoked_at.timestamp())


# A token naming its session (``sid``) is refused once that session is revoked (or was
# never this person's in this tenant): one primary-key probe in the same statement.
# The member's custom role's permissions come in the same statement (a primary-key join),
# so custom roles cost no round trip per request.
_PRINCIPAL = text(
    "SELECT m.role, m.active, t.settings, m.sessions_revoked_at,"
    " r.permissions AS custom_permissions, r.team_id AS custom_team_id,"
    " NOT EXISTS (SELECT 1 FROM refresh_token_families f WHERE f.id = CAST(:s AS uuid)"
    "   AND f.tenant_id = m.tenant_id AND f.user_id = m.user_id AND f.revoked_at IS NULL)"
    "   AS session_ended"
    " FROM memberships m"
    " JOIN tenants t ON t.id = m.tenant_id"
    " LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.custom_role_id"
    " WHERE m.tenant_id = :t AND m.user_id = :u"
)
_MEMBER = text(
    "SELECT m.role, m.active, r.permissions AS custom_permissions,"
    " r.team_id AS custom_team_id FROM memberships m"
    " LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.custom_role_id"
    " WHERE m.tenant_id = :t AND m.user_id = :u"
)
