"""Reading the audit log (invariant 8: nothing here writes it): one page, newest first,
filtered by actor, action (exact or a ``prefix.``), entity and time range; one row by id.

The service answers plain dicts in the shape of ``AuditEventPublic`` so that REST and
GraphQL share it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select

from servicedesk.audit.models import AuditRow
from servicedesk.identity.models import User
from servicedesk.platform.errors import NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import INTEGER, TIMESTAMP, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext

NEWEST = Keyset([Key(AuditRow.created_at, TIMESTAMP), Key(AuditRow.id, INTEGER)], descending=True)
MAX_ACTION = 100
MAX_ENTITY = 200
MAX_SPAN = timedelta(days=366)


@dataclass(frozen=True)
class AuditFilter:
    actor_id: uuid.UUID | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _bad(field: str, detail: str) -> ValidationProblem:
    return ValidationProblem(
        f"{field} {detail}", errors=[{**field_error(field, detail), "in": "query"}]
    )


def check(found: AuditFilter) -> AuditFilter:
    """The filter, or a 422 naming the field (``from``/``to`` as the query names them)."""
    for name, value, most in (
        ("action", found.action, MAX_ACTION),
        ("entity_type", found.entity_type, MAX_ENTITY),
        ("entity_id", found.entity_id, MAX_ENTITY),
    ):
        if value is not None and (not value or len(value) > most or "\x00" in value):
            raise _bad(name, f"must be 1-{most} characters")
    for name, moment in (("from", found.since), ("to", found.until)):
        if moment is not None and moment.tzinfo is None:
            raise _bad(name, "needs a time zone")
    if found.since is not None and found.until is not None:
        if found.since > found.until:
            raise _bad("from", "must not be after to")
        if found.until - found.since > MAX_SPAN:
            raise _bad("to", "at most 366 days after from")
    return found


def _query() -> Select[Any]:
    return select(
        AuditRow.id,
        AuditRow.action,
        AuditRow.entity_type,
        AuditRow.entity_id,
        AuditRow.actor_user_id,
        User.name.label("actor_name"),
        AuditRow.data,
        AuditRow.request_id,
        AuditRow.created_at,
    ).outerjoin(User, User.id == AuditRow.actor_user_id)


def _shape(row: Any) -> dict[str, Any]:
    actor = None
    if row.actor_user_id is not None:
        actor = {"id": row.actor_user_id, "name": row.actor_name}
    return {
        "id": row.id,
        "action": row.action,
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "actor": actor,
        "data": row.data,
        "request_id": row.request_id,
        "created_at": row.created_at,
    }


def list_events(
    ctx: RequestContext, *, where: AuditFilter, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    where = check(where)
    query = _query().where(AuditRow.tenant_id == ctx.tenant_id)
    if where.actor_id is not None:
        query = query.where(AuditRow.actor_user_id == where.actor_id)
    if where.action is not None:
        if where.action.endswith("."):
            query = query.where(AuditRow.action.startswith(where.action, autoescape=True))
        else:
            query = query.where(AuditRow.action == where.action)
    if where.entity_type is not None:
        query = query.where(AuditRow.entity_type == where.entity_type)
    if where.entity_id is not None:
        query = query.where(AuditRow.entity_id == where.entity_id)
    if where.since is not None:
        query = query.where(AuditRow.created_at >= where.since)
    if where.until is not None:
        query = query.where(AuditRow.created_at < where.until)
    rows, nxt = paginate(ctx.session, query, NEWEST, limit=limit, cursor=cursor, scalars=False)
    return [_shape(row) for row in rows], nxt


def get_event(ctx: RequestContext, *, event_id: int) -> dict[str, Any]:
    row = ctx.session.execute(
        _query().where(AuditRow.tenant_id == ctx.tenant_id, AuditRow.id == event_id)
    ).first()
    if row is None:
        raise NotFound("no such audit event")
    return _shape(row)
