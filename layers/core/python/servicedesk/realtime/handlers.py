"""Lambda entry-point factories for the WebSocket routes and the realtime consumer.

They read API Gateway WebSocket events (``requestContext.connectionId``, ``body``,
``queryStringParameters``, headers), call ``realtime.service`` in one transaction and shape
what API Gateway expects back: the ``$connect`` status decides the handshake; the
``$default`` body is the route response (sent to the caller by API Gateway itself, so
replies need no @connections call); ``$disconnect``'s answer is ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from servicedesk.platform.config import get_settings
from servicedesk.platform.db import transaction
from servicedesk.platform.errors import (
    PROBLEM_JSON,
    BadRequest,
    Forbidden,
    ProblemError,
    Unauthorized,
    field_error,
)
from servicedesk.platform.logging import get_logger, log_invocation
from servicedesk.realtime import service
from servicedesk.realtime.schemas import (
    BEARER_PROTOCOL_PREFIX,
    GRAPHQL_WS,
    SUBPROTOCOL,
    ErrorCode,
)

PROTOCOLS = (SUBPROTOCOL, GRAPHQL_WS)

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def credentials(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """The access token, and the subprotocol to answer (None: the client offered none).

    Browsers cannot set an Authorization header on a WebSocket: the token comes as a
    subprotocol (``Sec-WebSocket-Protocol: servicedesk.v1, bearer.<token>``) or as the
    ``token`` query parameter. The client's first protocol of ours is chosen:
    ``servicedesk.v1`` (the app's frames) or ``graphql-transport-ws`` (GraphQL
    subscriptions). Raises BadRequest when a client offers subprotocols but none of ours
    (the browser would drop the connection anyway)."""
    offered = [p.strip() for p in (_header(event, "Sec-WebSocket-Protocol") or "").split(",")]
    offered = [p for p in offered if p]
    chosen = next((p for p in offered if p in PROTOCOLS), None)
    if offered and chosen is None:
        raise BadRequest(f"offer the {SUBPROTOCOL} or {GRAPHQL_WS} subprotocol")
    for protocol in offered:
        if protocol.startswith(BEARER_PROTOCOL_PREFIX):
            return protocol.removeprefix(BEARER_PROTOCOL_PREFIX) or None, chosen
    token = (event.get("queryStringParameters") or {}).get("token")
    return (str(token) if token else None), chosen


_DEFAULT_PORTS = {"http": 80, "https": 443}


def normal_origin(value: str) -> str | None:
    """``scheme://host[:port]`` lower-cased, the scheme's default port dropped; None for
    what is not a web origin (``null``, a path, userinfo, another scheme)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    if ":" in host:
        host = f"[{host}]"
    return (
        f"{scheme}://{host}"
        if port in (None, _DEFAULT_PORTS[scheme])
        else f"{scheme}://{host}:{port}"
    )


def allowed_origins() -> frozenset[str]:
    """The web app's origins: ``web_origin`` and ``web_extra_origins`` (settings)."""
    settings = get_settings()
    found = (normal_origin(o) for o in [settings.web_origin, *settings.web_extra_origins])
    return frozenset(o for o in found if o is not None)


def check_origin(event: dict[str, Any]) -> None:
    """Cross-site WebSocket hijacking: a browser always sends ``Origin`` on a WebSocket
    handshake, and a page elsewhere must not open a socket with our user's token. A
    handshake whose Origin is not one of the web app's is refused (403 naming ``Origin``).
    No Origin header at all: a non-browser client (a script, a service), which must hold
    an access token anyway; allowed."""
    origin = _header(event, "Origin")
    if origin is None:
        return
    normal = normal_origin(origin)
    if normal is None or normal not in allowed_origins():
        raise Forbidden(
            "this origin may not open a WebSocket",
            errors=[field_error("Origin", "not one of the web app's origins")],
        )


def _refusal(exc: ProblemError) -> dict[str, Any]:
    return {
        "statusCode": exc.status,
        "headers": {"Content-Type": PROBLEM_JSON},
        "body": json.dumps(exc.body()),
    }


