"""The FastAPI application factory shared by every Lambda function and the local runtime."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicedesk.platform import idempotency, inputs, metrics, preconditions, tracing
from servicedesk.platform.config import get_settings
from servicedesk.platform.errors import (
    PROBLEM_JSON,
    STATUS_SLUGS,
    OwnFormatError,
    ProblemError,
    ValidationProblem,
    field_error,
    problem_body,
    validation_detail,
    validation_errors,
)
from servicedesk.platform.logging import get_logger
from servicedesk.platform.metric_names import (
    CLIENT_ERRORS,
    REQUEST_LATENCY,
    REQUESTS,
    SERVER_ERRORS,
)
from servicedesk.platform.permissions import Permission
from servicedesk.platform.rbac import route_policy
from servicedesk.platform.roles import Role

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def access_level(status: int, duration_ms: float) -> int:
    """How loud one request's access line is: quiet when it went well and fast."""
    settings = get_settings()
    if status >= 500 or duration_ms >= settings.access_log_slow_ms:
        return logging.WARNING
    if status >= 400:
        return logging.INFO
    return logging.getLevelNamesMapping()[settings.access_log_level]


class PipelineMiddleware:
    """Request id, the edge checks on the request, and one structured access-log line, as
    plain ASGI.

    The body is read here, in full, before the app runs: over ``max_body_bytes`` (declared
    or, for a chunked body, counted) is 413; not complete within ``body_timeout`` seconds
    (a ``Content-Length`` larger than what is sent) is 408; a NUL in a header, query or
    path parameter or anywhere in a JSON body, or JSON nested too deep, is 422 naming it.
    A route may declare a larger limit of its own (``openapi_extra={"x-max-body-bytes": n}``,
    e.g. the inbound-mail hooks): ``larger_bodies`` holds those routes' path patterns. Its
    413 may say what to do instead (``"x-too-large": {"field": ..., "detail": ...}``, e.g.
    the CMDB import: use an import job): ``too_large_hints``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        body_timeout: float,
        larger_bodies: tuple[tuple[re.Pattern[str], int], ...] = (),
        too_large_hints: tuple[tuple[re.Pattern[str], dict[str, str]], ...] = (),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.larger_bodies = larger_bodies
        self.too_large_hints = too_large_hints

    def body_limit(self, path: str) -> int:
        for pattern, limit in self.larger_bodies:
            if pattern.match(path):
                return max(limit, self.max_body_bytes)
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        supplied = headers.get("x-request-id", "")
        # On Lambda, API Gateway's own request id ties our logs to its access logs.
        gateway_id = ((scope.get("aws.event") or {}).get("requestContext") or {}).get("requestId")
        request_id = (
            supplied
            if REQUEST_ID.match(supplied)
            else str(gateway_id)
            if gateway_id
            else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder: dict[str, int] = {}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        # One trace id for the request, on its log lines and on the events it publishes.
        trace = tracing.incoming(headers.get(tracing.HEADER))
        scope["state"]["trace"] = trace
        with tracing.bind(trace):
            body: bytes | None = None
            try:
                limit = self.body_limit(scope.get("path", ""))
                refusal = self._check_request(scope, headers, limit)
                if refusal is None:
                    refusal, body = await self._read_body(receive, limit, scope.get("path", ""))
                    if (
                        refusal is None
                        and body is not None
                        and inputs.is_json(headers.get("content-type"))
                    ):
                        refusal = _invalid(inputs.body_errors(body))
                if refusal is not None:
                    await refusal(scope, _empty_receive, send_with_id)
                elif body is not None:
                    await self.app(scope, _replay(body, receive), send_with_id)
            finally:
                # An unhandled error passes through here before the server answers it with 500.
                _access_line(scope, request_id, started, status_holder.get("status", 500))

    def _check_request(
        self, scope: Scope, headers: dict[str, str], limit: int
    ) -> JSONResponse | None:
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return self._too_large(limit, scope.get("path", ""))
        path: str = scope.get("path", "")
        app = scope.get("app")
        patterns = (
            [route.path_regex for route in api_routes(app)]
            if "\x00" in path and isinstance(app, FastAPI) and hasattr(app.state, "domain_routers")
            else []
        )
        return _invalid(
            [
                *inputs.header_errors(scope["headers"]),
                *inputs.path_errors(path, patterns),
                *inputs.query_errors(scope.get("query_string", b"")),
            ]
        )

    async def _read_body(
        self, receive: Receive, limit: int, path: str
    ) -> tuple[JSONResponse | None, bytes | None]:
        """(refusal, body); (None, None) when the client went away before sending it all."""
        chunks: list[bytes] = []
        seen = 0

        async def read() -> bool:
            nonlocal seen
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return False
                chunk = message.get("body", b"")
                seen += len(chunk)
                if seen > limit:
                    return True
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return True

        try:
            complete = await asyncio.wait_for(read(), timeout=self.body_timeout)
        except TimeoutError:
            return self._timed_out(), None
        if not complete:
            return None, None
        if seen > limit:
            return self._too_large(limit, path), None
        return None, b"".join(chunks)

    def _too_large(self, limit: int, path: str) -> JSONResponse:
        detail = f"the request body must not exceed {limit} bytes"
        errors = None
        for pattern, hint in self.too_large_hints:
            if pattern.match(path):
                detail = f"{detail}: {hint['detail']}"
                errors = [field_error(hint["field"], hint["detail"])]
        body = problem_body(
            status=413,
            slug="payload-too-large",
            title="Request body too large",
            detail=detail,
            errors=errors,
            header="Content-Length",
        )
        # The rest of the body is never read, so the connection cannot serve another request.
        return problem_response(413, body, {"Connection": "close"})

    def _timed_out(self) -> JSONResponse:
        body = problem_body(
            status=408,
            slug="request-timeout",
            title="Request timeout",
            detail=f"the request body did not arrive within {self.body_timeout:g} seconds",
        )
        return problem_response(408, body, {"Connection": "close"})


def _invalid(errors: list[dict[str, Any]]) -> JSONResponse | None:
    if not errors:
        return None
    body = problem_body(
        status=422,
        slug="validation-error",
        title="Request validation failed",
        detail=validation_detail(errors),
        errors=errors,
    )
    return problem_response(422, body)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the client's own messages (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _access_line(scope: Scope, request_id: str, started: float, status: int) -> None:
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    logger = get_logger()
    log = {logging.DEBUG: logger.debug, logging.INFO: logger.info}.get(
        access_level(status, duration_ms), logger.warning
    )
    route = route_of(scope)
    log(
        "request",
        extra={
            "http_method": scope.get("method"),
            "path": scope.get("path"),
            "route": route,
            # The ticket a ticket route is about (its path parameter), for the log queries.
            "ticket_id": (scope.get("path_params") or {}).get("ticket_id"),
            "status": status,
            "duration_ms": duration_ms,
            "request_id": request_id,
            **(scope.get("state", {}).get("principal") or {}),
        },
    )
    metrics.record(
        {
            REQUEST_LATENCY: duration_ms,
            REQUESTS: 1,
            SERVER_ERRORS: int(status >= 500),
            CLIENT_ERRORS: int(400 <= status < 500),
        },
        Route=route,
    )


UNMATCHED = "unmatched"


def route_of(scope: Scope) -> str:
    """Method and route template of the route that answered ("GET /v1/tickets/{ticket_id}"),
    never the raw path: a metric dimension must stay low-cardinality. "unmatched" when no
    route did (unknown paths, the web app's files)."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return UNMATCHED
    return metrics.route_label(str(scope.get("method", "")), template)


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}


