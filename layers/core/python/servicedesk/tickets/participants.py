"""Who takes part in a ticket: CCs, participants, and invitations to join."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import or_, select

from servicedesk.identity.models import Membership, User
from servicedesk.identity.schemas import avatar_path
from servicedesk.platform.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import permissions, service, timeline
from servicedesk.tickets.models import Participant, Ticket, TicketInvitation


@dataclass(frozen=True)
class ParticipantView:
    user_id: uuid.UUID
    role: str  # requester | assignee | cc | participant
    can_comment: bool
    can_edit: bool
    added_at: datetime | None
    name: str = ""
    avatar_url: str | None = None


def people(ctx: RequestContext, ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str | None]]:
    """Each person's name and avatar in this organisation, in one query."""
    rows = ctx.session.execute(
        select(User.id, User.name, Membership.avatar_attachment_id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == ctx.tenant_id, User.id.in_(ids))
    )
    return {
        r.id: (r.name, avatar_path(r.avatar_attachment_id) if r.avatar_attachment_id else None)
        for r in rows
    }


def list_participants(ctx: RequestContext, *, ticket_id: uuid.UUID) -> list[ParticipantView]:
    """Who takes part, with their names and pictures: whoever may see the ticket sees who is
    on it (the requester reads the assignee's name in the e-mails already)."""
    ticket = service.get_visible(ctx, ticket_id)
    views = [ParticipantView(ticket.requester_id, "requester", True, True, ticket.created_at)]
    if ticket.assignee_id is not None:
        views.append(ParticipantView(ticket.assignee_id, "assignee", True, True, None))
    rows = ctx.session.scalars(
        select(Participant)
        .where(Participant.tenant_id == ctx.tenant_id, Participant.ticket_id == ticket.id)
        .order_by(Participant.created_at, Participant.user_id)
    )
    views.extend(
        ParticipantView(p.user_id, p.kind, p.can_comment, p.can_edit, p.created_at) for p in rows
    )
    named = people(ctx, {v.user_id for v in views})
    return [
        replace(v, name=named[v.user_id][0], avatar_url=named[v.user_id][1])
        if v.user_id in named
        else v
        for v in views
    ]


def _require_member(ctx: RequestContext, user_id: uuid.UUID) -> None:
    if service._active_member_role(ctx, user_id) is None:
        raise ValidationProblem(errors=[field_error("user_id", "not an active member")])


def _takes_part(ctx: RequestContext, ticket: Ticket, user_id: uuid.UUID) -> bool:
    existing = ctx.session.get(Participant, (ticket.id, user_id))
    return user_id == ticket.requester_id or existing is not None


def add(
    ctx: RequestContext,
    *,
    ticket_id: uuid.UUID,
    user_id: uuid.UUID,
    kind: str,
    can_comment: bool,
    can_edit: bool,
) -> ParticipantView:
    """Staff add CCs and participants directly; others invite."""
    ticket = service.get_visible(ctx, ticket_id, for_update=True)
    if not ctx.can(Permission.TICKET_PARTICIPANTS):
        raise Forbidden("only staff add participants directly; send an invitation")
    _require_member(ctx, user_id)
    if _takes_part(ctx, ticket, user_id):
        raise Conflict(
            "already taking part", errors=[field_error("user_id", "already a participant")]
        )
    service.enroll(ctx, ticket, user_id, kind=kind, can_edit=can_edit)
    added = ctx.session.get(Participant, (ticket.id, user_id))
    assert added is not None
    added.can_comment = can_comment
    timeline.audited(ctx, ticket, "ticket.participant_added", user_id=user_id, kind=kind)
    timeline.live(ctx, ticket, "ticket.participant_added")
    ctx.session.flush()
    return ParticipantView(user_id, kind, can_comment, can_edit, datetime.now(UTC))


def remove(ctx: RequestContext, *, ticket_id: uuid.UUID, user_id: uuid.UUID) -> None:
    ticket = service.get_visible(ctx, ticket_id, for_update=True)
    if not (ctx.can(Permission.TICKET_PARTICIPANTS) or user_id == ctx.user_id):
        raise Forbidden("only staff remove others")
    found = ctx.session.get(Participant, (ticket.id, user_id))
    if found is None:
        raise NotFound("not a participant")
    ctx.session.delete(found)
    timeline.event(ctx, ticket, "participant_removed", payload={"user_id": user_id})
    timeline.audited(ctx, ticket, "ticket.participant_removed", user_id=user_id)


