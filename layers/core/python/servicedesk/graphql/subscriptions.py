"""GraphQL subscriptions: the ``Subscription`` type, checking a subscribe request, and
executing a stored subscription for one event as its subscriber.

The WebSocket API runs on stateless Lambdas, so no resolver stays open for a stream:
``prepare`` validates the document once (as a query is: depth, cost, tokens, aliases,
introspection) and authorizes its ticket; the WebSocket route stores it
(``realtime.graphql_ws``); the broadcaster, for each ticket event, runs ``execute`` with the
event as the root value, in a ``GraphContext`` of the subscriber (``realtime.graphql_push``):
every field then resolves through the same services and visibility rule as a query.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    Executor,
    FieldNode,
    GraphQLError,
    IntValueNode,
    NoSchemaIntrospectionCustomRule,
    OperationType,
    StringValueNode,
    VariableNode,
    execute_subscription_event,
    parse,
    specified_rules,
    validate,
)
from sqlalchemy import select
from strawberry.extensions import max_aliases, query_depth_limiter

from servicedesk.graphql.context import GraphContext, Info, field_with
from servicedesk.graphql.errors import formatted, problem, request_error
from servicedesk.graphql.limits import cost_limit
from servicedesk.graphql.types.tickets import Comment, Ticket
from servicedesk.platform.config import get_settings
from servicedesk.platform.errors import Forbidden, MethodNotAllowed, NotFound
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import service
from servicedesk.tickets.models import Comment as CommentRow
from servicedesk.tickets.permissions import may_read
from servicedesk.tickets.visibility import visible_comments

MAX_TOKENS = 2000
MAX_ALIASES = 30
ROOT_FIELD = "ticketEvents"


def visible_comment(ctx: RequestContext, ticket_id: uuid.UUID, comment_id: uuid.UUID) -> Any:
    """A comment of a visible ticket, through the comments' visibility rule (404 else)."""
    service.get_visible(ctx, ticket_id)
    found = ctx.session.scalars(
        select(CommentRow).where(
            CommentRow.tenant_id == ctx.tenant_id,
            CommentRow.id == comment_id,
            visible_comments(ctx),
        )
    ).one_or_none()
    if found is None:
        raise NotFound("no such comment")
    return found


@strawberry.type(description="Something that happened to a ticket (a subscription's event)")
class TicketEvent:
    type: str = strawberry.field(
        description="The event's type, as the webhook catalogue names it (comment.public, …)"
    )
    event_id: strawberry.ID = strawberry.field(description="Unique: drop one seen before")
    occurred_at: datetime
    ticket_id: strawberry.ID
    comment_id: strawberry.ID | None = strawberry.field(
        description="The comment the event is about, if any"
    )
    fields: list[str] | None = strawberry.field(
        description="ticket.updated: the names of the fields that changed"
    )

    @field_with("The ticket as the subscriber sees it now")
    def ticket(self, info: Info) -> Ticket:
        ctx = info.context.require(Permission.TICKET_READ)
        return Ticket.of(service.get_visible(ctx, uuid.UUID(self.ticket_id)))

    @field_with("The comment the event is about, if the subscriber may see it")
    def comment(self, info: Info) -> Comment | None:
        if self.comment_id is None:
            return None
        ctx = info.context.require(Permission.TICKET_READ)
        try:
            row = visible_comment(ctx, uuid.UUID(self.ticket_id), uuid.UUID(self.comment_id))
        except NotFound:
            return None
        return Comment.of(row)


Subscribe = Callable[..., AsyncGenerator[TicketEvent, None]]


def _subscription(description: str) -> Callable[[Subscribe], Subscribe]:
    """``strawberry.subscription(description=...)``, typed."""
    return cast(Callable[[Subscribe], Subscribe], strawberry.subscription(description=description))


@strawberry.type
class Subscription:
    @_subscription(
        "Events of one ticket (ticketId), or of every ticket the caller may see: over the"
        " WebSocket API with the graphql-transport-ws subprotocol (docs/graphql.md)"
    )
    async def ticket_events(
        self, info: Info, ticket_id: strawberry.ID | None = None
    ) -> AsyncGenerator[TicketEvent, None]:
        # Never a stream in a process: the broadcaster executes the stored selection for
        # each event (``execute``), with the event as this field's value.
        raise MethodNotAllowed(
            "subscriptions are served by the WebSocket API (graphql-transport-ws)"
        )
        yield  # pragma: no cover - makes this an async generator, as Strawberry requires


