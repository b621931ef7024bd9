"""Tickets as the subject of approvals: a service request in a category that needs
approval waits in pending_approval (tickets.service.create starts the request); this adapter
gives approvers the ticket's summary and moves the ticket when its approval ends."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from servicedesk.approvals import subjects
from servicedesk.approvals.models import ApprovalRequest
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import service as tickets
from servicedesk.tickets import states, timeline
from servicedesk.tickets.models import Comment, Ticket

TICKETS = text(
    """
    SELECT t.id, t.number, t.title, t.description, t.status, c.name AS category,
           u.name AS requester_name
    FROM tickets t
    LEFT JOIN categories c ON c.tenant_id = t.tenant_id AND c.id = t.category_id
    LEFT JOIN users u ON u.id = t.requester_id
    WHERE t.tenant_id = :t AND t.id = ANY(CAST(:ids AS uuid[]))
    """
)


def summaries(
    session: Session, tenant_id: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    rows = session.execute(TICKETS, {"t": tenant_id, "ids": [str(i) for i in ids]}).mappings()
    return {row["id"]: {"type": "ticket", **row} for row in rows}


def decided(ctx: RequestContext, request: ApprovalRequest, state: str, reason: str) -> None:
    """Approved: the ticket opens. Rejected: it closes, the reason as a public comment.
    A ticket no longer waiting (cancelled meanwhile) is left as it is."""
    ticket = ctx.session.scalars(
        select(Ticket)
        .where(Ticket.tenant_id == ctx.tenant_id, Ticket.id == request.subject_id)
        .with_for_update()
    ).one_or_none()
    if ticket is None or ticket.status != states.Status.PENDING_APPROVAL.value:
        return
    if state == "approved":
        tickets.apply_status(ctx, ticket, states.Status.OPEN)
        return
    comment = Comment(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        ticket_id=ticket.id,
        author_id=ctx.user_id,
        visibility="public",
        body=f"The request was not approved: {reason}",
    )
    ctx.session.add(comment)
    ctx.session.flush()
    timeline.event(
        ctx,
        ticket,
        "comment_added",
        payload={"comment_id": comment.id, "visibility": "public"},
    )
    tickets.apply_status(ctx, ticket, states.Status.CLOSED)


subjects.register("ticket", summaries, decided)
