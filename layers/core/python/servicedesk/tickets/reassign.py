"""Tickets moved in bulk by a change of the catalog: a deleted category's tickets to
another (``delete_category``, here because the catalog does not import tickets). Each
ticket changes as an edit of its category would change it (version, timeline entry, audit
row, SLA policy re-chosen, a ``ticket.updated`` event through the outbox, which refreshes
its report facts and live viewers), all in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from servicedesk.catalog import service as catalog
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
        # As an edit of the category: live viewers and the report facts follow.
        service._notify(
            ctx,
            ticket,
            "ticket.updated",
            fields=["category_id"],
            values={"category_id": target},
        )
        timeline.audited(
            ctx, ticket, "ticket.updated", before=before, after={"category_id": target}
        )
    ctx.session.flush()
    return len(tickets)


def delete_category(
    ctx: RequestContext, *, category_id: uuid.UUID, reassign_to: uuid.UUID | None
) -> int:
    """Delete the category and its subtree (docs/ticket-types.md): their tickets move to
    ``reassign_to`` first, then the subtree goes, in the caller's one transaction. Answers
    how many tickets moved."""
    category, ids = catalog.prepare_delete(ctx, category_id=category_id, reassign_to=reassign_to)
    moved = move_category(ctx, ids, reassign_to)
    catalog.finish_delete(ctx, category, ids, reassign_to=reassign_to, moved=moved)
    return moved
