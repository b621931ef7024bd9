"""The one way a membership's role, custom role or active flag changes, whoever asks: the admin API
(identity/users.py), SCIM Users and Groups (scim/users.py, scim/groups.py), an SSO
provider's ``role_map`` (identity/sso.py) and an LDAP group mapping
(identity/directory_login.py).

Every change locks the member's row and the tenant's active admins' rows (in one order,
by user id, so that two demotions at once wait for each other instead of both seeing two
admins), refuses to leave the tenant without an active admin, bumps the version, ends
every session on deactivation (identity/sessions.revoke_user) and is audited
(``membership.changed``).

An admin counts as one for the guard while they are active, have the admin role, and hold
``admin:users`` and ``admin:roles`` (a custom role without them would lock everyone out of
the members and roles screens).

The last-admin guard answers differently by who asks. The API paths get ``LastAdmin``, a
409 naming the field (``role`` or ``active``); SCIM translates it into its own error
document. A sign-in (``at_sign_in=True``) is not refused for it: the desk keeps the admin
role, the sign-in goes on, and the kept role is logged and audited
(``membership.last_admin_kept``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from servicedesk.identity import sessions
from servicedesk.platform import audit
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.logging import get_logger
from servicedesk.platform.permissions import Permission
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version

LAST_ADMIN = "a tenant keeps at least one active admin"
# What the last admin keeps whatever custom role they get.
ADMIN_KEEPS = frozenset({Permission.ADMIN_USERS.value, Permission.ADMIN_ROLES.value})
# ``change(custom_role_id=KEEP)``: the member's custom role stays as it is.
KEEP: object = object()


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
    custom_role_id: uuid.UUID | None = None


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
    custom_role_id: uuid.UUID | object | None = KEEP,
    expected_version: int | None = None,
    at_sign_in: bool = False,
) -> Membership:
    """Role, custom role (None: none, the built-in role's permissions) and/or active flag in
    one change (one version bump): what ``set_role`` and ``set_active`` do, for the admin
    API's PATCH that may carry them all."""
    rows = ctx.session.execute(
        text(
            "SELECT m.user_id, m.role, m.active, m.version, m.custom_role_id, r.permissions"
            " FROM memberships m"
            " LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.custom_role_id"
            " WHERE m.tenant_id = :t AND (m.user_id = :u OR (m.role = 'admin' AND m.active))"
            " ORDER BY m.user_id FOR UPDATE OF m"
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
    new_custom: uuid.UUID | None = (
        current.custom_role_id if custom_role_id is KEEP else custom_role_id  # type: ignore[assignment]
    )
    new_permissions = current.permissions
    if new_custom != current.custom_role_id:
        new_permissions = None if new_custom is None else _assignable(ctx, new_custom)
    new_role = _guard(ctx, rows, current, new_role, new_active, new_permissions, at_sign_in)
    if (
        new_role == current.role
        and new_active == current.active
        and new_custom == current.custom_role_id
    ):
        return Membership(
            current.role,
            current.active,
            current.version,
            False,
            previous_role=current.role,
            custom_role_id=current.custom_role_id,
        )
    version = ctx.session.execute(
        text(
            "UPDATE memberships SET role = :r, active = :a, custom_role_id = :c,"
            " version = version + 1, updated_at = now()"
            " WHERE tenant_id = :t AND user_id = :u RETURNING version"
        ),
        {"t": ctx.tenant_id, "u": user_id, "r": new_role, "a": new_active, "c": new_custom},
    ).scalar_one()
    if current.active and not new_active:
        sessions.revoke_user(ctx, user_id=user_id)
    data: dict[str, object] = {}
    if new_role != current.role:
        data["role"] = {"from": current.role, "to": new_role}
    if new_active != current.active:
        data["active"] = {"from": current.active, "to": new_active}
    if new_custom != current.custom_role_id:
        data["custom_role_id"] = {"from": current.custom_role_id, "to": new_custom}
    audit.record(ctx, action="membership.changed", entity_type="user", entity_id=user_id, data=data)
    return Membership(
        new_role,
        new_active,
        int(version),
        True,
        previous_role=current.role,
        custom_role_id=new_custom,
    )


def _assignable(ctx: RequestContext, role_id: uuid.UUID) -> list[str]:
    """The permissions of the tenant's custom role ``role_id``, locked against its deletion;
    422 naming ``custom_role_id`` when the tenant has no such role (another tenant's is
    invisible here)."""
    found = ctx.session.execute(
        text("SELECT permissions FROM roles WHERE tenant_id = :t AND id = :r FOR SHARE"),
        {"t": ctx.tenant_id, "r": role_id},
    ).scalar_one_or_none()
    if found is None:
        raise ValidationProblem(errors=[field_error("custom_role_id", "no such role")])
    return list(found)


def _guard(
    ctx: RequestContext,
    rows: Sequence[Row[Any]],
    current: Row[Any],
    new_role: str,
    new_active: bool,
    new_permissions: list[str] | None,
    at_sign_in: bool,
) -> str:
    """The last-admin guard: the role the member ends with (a sign-in keeps the last
    admin's), or LastAdmin naming the field that would have removed them."""
    admins = sum(1 for r in rows if _admin(r.role, r.active, r.permissions))
    was_admin = _admin(current.role, current.active, current.permissions)
    stays_admin = _admin(new_role, new_active, new_permissions)
    if not was_admin or stays_admin or admins > 1:
        return new_role
    if not at_sign_in:
        field = "active" if not new_active else "role"
        if new_active and new_role == Role.ADMIN.value:
            field = "custom_role_id"
        raise LastAdmin(field)
    # A sign-in never deactivates; it keeps the admin role and goes on.
    user_id = current.user_id
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
    return str(current.role)


def _admin(role: str, active: bool, custom: list[str] | None) -> bool:
    """Counts as an admin for the guard: active, the admin role, and (with a custom role)
    still holding what manages members and roles."""
    if role != Role.ADMIN.value or not active:
        return False
    return custom is None or set(custom) >= ADMIN_KEEPS


def sign_in_context(
    session: Session, *, tenant_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> RequestContext:
    """The context of a sign-in that changes the person's own membership (SSO, LDAP): the
    person is the actor."""
    return RequestContext(session=session, tenant_id=tenant_id, user_id=user_id, role=Role(role))
