"""The schema: queries and mutations over the REST routes' own service functions.

Each resolver checks the permission its REST route declares (``GraphContext.require``) and
calls what that route calls, with the same visibility rule (invariant 3) inside the same
tenant transaction (invariant 2): GraphQL never sees more than REST. Mutations take an
``idempotencyKey`` (``platform.idempotency.once``, as the POSTs' header) and the versions
the REST bodies take.
"""

from __future__ import annotations

import functools
import uuid
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from pydantic import Field
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.scalars import JSON

from servicedesk.audit import service as audit
from servicedesk.audit.schemas import AuditQuery
from servicedesk.cmdb import service as cmdb
from servicedesk.cmdb.schemas import State as CIState
from servicedesk.graphql.context import Info, field_with, mutation_with
from servicedesk.graphql.inputs import once, parsed, plain, uuid_of
from servicedesk.graphql.limits import DEFAULT_FIRST, cost_limit, page_size
from servicedesk.graphql.projects import ProjectMutation
from servicedesk.graphql.subscriptions import (
    MAX_ALIASES,
    MAX_TOKENS,
    Subscription,
    visible_comment,
)
from servicedesk.graphql.types.audit import AuditEvent
from servicedesk.graphql.types.catalogue import Article, ConfigurationItem
from servicedesk.graphql.types.people import User
from servicedesk.graphql.types.projects import Project
from servicedesk.graphql.types.tickets import Comment, Connection, Ticket, connection
from servicedesk.kb import service as kb
from servicedesk.kb.schemas import Audience
from servicedesk.kb.schemas import State as ArticleState
from servicedesk.platform.config import get_settings
from servicedesk.platform.errors import (
    ValidationProblem,
    field_error,
)
from servicedesk.platform.permissions import Permission
from servicedesk.platform.schemas import Input
from servicedesk.projects import projects
from servicedesk.projects.schemas import ProjectStatus
from servicedesk.tickets import comments, queries, service
from servicedesk.tickets.filters import TicketListQuery
from servicedesk.tickets.schemas import (
    AssignRequest,
    CommentCreate,
    TicketCreate,
    TransitionRequest,
)


@strawberry.input
class CreateTicketInput:
    title: str
    description: str = ""
    priority: str | None = None
    impact: str | None = None
    urgency: str | None = None
    category_id: strawberry.ID | None = None
    type: str | None = None
    requester_id: strawberry.ID | None = None
    team_id: strawberry.ID | None = None
    assignee_id: strawberry.ID | None = None
    tags: list[str] | None = None
    custom_fields: JSON | None = None
    notify_requester: bool | None = None


@strawberry.type
class Query:
    @field_with("The caller")
    async def me(self, info: Info) -> User:
        ctx = info.context.require(Permission.DESK_ACCESS)
        return User.of(await info.context.loaders.people.load(ctx.user_id))

    @field_with(
        "The tickets the caller may see: GET /v1/tickets's filters (its query"
        " names, as a JSON object: 422 naming an unknown one), sort and keyset page"
    )
    def tickets(
        self,
        info: Info,
        filter: JSON | None = None,
        sort: str = "-created_at",
        first: int = DEFAULT_FIRST,
        after: str | None = None,
    ) -> Connection[Ticket]:
        ctx = info.context.require(Permission.TICKET_READ)
        if filter is not None and not isinstance(filter, dict):
            raise ValidationProblem(errors=[field_error("filter", "must be an object")])
        query: TicketListQuery = parsed(
            TicketListQuery,
            {**(filter or {}), "sort": sort, "limit": page_size(first), "cursor": after},
        )
        rows, nxt = queries.list_tickets(
            ctx, filters=query.filters(), sort=query.sort, limit=query.limit, cursor=query.cursor
        )
        return connection([Ticket.of(row) for row in rows], nxt)

    @field_with("One ticket (an error with status 404 if the caller may not see it)")
    def ticket(self, info: Info, id: strawberry.ID) -> Ticket | None:
        ctx = info.context.require(Permission.TICKET_READ)
        return Ticket.of(service.get_visible(ctx, uuid_of(id, "id")))

    @field_with("Knowledge base articles the caller may read (GET /v1/kb/articles's filters)")
    def articles(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        state: list[str] | None = None,
        category_id: strawberry.ID | None = None,
        tag: str | None = None,
        audience: str | None = None,
    ) -> Connection[Article]:
        ctx = info.context.require(Permission.KB_READ)
        query: ArticleQuery = parsed(
            ArticleQuery,
            {"state": state or [], "category_id": category_id, "tag": tag, "audience": audience},
        )
        rows, nxt = kb.list_articles(
            ctx,
            filters=kb.ArticleFilters(**query.model_dump()),
            limit=page_size(first),
            cursor=after,
        )
        return connection([Article.of(row) for row in rows], nxt)

    @field_with("Configuration items by name (GET /v1/cis's filters)")
    def configuration_items(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        class_id: strawberry.ID | None = None,
        state: str | None = None,
        q: str | None = None,
    ) -> Connection[ConfigurationItem]:
        ctx = info.context.require(Permission.CMDB_READ)
        query: CIQuery = parsed(CIQuery, {"class_id": class_id, "state": state, "q": q})
        rows, nxt = cmdb.list_cis(ctx, **query.model_dump(), limit=page_size(first), cursor=after)
        return connection([ConfigurationItem.of(row) for row in rows], nxt)

    @field_with(
        "The projects the caller sees (a member, or project:read_all), by name:"
        " GET /v1/projects's filters (q, status, archived) as a JSON object"
    )
    def projects(
        self,
        info: Info,
        filter: JSON | None = None,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
    ) -> Connection[Project]:
        ctx = info.context.require(Permission.PROJECT_USE)
        if filter is not None and not isinstance(filter, dict):
            raise ValidationProblem(errors=[field_error("filter", "must be an object")])
        query: ProjectQuery = parsed(ProjectQuery, filter or {})
        rows, nxt = projects.list_projects(
            ctx, **query.model_dump(), limit=page_size(first), cursor=after
        )
        return connection([Project.of(row) for row in rows], nxt)

    @field_with("One project (an error with status 404 if the caller may not see it)")
    def project(self, info: Info, id: strawberry.ID) -> Project | None:
        ctx = info.context.require(Permission.PROJECT_USE)
        return Project.of(projects.get_project(ctx, project_id=uuid_of(id, "id")))

    @field_with(
        "The audit log, newest first (admins): GET /v1/audit-events's filters by their query"
        " names (actor_id, action, entity_type, entity_id, from, to) as a JSON object"
    )
    def audit_events(
        self,
        info: Info,
        filter: JSON | None = None,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
    ) -> Connection[AuditEvent]:
        ctx = info.context.require(Permission.AUDIT_READ)
        if filter is not None and not isinstance(filter, dict):
            raise ValidationProblem(errors=[field_error("filter", "must be an object")])
        query: AuditQuery = parsed(AuditQuery, filter or {})
        rows, nxt = audit.list_events(
            ctx, where=query.where(), limit=page_size(first), cursor=after
        )
        return connection([AuditEvent.of(row) for row in rows], nxt)


