"""Custom roles (issue 21, point 5): a tenant's own permission sets.

The four built-in roles are the catalogue's read-only sets (platform/permissions.py); a
custom role is any non-empty set of catalogue permissions, named uniquely per tenant
(case-insensitively). A member holding one (``memberships.custom_role_id``, given through
the user PATCH and identity/memberships.change) gets exactly its permissions, whatever
their built-in role, which stays their tier (staff or requester; the last-admin guard).
The permissions are read with the principal, in the request's one statement
(platform/tenancy.py), so a change takes effect on the next request.

Every change is audited and leaves through the outbox (``role.created``, ``role.updated``,
``role.deleted``: webhook subscribers hear of them).
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import func, select, text

from servicedesk.identity import memberships
from servicedesk.identity.models import CustomRole, Membership
from servicedesk.identity.role_schemas import (
    PermissionPublic,
    RoleCreate,
    RolePublic,
    RoleUpdate,
)
from servicedesk.platform import audit, crud, outbox
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.permissions import BUILTIN, Permission
from servicedesk.platform.roles import ROLES
from servicedesk.platform.tenancy import RequestContext

# A tenant's custom roles are listed whole (the admin screen's table and the user picker).
MAX_ROLES = 100
BUILTIN_DESCRIPTIONS = {
    "requester": "Opens and follows their own requests; reads the knowledge base",
    "agent": "Works the tickets of their teams; writes knowledge articles",
    "manager": "Sees every ticket; runs reports, SLAs, teams and categories",
    "admin": "Everything, including members, roles and the organisation's settings",
}


def catalogue() -> list[PermissionPublic]:
    return [
        PermissionPublic(
            name=p.value, area=p.grant.area, description=p.grant.description, floor=p.floor
        )
        for p in Permission
    ]


def _counts(ctx: RequestContext) -> tuple[dict[uuid.UUID, int], dict[str, int]]:
    rows = ctx.session.execute(
        select(Membership.custom_role_id, Membership.role, func.count())
        .where(Membership.tenant_id == ctx.tenant_id)
        .group_by(Membership.custom_role_id, Membership.role)
    ).all()
    custom: dict[uuid.UUID, int] = {}
    builtin: dict[str, int] = {}
    for role_id, role, count in rows:
        if role_id is None:
            builtin[role] = builtin.get(role, 0) + count
        else:
            custom[role_id] = custom.get(role_id, 0) + count
    return custom, builtin


def _public(role: CustomRole, members: int) -> RolePublic:
    found = RolePublic.model_validate(role)
    found.members = members
    return found


def list_roles(ctx: RequestContext) -> list[RolePublic]:
    """The built-in roles (read-only, least privileged first), then the custom ones by name."""
    custom_counts, builtin_counts = _counts(ctx)
    builtins = [
        RolePublic(
            builtin=role,
            name=role.value,
            description=BUILTIN_DESCRIPTIONS[role.value],
            permissions=[p.value for p in Permission if p in BUILTIN[role]],
            members=builtin_counts.get(role.value, 0),
        )
        for role in ROLES
    ]
    custom = ctx.session.scalars(
        select(CustomRole)
        .where(CustomRole.tenant_id == ctx.tenant_id)
        .order_by(func.lower(CustomRole.name), CustomRole.id)
    ).all()
    return builtins + [_public(role, custom_counts.get(role.id, 0)) for role in custom]


def _get(ctx: RequestContext, role_id: uuid.UUID, *, lock: bool = False) -> CustomRole:
    role = ctx.session.get(CustomRole, role_id, with_for_update=lock or None)
    if role is None or role.tenant_id != ctx.tenant_id:
        raise NotFound("no such role")
    return role


def _members(ctx: RequestContext, role_id: uuid.UUID) -> int:
    return int(
        ctx.session.execute(
            select(func.count()).where(
                Membership.tenant_id == ctx.tenant_id, Membership.custom_role_id == role_id
            )
        ).scalar_one()
    )


def get_role(ctx: RequestContext, *, role_id: uuid.UUID) -> RolePublic:
    return _public(_get(ctx, role_id), _members(ctx, role_id))


def _unique_name(ctx: RequestContext) -> AbstractContextManager[None]:
    return crud.unique_name(ctx.session, constraint="uq_roles_name", what="role")


def _emit(ctx: RequestContext, event_type: str, role: CustomRole, **extra: Any) -> None:
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=event_type,
        aggregate_type="role",
        aggregate_id=role.id,
        payload={
            "role_id": role.id,
            "name": role.name,
            "permissions": list(role.permissions),
            "team_id": role.team_id,
            "actor_id": ctx.user_id,
            **extra,
        },
    )


def _check_team(ctx: RequestContext, team_id: uuid.UUID | None) -> None:
    """A team scope names an active team of the tenant (422 naming ``team_id``)."""
    if team_id is None:
        return
    found = ctx.session.execute(
        text("SELECT 1 FROM teams WHERE tenant_id = :t AND id = :id AND active"),
        {"t": ctx.tenant_id, "id": team_id},
    ).first()
    if found is None:
        raise ValidationProblem(errors=[field_error("team_id", "no such active team")])


def create_role(ctx: RequestContext, *, data: RoleCreate) -> RolePublic:
    count = ctx.session.execute(
        text("SELECT count(*) FROM roles WHERE tenant_id = :t"), {"t": ctx.tenant_id}
    ).scalar_one()
    if count >= MAX_ROLES:
        raise Conflict(
            f"an organisation has at most {MAX_ROLES} custom roles",
            errors=[field_error("name", f"at most {MAX_ROLES} custom roles")],
        )
    _check_team(ctx, data.team_id)
    role = CustomRole(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        name=data.name,
        description=data.description,
        permissions=data.permissions,
        team_id=data.team_id,
        created_by=ctx.user_id,
    )
    crud.created(ctx, role, _unique_name(ctx), "role", after=data.model_dump(mode="json"))
    _emit(ctx, "role.created", role)
    return _public(role, 0)


def update_role(
    ctx: RequestContext, *, role_id: uuid.UUID, data: RoleUpdate, if_match: int | None
) -> RolePublic:
    """Name, description and/or permissions (If-Match or ``version``: 412 when stale). The
    members holding it get the new permissions on their next request."""
    role, diff = crud.changes(lambda: _get(ctx, role_id, lock=True), data, if_match, "role")
    if diff["after"].get("team_id") is not None:
        _check_team(ctx, diff["after"]["team_id"])
    if "permissions" in diff["after"]:
        _keep_an_admin(ctx, role_id, diff["after"]["permissions"])
    if diff["after"]:
        crud.changed(ctx, role, diff["after"], guard=_unique_name(ctx))
        audit.record(ctx, action="role.updated", entity_type="role", entity_id=role_id, data=diff)
        _emit(ctx, "role.updated", role, changed=sorted(diff["after"]))
    return _public(role, _members(ctx, role_id))


def _keep_an_admin(ctx: RequestContext, role_id: uuid.UUID, permissions: list[str]) -> None:
    """New permissions for a role must leave the tenant an active admin who manages members
    and roles (the guard of identity/memberships.py, seen from the role): 409 naming
    ``permissions`` otherwise. Locks the admins' rows as a membership change does."""
    rows = ctx.session.execute(
        text(
            "SELECT m.custom_role_id, r.permissions FROM memberships m"
            " LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.custom_role_id"
            " WHERE m.tenant_id = :t AND m.role = 'admin' AND m.active"
            " ORDER BY m.user_id FOR UPDATE OF m"
        ),
        {"t": ctx.tenant_id},
    ).all()
    keeps = memberships.ADMIN_KEEPS
    admins = sum(
        1
        for row in rows
        if row.custom_role_id is None
        or keeps <= set(permissions if row.custom_role_id == role_id else row.permissions)
    )
    if admins == 0:
        raise Conflict(
            memberships.LAST_ADMIN,
            errors=[field_error("permissions", "the last admin keeps admin:users and admin:roles")],
        )


def delete_role(ctx: RequestContext, *, role_id: uuid.UUID) -> None:
    """Refused (409) while members hold it: give them another role first."""
    role = _get(ctx, role_id, lock=True)
    # Locks the holders too: an assignment racing the deletion waits, then fails its key.
    holders = ctx.session.execute(
        text(
            "SELECT count(*) FROM (SELECT 1 FROM memberships WHERE tenant_id = :t"
            " AND custom_role_id = :r FOR UPDATE) held"
        ),
        {"t": ctx.tenant_id, "r": role_id},
    ).scalar_one()
    if holders:
        noun = "member holds" if holders == 1 else "members hold"
        raise Conflict(
            f"{holders} {noun} this role; give them another role first",
            errors=[field_error("role_id", f"held by {holders} {noun.split(maxsplit=1)[0]}")],
            members=holders,
        )
    _emit(ctx, "role.deleted", role)
    audit.record(
        ctx,
        action="role.deleted",
        entity_type="role",
        entity_id=role_id,
        data={"before": {"name": role.name, "permissions": list(role.permissions)}},
    )
    ctx.session.delete(role)
    ctx.session.flush()
