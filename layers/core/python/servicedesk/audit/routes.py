"""Audit log API: admins read what every sensitive action wrote (newest first)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from servicedesk.audit import service
from servicedesk.audit.schemas import AuditEventPublic
from servicedesk.audit.service import MAX_ACTION, MAX_ENTITY, AuditFilter
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import page_of, route
from servicedesk.platform.pagination import BIGINT, Page
from servicedesk.platform.params import Cursor, Limit
from servicedesk.platform.permissions import Permission

router = APIRouter(prefix="/v1", tags=["audit"])

Action = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_ACTION,
        description="An action (team.created), or all starting with a prefix ending in '.' (role.)",
    ),
]
Entity = Annotated[str | None, Query(min_length=1, max_length=MAX_ENTITY)]
Since = Annotated[
    datetime | None, Query(alias="from", description="From this instant (inclusive, with zone)")
]
Until = Annotated[
    datetime | None, Query(alias="to", description="Before this instant (exclusive, with zone)")
]


@route(
    router.get,
    "/audit-events",
    Permission.AUDIT_READ,
    "The organisation's audit log, newest first (at most 366 days between from and to)",
    response_model=Page[AuditEventPublic],
)
def list_audit_events(
    ctx: Ctx,
    limit: Limit = 50,
    cursor: Cursor = None,
    actor_id: uuid.UUID | None = None,
    action: Action = None,
    entity_type: Entity = None,
    entity_id: Entity = None,
    since: Since = None,
    until: Until = None,
) -> Page[AuditEventPublic]:
    where = AuditFilter(actor_id, action, entity_type, entity_id, since, until)
    found = service.list_events(ctx, where=where, limit=limit, cursor=cursor)
    return page_of(AuditEventPublic, found)


@route(router.get, "/audit-events/{event_id}", Permission.AUDIT_READ, "One audit event")
def get_audit_event(ctx: Ctx, event_id: Annotated[int, Path(ge=1, lt=BIGINT)]) -> AuditEventPublic:
    return AuditEventPublic.model_validate(service.get_event(ctx, event_id=event_id))
