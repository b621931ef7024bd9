"""Idempotency-Key for creating endpoints (invariant 7), kept in the request transaction.

The key row is inserted before the work and completed with the response; a concurrent
request with the same key waits on the row's unique index until the first commits, then
replays. A failed request rolls its key back with everything else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from servicedesk.platform.errors import Conflict, ValidationProblem, field_error
from servicedesk.platform.tenancy import RequestContext

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Retry-safe creation: the same key replays the first response.",
    ),
]


def _fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def begin(
    ctx: RequestContext, key: str | None, *, method: str, path: str, body: Any
) -> JSONResponse | None:
    """None to proceed, or the stored response of the first request with this key."""
    if key is None:
        return None
    fingerprint = _fingerprint(method, path, body)
    inserted = ctx.session.execute(
        text(
            "INSERT INTO idempotency_keys (tenant_id, user_id, key, method, path, request_hash)"
            " VALUES (:t, :u, :k, :m, :p, :h) ON CONFLICT DO NOTHING RETURNING 1"
        ),
        {"t": ctx.tenant_id, "u": ctx.user_id, "k": key, "m": method, "p": path, "h": fingerprint},
    ).first()
    if inserted:
        return None
    row = ctx.session.execute(
        text(
            "SELECT request_hash, status_code, response_body FROM idempotency_keys"
            " WHERE tenant_id = :t AND user_id = :u AND key = :k"
        ),
        {"t": ctx.tenant_id, "u": ctx.user_id, "k": key},
    ).one()
    if row.request_hash != fingerprint:
        raise ValidationProblem(
            "this Idempotency-Key was used for a different request",
            errors=[field_error("Idempotency-Key", "reused with a different request")],
        )
    if row.status_code is None:
        raise Conflict("a request with this Idempotency-Key is still in progress")
    return JSONResponse(
        row.response_body, status_code=row.status_code, headers={"Idempotent-Replayed": "true"}
    )


def complete(ctx: RequestContext, key: str | None, *, status: int, body: Any) -> None:
    if key is None:
        return
    ctx.session.execute(
        text(
            "UPDATE idempotency_keys SET status_code = :s, response_body = CAST(:b AS jsonb)"
            " WHERE tenant_id = :t AND user_id = :u AND key = :k"
        ),
        {"s": status, "b": json.dumps(body), "t": ctx.tenant_id, "u": ctx.user_id, "k": key},
    )


def once(
    ctx: RequestContext,
    path: str,
    key: str | None,
    body: Any,
    make: Callable[[], BaseModel],
    *,
    status: int = 201,
) -> Any:
    """Run a POST's work once per Idempotency-Key: a retry replays the first response."""
    replay = begin(ctx, key, method="POST", path=path, body=body.model_dump(mode="json"))
    if replay is not None:
        return replay
    result = make()
    complete(ctx, key, status=status, body=result.model_dump(mode="json"))
    return result
