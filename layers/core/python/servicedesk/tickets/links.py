"""Links between tickets (relates to, duplicate of, parent of) and merging."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, or_, select, text

from servicedesk.platform.constraints import unique_or_conflict
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import service, states, timeline
from servicedesk.tickets.models import Participant, Ticket, TicketLink
from servicedesk.tickets.visibility import visible


def list_links(ctx: RequestContext, *, ticket_id: uuid.UUID) -> list[TicketLink]:
    ticket = service.get_visible(ctx, ticket_id)
    links = ctx.session.scalars(
        select(TicketLink)
        .where(
            TicketLink.tenant_id == ctx.tenant_id,
            or_(TicketLink.source_id == ticket.id, TicketLink.target_id == ticket.id),
        )
        .order_by(TicketLink.created_at)
    ).all()
    # Only links whose other end the caller may see too.
    visible_ids = set(
        ctx.session.scalars(
            select(Ticket.id).where(
                Ticket.id.in_(
                    {link.source_id for link in links} | {link.target_id for link in links}
                ),
                visible(ctx, service.load_settings(ctx)),
            )
        )
    )
    return [link for link in links if {link.source_id, link.target_id} <= visible_ids]


def _other(ctx: RequestContext, target_id: uuid.UUID, field: str = "target_id") -> Ticket:
    try:
        return service.get_visible(ctx, target_id, for_update=True)
    except NotFound as exc:
        raise ValidationProblem(errors=[field_error(field, "no such ticket")]) from exc


def _would_cycle(ctx: RequestContext, parent: uuid.UUID, child: uuid.UUID) -> bool:
    """Is ``child`` already an ancestor of ``parent`` (or the same ticket)?"""
    row = ctx.session.execute(
        text(
            """
            WITH RECURSIVE ancestors(id) AS (
                SELECT CAST(:parent AS uuid)
                UNION
                SELECT l.source_id FROM ticket_links l JOIN ancestors a ON l.target_id = a.id
                WHERE l.kind = 'parent_of' AND l.tenant_id = :t
            )
            SELECT 1 FROM ancestors WHERE id = :child LIMIT 1
            """
        ),
        {"parent": parent, "child": child, "t": ctx.tenant_id},
    ).first()
    return row is not None


def link(
    ctx: RequestContext, *, ticket_id: uuid.UUID, target_id: uuid.UUID, kind: str
) -> TicketLink:
    if ticket_id == target_id:
        raise ValidationProblem(errors=[field_error("target_id", "a ticket cannot link to itself")])
    ticket = service.get_visible(ctx, ticket_id, for_update=True)
    other = _other(ctx, target_id)
    source, target, stored_kind = ticket, other, kind
    if kind == "child_of":
        source, target, stored_kind = other, ticket, "parent_of"
    if kind == "incident_of":
        source, target, stored_kind = other, ticket, "problem_of"
    if stored_kind == "problem_of":
        _check_problem_link(ctx, ticket, source, target)
    if stored_kind == "parent_of":
        if _would_cycle(ctx, source.id, target.id):
            raise ValidationProblem(
                errors=[field_error("target_id", "this link would make a cycle")]
            )
        has_parent = ctx.session.scalars(
            select(TicketLink.id).where(
                TicketLink.target_id == target.id, TicketLink.kind == "parent_of"
            )
        ).first()
        if has_parent is not None:
            raise Conflict(
                "the child already has a parent",
                errors=[field_error("target_id", "already has a parent")],
            )
    exists = ctx.session.scalars(
        select(TicketLink.id).where(
            TicketLink.source_id == source.id,
            TicketLink.target_id == target.id,
            TicketLink.kind == stored_kind,
        )
    ).first()
    if exists is not None:
        raise Conflict("these tickets are already linked so")
    created = TicketLink(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        source_id=source.id,
        target_id=target.id,
        kind=stored_kind,
        created_by=ctx.user_id,
    )
    with unique_or_conflict(
        ctx.session,
        {"uq_ticket_links_problem": ("target_id", "the incident already has a problem")},
        title="the incident already has a problem",
    ):
        ctx.session.add(created)
    for one, two in ((ticket, other), (other, ticket)):
        timeline.event(
            ctx,
            one,
            "linked",
            payload={
                "link_id": created.id,
                "kind": stored_kind,
                "other": two.id,
                "source_id": source.id,
                "target_id": target.id,
            },
        )
    timeline.audited(
        ctx, ticket, "ticket.linked", link_id=created.id, kind=stored_kind, other=other.id
    )
    ctx.session.flush()
    ctx.session.refresh(created)
    return created


def _check_problem_link(
    ctx: RequestContext, ticket: Ticket, source: Ticket, target: Ticket
) -> None:
    """A problem (source) causes incidents (targets); an incident has at most one problem.
    Errors name ``kind`` when the caller's ticket has the wrong type, else ``target_id``."""
    for one, wanted in ((source, "problem"), (target, "incident")):
        if one.type != wanted:
            field = "kind" if one.id == ticket.id else "target_id"
            message = f"must be a {wanted} ticket (it is a {one.type})"
            raise ValidationProblem(errors=[field_error(field, message)])
    has_problem = ctx.session.scalars(
        select(TicketLink.id).where(
            TicketLink.tenant_id == ctx.tenant_id,
            TicketLink.target_id == target.id,
            TicketLink.kind == "problem_of",
        )
    ).first()
    if has_problem is not None:
        field = "kind" if target.id == ticket.id else "target_id"
        raise Conflict(
            "the incident already has a problem",
            errors=[field_error(field, "the incident already has a problem")],
        )