def invite(
    ctx: RequestContext,
    *,
    ticket_id: uuid.UUID,
    user_id: uuid.UUID,
    can_comment: bool,
    can_edit: bool,
) -> TicketInvitation:
    ticket = service.get_visible(ctx, ticket_id, for_update=True)
    if not permissions.may_edit(ctx, ticket):
        raise Forbidden("you may not invite people to this ticket")
    _require_member(ctx, user_id)
    if _takes_part(ctx, ticket, user_id):
        raise Conflict(
            "already taking part", errors=[field_error("user_id", "already a participant")]
        )
    pending = ctx.session.scalars(
        select(TicketInvitation).where(
            TicketInvitation.ticket_id == ticket.id,
            TicketInvitation.user_id == user_id,
            TicketInvitation.status == "pending",
        )
    ).first()
    if pending is not None:
        raise Conflict(
            "an invitation is already pending", errors=[field_error("user_id", "already invited")]
        )
    invitation = TicketInvitation(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        ticket_id=ticket.id,
        user_id=user_id,
        invited_by=ctx.user_id,
        can_comment=can_comment,
        can_edit=can_edit and ctx.is_staff,
    )
    ctx.session.add(invitation)
    timeline.event(
        ctx,
        ticket,
        "invitation_created",
        visibility="personal",
        audience=[user_id, ctx.user_id],
        payload={"invitation_id": invitation.id, "user_id": user_id},
    )
    timeline.audited(ctx, ticket, "ticket.invitation_created", invitation_id=invitation.id)
    service._notify(
        ctx, ticket, "ticket.invitation_created", invitation_id=invitation.id, user_id=user_id
    )
    ctx.session.flush()
    ctx.session.refresh(invitation)
    return invitation


def list_invitations(ctx: RequestContext, *, ticket_id: uuid.UUID) -> list[TicketInvitation]:
    ticket = service.get_visible(ctx, ticket_id)
    query = select(TicketInvitation).where(
        TicketInvitation.tenant_id == ctx.tenant_id, TicketInvitation.ticket_id == ticket.id
    )
    if not ctx.is_staff:
        query = query.where(
            or_(TicketInvitation.user_id == ctx.user_id, TicketInvitation.invited_by == ctx.user_id)
        )
    return list(ctx.session.scalars(query.order_by(TicketInvitation.created_at)))


def my_invitations(ctx: RequestContext) -> list[TicketInvitation]:
    return list(
        ctx.session.scalars(
            select(TicketInvitation)
            .where(
                TicketInvitation.tenant_id == ctx.tenant_id,
                TicketInvitation.user_id == ctx.user_id,
                TicketInvitation.status == "pending",
            )
            .order_by(TicketInvitation.created_at)
        )
    )


def respond(
    ctx: RequestContext, *, ticket_id: uuid.UUID, invitation_id: uuid.UUID, action: str
) -> TicketInvitation:
    """Accept or decline (the invitee), or cancel (the inviter or staff).

    The invitee cannot see the ticket yet, so the invitation itself is the authority:
    it is found by id, ticket and caller, and anything else answers 404.
    """
    invitation = ctx.session.scalars(
        select(TicketInvitation)
        .where(
            TicketInvitation.tenant_id == ctx.tenant_id,
            TicketInvitation.id == invitation_id,
            TicketInvitation.ticket_id == ticket_id,
        )
        .with_for_update()
    ).one_or_none()
    actor_ok = invitation is not None and (
        invitation.user_id == ctx.user_id
        if action in ("accept", "decline")
        else invitation.invited_by == ctx.user_id or ctx.is_staff
    )
    if invitation is None or not actor_ok:
        raise NotFound("no such invitation")
    if invitation.status != "pending":
        raise Conflict(f"the invitation is already {invitation.status}")
    ticket = ctx.session.get(Ticket, invitation.ticket_id, with_for_update=True)
    assert ticket is not None
    invitation.status = {"accept": "accepted", "decline": "declined", "cancel": "cancelled"}[action]
    invitation.responded_at = datetime.now(UTC)
    if action == "accept":
        ctx.session.add(
            Participant(
                tenant_id=ctx.tenant_id,
                ticket_id=ticket.id,
                user_id=ctx.user_id,
                can_comment=invitation.can_comment,
                can_edit=invitation.can_edit,
                added_by=invitation.invited_by,
            )
        )
        timeline.event(ctx, ticket, "participant_added", payload={"user_id": ctx.user_id})
    timeline.event(
        ctx,
        ticket,
        f"invitation_{invitation.status}",
        visibility="personal",
        audience=[invitation.user_id, invitation.invited_by],
        payload={"invitation_id": invitation.id},
    )
    timeline.audited(
        ctx, ticket, f"ticket.invitation_{invitation.status}", invitation_id=invitation.id
    )
    ctx.session.flush()
    return invitation
