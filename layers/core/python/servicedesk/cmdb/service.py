"""CMDB rules: classes and their attribute schemas, configuration items and their lifecycle,
typed relationships (cycles refused for the acyclic types), ticket and user links, the
history of every change, and impact (a bounded recursive walk). No HTTP here, never a
commit (docs/cmdb.md).

Who: the routes require agents for reads and ticket links, managers for every other
write (classes, CIs, relationships, user links); requesters never reach this module.
Ticket links go through the ticket's visibility rule (an invisible ticket is 404).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, delete, func, insert, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Session

from servicedesk.catalog import jsonschema
from servicedesk.cmdb.models import CI, CIClass, CIHistory, CIRelationship, CITicket, CIUser
from servicedesk.cmdb.schemas import (
    ACYCLIC_TYPES,
    CIClassCreate,
    CIClassUpdate,
    CICreate,
    CIUpdate,
    RelationshipCreate,
)
from servicedesk.platform import audit, crud, outbox
from servicedesk.platform.constraints import unique_or_conflict
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import INTEGER, TEXT, TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import service as tickets
from servicedesk.tickets.models import Ticket
from servicedesk.tickets.states import ACTIVE_STATUSES
from servicedesk.tickets.visibility import visible as ticket_visible

BUSINESS_SERVICE = "business_service"
# Lifecycle: state -> the states it may move to (a CI may be created in any state but
# ``disposed``, which is final).
TRANSITIONS: dict[str, frozenset[str]] = {
    "ordered": frozenset({"in_stock", "retired"}),
    "in_stock": frozenset({"deployed", "in_repair", "retired"}),
    "deployed": frozenset({"in_stock", "in_repair", "retired"}),
    "in_repair": frozenset({"in_stock", "deployed", "retired"}),
    "retired": frozenset({"in_stock", "disposed"}),
    "disposed": frozenset(),
}
CLASS_NAME_INDEX = "uq_ci_classes_name"
CLASS_KEY_INDEX = "ci_classes_tenant_id_key_key"
EXTERNAL_ID_INDEX = "uq_cis_external_id"
RELATIONSHIP_INDEX = "uq_ci_relationships"
# The CI columns a change records in the history (attributes: one row per key).
TRACKED = (
    "class_id",
    "name",
    "state",
    "owner_id",
    "location",
    "serial",
    "asset_tag",
    "external_id",
)

BY_CLASS_POSITION = Keyset([Key(CIClass.position, INTEGER), Key(CIClass.id, UUID)])
BY_NAME = Keyset([Key(func.lower(CI.name), TEXT, lambda c: c.name.lower()), Key(CI.id, UUID)])
BY_TYPE = Keyset([Key(CIRelationship.type, TEXT), Key(CIRelationship.id, UUID)])
NEWEST_FIRST = Keyset([Key(CIHistory.id, INTEGER)], descending=True)
LINKS_NEWEST = Keyset(
    [Key(CITicket.created_at, TIMESTAMP), Key(CITicket.ticket_id, UUID)], descending=True
)


# --- classes ---------------------------------------------------------------------------


def list_classes(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[CIClass], str | None]:
    query = select(CIClass).where(CIClass.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, BY_CLASS_POSITION, limit=limit, cursor=cursor)


def get_class(ctx: RequestContext, *, class_id: uuid.UUID, lock: bool = False) -> CIClass:
    query = select(CIClass).where(CIClass.tenant_id == ctx.tenant_id, CIClass.id == class_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = ctx.session.scalars(query).one_or_none()
    if found is None:
        raise NotFound("no such CI class")
    return found


def _check_schema(schema: object) -> None:
    errors = jsonschema.check_schema(schema, "attributes_schema")
    if errors:
        raise ValidationProblem(errors=errors)


def _class_guard(ctx: RequestContext) -> Any:
    return unique_or_conflict(
        ctx.session,
        {
            CLASS_NAME_INDEX: ("name", "already taken (names ignore case)"),
            CLASS_KEY_INDEX: ("key", "already taken"),
        },
        title="a CI class with this name or key already exists",
    )


def create_class(ctx: RequestContext, *, data: CIClassCreate) -> CIClass:
    _check_schema(data.attributes_schema)
    last = ctx.session.scalar(
        select(func.max(CIClass.position)).where(CIClass.tenant_id == ctx.tenant_id)
    )
    made = CIClass(
        tenant_id=ctx.tenant_id,
        key=data.key,
        name=data.name,
        description=data.description,
        attributes_schema=data.attributes_schema,
        position=(last or 0) + 1,
    )
    return crud.created(ctx, made, _class_guard(ctx), "ci_class", after=data.model_dump())


def update_class(
    ctx: RequestContext, *, class_id: uuid.UUID, data: CIClassUpdate, if_match: int | None
) -> CIClass:
    """The new schema applies to later writes of the class's CIs (existing values stay)."""
    found, diff = crud.changes(
        lambda: get_class(ctx, class_id=class_id, lock=True), data, if_match, "the CI class"
    )
    if data.attributes_schema is not None:
        _check_schema(data.attributes_schema)
    if not diff["after"]:
        return found
    changed = crud.changed(ctx, found, diff["after"], guard=_class_guard(ctx))
    audit.record(
        ctx, action="ci_class.updated", entity_type="ci_class", entity_id=found.id, data=diff
    )
    return changed