def unlink(ctx: RequestContext, *, ticket_id: uuid.UUID, link_id: uuid.UUID) -> None:
    ticket = service.get_visible(ctx, ticket_id, for_update=True)
    found = ctx.session.get(TicketLink, link_id)
    if found is None or ticket.id not in (found.source_id, found.target_id):
        raise NotFound("no such link")
    other_id = found.target_id if found.source_id == ticket.id else found.source_id
    other = _other(ctx, other_id)
    ctx.session.execute(delete(TicketLink).where(TicketLink.id == link_id))
    for one, two in ((ticket, other), (other, ticket)):
        timeline.event(
            ctx, one, "unlinked", payload={"link_id": link_id, "kind": found.kind, "other": two.id}
        )
    timeline.audited(ctx, ticket, "ticket.unlinked", link_id=link_id)


def merge(ctx: RequestContext, *, ticket_id: uuid.UUID, target_id: uuid.UUID) -> Ticket:
    """Close ``ticket_id`` into ``target_id``: a pointer, a duplicate link, the requester
    and participants carried over, and the conversation reachable from the target."""
    if ticket_id == target_id:
        raise ValidationProblem(
            errors=[field_error("target_id", "cannot merge a ticket into itself")]
        )
    source = service.get_visible(ctx, ticket_id, for_update=True)
    target = _other(ctx, target_id)
    if source.merged_into_id is not None:
        raise Conflict("this ticket was already merged")
    if target.merged_into_id is not None:
        raise ValidationProblem(errors=[field_error("target_id", "that ticket was merged itself")])
    if source.status != states.Status.CLOSED.value:
        service.apply_status(ctx, source, states.Status.CLOSED)
    source.merged_into_id = target.id
    for user_id in {
        source.requester_id,
        *ctx.session.scalars(select(Participant.user_id).where(Participant.ticket_id == source.id)),
    }:
        service.enroll(ctx, target, user_id, kind="cc")
    ctx.session.add(
        TicketLink(
            id=uuid.uuid4(),
            tenant_id=ctx.tenant_id,
            source_id=source.id,
            target_id=target.id,
            kind="duplicate_of",
            created_by=ctx.user_id,
        )
    )
    timeline.event(ctx, source, "merged", payload={"into": target.id, "number": target.number})
    timeline.event(ctx, target, "merged", payload={"from": source.id, "number": source.number})
    timeline.audited(ctx, source, "ticket.merged", into=target.id)
    target.updated_at = source.updated_at
    ctx.session.flush()
    return source
