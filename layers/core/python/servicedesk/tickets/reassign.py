"""Tickets moved in bulk by a change of the catalog: a deleted category's tickets to
another (servicedesk.catalog.service.delete_category). Each ticket changes as an edit of
its category would change it (version, timeline entry, audit row, SLA policy re-chosen),
all in the caller's transaction; then their report facts are recomputed in it too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import service, timeline
from servicedesk.tickets.models import Ticket


def move_category(
    ctx: RequestContext, category_ids: list[uuid.UUID], target: uuid.UUID | None
) -> int:
    """Every ticket of ``category_ids`` to ``target``; answers how many moved."""
    tickets = list(
        ctx.session.scalars(
            select(Ticket)
            .where(Ticket.tenant_id == ctx.tenant_id, Ticket.category_id.in_(category_ids))
            .order_by(Ticket.id)
            .with_for_update()
        )
    )
    now = datetime.now(UTC)
    for ticket in tickets:
        before = {"category_id": ticket.category_id}
        ticket.category_id = target
        ticket.version += 1
        ticket.updated_at = now
        service.clock(ctx).reclassified(ticket, service.sla_policy_for(ctx, ticket), now)
        timeline.event(
            ctx,
            ticket,
            "category_changed",
            payload={"from": before["category_id"], "to": target, "reason": "category_deleted"},
        )
        timeline.audited(
            ctx, ticket, "ticket.updated", before=before, after={"category_id": target}
        )
    ctx.session.flush()
    if tickets:
        from servicedesk.reports import facts

        facts.refresh(ctx.session, ctx.tenant_id, [t.id for t in tickets])
    return len(tickets)
