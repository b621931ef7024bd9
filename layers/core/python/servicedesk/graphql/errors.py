"""GraphQL errors in GraphQL's shape with the problem+json fields in ``extensions``: one
form for the HTTP route and for the subscriptions of the WebSocket API."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from graphql.error import GraphQLSyntaxError

from servicedesk.platform.errors import PROBLEM_BASE, STATUS_SLUGS, ProblemError


def extensions(status: int, code: str, **more: Any) -> dict[str, Any]:
    slug, title = STATUS_SLUGS[status]
    return {"code": code, "type": PROBLEM_BASE + slug, "title": title, "status": status, **more}


def request_error(message: str, code: str, status: int = 400, **more: Any) -> dict[str, Any]:
    return {"message": message, "extensions": extensions(status, code, **more)}


def formatted(error: GraphQLError) -> dict[str, Any]:
    out: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if isinstance(original, ProblemError):
        return out | problem(original)
    code = dict(error.extensions or {}).get("code") or (
        "GRAPHQL_PARSE_FAILED"
        if isinstance(error, GraphQLSyntaxError)
        else "GRAPHQL_VALIDATION_FAILED"
    )
    out["extensions"] = {**dict(error.extensions or {}), **extensions(400, str(code))}
    return out


def problem(exc: ProblemError) -> dict[str, Any]:
    """A service's refusal as a GraphQL error's message and extensions."""
    body = exc.body()
    return {
        "message": exc.detail or exc.title,
        "extensions": {"code": body["type"].rsplit("/", 1)[-1].upper().replace("-", "_"), **body},
    }