class ArticleQuery(Input):
    """GET /v1/kb/articles's filters, as its query parameters declare them."""

    state: Annotated[list[ArticleState], Field(max_length=4)] = []
    category_id: uuid.UUID | None = None
    tag: Annotated[str | None, Field(min_length=1, max_length=50)] = None
    audience: Audience | None = None


class ProjectQuery(Input):
    """GET /v1/projects's filters."""

    q: Annotated[str | None, Field(max_length=200)] = None
    status: ProjectStatus | None = None
    archived: bool | None = None


class CIQuery(Input):
    """GET /v1/cis's filters."""

    class_id: uuid.UUID | None = None
    state: CIState | None = None
    q: Annotated[str | None, Field(max_length=200)] = None


@strawberry.type
class Mutation(ProjectMutation):
    @mutation_with("Open a ticket (POST /v1/tickets)")
    def create_ticket(
        self, info: Info, input: CreateTicketInput, idempotency_key: str | None = None
    ) -> Ticket | None:
        ctx = info.context.require(Permission.TICKET_CREATE)
        body: TicketCreate = parsed(TicketCreate, plain(input))
        made = once(
            ctx, "createTicket", idempotency_key, body, lambda: service.create(ctx, data=body).id
        )
        return Ticket.of(service.get_visible(ctx, made))

    @mutation_with("Reply or add an internal note (POST /v1/tickets/{id}/comments)")
    def add_comment(
        self,
        info: Info,
        ticket_id: strawberry.ID,
        body: str,
        visibility: str = "public",
        idempotency_key: str | None = None,
    ) -> Comment | None:
        ctx = info.context.require(Permission.COMMENT_CREATE)
        ticket = uuid_of(ticket_id, "ticketId")
        data: CommentCreate = parsed(CommentCreate, {"body": body, "visibility": visibility})
        made = once(
            ctx,
            f"addComment/{ticket}",
            idempotency_key,
            data,
            lambda: comments.add(ctx, ticket_id=ticket, data=data).id,
        )
        return Comment.of(visible_comment(ctx, ticket, made))

    @mutation_with(
        "Move a ticket to another status (POST /v1/tickets/{id}/transitions; a stale"
        " version is 409/412 as there)"
    )
    def change_ticket_status(
        self,
        info: Info,
        ticket_id: strawberry.ID,
        to: str,
        version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Ticket | None:
        ctx = info.context.require(Permission.TICKET_UPDATE)
        ticket = uuid_of(ticket_id, "ticketId")
        data: TransitionRequest = parsed(TransitionRequest, {"to": to, "version": version})
        made = once(
            ctx,
            f"changeTicketStatus/{ticket}",
            idempotency_key,
            data,
            lambda: service.transition(ctx, ticket_id=ticket, to=data.to, version=data.version).id,
        )
        return Ticket.of(service.get_visible(ctx, made))

    @mutation_with("Assign a ticket (POST /v1/tickets/{id}/assign)")
    def assign_ticket(
        self,
        info: Info,
        ticket_id: strawberry.ID,
        assignee_id: strawberry.ID | None = None,
        team_id: strawberry.ID | None = None,
        version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Ticket | None:
        ctx = info.context.require(Permission.TICKET_ASSIGN)
        ticket = uuid_of(ticket_id, "ticketId")
        data: AssignRequest = parsed(
            AssignRequest,
            {"assignee_id": assignee_id, "team_id": team_id, "version": version},
        )
        made = once(
            ctx,
            f"assignTicket/{ticket}",
            idempotency_key,
            data,
            lambda: service.assign(ctx, ticket_id=ticket, data=data).id,
        )
        return Ticket.of(service.get_visible(ctx, made))


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Nothing here: the route answers each error, and logs (as a 500) only defects."""


@functools.cache
def _schema(introspection: bool, max_depth: int, max_cost: int) -> Schema:
    rule = cost_limit(max_cost)
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(MAX_TOKENS),
        lambda: MaxAliasesLimiter(MAX_ALIASES),
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: AddValidationRules([rule]),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return Schema(query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions)


def get_schema() -> Schema:
    """The schema with this process's limits (settings are read once per cold start)."""
    settings = get_settings()
    return _schema(
        settings.graphql_introspection_on, settings.graphql_max_depth, settings.graphql_max_cost
    )
