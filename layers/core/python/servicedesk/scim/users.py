"""SCIM Users (RFC 7643 §4.1): provisioned members of the tenant.

The person (``users``: the sign-in address, the name) and the membership (role, active)
stay identity's; ``scim_users`` keeps what the identity provider says about them. A new
person gets the tenant's default role; a person who was already a member keeps the role
the desk gave them unless a group mapped to a role says otherwise (scim/groups.py).
``active: false`` and DELETE deactivate the membership and end every session
(identity/sessions.revoke_user). userName is the sign-in address and does not change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from servicedesk.identity import memberships
from servicedesk.platform.tenancy import RequestContext
from servicedesk.scim import common
from servicedesk.scim.errors import ScimError, invalid_value, not_found
from servicedesk.scim.filter import Attribute, MultiValued
from servicedesk.scim.patch import Document, operations
from servicedesk.scim.schemas import IGNORED_USER_ATTRIBUTES, USER_SCHEMA

MAX_EMAILS = 20

FILTERABLE: dict[str, Attribute | MultiValued] = {
    "id": Attribute("su.user_id", "id"),
    "username": Attribute("su.user_name"),
    "externalid": Attribute("su.external_id", case_exact=True),
    "displayname": Attribute("su.display_name"),
    "name.givenname": Attribute("su.given_name"),
    "name.familyname": Attribute("su.family_name"),
    "name.formatted": Attribute("su.formatted_name"),
    "active": Attribute("m.active", "boolean"),
    "meta.created": Attribute("su.created_at", "datetime"),
    "meta.lastmodified": Attribute("su.updated_at", "datetime"),
    "emails": MultiValued(
        "jsonb_array_elements(su.emails) AS v",
        {
            "value": Attribute("(v->>'value')"),
            "type": Attribute("(v->>'type')"),
            "primary": Attribute("((v->>'primary')::boolean)", "boolean"),
        },
    ),
}

_FROM = (
    " FROM scim_users su JOIN memberships m"
    " ON m.tenant_id = su.tenant_id AND m.user_id = su.user_id"
)
_SELECT = (
    "SELECT su.user_id, su.user_name, su.external_id, su.given_name, su.family_name,"
    " su.formatted_name, su.display_name, su.emails, su.version, su.created_at,"
    " su.updated_at, m.active" + _FROM
)

KEYS = {
    "username": "userName",
    "externalid": "externalId",
    "name": "name",
    "displayname": "displayName",
    "emails": "emails",
    "active": "active",
}
SUBS = {
    "name": {"givenname": "givenName", "familyname": "familyName", "formatted": "formatted"},
    "emails": {"value": "value", "type": "type", "primary": "primary"},
}


@dataclass(frozen=True)
class UserData:
    user_name: str
    external_id: str | None
    given_name: str | None
    family_name: str | None
    formatted: str | None
    display_name: str | None
    emails: list[dict[str, Any]]
    active: bool

    @property
    def person_name(self) -> str:
        joined = " ".join(p for p in (self.given_name, self.family_name) if p)
        return (self.display_name or self.formatted or joined or self.user_name)[:200]


def parse(body: Any) -> UserData:
    if not isinstance(body, dict):
        raise invalid_value("the body must be a User object")
    common.check_schemas(body, USER_SCHEMA)
    known = {k.lower(): v for k, v in body.items()}
    for key in body:
        low = key.lower()
        if low in ("schemas", "id") or low in KEYS or low in IGNORED_USER_ATTRIBUTES:
            continue
        if low.startswith("urn:"):  # an extension schema's attributes: not stored
            continue
        raise invalid_value(f"{key}: unknown attribute")
    user_name = common.text_value("userName", known.get("username"), limit=254, required=True)
    assert user_name is not None
    user_name = user_name.strip()
    if "@" not in user_name or any(c.isspace() for c in user_name):
        raise invalid_value("userName: must be the person's e-mail address")
    name = known.get("name") or {}
    if not isinstance(name, dict):
        raise invalid_value("name: must be an object")
    parts = {k.lower(): v for k, v in name.items()}
    for key in parts:
        if key not in SUBS["name"] and key not in (
            "middlename",
            "honorificprefix",
            "honorificsuffix",
        ):
            raise invalid_value(f"name.{key}: unknown attribute")
    return UserData(
        user_name=user_name,
        external_id=common.text_value("externalId", known.get("externalid"), limit=512),
        given_name=common.text_value("name.givenName", parts.get("givenname"), limit=200),
        family_name=common.text_value("name.familyName", parts.get("familyname"), limit=200),
        formatted=common.text_value("name.formatted", parts.get("formatted"), limit=400),
        display_name=common.text_value("displayName", known.get("displayname"), limit=400),
        emails=_emails(known.get("emails")),
        active=True
        if known.get("active") is None
        else common.boolean_value("active", known["active"]),
    )


def _emails(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_value("emails: must be a list")
    if len(value) > MAX_EMAILS:
        raise invalid_value(f"emails: at most {MAX_EMAILS}")
    out = []
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            raise invalid_value(f"emails[{n}]: must be an object")
        fields = {k.lower(): v for k, v in item.items()}
        unknown = set(fields) - {"value", "type", "primary", "display"}
        if unknown:
            raise invalid_value(f"emails[{n}].{sorted(unknown)[0]}: unknown attribute")
        address = common.text_value(
            f"emails[{n}].value", fields.get("value"), limit=254, required=True
        )
        email: dict[str, Any] = {"value": address}
        kind = common.text_value(f"emails[{n}].type", fields.get("type"), limit=50)
        if kind is not None:
            email["type"] = kind
        if fields.get("primary") is not None:
            email["primary"] = common.boolean_value(f"emails[{n}].primary", fields["primary"])
        out.append(email)
    if sum(1 for e in out if e.get("primary")) > 1:
        raise invalid_value("emails: at most one may be primary")
    return out


def resource(row: Any, *, base: str, groups: list[dict[str, str]] | None = None) -> dict[str, Any]:
    name = {
        k: v
        for k, v in (
            ("givenName", row.given_name),
            ("familyName", row.family_name),
            ("formatted", row.formatted_name),
        )
        if v is not None
    }
    out: dict[str, Any] = {"schemas": [USER_SCHEMA], "id": str(row.user_id)}
    if row.external_id is not None:
        out["externalId"] = row.external_id
    out["userName"] = row.user_name
    if name:
        out["name"] = name
    if row.display_name is not None:
        out["displayName"] = row.display_name
    out["emails"] = list(row.emails or [])
    out["active"] = bool(row.active)
    out["groups"] = groups or []
    out["meta"] = common.meta("User", row, location=f"{base}/Users/{row.user_id}")
    return out


def _groups_of(ctx: RequestContext, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, str]]]:
    out: dict[uuid.UUID, list[dict[str, str]]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = ctx.session.execute(
        text(
            "SELECT gm.user_id, g.id, g.display_name FROM scim_group_members gm"
            " JOIN scim_groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id"
            " WHERE gm.tenant_id = :t AND gm.user_id = ANY(:ids) ORDER BY g.display_name, g.id"
        ),
        {"t": ctx.tenant_id, "ids": ids},
    )
    for row in rows:
        out[row.user_id].append({"value": str(row.id), "display": row.display_name})
    return out


def _row(ctx: RequestContext, user_id: uuid.UUID, *, lock: bool = False) -> Any:
    return common.resource_query(
        ctx,
        _SELECT,
        key="su.user_id",
        value=user_id,
        lock="FOR UPDATE OF su" if lock else "",
        what="User",
    )


def parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise not_found("resource") from exc


def get(ctx: RequestContext, user_id: uuid.UUID, *, base: str) -> dict[str, Any]:
    row = _row(ctx, user_id)
    return resource(row, base=base, groups=_groups_of(ctx, [user_id])[user_id])


def list_resources(
    ctx: RequestContext, query: common.ListQuery, *, base: str, shown: frozenset[str]
) -> tuple[list[dict[str, Any]], int]:
    """A page of users; their ``groups`` are read only when shown."""
    rows, total = common.run_list(
        ctx,
        select=_SELECT,
        count_from="SELECT count(*)" + _FROM,
        where="su.tenant_id = :_tenant",
        params={"_tenant": ctx.tenant_id},
        attributes=FILTERABLE,
        query=query,
        default_order="su.created_at, su.user_id",
    )
    groups = _groups_of(ctx, [r.user_id for r in rows]) if "groups" in shown else {}
    return [resource(r, base=base, groups=groups.get(r.user_id)) for r in rows], total


def _taken(ctx: RequestContext, user_name: str, *, other_than: uuid.UUID | None) -> bool:
    return (
        ctx.session.execute(
            text(
                "SELECT 1 FROM scim_users WHERE tenant_id = :t AND lower(user_name) = lower(:n)"
                " AND user_id IS DISTINCT FROM :u"
            ),
            {"t": ctx.tenant_id, "n": user_name, "u": other_than},
        ).first()
        is not None
    )


def create(ctx: RequestContext, body: Any, *, base: str) -> dict[str, Any]:
    data = parse(body)
    default_role = common.default_role(ctx)
    if _taken(ctx, data.user_name, other_than=None):
        raise ScimError(409, f"userName: {data.user_name} is already provisioned", "uniqueness")
    email = data.user_name.lower()
    existing = ctx.session.execute(
        text("SELECT user_id FROM auth_password_hash(:e)"), {"e": email}
    ).first()
    if existing is None:
        user_id = uuid.uuid4()
        # No RETURNING: the person is not visible to this tenant before the membership.
        ctx.session.execute(
            text("INSERT INTO users (id, email, name) VALUES (:u, :e, :n)"),
            {"u": user_id, "e": email, "n": data.person_name},
        )
    else:
        user_id = existing.user_id
    member = ctx.session.execute(
        text(
            "SELECT role, active FROM memberships WHERE tenant_id = :t AND user_id = :u FOR UPDATE"
        ),
        {"t": ctx.tenant_id, "u": user_id},
    ).one_or_none()
    if member is None:
        ctx.session.execute(
            text(
                "INSERT INTO memberships (tenant_id, user_id, role, active) VALUES (:t, :u, :r, :a)"
            ),
            {"t": ctx.tenant_id, "u": user_id, "r": default_role.value, "a": data.active},
        )
    ctx.session.execute(
        text(
            "INSERT INTO scim_users (tenant_id, user_id, user_name, external_id, given_name,"
            " family_name, formatted_name, display_name, emails)"
            " VALUES (:t, :u, :n, :x, :g, :f, :fo, :d, CAST(:e AS jsonb))"
        ),
        {"t": ctx.tenant_id, "u": user_id, **_columns(data)},
    )
    if member is not None and bool(member.active) != data.active:
        set_active(ctx, user_id, data.active)
    common.event(
        ctx,
        "scim.user.provisioned",
        kind="user",
        entity_id=user_id,
        data={
            "external_id": data.external_id,
            "active": data.active,
            "existing_member": member is not None,
        },
    )
    return get(ctx, user_id, base=base)


def _columns(data: UserData) -> dict[str, Any]:
    import json

    return {
        "n": data.user_name,
        "x": data.external_id,
        "g": data.given_name,
        "f": data.family_name,
        "fo": data.formatted,
        "d": data.display_name,
        "e": json.dumps(data.emails),
    }


def set_active(ctx: RequestContext, user_id: uuid.UUID, active: bool) -> None:
    """Activate or deactivate the membership (identity/memberships.py: deactivating ends
    every session at once); the tenant's last active admin stays, as a SCIM 409."""
    try:
        memberships.set_active(ctx, user_id, active)
    except memberships.LastAdmin as exc:
        raise ScimError(
            409, "active: the tenant's last active admin cannot be deactivated"
        ) from exc


