"""Optimistic concurrency for updates (invariant 7): the version the client read, as
``If-Match: "3"`` or a ``version`` field; missing answers 428, stale answers 412."""

from __future__ import annotations

from servicedesk.platform.errors import (
    PreconditionFailed,
    PreconditionRequired,
    ValidationProblem,
    field_error,
)


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    stripped = value.strip().removeprefix("W/").strip('"')
    if not stripped.isdigit():
        raise ValidationProblem(errors=[field_error("If-Match", 'must be a version ETag like "3"')])
    return int(stripped)


def expected_version(body_version: int | None, if_match: int | None) -> int:
    """The version the client read (the body wins over If-Match), or 428."""
    expected = body_version if body_version is not None else if_match
    if expected is None:
        raise PreconditionRequired(
            "send the version you read, as If-Match or in the body",
            errors=[field_error("If-Match", "required")],
        )
    return expected


def check_version(current: int, expected: int, *, what: str) -> None:
    if current != expected:
        raise PreconditionFailed(
            f"the {what} was changed by someone else; reload", current_version=current
        )


def check_etag(if_match: str | None, current: str, *, what: str = "the settings") -> None:
    """Whole-document replacements (settings) compare the caller's If-Match with the
    current ETag: missing is 428, stale is 412."""
    if if_match is None:
        raise PreconditionRequired(errors=[field_error("If-Match", "required")])
    if if_match.strip() != current:
        raise PreconditionFailed(f"{what} were changed by someone else; reload")
