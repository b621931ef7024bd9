"""Who is calling, in which tenant: the request context every service receives.

Framework-free (no FastAPI, no Starlette), so the WebSocket handlers and the consumers share
it with the HTTP pipeline (``platform.context``) without importing a web framework.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform import db
from servicedesk.platform.errors import Unauthorized
from servicedesk.platform.roles import Role
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

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff


Principal = tuple[uuid.UUID, uuid.UUID, Role]
ExternalPrincipal = Callable[[Session, Claims], Principal]
# Who turns an external issuer's claims into a principal (provisioning what is missing).
# The identity package installs it when imported (identity/provisioning.py), so that
# platform imports no domain; every entry point that authenticates imports it.
_external: list[ExternalPrincipal] = []


def accept_external(resolver: ExternalPrincipal) -> None:
    _external[:] = [resolver]


def resolve_principal(session: Session, claims: Claims) -> Principal:
    if claims.kind == "external":
        if not _external:
            raise RuntimeError("external tokens need servicedesk.identity.provisioning loaded")
        return _external[0](session, claims)
    tenant_id, user_id = uuid.UUID(str(claims.tenant)), uuid.UUID(claims.subject)
    db.set_tenant(session, tenant_id=tenant_id, user_id=user_id)
    # The role is read per request, so a demotion or deactivation takes effect at once.
    # The tenant's settings come in the same statement (one round trip less per request);
    # the domains read their part from db.TENANT_SETTINGS instead of querying tenants again.
    row = session.execute(_PRINCIPAL, {"t": tenant_id, "u": user_id}).one_or_none()
    if row is None or not row.active:
        raise Unauthorized("this account is not active in the tenant", header="Authorization")
    session.info[db.TENANT_SETTINGS] = row.settings if isinstance(row.settings, dict) else {}
    return tenant_id, user_id, Role(row.role)


_PRINCIPAL = text(
    "SELECT m.role, m.active, t.settings FROM memberships m"
    " JOIN tenants t ON t.id = m.tenant_id WHERE m.tenant_id = :t AND m.user_id = :u"
)
