"""The ``graphql-transport-ws`` protocol on the WebSocket API's ``$default`` route.

A socket whose ``$connect`` chose the ``graphql-transport-ws`` subprotocol speaks it
(https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md) instead of the app's own
frames: ``connection_init`` → ``connection_ack``, ``ping`` → ``pong``, ``subscribe`` (checked
and stored: ``graphql_subscriptions``), ``complete`` (forgotten). The reply is the route
response; the ``next`` messages come from the broadcaster (``realtime.graphql_push``).

Protocol violations close the socket. ``$default`` holds no @connections grant, so the close
goes through the realtime queue to the broadcaster (``realtime.close``), and the connection is
forgotten at once (nothing reaches it meanwhile). API Gateway's DeleteConnection takes no
close code (the socket closes with 1000): the protocol's code and reason are logged and
carried in the queue message, and the local gateway closes as API Gateway does.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform.config import get_settings
from servicedesk.platform.db import set_tenant, transaction
from servicedesk.platform.logging import get_logger
from servicedesk.platform.tenancy import RequestContext
from servicedesk.realtime import service
from servicedesk.realtime.schemas import ErrorCode
from servicedesk.realtime.service import Registered

CLOSE_TYPE = "realtime.close"
MAX_OPERATION_ID = 128
MAX_OPERATION_NAME = 100
CLIENT_TYPES = frozenset({"connection_init", "ping", "pong", "subscribe", "complete"})


class Close(Exception):
    """A protocol violation: the socket is closed with this code (PROTOCOL.md)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def bad(reason: str) -> Close:
    return Close(4400, reason)


@dataclass(frozen=True)
class Message:
    type: str
    id: str | None
    payload: dict[str, Any] | None


def _optional_object(raw: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, dict):
        raise bad(f"{key} must be an object")
    return value


def parse(body: str | None) -> Message:
    """A client message, or Close(4400) naming what is wrong."""
    if body is None:
        raise bad("messages are UTF-8 JSON text")
    limit = get_settings().websocket_max_frame_bytes
    if len(body.encode("utf-8")) > limit:
        raise bad(f"messages are at most {limit} bytes")
    try:
        raw = json.loads(body)
    except ValueError as exc:
        raise bad("the message is not valid JSON") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise bad("a message is an object with a type")
    kind = raw["type"]
    if kind not in CLIENT_TYPES:
        raise bad(f"unknown message type {kind[:40]!r}")
    payload = _optional_object(raw, "payload")
    operation = raw.get("id")
    if kind in ("subscribe", "complete") and (
        not isinstance(operation, str) or not 0 < len(operation) <= MAX_OPERATION_ID
    ):
        raise bad(f"id must be a string of 1-{MAX_OPERATION_ID} characters")
    if kind == "subscribe":
        _check_subscribe(payload)
    return Message(kind, operation if isinstance(operation, str) else None, payload)


def _check_subscribe(payload: dict[str, Any] | None) -> None:
    if payload is None:
        raise bad("subscribe needs a payload")
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
        raise bad("payload.query must be a GraphQL document")
    _optional_object(payload, "variables")
    _optional_object(payload, "extensions")
    name = payload.get("operationName")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_OPERATION_NAME):
        raise bad(f"payload.operationName must be a string of at most {MAX_OPERATION_NAME}")


# --- answering --------------------------------------------------------------------------


def answer(connection_id: str, found: Registered, body: str | None) -> dict[str, Any] | None:
    """The reply message (None: nothing to say) to one client message; closes on a
    protocol violation."""
    now = datetime.now(UTC)
    try:
        message = parse(body)
        with transaction() as session:
            return _handle(session, connection_id, found, message, now)
    except Close as exc:
        with transaction() as session:
            close(session, found, connection_id, exc, now)
        return None


_ATTACH_CLOSES = {
    ErrorCode.UNAUTHORIZED: (4401, "Unauthorized"),
    ErrorCode.TOKEN_EXPIRED: (4401, "Unauthorized: the access token expired"),
    ErrorCode.RATE_LIMITED: (4429, "Too many messages"),
}


def _attach(session: Session, connection_id: str, found: Registered, now: datetime) -> Any:
    try:
        return service.attach(session, connection_id=connection_id, now=now, found=found)
    except service.FrameError as exc:
        code, reason = _ATTACH_CLOSES.get(exc.code, (4403, "Forbidden"))
        raise Close(code, reason) from exc


