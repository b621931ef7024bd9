"""Local stand-in for API Gateway's WebSocket API, on the same uvicorn server as the API.

``ws://127.0.0.1:8000/ws`` behaves like the deployed ``wss://…/ws`` stage: the handshake
invokes ``functions/ws_connect`` with a CONNECT event (a non-2xx answer refuses the socket
with that status), every frame invokes ``functions/ws_default`` with a MESSAGE event and
sends back the body it returns (the route response), and a close invokes
``functions/ws_disconnect``. The @connections management API (POST / GET / DELETE
``/@connections/{id}``) is served on the same server over real HTTP, so the broadcaster
posts to it exactly as it does to AWS (SigV4-signed: an unsigned call is refused with 403,
as API Gateway refuses it). It answers loopback callers only.

Never shipped: in AWS, API Gateway is the gateway.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import secrets
import string
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState

from local.app import load_function
from local.scheduler import LambdaContext

ROUTES = {"$connect": "ws_connect", "$default": "ws_default", "$disconnect": "ws_disconnect"}
MANAGEMENT_PREFIX = "/@connections/"
# API Gateway's limit for one message; past it the gateway closes with 1009.
MAX_MESSAGE_BYTES = 128 * 1024
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
ID_ALPHABET = string.ascii_letters + string.digits
SIGV4 = re.compile(
    r"AWS4-HMAC-SHA256 Credential=[^/,\s]+/\d{8}/[a-z0-9-]+/(?P<service>[a-z0-9-]+)/aws4_request,"
    r" ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?Signature=[0-9a-f]{64}"
)


class _QueryTokenFilter(logging.Filter):
    """uvicorn logs each handshake's path, query string included: keep ``?token=`` out."""

    TOKEN = re.compile(r"(token=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any("token=" in str(a) for a in record.args):
            record.args = tuple(
                self.TOKEN.sub(r"\1[REDACTED]", a) if isinstance(a, str) else a for a in record.args
            )
        return True


for _name in ("uvicorn.error", "uvicorn.access"):
    logging.getLogger(_name).addFilter(_QueryTokenFilter())


def new_connection_id() -> str:
    """Shaped like API Gateway's (16 characters, base64-looking)."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(15)) + "="


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class LocalConnection:
    websocket: WebSocket
    connected_at: datetime
    source_ip: str
    user_agent: str
    last_active_at: datetime
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, data: bytes) -> None:
        async with self.lock:
            try:
                await self.websocket.send_text(data.decode("utf-8"))
            except UnicodeDecodeError:
                await self.websocket.send_bytes(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        async with self.lock:
            if self.websocket.application_state is WebSocketState.CONNECTED:
                await self.websocket.close(code=code, reason=reason)


class Gateway:
    """ASGI wrapper: the WebSocket stage and @connections here, everything else to ``app``."""

    def __init__(self, app: ASGIApp, *, path: str = "/ws", stage: str = "ws") -> None:
        self.app = app
        self.path = path
        self.stage = stage
        self.connections: dict[str, LocalConnection] = {}
        self._handlers: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == self.path:
            await self._serve(scope, receive, send)
        elif scope["type"] == "http" and scope["path"].startswith(MANAGEMENT_PREFIX):
            await self._manage(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # --- Lambda invocations -----------------------------------------------------------

    def _handler(self, route: str) -> Any:
        if route not in self._handlers:
            self._handlers[route] = load_function(ROUTES[route]).lambda_handler
        return self._handlers[route]

    async def _invoke(self, route: str, event: dict[str, Any]) -> dict[str, Any]:
        """Run the route's handler in a worker thread (it talks to the database)."""
        handler = self._handler(route)
        context = LambdaContext(ROUTES[route], aws_request_id=str(uuid.uuid4()))
        result = await run_in_threadpool(handler, event, context)
        return dict(result or {})

    def _request_context(
        self, scope: Scope, connection_id: str, route: str, event_type: str, connected_at: int
    ) -> dict[str, Any]:
        headers = Headers(scope=scope)
        now = datetime.now(UTC)
        return {
            "routeKey": route,
            "eventType": event_type,
            "extendedRequestId": uuid.uuid4().hex[:16] + "=",
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": connected_at,
            "requestTimeEpoch": _now_ms(),
            "identity": {
                "sourceIp": (scope.get("client") or ("127.0.0.1", 0))[0],
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16] + "=",
            "domainName": headers.get("host", "127.0.0.1"),
            "connectionId": connection_id,
            "apiId": "local",
        }

    def connect_event(self, scope: Scope, connection_id: str, connected_at: int) -> dict[str, Any]:
        headers: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for raw_key, raw_value in scope["headers"]:
            key, value = raw_key.decode("latin-1"), raw_value.decode("latin-1")
            # API Gateway capitalises the names it passes (Sec-WebSocket-Protocol, Host, ...).
            key = "-".join(part.capitalize() for part in key.split("-"))
            headers[key] = f"{headers[key]},{value}" if key in headers else value
            multi.setdefault(key, []).append(value)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return {
            "headers": headers,
            "multiValueHeaders": multi,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "requestContext": self._request_context(
                scope, connection_id, "$connect", "CONNECT", connected_at
            ),
            "isBase64Encoded": False,
        }

    def message_event(
        self, scope: Scope, connection_id: str, connected_at: int, text: str | None, data: bytes
    ) -> dict[str, Any]:
        context = self._request_context(scope, connection_id, "$default", "MESSAGE", connected_at)
        context["messageId"] = uuid.uuid4().hex[:16] + "="
        if text is not None:
            return {"requestContext": context, "body": text, "isBase64Encoded": False}
        encoded = base64.b64encode(data).decode()
        return {"requestContext": context, "body": encoded, "isBase64Encoded": True}

    def disconnect_event(
        self, scope: Scope, connection_id: str, connected_at: int, code: int, reason: str
    ) -> dict[str, Any]:
        context = self._request_context(
            scope, connection_id, "$disconnect", "DISCONNECT", connected_at
        )
        context["disconnectStatusCode"] = code
        context["disconnectReason"] = reason
        host = context["domainName"]
        return {
            "headers": {"Host": host, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""},
            "multiValueHeaders": {
                "Host": [host],
                "x-api-key": [""],
                "X-Forwarded-For": [""],
                "x-restapi": [""],
            },
            "requestContext": context,
            "isBase64Encoded": False,
        }

    # --- the WebSocket stage ----------------------------------------------------------

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        connection_id = new_connection_id()
        connected_at = _now_ms()
        try:
            result = await self._invoke(
                "$connect", self.connect_event(scope, connection_id, connected_at)
            )
        except Exception:  # noqa: BLE001 - a failed handler refuses, as API Gateway does
            traceback.print_exc()
            result = {"statusCode": 500}
        status = int(result.get("statusCode") or 200)
        if not 200 <= status < 300:
            await self._refuse(websocket, status, result)
            return
        protocol = (result.get("headers") or {}).get("Sec-WebSocket-Protocol")
        await websocket.accept(subprotocol=protocol)
        now = datetime.now(UTC)
        headers = Headers(scope=scope)
        connection = LocalConnection(
            websocket,
            connected_at=now,
            source_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
            user_agent=headers.get("user-agent", ""),
            last_active_at=now,
        )
        self.connections[connection_id] = connection
        code, reason = 1005, ""
        try:
            code, reason = await self._relay(scope, connection_id, connection, connected_at)
        finally:
            self.connections.pop(connection_id, None)
            event = self.disconnect_event(scope, connection_id, connected_at, code, reason)
            try:
                await self._invoke("$disconnect", event)
            except Exception:  # noqa: BLE001 - as in AWS, a failed $disconnect is only logged
                traceback.print_exc()

    async def _refuse(self, websocket: WebSocket, status: int, result: dict[str, Any]) -> None:
        body = str(result.get("body") or "")
        headers = {
            k: str(v)
            for k, v in (result.get("headers") or {}).items()
            if k.lower() == "content-type"
        }
        if "websocket.http.response" in websocket.scope.get("extensions", {}):
            await websocket.send_denial_response(
                Response(body, status_code=status, headers=headers)
            )
        else:  # a server without the denial extension answers 403
            await websocket.close(code=1008)

    async def _relay(
        self, scope: Scope, connection_id: str, connection: LocalConnection, connected_at: int
    ) -> tuple[int, str]:
        """Frames → $default, replies back, until either side closes."""
        websocket = connection.websocket
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return int(message.get("code") or 1005), str(message.get("reason") or "")
            text, data = message.get("text"), message.get("bytes") or b""
            size = len(text.encode("utf-8")) if text is not None else len(data)
            connection.last_active_at = datetime.now(UTC)
            if size > MAX_MESSAGE_BYTES:
                await connection.close(1009, "Message too big")
                return 1009, "Message too big"
            event = self.message_event(scope, connection_id, connected_at, text, data)
            try:
                result = await self._invoke("$default", event)
            except Exception:  # noqa: BLE001 - API Gateway answers a failed integration so
                traceback.print_exc()
                result = {
                    "body": json.dumps(
                        {
                            "message": "Internal server error",
                            "connectionId": connection_id,
                            "requestId": event["requestContext"]["requestId"],
                        }
                    )
                }
            body = result.get("body")
            if body and websocket.application_state is WebSocketState.CONNECTED:
                await connection.send(str(body).encode("utf-8"))

    # --- @connections -----------------------------------------------------------------

    async def _manage(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Raw ASGI, not Starlette's Request/Response: in a local fan-out this runs once
        per recipient and its CPU competes with the broadcaster's."""
        client = scope.get("client")
        if (client[0] if client else "") not in LOOPBACK:
            await _respond(send, 403, b'{"message":"Forbidden"}', "ForbiddenException")
            return
        refusal = _unsigned(scope)
        if refusal is not None:
            await _respond(send, 403, json.dumps({"message": refusal[1]}).encode(), refusal[0])
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        connection_id = unquote(raw_path.decode("latin-1").split("?", 1)[0])
        connection_id = connection_id.removeprefix(MANAGEMENT_PREFIX)
        connection = self.connections.get(connection_id)
        method = scope["method"]
        if connection is None:
            await _respond(send, 410, b'{"message":null}', "GoneException")
        elif method == "POST":
            await _post(connection, await _body(receive), send)
        elif method == "DELETE":
            self.connections.pop(connection_id, None)
            await connection.close(1000)
            await _respond(send, 204)
        elif method == "GET":
            info = {
                "connectedAt": connection.connected_at.isoformat(),
                "lastActiveAt": connection.last_active_at.isoformat(),
                "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            }
            await _respond(send, 200, json.dumps(info).encode())
        else:
            await _respond(send, 405, b'{"message":"Method not allowed"}')


def _unsigned(scope: Scope) -> tuple[str, str] | None:
    """API Gateway refuses an unsigned management call (403) before anything else. The
    local gateway cannot verify the signature (it has no secret key), so it checks that
    one is there and has SigV4's shape for the execute-api service."""
    headers = dict(scope["headers"])
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    if not authorization:
        return "MissingAuthenticationTokenException", "Missing Authentication Token"
    match = SIGV4.fullmatch(authorization)
    if match is None or not headers.get(b"x-amz-date"):
        return "IncompleteSignatureException", "Incomplete or malformed SigV4 signature"
    if match["service"] != "execute-api" or "host" not in match["signed"].split(";"):
        return "InvalidSignatureException", "Signed for another service or without host"
    return None


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the caller went away
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_MESSAGE_BYTES + 1:  # enough to tell "too long"; drop the rest
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes = b"", error: str | None = None) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    if error:
        headers.append((b"x-amzn-errortype", error.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _post(connection: LocalConnection, data: bytes, send: Send) -> None:
    if len(data) > MAX_MESSAGE_BYTES:
        await _respond(send, 413, b'{"message":"Message too long"}', "PayloadTooLargeException")
        return
    try:
        await connection.send(data)
    except (RuntimeError, OSError):
        await _respond(send, 410, b'{"message":null}', "GoneException")  # closed meanwhile
        return
    await _respond(send, 200)