def delete_class(ctx: RequestContext, *, class_id: uuid.UUID) -> None:
    found = get_class(ctx, class_id=class_id, lock=True)
    if found.builtin:
        raise Conflict(
            "built-in classes cannot be deleted", errors=[field_error("class_id", "built in")]
        )
    used = ctx.session.scalar(
        select(func.count())
        .select_from(CI)
        .where(CI.tenant_id == ctx.tenant_id, CI.class_id == class_id)
    )
    if used:
        raise Conflict(
            "the class still has configuration items",
            errors=[field_error("class_id", f"{used} CIs have this class")],
        )
    ctx.session.delete(found)
    ctx.session.flush()
    audit.record(ctx, action="ci_class.deleted", entity_type="ci_class", entity_id=class_id)


# --- configuration items ------------------------------------------------------------------


def _cis(ctx: RequestContext) -> ColumnElement[bool]:
    return CI.tenant_id == ctx.tenant_id


def list_cis(
    ctx: RequestContext,
    *,
    class_id: uuid.UUID | None = None,
    state: str | None = None,
    owner_id: uuid.UUID | None = None,
    location: str | None = None,
    q: str | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[CI], str | None]:
    """By name, filtered; ``q`` matches a name prefix or an exact external id, serial or
    asset tag (case-insensitive prefix on the name)."""
    return paginate(
        ctx.session,
        filtered(ctx, class_id, state, owner_id, location, q),
        BY_NAME,
        limit=limit,
        cursor=cursor,
    )


def filtered(
    ctx: RequestContext,
    class_id: uuid.UUID | None,
    state: str | None,
    owner_id: uuid.UUID | None,
    location: str | None,
    q: str | None,
) -> Any:
    """The CIs a list (or a CSV export) of these filters selects."""
    query = select(CI).where(_cis(ctx))
    if class_id is not None:
        query = query.where(CI.class_id == class_id)
    if state is not None:
        query = query.where(CI.state == state)
    if owner_id is not None:
        query = query.where(CI.owner_id == owner_id)
    if location:
        query = query.where(func.lower(CI.location) == location.lower())
    if q:
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            or_(
                func.lower(CI.name).like(escaped + "%"),
                CI.external_id == q,
                CI.serial == q,
                CI.asset_tag == q,
            )
        )
    return query