def _write(ctx: RequestContext, row: Any, data: UserData, *, base: str) -> dict[str, Any]:
    if data.user_name.lower() != row.user_name.lower():
        raise ScimError(
            400,
            "userName: the sign-in address of a provisioned person cannot change",
            "mutability",
        )
    ctx.session.execute(
        text(
            "UPDATE scim_users SET user_name = :n, external_id = :x, given_name = :g,"
            " family_name = :f, formatted_name = :fo, display_name = :d,"
            " emails = CAST(:e AS jsonb), version = version + 1, updated_at = now()"
            " WHERE tenant_id = :t AND user_id = :u"
        ),
        {"t": ctx.tenant_id, "u": row.user_id, **_columns(data)},
    )
    if bool(row.active) != data.active:
        set_active(ctx, row.user_id, data.active)
    common.event(
        ctx,
        "scim.user.updated" if data.active else "scim.user.deactivated",
        kind="user",
        entity_id=row.user_id,
        data={"external_id": data.external_id, "active": data.active},
    )
    return get(ctx, row.user_id, base=base)


def replace(
    ctx: RequestContext, user_id: uuid.UUID, body: Any, *, base: str, if_match: str | None
) -> dict[str, Any]:
    row = _row(ctx, user_id, lock=True)
    common.check_if_match(if_match, row.version)
    if isinstance(body, dict):
        common.check_id(body, user_id)
    return _write(ctx, row, parse(body), base=base)


