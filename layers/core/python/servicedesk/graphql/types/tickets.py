"""Ticket, Comment, TimelineEvent and SlaTarget, with their Relay-style connections.

A ticket's relations resolve through the request's loaders (one statement per relation
for a whole page); a nested page with ``after`` reads through the REST route's own list
(``comments.list_comments``, ``queries.list_events``), and so do attachments.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.scalars import JSON

from servicedesk.attachments import service as attachments
from servicedesk.graphql.context import Info, field_with
from servicedesk.graphql.limits import page_size
from servicedesk.graphql.types.catalogue import Attachment
from servicedesk.graphql.types.people import Category, Team, User
from servicedesk.tickets import comments as ticket_comments
from servicedesk.tickets import queries
from servicedesk.tickets import service as ticket_service
from servicedesk.tickets.models import Comment as CommentRow
from servicedesk.tickets.models import Ticket as TicketRow

N = TypeVar("N")


@strawberry.type(
    description="Relay page info; endCursor continues the list (keyset, as REST's next_cursor)"
)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A node and, on a page's last edge, the cursor to continue after")
class Edge(Generic[N]):
    node: N
    cursor: str | None


@strawberry.type(description="One keyset page (Relay-style; named <Node>Connection)")
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo


def connection(nodes: list[N], end_cursor: str | None) -> Connection[N]:
    """A page of nodes; the keyset cursor (the REST list's next_cursor) on its last edge."""
    edges = [Edge(node=node, cursor=None) for node in nodes]
    if edges:
        edges[-1].cursor = end_cursor
    return Connection(
        edges=edges, page_info=PageInfo(has_next_page=end_cursor is not None, end_cursor=end_cursor)
    )


@strawberry.type
class Comment:
    id: strawberry.ID
    ticket_id: strawberry.ID
    visibility: str
    body: str
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    author_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: CommentRow) -> Comment:
        return cls(
            id=strawberry.ID(str(row.id)),
            ticket_id=strawberry.ID(str(row.ticket_id)),
            visibility=row.visibility,
            body=row.body,
            created_at=row.created_at,
            edited_at=row.edited_at,
            deleted_at=row.deleted_at,
            author_id=row.author_id,
        )

    @strawberry.field
    async def author(self, info: Info) -> User:
        return User.of(await info.context.loaders.people.load(self.author_id))


@strawberry.type(description="An SLA target's clock on a ticket (as GET /v1/tickets/{id}/sla)")
class SlaTarget:
    target: str
    cycle: int
    budget_seconds: int
    elapsed_seconds: int
    due_at: datetime | None
    paused_since: datetime | None
    met_at: datetime | None
    breached_at: datetime | None


@strawberry.type
class TimelineEvent:
    id: strawberry.ID
    type: str
    actor_id: strawberry.ID | None
    visibility: str
    payload: JSON
    created_at: datetime


@strawberry.type
class Ticket:
    id: strawberry.ID
    number: str
    title: str
    description: str
    status: str
    priority: str
    impact: str | None
    urgency: str | None
    type: str
    channel: str
    tags: list[str]
    custom_fields: JSON
    version: int
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla_due_at: datetime | None
    merged_into_id: strawberry.ID | None
    row: strawberry.Private[TicketRow]

    @classmethod
    def of(cls, row: TicketRow) -> Ticket:
        return cls(
            id=strawberry.ID(str(row.id)),
            number=row.number,
            title=row.title,
            description=row.description,
            status=row.status,
            priority=row.priority,
            impact=row.impact,
            urgency=row.urgency,
            type=row.type,
            channel=row.channel,
            tags=list(row.tags or []),
            custom_fields=JSON(dict(row.custom_fields or {})),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            first_response_at=row.first_response_at,
            resolved_at=row.resolved_at,
            closed_at=row.closed_at,
            sla_due_at=row.sla_due_at,
            merged_into_id=strawberry.ID(str(row.merged_into_id)) if row.merged_into_id else None,
            row=row,
        )

    @field_with("The statuses the caller may move this ticket to now (changeTicketStatus)")
    def allowed_transitions(self, info: Info) -> list[str]:
        return sorted(ticket_service.allowed_transitions(info.context.ctx, self.row))

    @strawberry.field
    async def requester(self, info: Info) -> User:
        return User.of(await info.context.loaders.people.load(self.row.requester_id))

    @strawberry.field
    async def assignee(self, info: Info) -> User | None:
        if self.row.assignee_id is None:
            return None
        return User.of(await info.context.loaders.people.load(self.row.assignee_id))

    @strawberry.field
    async def team(self, info: Info) -> Team | None:
        if self.row.team_id is None:
            return None
        named = await info.context.loaders.teams.load(self.row.team_id)
        return Team.of(named) if named else None

    @strawberry.field
    async def category(self, info: Info) -> Category | None:
        if self.row.category_id is None:
            return None
        named = await info.context.loaders.categories.load(self.row.category_id)
        return Category.of(named) if named else None

    @field_with("The conversation, oldest first (internal notes for comment:internal)")
    async def comments(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Comment]:
        first = page_size(first)
        ctx = info.context.ctx
        if after is not None:
            rows, nxt = ticket_comments.list_comments(
                ctx, ticket_id=self.row.id, limit=first, cursor=after
            )
            return connection([Comment.of(row) for row in rows], nxt)
        page = await info.context.loaders.comments(first).load(self.row.id)
        end = ticket_comments.OLDEST_FIRST.encode(page.rows[-1]) if page.has_more else None
        return connection([Comment.of(row) for row in page.rows], end)

    @field_with("SLA targets and their clocks")
    async def sla_targets(self, info: Info) -> list[SlaTarget]:
        rows = await info.context.loaders.sla_targets.load(self.row.id)
        return [
            SlaTarget(
                target=r.target,
                cycle=r.cycle,
                budget_seconds=r.budget_seconds,
                elapsed_seconds=r.elapsed_seconds,
                due_at=r.due_at,
                paused_since=r.paused_since,
                met_at=r.met_at,
                breached_at=r.breached_at,
            )
            for r in rows
        ]

    @field_with(
        "The ticket's files the caller may see (REST's attachments list: one statement per"
        " ticket, so the cost limit weighs it per ticket)"
    )
    def attachments(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Attachment]:
        rows, nxt = attachments.list_for_ticket(
            info.context.ctx, ticket_id=self.row.id, limit=page_size(first), cursor=after
        )
        return connection([Attachment.of(row) for row in rows], nxt)

    @field_with("The timeline as far as the caller may see it (GET /v1/tickets/{id}/events)")
    async def timeline(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[TimelineEvent]:
        first = page_size(first)
        ctx = info.context.ctx
        if after is not None:
            rows, nxt = queries.list_events(ctx, ticket_id=self.row.id, limit=first, cursor=after)
            return connection([_event(view) for view in rows], nxt)
        page = await info.context.loaders.events(first).load(self.row.id)
        end = queries.EVENTS_IN_ORDER.encode(page.rows[-1]) if page.has_more else None
        return connection([_event(view) for view in page.rows], end)


def _event(view: Any) -> TimelineEvent:
    return TimelineEvent(
        id=strawberry.ID(str(view.id)),
        type=view.type,
        actor_id=strawberry.ID(str(view.actor_id)) if view.actor_id else None,
        visibility=view.visibility,
        payload=view.payload,
        created_at=view.created_at,
    )
