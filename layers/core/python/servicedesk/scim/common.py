"""What Users and Groups share: ETags, the list query (filter, sort, paging), the resource's
location, and the events."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from servicedesk.platform import audit, outbox
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.scim.errors import ScimError, invalid_value
from servicedesk.scim.filter import Attribute, MultiValued, compile_filter, normalise


def etag(version: int) -> str:
    return f'W/"{version}"'


def check_if_match(if_match: str | None, version: int) -> None:
    """``If-Match`` is optional for SCIM clients (most send none); when sent, a stale one
    is 412."""
    if if_match is None:
        return
    wanted = {tag.strip() for tag in if_match.split(",")}
    if "*" in wanted:
        return
    if not {etag(version), f'"{version}"'} & wanted:
        raise ScimError(412, "If-Match: the resource was changed since (its version differs)")


def meta(kind: str, row: Any, *, location: str) -> dict[str, Any]:
    """A resource's ``meta`` from its row (created_at, updated_at, version)."""
    created: datetime = row.created_at
    modified: datetime = row.updated_at
    return {
        "resourceType": kind,
        "created": created.isoformat(),
        "lastModified": modified.isoformat(),
        "version": etag(row.version),
        "location": location,
    }


@dataclass(frozen=True)
class ListQuery:
    filter: str | None
    start_index: int
    count: int
    sort_by: str | None
    descending: bool


def list_query(
    *,
    filter_: str | None,
    start_index: str | None,
    count: str | None,
    sort_by: str | None,
    sort_order: str | None,
    max_count: int,
) -> ListQuery:
    """The list parameters as RFC 7644 §3.4.2.4 reads them: startIndex below 1 is 1, count
    below 0 is 0 and above the maximum is the maximum."""
    start = _integer("startIndex", start_index, 1)
    size = _integer("count", count, max_count)
    order = (sort_order or "ascending").lower()
    if order not in ("ascending", "descending"):
        raise invalid_value("sortOrder: must be ascending or descending")
    return ListQuery(
        filter=filter_ if filter_ and filter_.strip() else None,
        start_index=max(start, 1),
        count=min(max(size, 0), max_count),
        sort_by=normalise(sort_by) if sort_by else None,
        descending=order == "descending",
    )


def _integer(name: str, value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise invalid_value(f"{name}: must be an integer") from exc


def run_list(
    ctx: RequestContext,
    *,
    select: str,
    count_from: str,
    where: str,
    params: dict[str, Any],
    attributes: Mapping[str, Attribute | MultiValued],
    query: ListQuery,
    default_order: str,
) -> tuple[list[Any], int]:
    """Rows of one page and the total: ``select``/``count_from`` end in a WHERE clause's
    place; the filter's predicate joins ``where`` with its own bind parameters."""
    predicate, bound = (
        ("true", {}) if query.filter is None else compile_filter(query.filter, attributes)
    )
    params = {**params, **bound}
    condition = f"{where} AND {predicate}"
    total = int(ctx.session.execute(text(f"{count_from} WHERE {condition}"), params).scalar_one())
    if query.count == 0:
        return [], total
    order = default_order
    if query.sort_by is not None:
        attribute = attributes.get(query.sort_by)
        if not isinstance(attribute, Attribute):
            raise invalid_value(f"sortBy: cannot sort by {query.sort_by}")
        column = attribute.sql if attribute.kind != "string" else f"lower({attribute.sql})"
        direction = "DESC NULLS LAST" if query.descending else "ASC NULLS FIRST"
        order = f"{column} {direction}, {default_order}"
    rows = ctx.session.execute(
        text(f"{select} WHERE {condition} ORDER BY {order} LIMIT :_limit OFFSET :_offset"),
        {**params, "_limit": query.count, "_offset": query.start_index - 1},
    ).all()
    return list(rows), total


def event(
    ctx: RequestContext, event_type: str, *, kind: str, entity_id: uuid.UUID, data: dict[str, Any]
) -> None:
    """The outbox event and the audit row of one provisioning change."""
    payload = {f"{kind}_id": entity_id, "actor_id": ctx.user_id, "via": "scim", **data}
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=event_type,
        aggregate_type=kind,
        aggregate_id=entity_id,
        payload=payload,
    )
    audit.record(ctx, action=event_type, entity_type=kind, entity_id=entity_id, data=payload)


def text_value(name: str, value: Any, *, limit: int, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise invalid_value(f"{name}: required")
        return None
    if not isinstance(value, str):
        raise invalid_value(f"{name}: must be a string")
    if len(value) > limit:
        raise invalid_value(f"{name}: at most {limit} characters")
    if "\x00" in value:
        raise invalid_value(f"{name}: must not contain NUL")
    return value


def boolean_value(name: str, value: Any) -> bool:
    """A boolean; the strings "true"/"false" too (Entra ID sends ``"False"`` in PATCH)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid_value(f"{name}: must be a boolean")


def check_schemas(body: dict[str, Any], schema: str) -> None:
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or schema not in schemas:
        raise invalid_value(f"schemas: must contain {schema}")


def check_id(body: dict[str, Any], current: uuid.UUID | None) -> None:
    """``id`` is the server's: absent, or (on a replace) the same."""
    given = body.get("id")
    if given is None:
        return
    if current is None or str(given).lower() != str(current):
        raise ScimError(400, "id: is assigned by the server and cannot change", "mutability")


def default_role(ctx: RequestContext) -> Role:
    """The role a newly provisioned member gets (the admin's choice; requester by default)."""
    value = ctx.session.execute(
        text("SELECT default_role FROM scim_configs WHERE tenant_id = :t"), {"t": ctx.tenant_id}
    ).scalar_one_or_none()
    return Role(value or Role.REQUESTER.value)


def resource_query(
    ctx: RequestContext, select: str, *, key: str, value: uuid.UUID, lock: str, what: str
) -> Any:
    """One resource's row by id in the tenant (``lock``: a FOR UPDATE clause or ""), or
    404 in SCIM's format."""
    alias = key.split(".", maxsplit=1)[0]
    row = ctx.session.execute(
        text(f"{select} WHERE {key} = :_id AND {alias}.tenant_id = :_t {lock}"),
        {"_id": value, "_t": ctx.tenant_id},
    ).one_or_none()
    if row is None:
        raise ScimError(404, f"no such {what}")
    return row
