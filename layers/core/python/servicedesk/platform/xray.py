"""X-Ray subsegments for database calls (issue 25, point 3), streamed to the X-Ray daemon.

On Lambda with active tracing, the runtime records the function's segment and gives each
invocation its header (``_X_AMZN_TRACE_ID``: the trace root, the function segment's id as
``Parent``, the sampling decision) and the daemon's address (``AWS_XRAY_DAEMON_ADDRESS``).
A subsegment is then one JSON document in one UDP datagram to the daemon, after the
daemon's header line (the protocol of the X-Ray SDKs: "Sending segment documents to the
X-Ray daemon" in the X-Ray developer guide): ``type: subsegment``, the trace id, the
function segment as parent, start and end time, and X-Ray's ``sql`` block.

Not aws-xray-sdk: importing ``aws_xray_sdk.core`` builds its recorder, whose centralized
sampler creates two botocore X-Ray clients at import (0.3 s measured here, on every cold
start of every function) for a sampling decision Lambda has already made. The daemon
protocol is one header line and a JSON document per datagram; this module writes that.

What a subsegment carries: the statement as SQLAlchemy sends it (placeholders, never the
parameters: no tenant data leaves in traces), cut at ``MAX_QUERY`` characters; the
database's host, port and name and the role, never a password. At most
``MAX_PER_INVOCATION`` subsegments per invocation (a bulk job's ten thousand statements
would flood the daemon); the last one sent says so in its metadata. Nothing is sent when
the invocation is not sampled or there is no daemon (locally, in tests unless set).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from servicedesk.platform.logging import get_logger
from servicedesk.platform.tracing import LAMBDA_ENV, canonical

DAEMON_ENV = "AWS_XRAY_DAEMON_ADDRESS"
DAEMON_HEADER = b'{"format": "json", "version": 1}\n'
MAX_QUERY = 2000
MAX_PER_INVOCATION = 200
_KEY = "servicedesk_xray_started"


@dataclass
class _Invocation:
    """How many subsegments the invocation (its function segment) has sent."""

    parent: str = ""
    sent: int = 0


@dataclass
class _State:
    invocation: _Invocation = field(default_factory=_Invocation)
    sock: socket.socket | None = None


_STATE = _State()


def daemon_address(value: str | None) -> tuple[str, int] | None:
    """The daemon's UDP address from ``AWS_XRAY_DAEMON_ADDRESS``: ``host:port``, or the
    two-protocol form ``tcp:host:port udp:host:port`` (the UDP one)."""
    if not value:
        return None
    chosen = value.strip()
    for part in chosen.split():
        if part.startswith("udp:"):
            chosen = part.removeprefix("udp:")
            break
    host, _, port = chosen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


def sampled_parent() -> tuple[str, str] | None:
    """(trace root, function segment id) of the invocation, when it is sampled (the
    header's checked parts: ``tracing.canonical``)."""
    header = canonical(os.environ.get(LAMBDA_ENV))
    if header is None:
        return None
    parts = dict(p.partition("=")[::2] for p in header.split(";"))
    if parts.get("Sampled") != "1" or "Parent" not in parts:
        return None
    return parts["Root"], parts["Parent"]


def _target() -> tuple[tuple[str, int], str, str] | None:
    address = daemon_address(os.environ.get(DAEMON_ENV))
    if address is None:
        return None
    parent = sampled_parent()
    if parent is None:
        return None
    return address, parent[0], parent[1]


def _send(address: tuple[str, int], document: dict[str, Any]) -> None:
    if _STATE.sock is None:
        _STATE.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _STATE.sock.setblocking(False)
    try:
        _STATE.sock.sendto(DAEMON_HEADER + json.dumps(document).encode(), address)
    except OSError as exc:  # a full buffer or no daemon: tracing never fails a request
        # The logger when needed (at import it would read the settings before they are set).
        get_logger().debug("x-ray subsegment not sent", extra={"error": type(exc).__name__})


def _sql(conn: Any) -> dict[str, Any]:
    url = conn.engine.url
    return {
        "url": f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}",
        "database_type": "PostgreSQL",
        "driver_version": f"psycopg {conn.dialect.driver}",
        "user": url.username or "",
    }


def _record(conn: Any, statement: str, started: float, error: BaseException | None) -> None:
    target = _target()
    if target is None:
        return
    address, root, parent = target
    invocation = _STATE.invocation
    if invocation.parent != parent:  # a new invocation: its own budget
        _STATE.invocation = invocation = _Invocation(parent=parent)
    if invocation.sent >= MAX_PER_INVOCATION:
        return
    url = conn.engine.url
    document: dict[str, Any] = {
        "name": f"{url.database or 'postgres'}@{url.host or 'localhost'}",
        "id": secrets.token_hex(8),
        "trace_id": root,
        "parent_id": parent,
        "type": "subsegment",
        "namespace": "remote",
        "start_time": started,
        "end_time": time.time(),
        "sql": {**_sql(conn), "sanitized_query": statement[:MAX_QUERY]},
    }
    invocation.sent += 1
    if invocation.sent == MAX_PER_INVOCATION:
        document["metadata"] = {"servicedesk": {"limit": MAX_PER_INVOCATION}}
    if error is not None:
        document["fault"] = True
        document["cause"] = {
            "exceptions": [{"id": secrets.token_hex(8), "type": type(error).__name__}]
        }
    _send(address, document)


def instrument(engine: Engine) -> None:
    """Time each statement of ``engine`` and stream it as a subsegment (when sampled)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault(_KEY, []).append(time.time())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started = conn.info.get(_KEY)
        if started:
            _record(conn, statement, started.pop(), None)

    @event.listens_for(engine, "handle_error")
    def _error(context: Any) -> None:
        conn = context.connection
        started = conn.info.get(_KEY) if conn is not None else None
        if started and context.statement is not None:
            _record(conn, context.statement, started.pop(), context.original_exception)