class Refused(Exception):
    """A subscribe request refused: answered with an ``error`` message (GraphQL errors)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "refused")
        self.errors = errors


@dataclass(frozen=True)
class Prepared:
    """A subscription ready to store: which ticket (None: every visible one)."""

    ticket_id: uuid.UUID | None
    document: str
    variables: dict[str, Any]
    operation_name: str | None


@functools.cache
def _rules(
    max_depth: int, max_cost: int, introspection: bool
) -> tuple[type[ASTValidationRule], ...]:
    """The query limits of the HTTP route (graphql.schema), as validation rules."""
    rules: list[type[ASTValidationRule]] = [
        *specified_rules,
        query_depth_limiter.create_validator(max_depth, None),
        max_aliases.create_validator(MAX_ALIASES),
        cost_limit(max_cost),
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


def _document(query: str) -> DocumentNode | GraphQLError:
    """The document parsed and validated under this process's limits."""
    settings = get_settings()
    return _validated(
        query,
        settings.graphql_max_depth,
        settings.graphql_max_cost,
        settings.graphql_introspection_on,
    )


@functools.lru_cache(maxsize=256)
def _validated(
    query: str, max_depth: int, max_cost: int, introspection: bool
) -> DocumentNode | GraphQLError:
    """Once per process and document (the broadcaster meets the same few again and again)."""
    from servicedesk.graphql.schema import get_schema

    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as exc:
        return exc
    rules = list(_rules(max_depth, max_cost, introspection))
    errors = validate(get_schema()._schema, document, rules)
    return errors[0] if errors else document


def _executor(
    query: str,
    variables: dict[str, Any],
    operation_name: str | None,
    context: GraphContext | None,
) -> Executor[Any]:
    """The validated subscription operation with coerced variables, or Refused."""
    from servicedesk.graphql.schema import get_schema

    document = _document(query)
    if isinstance(document, GraphQLError):
        raise Refused([formatted(document)])
    built = Executor.build(
        get_schema()._schema,
        document,
        context_value=context,
        raw_variable_values=variables,
        operation_name=operation_name,
    )
    if isinstance(built, list):
        raise Refused([formatted(e) for e in built])
    if built.operation.operation is not OperationType.SUBSCRIPTION:
        raise Refused(
            [
                request_error(
                    "this socket carries subscriptions; queries and mutations go to"
                    " POST /v1/graphql",
                    "GRAPHQL_VALIDATION_FAILED",
                )
            ]
        )
    return built


def _ticket_argument(executor: Executor[Any]) -> str | None:
    """``ticketId`` of the (single, spec-validated) root field, a literal or a variable."""
    node = next(s for s in executor.operation.selection_set.selections)
    if not isinstance(node, FieldNode) or node.name.value != ROOT_FIELD:
        raise Refused(
            [request_error(f"select {ROOT_FIELD} at the root", "GRAPHQL_VALIDATION_FAILED")]
        )
    for argument in node.arguments or ():
        if argument.name.value != "ticketId":
            continue
        value = argument.value
        if isinstance(value, VariableNode):
            found = executor.variable_values.coerced.get(value.name.value)
            return None if found is None else str(found)
        # ID takes a string or an integer literal; null is "every ticket".
        return value.value if isinstance(value, StringValueNode | IntValueNode) else None
    return None


def prepare(
    ctx: RequestContext, query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> Prepared:
    """Check a subscribe request as the caller; Refused with GraphQL errors otherwise.

    A ticket the caller may not see is refused exactly as one that does not exist."""
    limit = get_settings().graphql_max_query_bytes
    if len(query.encode()) > limit:
        message = f"the query must not exceed {limit} bytes"
        raise Refused([request_error(message, "QUERY_TOO_LARGE", limit=limit)])
    executor = _executor(query, variables or {}, operation_name, None)
    if not ctx.can(Permission.TICKET_READ):
        raise Refused([problem(Forbidden("this needs the ticket:read permission"))])
    raw = _ticket_argument(executor)
    ticket_id: uuid.UUID | None = None
    if raw is not None:
        try:
            ticket_id = uuid.UUID(raw)
        except ValueError:
            ticket_id = None
        if ticket_id is None or not may_read(ctx, ticket_id):
            raise Refused([problem(NotFound("no such ticket"))])
    return Prepared(ticket_id, query, variables or {}, operation_name)


async def execute(
    context: GraphContext,
    event: TicketEvent,
    query: str,
    variables: dict[str, Any],
    operation_name: str | None,
) -> ExecutionResult:
    """One stored subscription for one event, as the context's principal."""
    try:
        executor = _executor(query, variables, operation_name, context)
    except Refused as exc:  # the schema changed under a stored document
        return ExecutionResult(data=None, errors=[GraphQLError(str(exc))])
    result = execute_subscription_event(executor.build_per_event_executor(event))
    if isinstance(result, Awaitable):
        return await result
    return result