def connect() -> LambdaHandler:
    import servicedesk.platform.tenancy  # noqa: F401 - the principal, at cold start
    from servicedesk.platform.tokens import InvalidToken, verify_token

    logger = get_logger()

    @log_invocation
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        connection_id = str(event["requestContext"]["connectionId"])
        try:
            try:
                check_origin(event)
            except Forbidden:
                origin = (_header(event, "Origin") or "")[:200]
                logger.info("websocket origin refused", extra={"origin": origin})
                raise
            token, chosen = credentials(event)
            if token is None:
                raise Unauthorized("missing access token (subprotocol or ?token=)")
            try:
                claims = verify_token(token)
            except InvalidToken as exc:
                logger.info("websocket connect refused", extra={"reason": str(exc)})
                raise Unauthorized("invalid or expired access token") from exc
            with transaction() as session:
                found = service.connect(
                    session,
                    connection_id=connection_id,
                    claims=claims,
                    now=datetime.now(UTC),
                    protocol=chosen or SUBPROTOCOL,
                )
        except ProblemError as exc:
            return _refusal(exc)
        logger.info(
            "websocket connected",
            extra={
                "tenant_id": str(found.tenant_id),
                "user_id": str(found.user_id),
                "protocol": found.protocol,
            },
        )
        response: dict[str, Any] = {"statusCode": 200}
        if chosen is not None:
            # API Gateway passes the header through: the handshake names the protocol.
            response["headers"] = {"Sec-WebSocket-Protocol": chosen}
        return response

    return handler


def disconnect() -> LambdaHandler:
    @log_invocation
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        connection_id = str(event["requestContext"]["connectionId"])
        with transaction() as session:
            service.disconnect(session, connection_id=connection_id)
        return {"statusCode": 200}

    return handler


def _body(event: dict[str, Any]) -> str | None:
    """The frame as text; None when it is not UTF-8 (a binary frame)."""
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return str(body)
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def answer(connection_id: str, body: str | None) -> dict[str, Any] | None:
    """The reply frame for one client frame (never raises FrameError); None: no reply.

    A GraphQL socket (graphql-transport-ws) speaks that protocol (``graphql_ws``)."""
    with transaction() as session:
        found = service.lookup(session, connection_id)
    if found is not None and found.speaks_graphql:
        from servicedesk.realtime import graphql_ws

        return graphql_ws.answer(connection_id, found, body)
    limit = get_settings().websocket_max_frame_bytes
    if body is None:
        error = service.FrameError(ErrorCode.INVALID_JSON, "frames are UTF-8 JSON text")
        return error.frame()
    if len(body.encode("utf-8")) > limit:
        error = service.FrameError(ErrorCode.FRAME_TOO_LARGE, f"frames are at most {limit} bytes")
        return error.frame()
    try:
        frame = service.parse(body)
    except service.FrameError as exc:
        return exc.frame(frame_id=service.frame_id_of(body))
    with transaction() as session:
        try:
            return service.handle(
                session,
                connection_id=connection_id,
                frame=frame,
                now=datetime.now(UTC),
                found=found,
            )
        except service.FrameError as exc:
            # Returned, not raised: the frame still counts against the rate limit.
            return exc.frame(action=frame.action, frame_id=frame.id)


def default() -> LambdaHandler:
    # Every frame resolves the principal and most check the tickets' visibility rule:
    # load them at cold start rather than in the first frame.
    import servicedesk.platform.tenancy
    import servicedesk.tickets.permissions  # noqa: F401

    logger = get_logger()

    @log_invocation
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        connection_id = str(event["requestContext"]["connectionId"])
        reply = answer(connection_id, _body(event))
        if reply is None:
            return {"statusCode": 200}
        if reply.get("type") == "error":
            logger.info("websocket frame refused", extra={"code": reply.get("code")})
        return {"statusCode": 200, "body": json.dumps(reply, separators=(",", ":"))}

    return handler


def consumer() -> LambdaHandler:
    """The broadcaster: SQS batches from the realtime queue, and (EventBridge Scheduler,
    every minute) the sweep of expired connections. One function for both, because it
    alone may call @connections."""
    from servicedesk.platform.consumer import sqs_handler
    from servicedesk.platform.jobs import scheduled
    from servicedesk.realtime import broadcaster, sweep

    on_batch = sqs_handler(broadcaster.process)

    @scheduled("realtime sweep")
    def on_schedule(budget_seconds: float | None) -> dict[str, Any]:
        report = sweep.sweep()
        return {
            "tenants": report.tenants,
            "closed": report.closed,
            "failed_tenants": report.failed_tenants,
        }

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if "Records" in event:
            return on_batch(event, context)
        return on_schedule(event, context)

    return handler
