"""Idempotency-Key for creating endpoints (invariant 7), kept in the request transaction.

One mechanism for every POST: ``once``. The key row is inserted before the work and
completed with the response; a concurrent request with the same key waits on the row's
unique index until the first commits, then replays. A failed request rolls its key back
with everything else. A replay is raised (``Replayed``) and answered by the app's handler
with the stored status, body and content type (``application/problem+json`` for a stored
problem), so routes return their typed models and never a replay response themselves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection
from typing import Annotated, Any, TypeVar

from fastapi import Header
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import text

from servicedesk.platform.errors import PROBLEM_JSON, Conflict, ValidationProblem, field_error
from servicedesk.platform.tenancy import RequestContext

T = TypeVar("T", bound=BaseModel | Response)
# What a fingerprint keeps of a redacted field: that it was there, never its value.
REDACTED = "<redacted>"

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


class Replayed(Exception):
    """A retry of a completed request: its stored response goes out again (see
    ``platform.app.install_error_handlers``). Raising rolls back only the key lookup."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body

    def response(self) -> JSONResponse:
        headers = {"Idempotent-Replayed": "true"}
        # Every error this API answers is a problem document (invariant: problem+json).
        media_type = PROBLEM_JSON if self.status >= 400 else "application/json"
        return JSONResponse(
            self.body, status_code=self.status, headers=headers, media_type=media_type
        )


def begin(ctx: RequestContext, key: str | None, *, method: str, path: str, body: Any) -> None:
    """Claim ``key`` for this request, or raise ``Replayed`` with the first response."""
    if key is None:
        return
    fingerprint = _fingerprint(method, path, body)
    inserted = ctx.session.execute(
        text(
            "INSERT INTO idempotency_keys (tenant_id, user_id, key, method, path, request_hash)"
            " VALUES (:t, :u, :k, :m, :p, :h) ON CONFLICT DO NOTHING RETURNING 1"
        ),
        {"t": ctx.tenant_id, "u": ctx.user_id, "k": key, "m": method, "p": path, "h": fingerprint},
    ).first()
    if inserted:
        return
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
    raise Replayed(row.status_code, row.response_body)


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
    body: BaseModel | None,
    make: Callable[[], T],
    *,
    status: int = 201,
    redact: Collection[str] = (),
) -> T:
    """Run a POST's work once per Idempotency-Key: a retry replays the first response.

    ``make`` returns the typed result, or a ``Response`` whose JSON body must commit with
    the work (a rejection recorded in the database); either is stored for replays with its
    status. Fields in ``redact`` (a password) are fingerprinted by presence, not value."""
    fingerprint = None if body is None else body.model_dump(mode="json")
    for name in redact:
        if fingerprint is not None and fingerprint.get(name) is not None:
            fingerprint[name] = REDACTED
    begin(ctx, key, method="POST", path=path, body=fingerprint)
    result = make()
    if isinstance(result, Response):
        complete(ctx, key, status=result.status_code, body=json.loads(bytes(result.body)))
    else:
        complete(ctx, key, status=status, body=result.model_dump(mode="json"))
    return result