# By route id, with the route itself: routes are not hashable, and a test process builds
# many apps, where a new route may reuse a dead one's id.
_DECLARED: dict[int, tuple[APIRoute, frozenset[str]]] = {}


def declared_query(route: APIRoute) -> frozenset[str]:
    """The query parameter names a route reads, its dependencies' included."""
    cached = _DECLARED.get(id(route))
    if cached is None or cached[0] is not route:
        cached = _DECLARED[id(route)] = (route, frozenset(_query_names(route.dependant)))
    return cached[1]


def _query_names(dependant: Dependant) -> set[str]:
    names: set[str] = set()
    for field in dependant.query_params:
        model = field.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):  # a query model
            names |= {f.alias or name for name, f in model.model_fields.items()}
        else:
            names.add(field.alias)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def reject_unknown_query(request: Request) -> None:
    """A query parameter the route does not declare is 422 naming it: FastAPI would
    otherwise ignore it, and ``?format=csv`` would silently answer JSON."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    unknown = sorted(set(request.query_params.keys()) - declared_query(route))
    if unknown:
        raise ValidationProblem(
            errors=[
                {**field_error(name, "unknown query parameter"), "in": "query"} for name in unknown
            ]
        )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(idempotency.Replayed)
    async def on_replay(_request: Request, exc: idempotency.Replayed) -> JSONResponse:
        return exc.response()

    @app.exception_handler(OwnFormatError)
    async def on_own_format(_request: Request, exc: OwnFormatError) -> JSONResponse:
        return JSONResponse(
            exc.body(), status_code=exc.status, headers=exc.headers, media_type=exc.media_type
        )

    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.body(request.url.path), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc.errors())
        body = problem_body(
            status=422,
            slug="validation-error",
            title="Request validation failed",
            detail=validation_detail(errors),
            instance=request.url.path,
            errors=errors,
        )
        return problem_response(422, body)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = STATUS_SLUGS.get(exc.status_code, ("error", "Error"))
        detail = (
            exc.detail
            if isinstance(exc.detail, str) and exc.detail.lower() != title.lower()
            else None
        )
        body = problem_body(
            status=exc.status_code, slug=slug, title=title, detail=detail, instance=request.url.path
        )
        return problem_response(exc.status_code, body, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Logged outside the pipeline's labels (this handler is the outermost middleware's).
        get_logger().exception(
            "unhandled error",
            extra={
                "request_id": getattr(request.state, "request_id", None),
                "trace_id": tracing.root_of(getattr(request.state, "trace", None)),
            },
        )
        body = problem_body(
            status=500,
            slug="internal-error",
            title="Internal server error",
            instance=request.url.path,
        )
        return problem_response(500, body)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": title,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, (_, title) in STATUS_SLUGS.items()
    if status in (400, 401, 403, 404, 409, 413, 422, 429)
}


def create_app(*routers: APIRouter, title: str = "Servicedesk API") -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title=title,
        version="1.0.0",
        description=(
            "Multi-tenant IT service desk. Errors are RFC 9457 `application/problem+json`. "
            "Authenticate with `Authorization: Bearer <access token>` from `/v1/auth/login`."
        ),
        # The reference page is the local runtime's (local/web.py serves Swagger UI from the
        # web build, without a CDN); functions serve only the document.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        responses=PROBLEM_RESPONSES,
        # Every route, one rule: no query parameter the route does not declare.
        dependencies=[Depends(reject_unknown_query)],
    )
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)
    app.state.domain_routers = routers
    _add_problem_schema(app)
    app.add_middleware(
        PipelineMiddleware,
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.body_read_timeout_seconds,
        larger_bodies=tuple(
            (route.path_regex, int(limit))
            for route in api_routes(app)
            if (limit := (route.openapi_extra or {}).get("x-max-body-bytes"))
        ),
        too_large_hints=tuple(
            (route.path_regex, dict(hint))
            for route in api_routes(app)
            if (hint := (route.openapi_extra or {}).get("x-too-large"))
        ),
    )
    return app


def _add_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = {
            "type": "object",
            "description": "RFC 9457 problem details",
            "required": ["type", "title", "status"],
            "properties": {
                "type": {"type": "string", "format": "uri"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "pointer": {"type": "string"},
                            "detail": {"type": "string"},
                            "in": {"type": "string"},
                            "code": {"type": "string"},
                        },
                    },
                },
            },
        }
        components.setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
        }
        _document_route_policies(app, schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API route of the app, read from the routers it was built from."""
    routers: tuple[APIRouter, ...] = app.state.domain_routers
    return [route for router in routers for route in router.routes if isinstance(route, APIRoute)]


def route_permission(route: APIRoute) -> Permission | str | None:
    """The permission the route needs, ``PUBLIC``, or None (undeclared: a mistake)."""
    return route_policy([dep.call for dep in route.dependant.dependencies if dep.call])


def route_min_role(route: APIRoute) -> Role | str | None:
    """The lowest built-in role the route lets in (its permission's floor), or ``PUBLIC``."""
    policy = route_permission(route)
    return policy.floor if isinstance(policy, Permission) else policy


def _document_route_policies(app: FastAPI, schema: dict[str, Any]) -> None:
    """Each operation states its minimum role and, unless public, the bearer requirement,
    and the precondition answers (412/428) its code can give."""
    for route in api_routes(app):
        policy = route_permission(route)
        conditional = preconditions.statuses(route.endpoint)
        for method in route.methods or ():
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            for status in sorted(conditional):
                operation["responses"][str(status)] = {
                    "description": STATUS_SLUGS[status][1],
                    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
            if isinstance(policy, Permission):
                operation["security"] = [{"bearer": []}]
                operation["x-permission"] = policy.value
                operation["x-min-role"] = policy.floor.value
            else:
                operation["security"] = []
