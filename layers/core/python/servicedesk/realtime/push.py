"""The API Gateway management API (@connections): post frames, close connections.

Only the broadcaster calls this module (it alone holds execute-api:ManageConnections).
The endpoint is ``websocket_management_url``: ``https://{domain}/{stage}`` in AWS, the
local gateway in ``make dev``; boto3 signs and posts to it exactly the same way.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from servicedesk.platform.config import get_settings
from servicedesk.platform.logging import get_logger

GONE = "GoneException"


@functools.cache
def _client(endpoint_url: str, pool: int) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 2, "mode": "standard"},
        max_pool_connections=pool,
        # Our own calls only, with ids we read from the registry: skip per-call validation.
        parameter_validation=False,
    )
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint_url, config=config)


def client() -> Any:
    settings = get_settings()
    if not settings.websocket_management_url:
        raise RuntimeError(
            "no WebSocket management endpoint (SERVICEDESK_WEBSOCKET_MANAGEMENT_URL)"
        )
    return _client(
        settings.websocket_management_url.rstrip("/"), settings.websocket_push_concurrency
    )


def encode(frame: dict[str, Any], *, limit: int | None = None) -> bytes | None:
    """Compact JSON under the push limit: a frame that outgrows it loses its summary
    (``data``) and says so; one still too large is not sent (None)."""
    limit = limit or get_settings().websocket_max_push_bytes
    body = json.dumps(frame, separators=(",", ":"), default=str).encode()
    if len(body) <= limit:
        return body
    slim = {k: v for k, v in frame.items() if k != "data"} | {"truncated": True}
    body = json.dumps(slim, separators=(",", ":"), default=str).encode()
    if len(body) <= limit:
        return body
    get_logger().warning("realtime frame over the limit dropped", extra={"bytes": len(body)})
    return None


@dataclass
class Outcome:
    sent: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)


def _is_gone(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == GONE


def post_all(frames: dict[str, bytes]) -> Outcome:
    """Post each connection its frame, in parallel. Gone connections are reported (the
    caller forgets them); other failures are logged, never raised: one bad connection
    must not make the queue redeliver the event to everyone else."""
    outcome = Outcome()
    if not frames:
        return outcome
    api = client()

    def post(item: tuple[str, bytes]) -> tuple[str, str]:
        connection_id, data = item
        try:
            api.post_to_connection(ConnectionId=connection_id, Data=data)
        except (ClientError, BotoCoreError) as exc:
            if _is_gone(exc):
                return connection_id, "gone"
            get_logger().warning(
                "realtime push failed",
                extra={"connection_id": connection_id, "error": type(exc).__name__},
            )
            return connection_id, "failed"
        return connection_id, "sent"

    workers = min(len(frames), get_settings().websocket_push_concurrency)
    results = _run(post, list(frames.items()), workers)
    for connection_id, result in results:
        getattr(outcome, result).add(connection_id)
    return outcome


def close_all(connection_ids: Iterable[str], *, reason: str) -> Outcome:
    """Tell each connection why, then close it (DeleteConnection). Gone counts as closed."""
    ids = list(dict.fromkeys(connection_ids))
    notice = encode({"type": "closing", "reason": reason}) or b"{}"
    posted = post_all(dict.fromkeys(ids, notice))
    outcome = Outcome(gone=set(posted.gone))
    api = client()

    def delete(connection_id: str) -> tuple[str, str]:
        try:
            api.delete_connection(ConnectionId=connection_id)
        except (ClientError, BotoCoreError) as exc:
            if _is_gone(exc):
                return connection_id, "gone"
            get_logger().warning(
                "realtime close failed",
                extra={"connection_id": connection_id, "error": type(exc).__name__},
            )
            return connection_id, "failed"
        return connection_id, "sent"

    alive = [c for c in ids if c not in posted.gone]
    workers = max(1, min(len(alive), get_settings().websocket_push_concurrency))
    for connection_id, result in _run(delete, alive, workers):
        getattr(outcome, result).add(connection_id)
    return outcome


def _run(fn: Any, items: list[Any], workers: int) -> list[tuple[str, str]]:
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ws-push") as pool:
        return list(pool.map(fn, items))
