"""The conversation: public replies and internal notes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select

from servicedesk.platform.errors import Conflict, Forbidden, NotFound, field_error
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import permissions, service, states, timeline
from servicedesk.tickets.models import Comment, Ticket
from servicedesk.tickets.schemas import CommentCreate
from servicedesk.tickets.visibility import visible_comments

OLDEST_FIRST = Keyset([Key(Comment.created_at, TIMESTAMP), Key(Comment.id, UUID)])


def list_comments(
    ctx: RequestContext, *, ticket_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[Comment], str | None]:
    service.get_visible(ctx, ticket_id)
    # A merged ticket's conversation stays reachable from the ticket it was merged into.
    merged = select(Ticket.id).where(
        Ticket.tenant_id == ctx.tenant_id, Ticket.merged_into_id == ticket_id
    )
    query = select(Comment).where(
        Comment.tenant_id == ctx.tenant_id,
        or_(Comment.ticket_id == ticket_id, Comment.ticket_id.in_(merged)),
        visible_comments(ctx),
    )
    return paginate(ctx.session, query, OLDEST_FIRST, limit=limit, cursor=cursor)


def add(ctx: RequestContext, *, ticket_id: uuid.UUID, data: CommentCreate) -> Comment:
    ticket = service.get_visible(ctx, ticket_id, for_update=True)
    if data.visibility == "internal" and not ctx.can_on(
        Permission.COMMENT_INTERNAL, ticket.team_id
    ):
        raise Forbidden(errors=[field_error("visibility", "internal notes need comment:internal")])
    if not permissions.may_comment(ctx, ticket):
        raise Forbidden("you may not comment on this ticket")
    if ticket.status == states.Status.CANCELLED.value:
        raise Conflict("the ticket was cancelled")
    is_requester = ticket.requester_id == ctx.user_id
    reply_target = states.reply_moves_to(states.Status(ticket.status))
    if is_requester and not ctx.is_staff and data.visibility == "public" and reply_target:
        reopening = ticket.status in states.RESOLVED_STATUSES
        if reopening and reply_target not in service.allowed_transitions(ctx, ticket):
            raise Conflict(
                "this ticket was closed too long ago to reopen; open a new request",
                errors=[field_error("ticket_id", "closed beyond the reopen window")],
            )
        service.apply_status(ctx, ticket, reply_target)
    comment = Comment(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        ticket_id=ticket.id,
        author_id=ctx.user_id,
        visibility=data.visibility,
        body=data.body,
    )
    ctx.session.add(comment)
    now = datetime.now(UTC)
    assigned = None
    if data.visibility == "public":
        by_staff = ctx.is_staff and not is_requester
        if by_staff:
            assigned = service.assign_on_first_reply(ctx, ticket)
            ticket.first_response_at = ticket.first_response_at or now
        service.clock(ctx).replied(ticket, by_staff=by_staff, now=now)
    ticket.updated_at = now
    event_visibility = "internal" if data.visibility == "internal" else "public"
    timeline.event(
        ctx,
        ticket,
        "comment_added",
        visibility=event_visibility,
        payload={"comment_id": comment.id, "visibility": data.visibility},
    )
    service.enroll_staff(ctx, ticket)
    service._notify(
        ctx, ticket, f"comment.{data.visibility}", comment_id=comment.id, visibility=data.visibility
    )
    ctx.session.flush()
    # Last: automation rules run from here (timeline.changed), after the comment is written.
    if assigned is not None:
        timeline.audited(ctx, ticket, "ticket.assigned", **assigned)
    timeline.audited(
        ctx, ticket, "comment.added", comment_id=comment.id, visibility=data.visibility
    )
    ctx.session.refresh(comment)
    return comment


def _own_comment(
    ctx: RequestContext, ticket_id: uuid.UUID, comment_id: uuid.UUID
) -> tuple[Ticket, Comment]:
    ticket = service.get_visible(ctx, ticket_id, for_update=True)
    comment = ctx.session.scalars(
        select(Comment).where(
            Comment.tenant_id == ctx.tenant_id,
            Comment.ticket_id == ticket.id,
            Comment.id == comment_id,
            visible_comments(ctx),
        )
    ).one_or_none()
    if comment is None:
        raise NotFound("no such comment")
    if comment.deleted_at is not None:
        raise Conflict("the comment was deleted")
    return ticket, comment


def editable_until(ctx: RequestContext, comment: Comment, window_minutes: int) -> datetime | None:
    """Until when the caller may edit the comment: its author, within the window."""
    if comment.author_id != ctx.user_id or comment.deleted_at is not None:
        return None
    return comment.created_at + timedelta(minutes=window_minutes)


def may_delete(ctx: RequestContext, comment: Comment) -> bool:
    """Its author, or ``comment:moderate`` (the rule `delete` applies)."""
    if comment.deleted_at is not None:
        return False
    return comment.author_id == ctx.user_id or ctx.can(Permission.COMMENT_MODERATE)


def edit(ctx: RequestContext, *, ticket_id: uuid.UUID, comment_id: uuid.UUID, body: str) -> Comment:
    ticket, comment = _own_comment(ctx, ticket_id, comment_id)
    if comment.author_id != ctx.user_id:
        raise Forbidden("only the author edits a comment")
    window = timedelta(minutes=service.load_settings(ctx).comment_edit_window_minutes)
    if datetime.now(UTC) - comment.created_at > window:
        raise Conflict("the edit window has passed", errors=[field_error("body", "too late")])
    before = comment.body
    comment.body = body
    comment.edited_at = datetime.now(UTC)
    timeline.event(
        ctx,
        ticket,
        "comment_edited",
        visibility="internal" if comment.visibility == "internal" else "public",
        payload={"comment_id": comment.id},
    )
    timeline.audited(
        ctx,
        ticket,
        "comment.edited",
        comment_id=comment.id,
        before={"body": before},
        after={"body": body},
    )
    _changed(ctx, ticket, comment, "comment.edited")
    ctx.session.flush()
    return comment


def delete(ctx: RequestContext, *, ticket_id: uuid.UUID, comment_id: uuid.UUID) -> Comment:
    """Soft delete: the content is erased, a tombstone keeps the conversation's shape."""
    ticket, comment = _own_comment(ctx, ticket_id, comment_id)
    if not may_delete(ctx, comment):
        raise Forbidden("only the author or an admin deletes a comment")
    comment.body = ""
    comment.deleted_at = datetime.now(UTC)
    comment.deleted_by = ctx.user_id
    timeline.event(
        ctx,
        ticket,
        "comment_deleted",
        visibility="internal" if comment.visibility == "internal" else "public",
        payload={"comment_id": comment.id},
    )
    # The audit row records that it happened, not what was said: erasure must erase.
    timeline.audited(ctx, ticket, "comment.deleted", comment_id=comment.id)
    _changed(ctx, ticket, comment, "comment.deleted")
    ctx.session.flush()
    return comment


def _changed(ctx: RequestContext, ticket: Ticket, comment: Comment, event_type: str) -> None:
    """Tell open screens (realtime only: no e-mail, no webhook) that a comment changed.
    Who hears it is decided by the comment's own visibility, as for a new one."""
    service._notify(ctx, ticket, event_type, comment_id=comment.id, visibility=comment.visibility)
