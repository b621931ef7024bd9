"""Tickets API: thin — parse, call a service, shape the response."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from servicedesk.platform import idempotency
from servicedesk.platform.context import Ctx
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.rbac import Role, requires
from servicedesk.platform.responses import json_response
from servicedesk.platform.settings_routes import add_settings_routes
from servicedesk.platform.versioning import parse_if_match
from servicedesk.sla import service as sla_service
from servicedesk.sla.schemas import TicketSlaPublic
from servicedesk.tickets import comments, links, participants, queries, service
from servicedesk.tickets import settings as ticket_settings
from servicedesk.tickets.schemas import (
    AssignRequest,
    CommentCreate,
    CommentPublic,
    CommentUpdate,
    EventPublic,
    Level,
    LinkCreate,
    LinkPublic,
    MergeRequest,
    ParticipantAdd,
    ParticipantPublic,
    TicketCreate,
    TicketInvitationCreate,
    TicketInvitationPublic,
    TicketPublic,
    TicketUpdate,
    TransitionRequest,
)
from servicedesk.tickets.states import Status

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])
invitations_router = APIRouter(prefix="/v1/ticket-invitations", tags=["tickets"])
Sort = Literal[
    "-created_at", "created_at", "-updated_at", "updated_at", "-priority", "priority", "sla_due"
]


def _public(ctx: Ctx, ticket: Any) -> TicketPublic:
    """The ticket as the caller sees it, with the statuses the caller may move it to."""
    public = TicketPublic.model_validate(ticket)
    public.allowed_transitions = sorted(service.allowed_transitions(ctx, ticket))
    return public


def _shaped(ctx: Ctx, ticket: Any, response: Response) -> TicketPublic:
    public = _public(ctx, ticket)
    response.headers["ETag"] = f'"{public.version}"'
    return public


# Served here, documented with the SLA: the SLA package cannot check a ticket's visibility
# without importing tickets, which import the SLA clock.
sla_router = APIRouter(prefix="/v1/tickets", tags=["sla"])


@sla_router.get(
    "/{ticket_id}/sla",
    dependencies=[requires(Role.REQUESTER)],
    summary="The ticket's SLA targets, clocks and pauses",
)
def ticket_sla(ticket_id: uuid.UUID, ctx: Ctx) -> TicketSlaPublic:
    ticket = service.get_visible(ctx, ticket_id)
    return sla_service.ticket_sla(ctx, ticket.id)


@router.post(
    "",
    status_code=201,
    dependencies=[requires(Role.REQUESTER)],
    summary="Open a ticket",
    response_model=TicketPublic,
)
def create_ticket(
    body: TicketCreate, request: Request, ctx: Ctx, key: idempotency.IdempotencyKey = None
) -> TicketPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: _public(ctx, service.create(ctx, data=body)),
    )


@router.get(
    "",
    dependencies=[requires(Role.REQUESTER)],
    summary="List and search the tickets the caller may see",
    response_model=Page[TicketPublic],
)
def list_tickets(
    ctx: Ctx,
    response: Response,
    limit: Limit = 25,
    cursor: Cursor = None,
    sort: Sort = "-created_at",
    status: Annotated[list[Status] | None, Query(max_length=7)] = None,
    priority: Annotated[list[Level] | None, Query(max_length=4)] = None,
    assignee: Annotated[str | None, Query(max_length=36, description="user id, me or none")] = None,
    team_id: uuid.UUID | None = None,
    requester_id: uuid.UUID | None = None,
    category_id: uuid.UUID | None = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    updated_after: datetime | None = None,
    updated_before: datetime | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Search")] = None,
    sla: Annotated[
        list[Literal["breached", "at_risk"]] | None,
        Query(
            max_length=2,
            description="Open SLA targets past due (breached), or past their first warning"
            " (at_risk); both: either",
        ),
    ] = None,
) -> Response:
    filters = queries.TicketFilters(
        status=[s.value for s in status or []],
        priority=list(priority or []),
        assignee=assignee,
        team_id=team_id,
        requester_id=requester_id,
        category_id=category_id,
        tag=tag,
        created_after=created_after,
        created_before=created_before,
        updated_after=updated_after,
        updated_before=updated_before,
        q=q,
        sla=list(sla or []),
    )
    rows, nxt = queries.list_tickets(ctx, filters=filters, sort=sort, limit=limit, cursor=cursor)
    page = Page[TicketPublic](items=[_public(ctx, t) for t in rows], next_cursor=nxt)
    return json_response(page, response)


@router.get(
    "/{ticket_id}",
    dependencies=[requires(Role.REQUESTER, ticket_scope=True)],
    summary="Get a ticket",
    response_model=TicketPublic,
)
def get_ticket(ticket_id: uuid.UUID, ctx: Ctx, response: Response) -> Response:
    return json_response(_shaped(ctx, service.get_visible(ctx, ticket_id), response), response)


@router.patch(
    "/{ticket_id}",
    dependencies=[requires(Role.REQUESTER)],
    summary="Edit a ticket (needs If-Match or version)",
)
def update_ticket(
    ticket_id: uuid.UUID,
    body: TicketUpdate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> TicketPublic:
    ticket = service.update(ctx, ticket_id=ticket_id, data=body, if_match=parse_if_match(if_match))
    return _shaped(ctx, ticket, response)


@router.post(
    "/{ticket_id}/transitions",
    dependencies=[requires(Role.REQUESTER)],
    summary="Move a ticket to another status (409 lists the allowed ones)",
    response_model=TicketPublic,
)
def transition_ticket(
    ticket_id: uuid.UUID,
    body: TransitionRequest,
    request: Request,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
    key: idempotency.IdempotencyKey = None,
) -> TicketPublic:
    version = body.version if body.version is not None else parse_if_match(if_match)
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: _shaped(
            ctx, service.transition(ctx, ticket_id=ticket_id, to=body.to, version=version), response
        ),
        status=200,
    )


@router.post(
    "/{ticket_id}/assign",
    dependencies=[requires(Role.AGENT)],
    summary="Assign a ticket to an agent and/or team",
    response_model=TicketPublic,
)
def assign_ticket(
    ticket_id: uuid.UUID,
    body: AssignRequest,
    request: Request,
    ctx: Ctx,
    response: Response,
    key: idempotency.IdempotencyKey = None,
) -> TicketPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: _shaped(ctx, service.assign(ctx, ticket_id=ticket_id, data=body), response),
        status=200,
    )


@router.get(
    "/{ticket_id}/events",
    dependencies=[requires(Role.REQUESTER)],
    summary="The ticket's timeline, as far as the caller may see it",
)
def list_events(
    ticket_id: uuid.UUID, ctx: Ctx, limit: Limit = 50, cursor: Cursor = None
) -> Page[EventPublic]:
    rows, nxt = queries.list_events(ctx, ticket_id=ticket_id, limit=limit, cursor=cursor)
    return Page(items=[EventPublic.model_validate(e) for e in rows], next_cursor=nxt)


def _comments_public(ctx: Ctx, rows: list[Any]) -> list[CommentPublic]:
    """Comments with what the caller may do to each (edit until when, delete)."""
    window = service.load_settings(ctx).comment_edit_window_minutes
    return [
        CommentPublic.model_validate(c).model_copy(
            update={
                "editable_until": comments.editable_until(ctx, c, window),
                "can_delete": comments.may_delete(ctx, c),
            }
        )
        for c in rows
    ]


@router.get(
    "/{ticket_id}/comments",
    dependencies=[requires(Role.REQUESTER, ticket_scope=True)],
    summary="The conversation (internal notes for staff only)",
)
def list_comments(
    ticket_id: uuid.UUID, ctx: Ctx, limit: Limit = 50, cursor: Cursor = None
) -> Page[CommentPublic]:
    rows, nxt = comments.list_comments(ctx, ticket_id=ticket_id, limit=limit, cursor=cursor)
    return Page(items=_comments_public(ctx, rows), next_cursor=nxt)


@router.post(
    "/{ticket_id}/comments",
    status_code=201,
    dependencies=[requires(Role.REQUESTER, ticket_scope=True)],
    summary="Reply (public) or add an internal note (staff)",
    response_model=CommentPublic,
)
def add_comment(
    ticket_id: uuid.UUID,
    body: CommentCreate,
    request: Request,
    ctx: Ctx,
    key: idempotency.IdempotencyKey = None,
) -> CommentPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: _comments_public(ctx, [comments.add(ctx, ticket_id=ticket_id, data=body)])[0],
    )


@router.patch(
    "/{ticket_id}/comments/{comment_id}",
    dependencies=[requires(Role.REQUESTER)],
    summary="Edit your comment within the edit window",
)
def edit_comment(
    ticket_id: uuid.UUID, comment_id: uuid.UUID, body: CommentUpdate, ctx: Ctx
) -> CommentPublic:
    comment = comments.edit(ctx, ticket_id=ticket_id, comment_id=comment_id, body=body.body)
    return _comments_public(ctx, [comment])[0]


@router.delete(
    "/{ticket_id}/comments/{comment_id}",
    dependencies=[requires(Role.REQUESTER)],
    summary="Delete a comment (its content is erased; a tombstone remains)",
)
def delete_comment(ticket_id: uuid.UUID, comment_id: uuid.UUID, ctx: Ctx) -> CommentPublic:
    comment = comments.delete(ctx, ticket_id=ticket_id, comment_id=comment_id)
    return _comments_public(ctx, [comment])[0]


@router.get(
    "/{ticket_id}/participants",
    dependencies=[requires(Role.REQUESTER)],
    summary="Requester, assignee, CCs and participants",
)
def list_participants(ticket_id: uuid.UUID, ctx: Ctx) -> list[ParticipantPublic]:
    views = participants.list_participants(ctx, ticket_id=ticket_id)
    return [ParticipantPublic.model_validate(v) for v in views]


@router.post(
    "/{ticket_id}/participants",
    status_code=201,
    dependencies=[requires(Role.AGENT)],
    summary="Add a CC or participant directly (staff)",
    response_model=ParticipantPublic,
)
def add_participant(
    ticket_id: uuid.UUID,
    body: ParticipantAdd,
    request: Request,
    ctx: Ctx,
    key: idempotency.IdempotencyKey = None,
) -> ParticipantPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: ParticipantPublic.model_validate(
            participants.add(
                ctx,
                ticket_id=ticket_id,
                user_id=body.user_id,
                kind=body.kind,
                can_comment=body.can_comment,
                can_edit=body.can_edit,
            )
        ),
    )


@router.delete(
    "/{ticket_id}/participants/{user_id}",
    status_code=204,
    dependencies=[requires(Role.REQUESTER)],
    summary="Remove a participant (staff), or leave a ticket yourself",
)
def remove_participant(ticket_id: uuid.UUID, user_id: uuid.UUID, ctx: Ctx) -> Response:
    participants.remove(ctx, ticket_id=ticket_id, user_id=user_id)
    return Response(status_code=204)


@router.get(
    "/{ticket_id}/invitations",
    dependencies=[requires(Role.REQUESTER)],
    summary="Invitations to take part in the ticket",
)
def list_ticket_invitations(ticket_id: uuid.UUID, ctx: Ctx) -> list[TicketInvitationPublic]:
    rows = participants.list_invitations(ctx, ticket_id=ticket_id)
    return [TicketInvitationPublic.model_validate(r) for r in rows]


@router.post(
    "/{ticket_id}/invitations",
    status_code=201,
    dependencies=[requires(Role.REQUESTER)],
    summary="Invite a member of the tenant to take part",
    response_model=TicketInvitationPublic,
)
def create_ticket_invitation(
    ticket_id: uuid.UUID,
    body: TicketInvitationCreate,
    request: Request,
    ctx: Ctx,
    key: idempotency.IdempotencyKey = None,
) -> TicketInvitationPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: TicketInvitationPublic.model_validate(
            participants.invite(
                ctx,
                ticket_id=ticket_id,
                user_id=body.user_id,
                can_comment=body.can_comment,
                can_edit=body.can_edit,
            )
        ),
    )


@router.post(
    "/{ticket_id}/invitations/{invitation_id}/{action}",
    dependencies=[requires(Role.REQUESTER)],
    summary="Accept or decline (invitee), or cancel (inviter or staff)",
    response_model=TicketInvitationPublic,
)
def respond_ticket_invitation(
    ticket_id: uuid.UUID,
    invitation_id: uuid.UUID,
    action: Literal["accept", "decline", "cancel"],
    request: Request,
    ctx: Ctx,
    key: idempotency.IdempotencyKey = None,
) -> TicketInvitationPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        None,
        lambda: TicketInvitationPublic.model_validate(
            participants.respond(
                ctx, ticket_id=ticket_id, invitation_id=invitation_id, action=action
            )
        ),
        status=200,
    )


@invitations_router.get(
    "",
    dependencies=[requires(Role.REQUESTER)],
    summary="The caller's pending invitations to tickets",
)
def my_ticket_invitations(ctx: Ctx) -> list[TicketInvitationPublic]:
    return [TicketInvitationPublic.model_validate(r) for r in participants.my_invitations(ctx)]


@router.get(
    "/{ticket_id}/links",
    dependencies=[requires(Role.REQUESTER)],
    summary="Links to other tickets the caller may see",
)
def list_links(ticket_id: uuid.UUID, ctx: Ctx) -> list[LinkPublic]:
    return [LinkPublic.model_validate(x) for x in links.list_links(ctx, ticket_id=ticket_id)]


@router.post(
    "/{ticket_id}/links",
    status_code=201,
    dependencies=[requires(Role.AGENT)],
    summary="Link to another ticket (parent/child links never form a cycle)",
    response_model=LinkPublic,
)
def create_link(
    ticket_id: uuid.UUID,
    body: LinkCreate,
    request: Request,
    ctx: Ctx,
    key: idempotency.IdempotencyKey = None,
) -> LinkPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: LinkPublic.model_validate(
            links.link(ctx, ticket_id=ticket_id, target_id=body.target_id, kind=body.kind)
        ),
    )


@router.delete(
    "/{ticket_id}/links/{link_id}",
    status_code=204,
    dependencies=[requires(Role.AGENT)],
    summary="Remove a link",
)
def delete_link(ticket_id: uuid.UUID, link_id: uuid.UUID, ctx: Ctx) -> Response:
    links.unlink(ctx, ticket_id=ticket_id, link_id=link_id)
    return Response(status_code=204)


@router.post(
    "/{ticket_id}/merge",
    dependencies=[requires(Role.AGENT)],
    summary="Merge this ticket into another (this one closes with a pointer)",
    response_model=TicketPublic,
)
def merge_ticket(
    ticket_id: uuid.UUID,
    body: MergeRequest,
    request: Request,
    ctx: Ctx,
    response: Response,
    key: idempotency.IdempotencyKey = None,
) -> TicketPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: _shaped(
            ctx, links.merge(ctx, ticket_id=ticket_id, target_id=body.target_id), response
        ),
        status=200,
    )


settings_router = APIRouter(prefix="/v1/settings", tags=["settings"])


add_settings_routes(settings_router, ticket_settings.SECTION, check=service.check_settings)
