"""Typed ticket events, and the audit rows that go with every mutation."""

from __future__ import annotations

import uuid
from typing import Any

from servicedesk.platform import audit
from servicedesk.platform.context import RequestContext
from servicedesk.platform.db import jsonable
from servicedesk.tickets.models import Ticket, TicketEvent


def event(
    ctx: RequestContext,
    ticket: Ticket,
    type_: str,
    *,
    payload: dict[str, Any] | None = None,
    visibility: str = "public",
    audience: list[uuid.UUID] | None = None,
) -> None:
    ctx.session.add(
        TicketEvent(
            tenant_id=ctx.tenant_id,
            ticket_id=ticket.id,
            type=type_,
            actor_id=ctx.user_id,
            visibility=visibility,
            audience=audience or [],
            payload=jsonable(payload or {}),
        )
    )


def audited(
    ctx: RequestContext,
    ticket: Ticket,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    **data: Any,
) -> None:
    body: dict[str, Any] = {"number": ticket.number, **data}
    if before is not None:
        body["before"] = before
    if after is not None:
        body["after"] = after
    audit.record(ctx, action=action, entity_type="ticket", entity_id=ticket.id, data=body)
