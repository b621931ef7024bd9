"""SCIM Groups (RFC 7643 §4.2), and what a group means in the desk when the tenant maps
it: a team (its provisioned members who are staff join the team; leaving the group
leaves the team, unless another group mapped to that team keeps them) and/or a role (a
member's role is the highest of their role-mapped groups; out of the last of them, the
tenant's default role). A group mapped to nothing changes nothing in the desk."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from servicedesk.identity import memberships
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.scim import common
from servicedesk.scim.errors import ScimError, invalid_value
from servicedesk.scim.filter import Attribute, MultiValued
from servicedesk.scim.patch import Document, operations
from servicedesk.scim.schemas import GROUP_SCHEMA, MAX_MEMBERS_PER_REQUEST
from servicedesk.teams import service as teams

FILTERABLE: dict[str, Attribute | MultiValued] = {
    "id": Attribute("g.id", "id"),
    "displayname": Attribute("g.display_name"),
    "externalid": Attribute("g.external_id", case_exact=True),
    "meta.created": Attribute("g.created_at", "datetime"),
    "meta.lastmodified": Attribute("g.updated_at", "datetime"),
    "members": MultiValued(
        "scim_group_members AS v",
        {"value": Attribute("v.user_id", "id")},
        correlate="v.tenant_id = g.tenant_id AND v.group_id = g.id",
    ),
}

_SELECT = (
    "SELECT g.id, g.display_name, g.external_id, g.team_id, g.role, g.version,"
    " g.created_at, g.updated_at FROM scim_groups g"
)
KEYS = {"displayname": "displayName", "externalid": "externalId", "members": "members"}
SUBS = {"members": {"value": "value", "display": "display", "type": "type"}}
ROLE_ORDER = [Role.REQUESTER.value, Role.AGENT.value, Role.MANAGER.value, Role.ADMIN.value]


def _parse(body: Any) -> tuple[str, str | None, list[uuid.UUID] | None]:
    if not isinstance(body, dict):
        raise invalid_value("the body must be a Group object")
    common.check_schemas(body, GROUP_SCHEMA)
    known = {k.lower(): v for k, v in body.items()}
    for key in body:
        low = key.lower()
        if low not in ("schemas", "id", "meta") and low not in KEYS and not low.startswith("urn:"):
            raise invalid_value(f"{key}: unknown attribute")
    name = common.text_value("displayName", known.get("displayname"), limit=400, required=True)
    assert name is not None
    external = common.text_value("externalId", known.get("externalid"), limit=512)
    if "members" not in known:
        return name, external, None
    return name, external, _member_ids(known["members"])


def _member_ids(value: Any) -> list[uuid.UUID]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_value("members: must be a list")
    if len(value) > MAX_MEMBERS_PER_REQUEST:
        raise invalid_value(f"members: at most {MAX_MEMBERS_PER_REQUEST} in one request")
    ids: list[uuid.UUID] = []
    for n, item in enumerate(value):
        raw = item.get("value") if isinstance(item, dict) else None
        if not isinstance(raw, str):
            raise invalid_value(f"members[{n}].value: must be a User id")
        kind = item.get("type") if isinstance(item, dict) else None
        if kind is not None and str(kind).lower() != "user":
            raise invalid_value(f"members[{n}].type: only User members are supported")
        try:
            member = uuid.UUID(raw)
        except ValueError as exc:
            raise invalid_value(f"members[{n}].value: {raw[:60]} is not a User id") from exc
        if member not in ids:
            ids.append(member)
    return ids


def _row(ctx: RequestContext, group_id: uuid.UUID, *, lock: bool = False) -> Any:
    return common.resource_query(
        ctx, _SELECT, key="g.id", value=group_id, lock="FOR UPDATE" if lock else "", what="Group"
    )


def _members(ctx: RequestContext, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, str]]]:
    out: dict[uuid.UUID, list[dict[str, str]]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = ctx.session.execute(
        text(
            "SELECT gm.group_id, gm.user_id, coalesce(su.display_name, su.user_name) AS display"
            " FROM scim_group_members gm JOIN scim_users su"
            " ON su.tenant_id = gm.tenant_id AND su.user_id = gm.user_id"
            " WHERE gm.tenant_id = :t AND gm.group_id = ANY(:ids)"
            " ORDER BY gm.created_at, gm.user_id"
        ),
        {"t": ctx.tenant_id, "ids": ids},
    )
    for row in rows:
        out[row.group_id].append(
            {"value": str(row.user_id), "display": row.display, "type": "User"}
        )
    return out


def resource(row: Any, members: list[dict[str, str]], *, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {"schemas": [GROUP_SCHEMA], "id": str(row.id)}
    if row.external_id is not None:
        out["externalId"] = row.external_id
    out["displayName"] = row.display_name
    out["members"] = members
    out["meta"] = common.meta("Group", row, location=f"{base}/Groups/{row.id}")
    return out


def get(ctx: RequestContext, group_id: uuid.UUID, *, base: str) -> dict[str, Any]:
    row = _row(ctx, group_id)
    return resource(row, _members(ctx, [group_id])[group_id], base=base)


def list_resources(
    ctx: RequestContext, query: common.ListQuery, *, base: str, shown: frozenset[str]
) -> tuple[list[dict[str, Any]], int]:
    """A page of groups; their members are read only when shown (Entra ID lists with
    ``excludedAttributes=members``)."""
    rows, total = common.run_list(
        ctx,
        select=_SELECT,
        count_from="SELECT count(*) FROM scim_groups g",
        where="g.tenant_id = :_tenant",
        params={"_tenant": ctx.tenant_id},
        attributes=FILTERABLE,
        query=query,
        default_order="g.created_at, g.id",
    )
    members = _members(ctx, [r.id for r in rows]) if "members" in shown else {}
    return [resource(r, members.get(r.id, []), base=base) for r in rows], total


def _unique(ctx: RequestContext, name: str, *, other_than: uuid.UUID | None) -> None:
    taken = ctx.session.execute(
        text(
            "SELECT 1 FROM scim_groups WHERE tenant_id = :t AND lower(display_name) = lower(:n)"
            " AND id IS DISTINCT FROM :g"
        ),
        {"t": ctx.tenant_id, "n": name, "g": other_than},
    ).first()
    if taken is not None:
        raise ScimError(409, f"displayName: a group named {name} exists", "uniqueness")


def create(ctx: RequestContext, body: Any, *, base: str) -> dict[str, Any]:
    name, external, members = _parse(body)
    _unique(ctx, name, other_than=None)
    group_id = uuid.uuid4()
    ctx.session.execute(
        text(
            "INSERT INTO scim_groups (id, tenant_id, display_name, external_id)"
            " VALUES (:g, :t, :n, :x)"
        ),
        {"g": group_id, "t": ctx.tenant_id, "n": name, "x": external},
    )
    row = _row(ctx, group_id)
    _set_members(ctx, row, members or [])
    common.event(
        ctx,
        "scim.group.created",
        kind="group",
        entity_id=group_id,
        data={"members": len(members or [])},
    )
    return get(ctx, group_id, base=base)


def _set_members(ctx: RequestContext, row: Any, wanted: list[uuid.UUID]) -> None:
    current = set(
        ctx.session.execute(
            text("SELECT user_id FROM scim_group_members WHERE tenant_id = :t AND group_id = :g"),
            {"t": ctx.tenant_id, "g": row.id},
        ).scalars()
    )
    added = [m for m in wanted if m not in current]
    removed = sorted(current - set(wanted))
    if added:
        known = set(
            ctx.session.execute(
                text("SELECT user_id FROM scim_users WHERE tenant_id = :t AND user_id = ANY(:ids)"),
                {"t": ctx.tenant_id, "ids": added},
            ).scalars()
        )
        unknown = [m for m in added if m not in known]
        if unknown:
            raise invalid_value(f"members: {unknown[0]} is not a provisioned User")
        ctx.session.execute(
            text(
                "INSERT INTO scim_group_members (tenant_id, group_id, user_id) VALUES (:t, :g, :u)"
            ),
            [{"t": ctx.tenant_id, "g": row.id, "u": m} for m in added],
        )
    if removed:
        ctx.session.execute(
            text(
                "DELETE FROM scim_group_members WHERE tenant_id = :t AND group_id = :g"
                " AND user_id = ANY(:ids)"
            ),
            {"t": ctx.tenant_id, "g": row.id, "ids": removed},
        )
    for user_id in [*added, *removed]:
        sync_user(
            ctx,
            user_id,
            teams_of=[row.team_id] if row.team_id else [],
            role_changed=row.role is not None,
        )
    if added or removed:
        common.event(
            ctx,
            "scim.group.members_changed",
            kind="group",
            entity_id=row.id,
            data={"added": added, "removed": removed},
        )


def sync_user(
    ctx: RequestContext, user_id: uuid.UUID, *, teams_of: list[uuid.UUID], role_changed: bool
) -> None:
    """Bring the person's role and the given teams in line with their mapped groups."""
    mapped = ctx.session.execute(
        text(
            "SELECT g.team_id, g.role FROM scim_group_members gm JOIN scim_groups g"
            " ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id"
            " WHERE gm.tenant_id = :t AND gm.user_id = :u"
        ),
        {"t": ctx.tenant_id, "u": user_id},
    ).all()
    if role_changed:
        roles = [r.role for r in mapped if r.role is not None]
        role = max(roles, key=ROLE_ORDER.index) if roles else common.default_role(ctx).value
        _set_role(ctx, user_id, role)
    in_teams = {r.team_id for r in mapped if r.team_id is not None}
    teams.follow_groups(ctx, user_id, mapped=teams_of, member_of=in_teams)


