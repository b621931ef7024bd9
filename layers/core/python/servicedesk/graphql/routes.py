"""``POST /v1/graphql``: the schema behind the REST routes' own pipeline.

The route's dependencies are every REST route's: the verified principal, one tenant
transaction (``Ctx``, invariant 2) and a permission (``desk:access``, any member: each field
and mutation then checks its own). The operation runs on an event loop of its own in the
route's worker thread (the DataLoaders are ``async``; the database calls stay in this
thread, on the request's session). A mutation runs in a savepoint: if any of its fields
fails, everything it wrote (rows, idempotency keys, outbox events) is rolled back, so a
refused mutation writes nothing.

Answers: 200 with ``data`` (and ``errors`` for fields that failed); 400 with ``errors`` only
when the request never ran (syntax, unknown field, variable of the wrong type, depth or
cost over the limit, an unknown persisted query). Each error carries the problem+json
``type`` and ``status`` (and ``errors`` naming fields) in ``extensions``.

``GET /v1/graphql``: GraphiQL in dev (``make dev``); elsewhere 405, never the web app.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse, JSONResponse
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from pydantic import BaseModel, ConfigDict, Field
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType as StrawberryOperation

from servicedesk.graphql import persisted
from servicedesk.graphql.context import GraphContext
from servicedesk.graphql.errors import formatted, request_error
from servicedesk.graphql.schema import get_schema
from servicedesk.platform.config import get_settings
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import route
from servicedesk.platform.errors import MethodNotAllowed, ProblemError
from servicedesk.platform.permissions import Permission
from servicedesk.platform.rbac import public

router = APIRouter(prefix="/v1/graphql", tags=["graphql"])
MAX_OPERATION_NAME = 100
HTTP_OPERATIONS = frozenset({StrawberryOperation.QUERY, StrawberryOperation.MUTATION})


class GraphQLRequest(BaseModel):
    """A GraphQL-over-HTTP request body."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    query: Annotated[str | None, Field(max_length=256 * 1024)] = None
    operation_name: Annotated[
        str | None, Field(alias="operationName", max_length=MAX_OPERATION_NAME)
    ] = None
    variables: dict[str, Any] | None = None
    extensions: dict[str, Any] | None = None


class GraphQLResponse(BaseModel):
    data: dict[str, Any] | None = None
    errors: list[dict[str, Any]] | None = None


def _answer(body: dict[str, Any], status: int) -> Response:
    return JSONResponse(body, status_code=status)


def _is_mutation(query: str, operation_name: str | None) -> bool:
    """Whether the operation to run is a mutation (a query that does not parse runs nothing)."""
    try:
        document = parse(query, max_tokens=10_000)
    except GraphQLError:
        return False
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None
            or (definition.name is not None and definition.name.value == operation_name)
        ):
            return definition.operation is OperationType.MUTATION
    return False


@route(
    router.post,
    "",
    Permission.DESK_ACCESS,
    "GraphQL queries and mutations (docs/graphql.md); each field checks its REST route's"
    " permission",
    response_model=GraphQLResponse,
)
def graphql(body: GraphQLRequest, ctx: Ctx) -> Response:
    settings = get_settings()
    try:
        query = persisted.resolve(
            body.query, body.extensions, only_registered=settings.graphql_persisted_only
        )
    except persisted.PersistedQueryError as exc:
        return _answer({"errors": [request_error(str(exc), exc.code)]}, 400)
    if len(query.encode()) > settings.graphql_max_query_bytes:
        limit = settings.graphql_max_query_bytes
        message = f"the query must not exceed {limit} bytes"
        return _answer({"errors": [request_error(message, "QUERY_TOO_LARGE", limit=limit)]}, 400)
    session = ctx.session
    savepoint = session.begin_nested() if _is_mutation(query, body.operation_name) else None
    emitted = list(session.info.get("outbox_ids") or [])
    try:
        result = asyncio.run(
            get_schema().execute(
                query,
                variable_values=body.variables,
                context_value=GraphContext(ctx),
                operation_name=body.operation_name,
                # Subscriptions are the WebSocket API's (graphql-transport-ws), not HTTP's.
                allowed_operation_types=HTTP_OPERATIONS,
            )
        )
    except InvalidOperationTypeError:
        message = "subscriptions are served by the WebSocket API (graphql-transport-ws)"
        return _answer({"errors": [request_error(message, "OPERATION_NOT_ALLOWED")]}, 400)
    errors = list(result.errors or [])
    if savepoint is not None:
        if errors:
            savepoint.rollback()
            session.info["outbox_ids"] = emitted
        else:
            savepoint.commit()
    for error in errors:
        original = error.original_error
        if (
            error.path is not None
            and original is not None
            and not isinstance(original, ProblemError)
        ):
            raise original  # a defect: the app's 500, the transaction rolled back
    if errors and all(error.path is None for error in errors) and result.data is None:
        return _answer({"errors": [formatted(e) for e in errors]}, 400)
    answer: dict[str, Any] = {"data": result.data}
    if errors:
        answer["errors"] = [formatted(e) for e in errors]
    return _answer(answer, 200)


@router.get(
    "",
    dependencies=[public("GraphiQL, dev only: the page itself holds no data")],
    summary="GraphiQL in dev; 405 elsewhere (GraphQL is POST)",
    response_class=HTMLResponse,
)
def graphiql() -> Response:
    if not get_settings().is_dev:
        raise MethodNotAllowed("GraphQL is served by POST /v1/graphql", headers={"Allow": "POST"})
    return HTMLResponse(get_graphql_ide_html())