def get_ci(ctx: RequestContext, *, ci_id: uuid.UUID, lock: bool = False) -> CI:
    query = select(CI).where(_cis(ctx), CI.id == ci_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = ctx.session.scalars(query).one_or_none()
    if found is None:
        raise NotFound("no such configuration item")
    return found


def _class_for(ctx: RequestContext, class_id: uuid.UUID) -> CIClass:
    found = ctx.session.scalars(
        select(CIClass).where(CIClass.tenant_id == ctx.tenant_id, CIClass.id == class_id)
    ).one_or_none()
    if found is None:
        raise ValidationProblem(errors=[field_error("class_id", "no such CI class")])
    return found


def check_values(
    ctx: RequestContext, ci_class: CIClass, owner_id: uuid.UUID | None, attributes: dict[str, Any]
) -> list[dict[str, Any]]:
    """The field errors of a CI's references and attributes (all at once)."""
    errors = jsonschema.validate(ci_class.attributes_schema, attributes, "attributes")
    if owner_id is not None and tickets.active_member_role(ctx, owner_id) is None:
        errors.append(field_error("owner_id", "not an active member of this tenant"))
    return errors


def _ci_guard(ctx: RequestContext) -> Any:
    return unique_or_conflict(
        ctx.session,
        {EXTERNAL_ID_INDEX: ("external_id", "another CI of this tenant has it")},
        title="a CI with this external id already exists",
    )


def _emit(ctx: RequestContext, kind: str, ci: CI, **extra: Any) -> None:
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=f"ci.{kind}",
        aggregate_type="ci",
        aggregate_id=ci.id,
        payload={
            "ci_id": ci.id,
            "class_id": ci.class_id,
            "name": ci.name,
            "state": ci.state,
            "external_id": ci.external_id,
            "actor_id": ctx.user_id,
            **extra,
        },
    )


def create_ci(ctx: RequestContext, *, data: CICreate) -> CI:
    ci_class = _class_for(ctx, data.class_id)
    errors = check_values(ctx, ci_class, data.owner_id, data.attributes)
    if data.state == "disposed":
        errors.append(field_error("state", "a CI cannot start disposed"))
    if errors:
        raise ValidationProblem(errors=errors)
    made = CI(tenant_id=ctx.tenant_id, created_by=ctx.user_id, **data.model_dump())
    ci = crud.created(ctx, made, _ci_guard(ctx), "ci", after=data.model_dump(mode="json"))
    _emit(ctx, "created", ci)
    return ci


def check_transition(current: str, new: str, field: str = "state") -> dict[str, Any] | None:
    """The field error of a lifecycle move, if it is not allowed."""
    if new == current or new in TRANSITIONS[current]:
        return None
    allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final)"
    return field_error(field, f"cannot go from {current} to {new} (allowed: {allowed})")


def history_rows(
    ctx: RequestContext, ci_id: uuid.UUID, before: dict[str, Any], after: dict[str, Any]
) -> list[dict[str, Any]]:
    """One row per changed field (attributes: per key, ``attributes.<key>``)."""
    rows: list[dict[str, Any]] = []

    def add(field: str, old: Any, new: Any) -> None:
        rows.append(
            {
                "tenant_id": ctx.tenant_id,
                "ci_id": ci_id,
                "actor_id": ctx.user_id,
                "field": field,
                "old_value": _json(old),
                "new_value": _json(new),
            }
        )

    for field in TRACKED:
        if field in after and after[field] != before.get(field):
            add(field, before.get(field), after[field])
    if "attributes" in after:
        old, new = before.get("attributes") or {}, after["attributes"] or {}
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                add(f"attributes.{key}", old.get(key), new.get(key))
    return rows


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def write_history(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(CIHistory), list(rows))