def _handle(
    session: Session, connection_id: str, found: Registered, message: Message, now: datetime
) -> dict[str, Any] | None:
    ctx = _attach(session, connection_id, found, now)
    if message.type == "ping":
        return {"type": "pong"}
    if message.type == "pong":
        return None
    if message.type == "connection_init":
        acked = session.execute(
            text(
                "UPDATE realtime_connections SET acked_at = :now"
                " WHERE connection_id = :c AND acked_at IS NULL RETURNING 1"
            ),
            {"c": connection_id, "now": now},
        ).first()
        if acked is None:
            raise Close(4429, "Too many initialisation requests")
        return {"type": "connection_ack"}
    if found.acked_at is None:
        raise Close(4401, "Unauthorized")
    assert message.id is not None  # parse() requires it for subscribe and complete
    if message.type == "complete":
        session.execute(
            text(
                "DELETE FROM graphql_subscriptions WHERE connection_id = :c AND operation_id = :o"
            ),
            {"c": connection_id, "o": message.id},
        )
        return None
    return _subscribe(ctx, connection_id, message.id, message.payload or {})


def _subscribe(
    ctx: RequestContext, connection_id: str, operation_id: str, payload: dict[str, Any]
) -> dict[str, Any] | None:
    from servicedesk.graphql.subscriptions import Refused, prepare

    session = ctx.session
    ids = set(
        session.execute(
            text("SELECT operation_id FROM graphql_subscriptions WHERE connection_id = :c"),
            {"c": connection_id},
        ).scalars()
    )
    if operation_id in ids:
        raise Close(4409, f"Subscriber for {operation_id[:40]} already exists")
    limit = get_settings().graphql_max_subscriptions_per_connection
    if len(ids) >= limit:
        return _error(
            operation_id,
            f"at most {limit} subscriptions per connection",
            "TOO_MANY_SUBSCRIPTIONS",
            429,
        )
    try:
        prepared = prepare(
            ctx, payload["query"], payload.get("variables"), payload.get("operationName")
        )
    except Refused as exc:
        return {"id": operation_id, "type": "error", "payload": exc.errors}
    # Two frames of one socket can run at once (each its own invocation): the key decides.
    stored = session.execute(
        text(
            "INSERT INTO graphql_subscriptions"
            " (tenant_id, connection_id, operation_id, ticket_id, document, variables,"
            " operation_name) VALUES (:t, :c, :o, :ticket, :doc, CAST(:vars AS jsonb), :name)"
            " ON CONFLICT DO NOTHING RETURNING 1"
        ),
        {
            "t": ctx.tenant_id,
            "c": connection_id,
            "o": operation_id,
            "ticket": prepared.ticket_id,
            "doc": prepared.document,
            "vars": json.dumps(prepared.variables),
            "name": prepared.operation_name,
        },
    ).first()
    if stored is None:
        raise Close(4409, f"Subscriber for {operation_id[:40]} already exists")
    return None


def _error(operation_id: str, message: str, code: str, status: int) -> dict[str, Any]:
    from servicedesk.graphql.errors import request_error

    return {
        "id": operation_id,
        "type": "error",
        "payload": [request_error(message, code, status)],
    }


def close(
    session: Session, found: Registered, connection_id: str, reason: Close, now: datetime
) -> None:
    """Forget the connection now and have the broadcaster close the socket."""
    set_tenant(session, tenant_id=found.tenant_id, user_id=found.user_id)
    session.execute(
        text("DELETE FROM realtime_connections WHERE connection_id = :c"), {"c": connection_id}
    )
    get_logger().info(
        "graphql socket closed", extra={"close_code": reason.code, "reason": reason.reason}
    )
    service.queue_after_commit(
        session,
        {
            "event_id": str(uuid.uuid4()),
            "seq": 0,
            "tenant_id": str(found.tenant_id),
            "type": CLOSE_TYPE,
            "aggregate": {"type": "connection", "id": connection_id},
            "payload": {
                "connection_id": connection_id,
                "code": reason.code,
                "reason": reason.reason,
            },
            "created_at": now.isoformat(),
        },
    )