def patch(
    ctx: RequestContext, user_id: uuid.UUID, body: Any, *, base: str, if_match: str | None
) -> dict[str, Any]:
    ops = operations(body)
    row = _row(ctx, user_id, lock=True)
    common.check_if_match(if_match, row.version)
    current = resource(row, base=base)
    document = Document(
        {
            k: current[k]
            for k in ("userName", "externalId", "name", "displayName", "emails", "active")
            if k in current
        },
        keys=KEYS,
        subs=SUBS,
        multi=frozenset({"emails"}),
        ignored=IGNORED_USER_ATTRIBUTES,
    )
    changed = document.apply(ops)
    return _write(ctx, row, parse({"schemas": [USER_SCHEMA], **changed}), base=base)


def delete(ctx: RequestContext, user_id: uuid.UUID, *, if_match: str | None) -> None:
    """Deactivate and forget the SCIM record (a later GET is 404); the membership stays,
    inactive, with the person's history, and leaves the SCIM groups."""
    row = _row(ctx, user_id, lock=True)
    common.check_if_match(if_match, row.version)
    if row.active:
        set_active(ctx, user_id, False)
    ctx.session.execute(
        text("DELETE FROM scim_group_members WHERE tenant_id = :t AND user_id = :u"),
        {"t": ctx.tenant_id, "u": user_id},
    )
    ctx.session.execute(
        text("DELETE FROM scim_users WHERE tenant_id = :t AND user_id = :u"),
        {"t": ctx.tenant_id, "u": user_id},
    )
    common.event(
        ctx, "scim.user.deactivated", kind="user", entity_id=user_id, data={"deleted": True}
    )
