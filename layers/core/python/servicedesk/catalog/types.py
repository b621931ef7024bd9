"""Ticket types (docs/ticket-types.md): each tenant's list, four built in (incident, service
request, problem, question: renamable, archivable except ``incident``, never deleted) and its
own keys. A type is archived, never deleted: tickets, reports and SLA conditions keep naming
it. Never commits."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import func, select, text

from servicedesk.catalog.models import Category, TicketType
from servicedesk.catalog.schemas import TicketTypeCreate, TicketTypeUpdate
from servicedesk.platform import audit, crud
from servicedesk.platform.constraints import unique_or_conflict
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import INTEGER, TEXT, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext

# The type of a ticket when neither the caller nor its category says (and of every ticket
# that existed before types did).
DEFAULT_TYPE = "incident"
PROBLEM = "problem"
INCIDENT = "incident"
BUILTIN = ("incident", "service_request", "problem", "question")

IN_ORDER = Keyset([Key(TicketType.position, INTEGER), Key(TicketType.key, TEXT, lambda t: t.key)])
UNIQUE = {
    "ticket_types_tenant_id_key_key": ("key", "already taken"),
    "uq_ticket_types_name": ("name", "already taken (names ignore case)"),
}


def list_types(
    ctx: RequestContext, *, archived: bool | None, limit: int, cursor: str | None
) -> tuple[list[TicketType], str | None]:
    """In their order. Requesters see the ones they may pick (never the archived)."""
    query = select(TicketType).where(TicketType.tenant_id == ctx.tenant_id)
    if not ctx.is_staff:
        archived = False
    if archived is not None:
        query = query.where(
            TicketType.archived_at.is_not(None) if archived else TicketType.archived_at.is_(None)
        )
    return paginate(ctx.session, query, IN_ORDER, limit=limit, cursor=cursor)


def get_type(ctx: RequestContext, *, type_id: uuid.UUID, lock: bool = False) -> TicketType:
    query = select(TicketType).where(
        TicketType.tenant_id == ctx.tenant_id, TicketType.id == type_id
    )
    if not ctx.is_staff:
        query = query.where(TicketType.archived_at.is_(None))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = ctx.session.scalars(query).one_or_none()
    if found is None:
        raise NotFound("no such ticket type")
    return found


def check_usable(ctx: RequestContext, key: str, field: str = "type") -> None:
    """422 naming ``field`` unless ``key`` is one of the tenant's types, not archived. The
    row stays key-share locked: archiving it meanwhile waits for this transaction."""
    row = ctx.session.execute(
        select(TicketType.archived_at)
        .where(TicketType.tenant_id == ctx.tenant_id, TicketType.key == key)
        .with_for_update(read=True, key_share=True)
    ).first()
    if row is None:
        raise ValidationProblem(errors=[field_error(field, "no such ticket type")])
    if row.archived_at is not None:
        raise ValidationProblem(errors=[field_error(field, "this ticket type is archived")])


def _guard(ctx: RequestContext) -> AbstractContextManager[None]:
    return unique_or_conflict(ctx.session, UNIQUE, title="another ticket type has this value")


def create_type(ctx: RequestContext, *, data: TicketTypeCreate) -> TicketType:
    position = data.position
    if position is None:
        last = ctx.session.scalar(
            select(func.max(TicketType.position)).where(TicketType.tenant_id == ctx.tenant_id)
        )
        position = 0 if last is None else last + 1
    made = TicketType(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        key=data.key,
        name=data.name,
        description=data.description,
        position=position,
    )
    return crud.created(ctx, made, _guard(ctx), "ticket_type", after=data.model_dump(mode="json"))


def _archive_refusal(ctx: RequestContext, found: TicketType) -> str | None:
    if found.key == DEFAULT_TYPE:
        return "incident is the type of tickets nothing else types; it cannot be archived"
    default_of = ctx.session.scalars(
        select(Category.name).where(
            Category.tenant_id == ctx.tenant_id,
            Category.default_type == found.key,
            Category.active.is_(True),
        )
    ).first()
    if default_of is not None:
        return f"the default type of the category {default_of!r}; change that first"
    return None


def update_type(
    ctx: RequestContext, *, type_id: uuid.UUID, data: TicketTypeUpdate, if_match: int | None
) -> TicketType:
    found, diff = crud.changes(
        lambda: get_type(ctx, type_id=type_id, lock=True), data, if_match, "ticket type"
    )
    after = dict(diff["after"])
    archived = after.pop("archived", None)
    if archived is not None:
        if archived:
            refusal = _archive_refusal(ctx, found)
            if refusal:
                raise Conflict(refusal, errors=[field_error("archived", refusal)])
            after["archived_at"] = func.now()
        else:
            after["archived_at"] = None
    if not after:
        return found
    crud.changed(ctx, found, after, guard=_guard(ctx))
    audit.record(
        ctx,
        action="ticket_type.updated",
        entity_type="ticket_type",
        entity_id=found.id,
        data={"before": diff["before"], "after": diff["after"]},
    )
    return found


def reorder_types(ctx: RequestContext, *, ids: list[uuid.UUID]) -> list[TicketType]:
    """Positions 0..n-1 in the order given; the list names every type of the tenant once
    (one added meanwhile: 409, reload)."""
    current = list(
        ctx.session.scalars(
            select(TicketType).where(TicketType.tenant_id == ctx.tenant_id).with_for_update()
        )
    )
    by_id = {t.id: t for t in current}
    errors = order_errors(ids, set(by_id), "no such ticket type")
    if errors:
        raise ValidationProblem("the order must name each type once", errors=errors)
    missing = [t.key for t in current if t.id not in set(ids)]
    if missing:
        raise Conflict(
            "the order must name every type of the tenant; reload and retry",
            errors=[field_error("ids", f"missing {len(missing)}, e.g. {missing[0]!r}")],
        )
    before = {t.key: t.position for t in current}
    for position, type_id in enumerate(ids):
        found = by_id[type_id]
        if found.position != position:
            found.position = position
            found.version += 1
            found.updated_at = func.now()
    ctx.session.flush()
    audit.record(
        ctx,
        action="ticket_types.reordered",
        entity_type="ticket_type",
        entity_id=ids[0],
        data={"before": before, "after": {by_id[i].key: n for n, i in enumerate(ids)}},
    )
    ordered = [by_id[i] for i in ids]
    for found in ordered:
        ctx.session.refresh(found)
    return ordered


def order_errors(ids: list[uuid.UUID], known: set[uuid.UUID], unknown: str) -> list[dict[str, Any]]:
    errors, seen = [], set()
    for n, one in enumerate(ids):
        if one in seen:
            errors.append(field_error(f"ids.{n}", "listed twice"))
        elif one not in known:
            errors.append(field_error(f"ids.{n}", unknown))
        seen.add(one)
    return errors


def names(ctx: RequestContext) -> dict[str, str]:
    """Key -> name of the tenant's types (archived included)."""
    return dict(
        ctx.session.execute(
            text("SELECT key, name FROM ticket_types WHERE tenant_id = :t"), {"t": ctx.tenant_id}
        ).tuples()
    )
