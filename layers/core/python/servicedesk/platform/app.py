"""The FastAPI application factory shared by every Lambda function and the local runtime."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicedesk.platform.config import get_settings
from servicedesk.platform.errors import (
    PROBLEM_JSON,
    STATUS_SLUGS,
    ProblemError,
    field_error,
    problem_body,
)
from servicedesk.platform.logging import get_logger
from servicedesk.platform.rbac import PUBLIC, Role, route_policy

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


class BodyTooLarge(Exception):
    pass


class PipelineMiddleware:
    """Request id, body size limit and one structured access-log line, as plain ASGI."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

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

        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await self._too_large(scope, send_with_id)
        else:
            try:
                await self.app(scope, self._limited(receive), send_with_id)
            except BodyTooLarge:
                await self._too_large(scope, send_with_id)
        state = scope.get("state", {})
        get_logger().info(
            "request",
            extra={
                "http_method": scope.get("method"),
                "path": scope.get("path"),
                "status": status_holder.get("status"),
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "request_id": request_id,
                **(state.get("principal") or {}),
            },
        )

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        return wrapped

    async def _too_large(self, scope: Scope, send: Send) -> None:
        body = problem_body(
            status=413,
            slug="payload-too-large",
            title="Request body too large",
            detail=f"the request body must not exceed {self.max_body_bytes} bytes",
            header="Content-Length",
        )
        await problem_response(413, body)(scope, _empty_receive, send)


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        where = loc[0] if loc else "body"
        parts = loc[1:] if where in ("body", "query", "path", "header", "cookie") else loc
        if err.get("type") == "json_invalid":
            errors.append({**field_error("body", "malformed JSON"), "in": "body"})
            continue
        name = ".".join(parts) or where
        message = str(err.get("msg", "invalid value"))
        errors.append({**field_error(name, message), "in": where})
    return errors


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.body(request.url.path), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        fields = ", ".join(sorted({e["field"] for e in errors}))
        body = problem_body(
            status=422,
            slug="validation-error",
            title="Request validation failed",
            detail=f"invalid fields: {fields}",
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
        get_logger().exception(
            "unhandled error", extra={"request_id": getattr(request.state, "request_id", None)}
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
    )
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)
    app.state.domain_routers = routers
    _add_problem_schema(app)
    app.add_middleware(PipelineMiddleware, max_body_bytes=settings.max_body_bytes)
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


def route_min_role(route: APIRoute) -> Role | str | None:
    return route_policy([dep.call for dep in route.dependant.dependencies if dep.call])


def _document_route_policies(app: FastAPI, schema: dict[str, Any]) -> None:
    """Each operation states its minimum role and, unless public, the bearer requirement."""
    for route in api_routes(app):
        policy = route_min_role(route)
        for method in route.methods or ():
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            if policy == PUBLIC or policy is None:
                operation["security"] = []
            else:
                operation["security"] = [{"bearer": []}]
                operation["x-min-role"] = str(policy)