def update_ci(ctx: RequestContext, *, ci_id: uuid.UUID, data: CIUpdate, if_match: int | None) -> CI:
    ci, diff = crud.changes(
        lambda: get_ci(ctx, ci_id=ci_id, lock=True), data, if_match, "the configuration item"
    )
    after = diff["after"]
    if not after:
        return ci
    errors: list[dict[str, Any]] = []
    if "state" in after and (problem := check_transition(ci.state, after["state"])):
        errors.append(problem)
    if {"class_id", "attributes", "owner_id"} & after.keys():
        ci_class = _class_for(ctx, after.get("class_id", ci.class_id))
        owner = after.get("owner_id") if "owner_id" in after else None
        errors += check_values(ctx, ci_class, owner, after.get("attributes", ci.attributes))
    if errors:
        raise ValidationProblem(errors=errors)
    before = {field: getattr(ci, field) for field in (*TRACKED, "attributes")}
    changed = crud.changed(ctx, ci, after, guard=_ci_guard(ctx))
    write_history(ctx.session, history_rows(ctx, ci.id, before, after))
    audit.record(ctx, action="ci.updated", entity_type="ci", entity_id=ci.id, data=diff)
    _emit(ctx, "updated", changed, changed=sorted(after))
    return changed


def delete_ci(ctx: RequestContext, *, ci_id: uuid.UUID) -> None:
    """Deletes the CI with its relationships, links and history (retiring keeps them)."""
    ci = get_ci(ctx, ci_id=ci_id, lock=True)
    _emit(ctx, "deleted", ci)
    ctx.session.delete(ci)
    ctx.session.flush()
    audit.record(ctx, action="ci.deleted", entity_type="ci", entity_id=ci_id)


def list_history(
    ctx: RequestContext, *, ci_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[CIHistory], str | None]:
    get_ci(ctx, ci_id=ci_id)
    query = select(CIHistory).where(CIHistory.tenant_id == ctx.tenant_id, CIHistory.ci_id == ci_id)
    return paginate(ctx.session, query, NEWEST_FIRST, limit=limit, cursor=cursor)


# --- relationships -----------------------------------------------------------------------


def list_relationships(
    ctx: RequestContext, *, ci_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[CIRelationship], str | None]:
    """Both directions: the CI as source or as target."""
    get_ci(ctx, ci_id=ci_id)
    query = select(CIRelationship).where(
        CIRelationship.tenant_id == ctx.tenant_id,
        or_(CIRelationship.source_id == ci_id, CIRelationship.target_id == ci_id),
    )
    return paginate(ctx.session, query, BY_TYPE, limit=limit, cursor=cursor)


_REACHES = text(
    "WITH RECURSIVE reach(id) AS (SELECT CAST(:start AS uuid)"
    " UNION SELECT r.target_id FROM reach JOIN ci_relationships r"
    " ON r.source_id = reach.id AND r.type = :type)"
    " SELECT 1 FROM reach WHERE id = :goal LIMIT 1"
)