def _set_role(ctx: RequestContext, user_id: uuid.UUID, role: str) -> None:
    try:
        result = memberships.set_role(ctx, user_id, role)
    except memberships.LastAdmin as exc:
        raise ScimError(
            409, "members: this change would leave the tenant without an admin"
        ) from exc
    if result.changed:
        common.event(
            ctx,
            "scim.user.role_changed",
            kind="user",
            entity_id=user_id,
            data={"from": result.previous_role, "to": role},
        )


def _write(
    ctx: RequestContext, row: Any, name: str, external: str | None, members: list[uuid.UUID] | None
) -> None:
    _unique(ctx, name, other_than=row.id)
    ctx.session.execute(
        text(
            "UPDATE scim_groups SET display_name = :n, external_id = :x, version = version + 1,"
            " updated_at = now() WHERE tenant_id = :t AND id = :g"
        ),
        {"t": ctx.tenant_id, "g": row.id, "n": name, "x": external},
    )
    if members is not None:
        _set_members(ctx, row, members)
    common.event(
        ctx, "scim.group.updated", kind="group", entity_id=row.id, data={"display_name": name}
    )


def replace(
    ctx: RequestContext, group_id: uuid.UUID, body: Any, *, base: str, if_match: str | None
) -> dict[str, Any]:
    row = _row(ctx, group_id, lock=True)
    common.check_if_match(if_match, row.version)
    if isinstance(body, dict):
        common.check_id(body, group_id)
    name, external, members = _parse(body)
    _write(ctx, row, name, external, members if members is not None else [])
    return get(ctx, group_id, base=base)


