"""Tickets API: thin — parse, call a service, shape the response."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from servicedesk.platform.context import Ctx
from servicedesk.platform.csvexport import export_response, openapi_responses
from servicedesk.platform.endpoints import Once, listing, operation, route, tagged
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.rbac import Permission
from servicedesk.platform.responses import json_response
from servicedesk.platform.settings_routes import add_settings_routes
from servicedesk.platform.versioning import parse_if_match
from servicedesk.sla import service as sla_service
from servicedesk.sla.schemas import TicketSlaPublic
from servicedesk.tickets import bulk, comments, export, links, participants, queries, service
from servicedesk.tickets import settings as ticket_settings
from servicedesk.tickets.filters import TicketExportQuery, TicketListQuery
from servicedesk.tickets.schemas import (
    AssignRequest,
    CommentCreate,
    CommentPublic,
    CommentUpdate,
    EventPublic,
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

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])
invitations_router = APIRouter(prefix="/v1/ticket-invitations", tags=["tickets"])


def _public(ctx: Ctx, ticket: Any, counts: dict[uuid.UUID, int] | None = None) -> TicketPublic:
    """The ticket as the caller sees it, with the statuses the caller may move it to and
    (staff, a problem) its incident count (``counts``: computed for a whole page)."""
    public = TicketPublic.model_validate(ticket)
    public.allowed_transitions = sorted(service.allowed_transitions(ctx, ticket))
    if counts is None:
        counts = service.incident_counts(ctx, [ticket])
    public.incident_count = counts.get(ticket.id)
    return public


def _page(ctx: Ctx, rows: list[Any], nxt: str | None) -> Page[TicketPublic]:
    counts = service.incident_counts(ctx, rows)
    return Page[TicketPublic](items=[_public(ctx, t, counts) for t in rows], next_cursor=nxt)


def _shaped(ctx: Ctx, ticket: Any, response: Response) -> TicketPublic:
    """One ticket's answer: ``_public`` and, for staff on a resolved or closed ticket, when
    its delayed CSAT survey will be mailed (``csat_survey_scheduled_for``)."""
    public = _public(ctx, ticket)
    if ctx.is_staff and public.status in ("resolved", "closed"):
        public.csat_survey_scheduled_for = service.survey_scheduled_for(ctx, public.id)
    return tagged(response, public)


# Served here, documented with the SLA: the SLA package cannot check a ticket's visibility
# without importing tickets, which import the SLA clock.
sla_router = APIRouter(prefix="/v1/tickets", tags=["sla"])


@route(
    sla_router.get,
    "/{ticket_id}/sla",
    Permission.TICKET_READ,
    "The ticket's SLA targets, clocks and pauses",
)
def ticket_sla(ticket_id: uuid.UUID, ctx: Ctx) -> TicketSlaPublic:
    ticket = service.get_visible(ctx, ticket_id)
    return sla_service.ticket_sla(ctx, ticket.id)


@route(router.post, "", Permission.TICKET_CREATE, "Open a ticket", status_code=201)
def create_ticket(body: TicketCreate, ctx: Ctx, once: Once) -> TicketPublic:
    return once(
        body,
        lambda: _public(ctx, service.create(ctx, data=body)),
    )


@route(
    router.get,
    "",
    Permission.TICKET_READ,
    "List and search the tickets the caller may see",
    response_model=Page[TicketPublic],
)
def list_tickets(
    ctx: Ctx, response: Response, query: Annotated[TicketListQuery, Query()]
) -> Response:
    rows, nxt = queries.list_tickets(
        ctx, filters=query.filters(), sort=query.sort, limit=query.limit, cursor=query.cursor
    )
    return json_response(_page(ctx, list(rows), nxt), response)


@route(
    router.get,
    "/{ticket_id}/incidents",
    Permission.TICKET_READ,
    "A problem's incidents (problem_of links) the caller may see, newest first",
    response_model=Page[TicketPublic],
)
def list_incidents(
    ticket_id: uuid.UUID,
    ctx: Ctx,
    response: Response,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Response:
    problem = service.get_visible(ctx, ticket_id)
    filters = queries.TicketFilters(problem_id=problem.id)
    rows, nxt = queries.list_tickets(
        ctx, filters=filters, sort="-created_at", limit=limit, cursor=cursor
    )
    return json_response(_page(ctx, list(rows), nxt), response)


@route(
    router.get,
    "/export",
    Permission.TICKET_EXPORT,
    "Export the ticket list (same filters and visibility) as CSV or JSON, streamed",
    responses=openapi_responses(
        "The tickets; CSV with a header row, or {items: [...]}", export.COLUMNS
    ),
)
def export_tickets(ctx: Ctx, query: Annotated[TicketExportQuery, Query()]) -> Response:
    filters = query.filters()
    export.check_size(ctx, filters)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return export_response(
        query.format, f"tickets-{stamp}", export.COLUMNS, export.rows(ctx, filters, query.sort)
    )


@route(
    router.get,
    "/{ticket_id}",
    Permission.TICKET_READ,
    "Get a ticket",
    ticket_scope=True,
    response_model=TicketPublic,
)
def get_ticket(ticket_id: uuid.UUID, ctx: Ctx, response: Response) -> Response:
    return json_response(_shaped(ctx, service.get_visible(ctx, ticket_id), response), response)


@route(
    router.patch,
    "/{ticket_id}",
    Permission.TICKET_UPDATE,
    "Edit a ticket (needs If-Match or version)",
)
def update_ticket(
    ticket_id: uuid.UUID, body: TicketUpdate, ctx: Ctx, response: Response, if_match: IfMatch = None
) -> TicketPublic:
    ticket = service.update(ctx, ticket_id=ticket_id, data=body, if_match=parse_if_match(if_match))
    return _shaped(ctx, ticket, response)


@route(
    router.post,
    "/{ticket_id}/transitions",
    Permission.TICKET_UPDATE,
    "Move a ticket to another status (409 lists the allowed ones)",
)
def transition_ticket(
    ticket_id: uuid.UUID,
    body: TransitionRequest,
    ctx: Ctx,
    response: Response,
    once: Once,
    if_match: IfMatch = None,
) -> TicketPublic:
    version = body.version if body.version is not None else parse_if_match(if_match)
    return once(
        body,
        lambda: _shaped(
            ctx,
            service.transition(
                ctx,
                ticket_id=ticket_id,
                to=body.to,
                version=version,
                resolve_incidents=bool(body.resolve_incidents),
            ),
            response,
        ),
        status=200,
    )


@route(
    router.post,
    "/{ticket_id}/assign",
    Permission.TICKET_ASSIGN,
    "Assign a ticket to an agent and/or team",
)
def assign_ticket(
    ticket_id: uuid.UUID, body: AssignRequest, ctx: Ctx, response: Response, once: Once
) -> TicketPublic:
    return once(
        body,
        lambda: _shaped(ctx, service.assign(ctx, ticket_id=ticket_id, data=body), response),
        status=200,
    )


listing(
    router,
    "/{ticket_id}/events",
    Permission.TICKET_READ,
    "The ticket's timeline, as far as the caller may see it",
    EventPublic,
    queries.list_events,
)


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


@route(
    router.get,
    "/{ticket_id}/comments",
    Permission.TICKET_READ,
    "The conversation (internal notes for staff only)",
    ticket_scope=True,
)
def list_comments(
    ticket_id: uuid.UUID, ctx: Ctx, limit: Limit = 50, cursor: Cursor = None
) -> Page[CommentPublic]:
    rows, nxt = comments.list_comments(ctx, ticket_id=ticket_id, limit=limit, cursor=cursor)
    return Page(items=_comments_public(ctx, rows), next_cursor=nxt)


@route(
    router.post,
    "/{ticket_id}/comments",
    Permission.COMMENT_CREATE,
    "Reply (public) or add an internal note (staff)",
    status_code=201,
    ticket_scope=True,
)
def add_comment(ticket_id: uuid.UUID, body: CommentCreate, ctx: Ctx, once: Once) -> CommentPublic:
    return once(
        body,
        lambda: _comments_public(ctx, [comments.add(ctx, ticket_id=ticket_id, data=body)])[0],
    )


@route(
    router.patch,
    "/{ticket_id}/comments/{comment_id}",
    Permission.COMMENT_CREATE,
    "Edit your comment within the edit window",
)
def edit_comment(
    ticket_id: uuid.UUID, comment_id: uuid.UUID, body: CommentUpdate, ctx: Ctx
) -> CommentPublic:
    comment = comments.edit(ctx, ticket_id=ticket_id, comment_id=comment_id, body=body.body)
    return _comments_public(ctx, [comment])[0]


@route(
    router.delete,
    "/{ticket_id}/comments/{comment_id}",
    Permission.COMMENT_CREATE,
    "Delete a comment (its content is erased; a tombstone remains)",
)
def delete_comment(ticket_id: uuid.UUID, comment_id: uuid.UUID, ctx: Ctx) -> CommentPublic:
    comment = comments.delete(ctx, ticket_id=ticket_id, comment_id=comment_id)
    return _comments_public(ctx, [comment])[0]


operation(
    router.get,
    "/{ticket_id}/participants",
    Permission.TICKET_READ,
    "Requester, assignee, CCs and participants",
    participants.list_participants,
    public=ParticipantPublic,
    many=True,
)


operation(
    router.post,
    "/{ticket_id}/participants",
    Permission.TICKET_PARTICIPANTS,
    "Add a CC or participant directly (staff)",
    participants.add,
    public=ParticipantPublic,
    body=ParticipantAdd,
    name="add_participant",
)


operation(
    router.delete,
    "/{ticket_id}/participants/{user_id}",
    Permission.TICKET_INVITE,
    "Remove a participant (staff), or leave a ticket yourself",
    participants.remove,
    name="remove_participant",
)


operation(
    router.get,
    "/{ticket_id}/invitations",
    Permission.TICKET_READ,
    "Invitations to take part in the ticket",
    participants.list_invitations,
    public=TicketInvitationPublic,
    many=True,
    name="list_ticket_invitations",
)


operation(
    router.post,
    "/{ticket_id}/invitations",
    Permission.TICKET_INVITE,
    "Invite a member of the tenant to take part",
    participants.invite,
    public=TicketInvitationPublic,
    body=TicketInvitationCreate,
    name="create_ticket_invitation",
)


@route(
    router.post,
    "/{ticket_id}/invitations/{invitation_id}/{action}",
    Permission.TICKET_INVITE,
    "Accept or decline (invitee), or cancel (inviter or staff)",
)
def respond_ticket_invitation(
    ticket_id: uuid.UUID,
    invitation_id: uuid.UUID,
    action: Literal["accept", "decline", "cancel"],
    ctx: Ctx,
    once: Once,
) -> TicketInvitationPublic:
    return once(
        None,
        lambda: TicketInvitationPublic.model_validate(
            participants.respond(
                ctx, ticket_id=ticket_id, invitation_id=invitation_id, action=action
            )
        ),
        status=200,
    )


operation(
    invitations_router.get,
    "",
    Permission.TICKET_INVITE,
    "The caller's pending invitations to tickets",
    participants.my_invitations,
    public=TicketInvitationPublic,
    many=True,
    name="my_ticket_invitations",
)


operation(
    router.get,
    "/{ticket_id}/links",
    Permission.TICKET_READ,
    "Links to other tickets the caller may see",
    links.list_links,
    public=LinkPublic,
    many=True,
)


operation(
    router.post,
    "/{ticket_id}/links",
    Permission.TICKET_LINK,
    "Link to another ticket (parent/child links never form a cycle)",
    links.link,
    public=LinkPublic,
    body=LinkCreate,
    name="create_link",
)


operation(
    router.delete,
    "/{ticket_id}/links/{link_id}",
    Permission.TICKET_LINK,
    "Remove a link",
    links.unlink,
    name="delete_link",
)


@route(
    router.post,
    "/{ticket_id}/merge",
    Permission.TICKET_MERGE,
    "Merge this ticket into another (this one closes with a pointer)",
)
def merge_ticket(
    ticket_id: uuid.UUID, body: MergeRequest, ctx: Ctx, response: Response, once: Once
) -> TicketPublic:
    return once(
        body,
        lambda: _shaped(
            ctx, links.merge(ctx, ticket_id=ticket_id, target_id=body.target_id), response
        ),
        status=200,
    )


@route(
    router.post,
    "/bulk",
    Permission.TICKET_BULK,
    f"One action (assign, status, add or remove tags, merge) over up to {bulk.MAX_TICKETS}"
    " tickets; per-row results, each row whole or not at all",
)
def bulk_tickets(body: bulk.BulkRequest, ctx: Ctx, once: Once) -> bulk.BulkResult:
    return once(body, lambda: bulk.run(ctx, body), status=200)


settings_router = APIRouter(prefix="/v1/settings", tags=["settings"])


add_settings_routes(settings_router, ticket_settings.SECTION, check=service.check_settings)
