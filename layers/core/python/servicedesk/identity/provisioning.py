"""Just-in-time provisioning of people who sign in through the external OIDC issuer (and
the account linking that per-tenant sign-in providers share, identity/sso.py).

Importing this module installs it into ``platform.tenancy`` (which imports no domain): the
entry points that authenticate requests (the API functions, the WebSocket routes) import it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import Unauthorized
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import Principal, accept_external, member_access
from servicedesk.platform.tokens import Claims


class ExistingAccount(Exception):
    """The address belongs to another account (a password one, or another IdP's)."""


def link_external_user(
    session: Session, *, issuer: str, subject: str, email: str, name: str
) -> uuid.UUID:
    """The account of an IdP's (issuer, subject), created or brought up to date (e-mail,
    name) by ``auth_provision_external_user``. Linking an address that belongs to another
    account on an IdP's word alone would hand that account to whoever controls the IdP
    identity: ``ExistingAccount``, and the transaction lives on."""
    try:
        with session.begin_nested():
            user_id = session.execute(
                text("SELECT auth_provision_external_user(:iss, :sub, :email, :name)"),
                {"iss": issuer, "sub": subject, "email": email, "name": name[:200]},
            ).scalar_one()
    except IntegrityError as exc:
        raise ExistingAccount(email) from exc
    return uuid.UUID(str(user_id))


def provision_external(session: Session, claims: Claims) -> Principal:
    """Tenant, user and role for an externally issued token; creates what is missing."""
    if not claims.tenant:
        raise Unauthorized("the token names no tenant", header="Authorization")
    tenant_id = session.execute(
        text("SELECT tenant_id_for_slug(:s)"), {"s": claims.tenant}
    ).scalar()
    if tenant_id is None or not claims.email:
        raise Unauthorized("the token's tenant or e-mail is not known here", header="Authorization")
    set_tenant(session, tenant_id=tenant_id, user_id=None)
    try:
        user_id = link_external_user(
            session,
            issuer=claims.issuer,
            subject=claims.subject,
            email=claims.email,
            name=claims.name or claims.email,
        )
    except ExistingAccount as exc:
        raise Unauthorized(
            "this e-mail belongs to an existing account", header="Authorization"
        ) from exc
    set_tenant(session, tenant_id=tenant_id, user_id=user_id)
    claimed = Role(claims.role) if claims.role in set(Role) else None
    row = session.execute(
        text("SELECT role, active FROM memberships WHERE tenant_id = :t AND user_id = :u"),
        {"t": tenant_id, "u": user_id},
    ).one_or_none()
    if row is None or (claimed is not None and row.role != claimed.value):
        row = session.execute(
            text(
                "INSERT INTO memberships (tenant_id, user_id, role) VALUES (:t, :u, :r)"
                " ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role,"
                " version = memberships.version + 1, updated_at = now()"
                " RETURNING role, active"
            ),
            {"t": tenant_id, "u": user_id, "r": (claimed or Role.REQUESTER).value},
        ).one()
    if not row.active:
        raise Unauthorized("this account is not active in the tenant", header="Authorization")
    user = uuid.UUID(str(user_id))
    access = member_access(session, tenant_id, user)
    assert access is not None  # active, just read under the same transaction
    return tenant_id, user, *access


accept_external(provision_external)