def lock_graph(session: Session, tenant_id: uuid.UUID) -> None:
    """Serialises relationship writes of one tenant, so two concurrent edges cannot close
    a cycle that each alone would not."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('ci_relationships:' || :t))"),
        {"t": str(tenant_id)},
    )


def closes_cycle(
    session: Session, source_id: uuid.UUID, target_id: uuid.UUID, rel_type: str
) -> bool:
    """Would source -type-> target close a cycle (target already reaches source by edges of
    that type)? Only the acyclic types are checked."""
    if rel_type not in ACYCLIC_TYPES:
        return False
    found = session.execute(
        _REACHES, {"start": target_id, "type": rel_type, "goal": source_id}
    ).first()
    return found is not None


def create_relationship(
    ctx: RequestContext, *, ci_id: uuid.UUID, data: RelationshipCreate
) -> CIRelationship:
    source = get_ci(ctx, ci_id=ci_id)
    if data.target_id == ci_id:
        raise ValidationProblem(errors=[field_error("target_id", "a CI cannot relate to itself")])
    target = ctx.session.scalars(select(CI).where(_cis(ctx), CI.id == data.target_id)).one_or_none()
    if target is None:
        raise ValidationProblem(errors=[field_error("target_id", "no such configuration item")])
    lock_graph(ctx.session, ctx.tenant_id)
    if closes_cycle(ctx.session, source.id, target.id, data.type):
        raise ValidationProblem(
            f"{data.type} relationships may not form a cycle",
            errors=[field_error("target_id", f"already {data.type} this CI (directly or not)")],
        )
    made = CIRelationship(
        tenant_id=ctx.tenant_id,
        source_id=source.id,
        target_id=target.id,
        type=data.type,
        created_by=ctx.user_id,
    )
    guard = unique_or_conflict(
        ctx.session,
        {RELATIONSHIP_INDEX: ("target_id", "this relationship already exists")},
        title="this relationship already exists",
    )
    rel = crud.created(ctx, made, guard, "ci_relationship", after=data.model_dump(mode="json"))
    _emit_relationship(ctx, "created", rel)
    return rel


def _emit_relationship(ctx: RequestContext, kind: str, rel: CIRelationship) -> None:
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=f"ci.relationship.{kind}",
        aggregate_type="ci",
        aggregate_id=rel.source_id,
        payload={
            "relationship_id": rel.id,
            "source_id": rel.source_id,
            "target_id": rel.target_id,
            "type": rel.type,
            "actor_id": ctx.user_id,
        },
    )


def delete_relationship(
    ctx: RequestContext, *, ci_id: uuid.UUID, relationship_id: uuid.UUID
) -> None:
    get_ci(ctx, ci_id=ci_id)
    rel = ctx.session.scalars(
        select(CIRelationship).where(
            CIRelationship.tenant_id == ctx.tenant_id,
            CIRelationship.id == relationship_id,
            or_(CIRelationship.source_id == ci_id, CIRelationship.target_id == ci_id),
        )
    ).one_or_none()
    if rel is None:
        raise NotFound("no such relationship")
    _emit_relationship(ctx, "deleted", rel)
    ctx.session.delete(rel)
    ctx.session.flush()
    audit.record(
        ctx, action="ci_relationship.deleted", entity_type="ci_relationship", entity_id=rel.id
    )


# --- ticket and user links ---------------------------------------------------------------


def list_ticket_cis(
    ctx: RequestContext, *, ticket_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[CI], str | None]:
    tickets.get_visible(ctx, ticket_id)
    linked = select(CITicket.ci_id).where(CITicket.ticket_id == ticket_id)
    query = select(CI).where(_cis(ctx), CI.id.in_(linked))
    return paginate(ctx.session, query, BY_NAME, limit=limit, cursor=cursor)


def link_ticket(ctx: RequestContext, *, ticket_id: uuid.UUID, ci_id: uuid.UUID) -> CI:
    """Idempotent: linking twice keeps one link."""
    ticket = tickets.get_visible(ctx, ticket_id)
    ci = ctx.session.scalars(select(CI).where(_cis(ctx), CI.id == ci_id)).one_or_none()
    if ci is None:
        raise ValidationProblem(errors=[field_error("ci_id", "no such configuration item")])
    ctx.session.execute(
        text(
            "INSERT INTO ci_tickets (tenant_id, ci_id, ticket_id, created_by)"
            " VALUES (:t, :c, :k, :u) ON CONFLICT DO NOTHING"
        ),
        {"t": ctx.tenant_id, "c": ci.id, "k": ticket.id, "u": ctx.user_id},
    )
    audit.record(
        ctx,
        action="ci.ticket_linked",
        entity_type="ci",
        entity_id=ci.id,
        data={"ticket_id": ticket.id},
    )
    return ci


def unlink_ticket(ctx: RequestContext, *, ticket_id: uuid.UUID, ci_id: uuid.UUID) -> None:
    tickets.get_visible(ctx, ticket_id)
    gone = ctx.session.execute(
        delete(CITicket).where(
            CITicket.tenant_id == ctx.tenant_id,
            CITicket.ticket_id == ticket_id,
            CITicket.ci_id == ci_id,
        )
    )
    if not getattr(gone, "rowcount", 0):
        raise NotFound("this CI is not linked to the ticket")
    audit.record(
        ctx,
        action="ci.ticket_unlinked",
        entity_type="ci",
        entity_id=ci_id,
        data={"ticket_id": ticket_id},
    )


def list_ci_tickets(
    ctx: RequestContext, *, ci_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[CITicket], str | None]:
    """The tickets linked to the CI that the caller may see."""
    get_ci(ctx, ci_id=ci_id)
    seen = select(Ticket.id).where(
        Ticket.tenant_id == ctx.tenant_id, ticket_visible(ctx, tickets.load_settings(ctx))
    )
    query = select(CITicket).where(
        CITicket.tenant_id == ctx.tenant_id, CITicket.ci_id == ci_id, CITicket.ticket_id.in_(seen)
    )
    return paginate(ctx.session, query, LINKS_NEWEST, limit=limit, cursor=cursor)


def list_ci_users(
    ctx: RequestContext, *, ci_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[CIUser], str | None]:
    get_ci(ctx, ci_id=ci_id)
    query = select(CIUser).where(CIUser.tenant_id == ctx.tenant_id, CIUser.ci_id == ci_id)
    keyset = Keyset([Key(CIUser.user_id, UUID)])
    return paginate(ctx.session, query, keyset, limit=limit, cursor=cursor)


def link_user(ctx: RequestContext, *, ci_id: uuid.UUID, user_id: uuid.UUID) -> CIUser:
    get_ci(ctx, ci_id=ci_id)
    if tickets.active_member_role(ctx, user_id) is None:
        raise ValidationProblem(
            errors=[field_error("user_id", "not an active member of this tenant")]
        )
    ctx.session.execute(
        text(
            "INSERT INTO ci_users (tenant_id, ci_id, user_id, created_by)"
            " VALUES (:t, :c, :u, :by) ON CONFLICT DO NOTHING"
        ),
        {"t": ctx.tenant_id, "c": ci_id, "u": user_id, "by": ctx.user_id},
    )
    audit.record(
        ctx, action="ci.user_linked", entity_type="ci", entity_id=ci_id, data={"user_id": user_id}
    )
    return ctx.session.scalars(
        select(CIUser).where(CIUser.ci_id == ci_id, CIUser.user_id == user_id)
    ).one()


def unlink_user(ctx: RequestContext, *, ci_id: uuid.UUID, user_id: uuid.UUID) -> None:
    get_ci(ctx, ci_id=ci_id)
    gone = ctx.session.execute(
        delete(CIUser).where(
            CIUser.tenant_id == ctx.tenant_id, CIUser.ci_id == ci_id, CIUser.user_id == user_id
        )
    )
    if not getattr(gone, "rowcount", 0):
        raise NotFound("this user is not linked to the CI")
    audit.record(
        ctx, action="ci.user_unlinked", entity_type="ci", entity_id=ci_id, data={"user_id": user_id}
    )


# --- impact ---------------------------------------------------------------------------------

# Breadth-first from the start CIs along the relationships, ``up`` (target -> source: the
# CIs that depend on, run on, ... these) and/or ``down`` (source -> target), one row per
# level: the level's new CIs (``frontier``) and every CI seen so far. Cycle-safe and each CI
# expanded once: a CI already seen never enters a frontier again, and the depth is bounded.
_WALK = text(
    "WITH RECURSIVE level(frontier, seen, depth) AS ("
    " SELECT CAST(:start AS uuid[]), CAST(:start AS uuid[]), 0"
    " UNION ALL"
    " SELECT nx.ids, l.seen || nx.ids, l.depth + 1 FROM level l CROSS JOIN LATERAL ("
    "  SELECT COALESCE(array_agg(DISTINCT n.next), '{}') AS ids FROM ("
    "   SELECT r.source_id AS next FROM ci_relationships r"
    "    WHERE :up AND r.target_id = ANY(l.frontier)"
    "   UNION ALL"
    "   SELECT r.target_id FROM ci_relationships r"
    "    WHERE :down AND r.source_id = ANY(l.frontier)"
    "  ) n WHERE NOT n.next = ANY(l.seen)"
    " ) nx WHERE l.depth < :depth AND cardinality(l.frontier) > 0"
    ") SELECT DISTINCT ON (id) id, depth FROM"
    " (SELECT unnest(frontier) AS id, depth FROM level) f ORDER BY id, depth"
)


def uuids(values: Iterable[uuid.UUID]) -> Any:
    """One array parameter (``= ANY(...)``) rather than a bound parameter per id."""
    return bindparam(None, list(values), type_=ARRAY(PG_UUID(as_uuid=True)))


def walk(
    session: Session, start: Iterable[uuid.UUID], direction: str, depth: int
) -> dict[uuid.UUID, int]:
    """Every CI reached from ``start`` within ``depth`` hops -> its smallest depth (the
    starting CIs at 0)."""
    rows = session.execute(
        _WALK,
        {
            "start": list(start),
            "up": direction in ("up", "both"),
            "down": direction in ("down", "both"),
            "depth": depth,
        },
    ).all()
    return {row.id: row.depth for row in rows}


def _reached(ctx: RequestContext, depths: dict[uuid.UUID, int]) -> list[dict[str, Any]]:
    cis = ctx.session.scalars(select(CI).where(_cis(ctx), CI.id == any_(uuids(depths)))).all()
    return sorted(
        ({"ci": ci, "depth": depths[ci.id]} for ci in cis),
        key=lambda r: (r["depth"], r["ci"].name.lower(), str(r["ci"].id)),
    )


def _service_class_id(ctx: RequestContext) -> uuid.UUID | None:
    return ctx.session.scalar(
        select(CIClass.id).where(
            CIClass.tenant_id == ctx.tenant_id, CIClass.key == BUSINESS_SERVICE
        )
    )


def impact(ctx: RequestContext, *, ci_id: uuid.UUID, direction: str, depth: int) -> dict[str, Any]:
    """The CIs reached from the CI (without it), the business services among them, and
    the open tickets the caller may see linked to the CI or any CI reached."""
    get_ci(ctx, ci_id=ci_id)
    depths = walk(ctx.session, [ci_id], direction, depth)
    reached = _reached(ctx, {k: v for k, v in depths.items() if k != ci_id})
    service_class = _service_class_id(ctx)
    open_tickets = ctx.session.execute(
        select(Ticket.id, Ticket.number, Ticket.title, Ticket.status, CITicket.ci_id)
        .join(CITicket, CITicket.ticket_id == Ticket.id)
        .where(
            Ticket.tenant_id == ctx.tenant_id,
            CITicket.ci_id == any_(uuids(depths)),
            Ticket.status.in_([s.value for s in ACTIVE_STATUSES]),
            ticket_visible(ctx, tickets.load_settings(ctx)),
        )
        .order_by(Ticket.created_at.desc(), Ticket.id)
    ).all()
    return {
        "ci_id": ci_id,
        "direction": direction,
        "depth": depth,
        "cis": reached,
        "services": [r for r in reached if r["ci"].class_id == service_class],
        "tickets": [dict(row._mapping) for row in open_tickets],
    }


def affected_services(ctx: RequestContext, *, ticket_id: uuid.UUID, depth: int) -> dict[str, Any]:
    """The business services the ticket's CIs are or reach upward within ``depth``."""
    tickets.get_visible(ctx, ticket_id)
    linked = ctx.session.scalars(
        select(CITicket.ci_id).where(
            CITicket.tenant_id == ctx.tenant_id, CITicket.ticket_id == ticket_id
        )
    ).all()
    depths = walk(ctx.session, linked, "up", depth) if linked else {}
    service_class = _service_class_id(ctx)
    reached = _reached(ctx, depths)
    return {
        "ticket_id": ticket_id,
        "services": [r for r in reached if r["ci"].class_id == service_class],
    }