def patch(
    ctx: RequestContext, group_id: uuid.UUID, body: Any, *, base: str, if_match: str | None
) -> dict[str, Any]:
    ops = operations(body)
    row = _row(ctx, group_id, lock=True)
    common.check_if_match(if_match, row.version)
    current = {
        "displayName": row.display_name,
        "externalId": row.external_id,
        "members": [{"value": m["value"]} for m in _members(ctx, [group_id])[group_id]],
    }
    document = Document(
        current, keys=KEYS, subs=SUBS, multi=frozenset({"members"}), ignored=frozenset()
    )
    changed = document.apply(ops)
    name, external, members = _parse({"schemas": [GROUP_SCHEMA], **changed})
    _write(ctx, row, name, external, members if members is not None else [])
    return get(ctx, group_id, base=base)


def delete(ctx: RequestContext, group_id: uuid.UUID, *, if_match: str | None) -> None:
    row = _row(ctx, group_id, lock=True)
    common.check_if_match(if_match, row.version)
    _set_members(ctx, row, [])
    ctx.session.execute(
        text("DELETE FROM scim_groups WHERE tenant_id = :t AND id = :g"),
        {"t": ctx.tenant_id, "g": group_id},
    )
    common.event(ctx, "scim.group.deleted", kind="group", entity_id=group_id, data={})


def map_group(
    ctx: RequestContext, group_id: uuid.UUID, *, team_id: uuid.UUID | None, role: Role | None
) -> Any:
    """The admin's mapping of a group to a team and/or a role; every member is resynced."""
    row = _row(ctx, group_id, lock=True)
    if team_id is not None:
        teams.get_team(ctx, team_id=team_id)
    ctx.session.execute(
        text(
            "UPDATE scim_groups SET team_id = :team, role = :role, version = version + 1,"
            " updated_at = now() WHERE tenant_id = :t AND id = :g"
        ),
        {"t": ctx.tenant_id, "g": group_id, "team": team_id, "role": role.value if role else None},
    )
    members = ctx.session.execute(
        text("SELECT user_id FROM scim_group_members WHERE tenant_id = :t AND group_id = :g"),
        {"t": ctx.tenant_id, "g": group_id},
    ).scalars()
    old_team = [row.team_id] if row.team_id and row.team_id != team_id else []
    for user_id in members:
        sync_user(
            ctx,
            user_id,
            teams_of=[*old_team, *([team_id] if team_id else [])],
            role_changed=role is not None or row.role is not None,
        )
    common.event(
        ctx,
        "scim.group.mapped",
        kind="group",
        entity_id=group_id,
        data={"team_id": team_id, "role": role.value if role else None},
    )
    return _row(ctx, group_id)
