"""The one way a membership's role or active flag changes, whoever asks: the admin API
(identity/users.py), SCIM Users and Groups (scim/users.py, scim/groups.py), an SSO
provider's ``role_map`` (identity/sso.py) and an LDAP group mapping
(identity/directory_login.py).

Every change locks the member's row and the tenant's active admins' rows (in one order,
by user id, so that two demotions at once wait for each other instead of both seeing two
admins), refuses to leave the tenant without an active admin, bumps the version, ends
every session on deactivation (identity/sessions.revoke_user) and is audited
(``membership.changed``).

The last-admin guard answers differently by who asks. The API paths get ``LastAdmin``, a
409 naming the field (``role`` or ``active``); SCIM translates it into its own error
document. A sign-in (``at_sign_in=True``) is not refused for it: the desk keeps the admin
role, the sign-in goes on, and the kept role is logged and audited
(``membership.last_admin_kept``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.identity import sessions
from servicedesk.platform import audit
from servicedesk.platform.errors import Conflict, NotFound, field_error
from servicedesk.platform.logging import get_logger
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version

LAST_ADMIN = "a tenant keeps at least one active admin"


class LastAdmin(Conflict):
    """The change would leave the tenant without an active admin; ``field`` is the
    attribute that would have done it (``role`` or ``active``)."""

    def __init__(self, field: str) -> None:
        super().__init__(LAST_ADMIN, errors=[field_error(field, LAST_ADMIN)])
        self.field = field


@dataclass(frozen=True)
class Membership:
    """The member's role and active flag after the change (or as they stayed), and the
    role before it."""

    role: str
    active: bool
    version: int
    changed: bool
    previous_role: str


def set_role(
    ctx: RequestContext,
    user_id: uuid.UUID,
    role: Role | str,
    *,
    expected_version: int | None = None,
    at_sign_in: bool = False,
) -> Membership:
    """Give the member ``role``. See the module's docstring for the guard."""
    return change(
        ctx,
        user_id,
        role=Role(role),
        expected_version=expected_version,
        at_sign_in=at_sign_in,
    )


def set_active(
    ctx: RequestContext,
    user_id: uuid.UUID,
    active: bool,
    *,
    expected_version: int | None = None,
) -> Membership:
    """Activate or deactivate the member; deactivating ends every session at once."""
    return change(ctx, user_id, active=active, expected_version=expected_version)


def change(
    ctx: RequestContext,
    user_id: uuid.UUID,
    *,
    role: Role | None = None,
    active: bool | None = None,
    expected_version: int | None = None,
    at_sign_in: bool = False,
) -> Membership:
    """Role and/or active flag in one change (one version bump): what ``set_role`` and
    ``set_active`` do, for the admin API's PATCH that may carry both."""
    rows = ctx.session.execute(
        text(
            "SELECT user_id, role, active, version FROM memberships"
            " WHERE tenant_id = :t AND (user_id = :u OR (role = 'admin' AND active))"
            " ORDER BY user_id FOR UPDATE"
        ),
        {"t": ctx.tenant_id, "u": user_id},
    ).all()
    current = next((r for r in rows if r.user_id == user_id), None)
    if current is None:
        raise NotFound("no such user", errors=[field_error("user_id", "unknown")])
    if expected_version is not None:
        check_version(current.version, expected_version, what="user")
    new_role = current.role if role is None else role.value
    new_active = current.active if active is None else active
    admins = sum(1 for r in rows if r.role == Role.ADMIN.value and r.active)
    was_admin = current.role == Role.ADMIN.value and current.active
    stays_admin = new_role == Role.ADMIN.value and new_active
    if was_admin and not stays_admin and admins <= 1:
        if not at_sign_in:
            raise LastAdmin("active" if not new_active else "role")
        # A sign-in never deactivates; it keeps the admin role and goes on.
        get_logger().warning(
            "membership.last_admin_kept",
            extra={"tenant_id": str(ctx.tenant_id), "user_id": str(user_id), "wanted": new_role},
        )
        audit.record(
            ctx,
            action="membership.last_admin_kept",
            entity_type="user",
            entity_id=user_id,
            data={"wanted_role": new_role},
        )
        new_role = current.role
    if new_role == current.role and new_active == current.active:
        return Membership(
            current.role, current.active, current.version, False, previous_role=current.role
        )
    version = ctx.session.execute(
        text(
            "UPDATE memberships SET role = :r, active = :a, version = version + 1,"
            " updated_at = now() WHERE tenant_id = :t AND user_id = :u RETURNING version"
        ),
        {"t": ctx.tenant_id, "u": user_id, "r": new_role, "a": new_active},
    ).scalar_one()
    if current.active and not new_active:
        sessions.revoke_user(ctx, user_id=user_id)
    data: dict[str, object] = {}
    if new_role != current.role:
        data["role"] = {"from": current.role, "to": new_role}
    if new_active != current.active:
        data["active"] = {"from": current.active, "to": new_active}
    audit.record(ctx, action="membership.changed", entity_type="user", entity_id=user_id, data=data)
    return Membership(new_role, new_active, int(version), True, previous_role=current.role)


def sign_in_context(
    session: Session, *, tenant_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> RequestContext:
    """The context of a sign-in that changes the person's own membership (SSO, LDAP): the
    person is the actor."""
    return RequestContext(session=session, tenant_id=tenant_id, user_id=user_id, role=Role(role))
