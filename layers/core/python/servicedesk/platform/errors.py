"""RFC 9457 problem details: one exception-to-HTTP table for every API (invariant 5)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://servicedesk.dev/problems/"


class OwnFormatError(Exception):
    """A failure answered in a format a protocol prescribes instead of problem+json (SCIM's
    error document, RFC 7644 §3.12): ``status``, ``media_type``, ``body()``, ``headers``."""

    status: int = 400
    media_type: str = "application/json"
    headers: dict[str, str]

    def body(self) -> dict[str, Any]:
        raise NotImplementedError


class ProblemError(Exception):
    """A failure the client should hear about. Subclasses fix status and type."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        return problem_body(
            status=self.status,
            slug=self.slug,
            title=self.title,
            detail=self.detail,
            instance=instance,
            errors=self.errors,
            **self.extra,
        )


def problem_body(
    *,
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def field_error(field: str, message: str, *, pointer: str | None = None) -> dict[str, Any]:
    return {"field": field, "pointer": pointer or "/" + field.replace(".", "/"), "detail": message}


class ValidationProblem(ProblemError):
    status, slug, title = 422, "validation-error", "Request validation failed"


class BadRequest(ProblemError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="servicedesk"'})
        super().__init__(detail, **kwargs)


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(ProblemError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class Gone(ProblemError):
    status, slug, title = 410, "gone", "Gone"


class PreconditionFailed(ProblemError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class TooManyRequests(ProblemError):
    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        super().__init__(detail, **kwargs)


class ServiceUnavailable(ProblemError):
    status, slug, title = 503, "unavailable", "Service unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        super().__init__(detail, **kwargs)


# Status codes Starlette raises on its own (unknown route, wrong method, ...).
STATUS_SLUGS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    408: ("request-timeout", "Request timeout"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition failed"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Request validation failed"),
    428: ("precondition-required", "Precondition required"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal-error", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}


class PreconditionRequired(ProblemError):
    status, slug, title = 428, "precondition-required", "Precondition required"


# --- validation errors in words a person reads --------------------------------------------
# pydantic says "String should have at least 3 characters"; a form says "must be at least 3
# characters". Every pydantic error type maps here (a test walks them all); the error's
# ``code`` keeps pydantic's type for programs.

_OBJECT = "must be an object"
_LIST = "must be a list"
_NUMBER = "must be a number"
_DATE = "must be a date (YYYY-MM-DD)"
_TIME = "must be a time of day (HH:MM)"
_DATETIME = "must be a date and time (ISO 8601, e.g. 2026-01-31T09:00:00Z)"
_INVALID = "is not a valid value"

VALIDATION_MESSAGES: dict[str, str] = {
    "missing": "is required",
    "missing_argument": "is required",
    "missing_keyword_only_argument": "is required",
    "missing_positional_only_argument": "is required",
    "extra_forbidden": "is not a field this request accepts",
    "unexpected_keyword_argument": "is not a field this request accepts",
    "unexpected_positional_argument": "is not a field this request accepts",
    "multiple_argument_values": "is given more than once",
    "none_required": "must be null",
    "frozen_field": "cannot be changed",
    "frozen_instance": "cannot be changed",
    "invalid_key": "must have text keys",
    "string_type": "must be text",
    "string_unicode": "must be valid UTF-8 text",
    "string_too_short": "must be at least {min_length} characters",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "is not in the expected format",
    "string_not_ascii": "must contain only ASCII characters",
    "too_short": "must have at least {min_length} items",
    "too_long": "must have at most {max_length} items",
    "bytes_type": "must be text",
    "bytes_too_short": "must be at least {min_length} bytes",
    "bytes_too_long": "must be at most {max_length} bytes",
    "bytes_invalid_encoding": "must be valid {encoding}",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing_size": "is too large a number",
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "fraction_type": _NUMBER,
    "fraction_parsing": _NUMBER,
    "complex_type": _NUMBER,
    "complex_str_parsing": _NUMBER,
    "finite_number": "must be a finite number",
    "decimal_max_digits": "must have at most {max_digits} digits",
    "decimal_max_places": "must have at most {decimal_places} decimal places",
    "decimal_whole_digits": "must have at most {whole_digits} digits before the decimal point",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "multiple_of": "must be a multiple of {multiple_of}",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "enum": "must be one of {expected}",
    "literal_error": "must be one of {expected}",
    "dict_type": _OBJECT,
    "mapping_type": _OBJECT,
    "frozen_dict_type": _OBJECT,
    "ordered_dict_type": _OBJECT,
    "counter_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dataclass_type": _OBJECT,
    "dataclass_exact_type": _OBJECT,
    "arguments_type": _OBJECT,
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "frozen_set_type": _LIST,
    "deque_type": _LIST,
    "iterable_type": _LIST,
    "named_tuple_type": _LIST,
    "iteration_error": _LIST,
    "set_item_not_hashable": "must hold only plain values",
    "uuid_type": "must be a valid UUID",
    "uuid_parsing": "must be a valid UUID",
    "uuid_version": "must be a version {expected_version} UUID",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": "must be a date without a time of day",
    "date_past": "must be in the past",
    "date_future": "must be in the future",
    "time_type": _TIME,
    "time_parsing": _TIME,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_past": "must be in the past",
    "datetime_future": "must be in the future",
    "timezone_naive": "must not have a time zone",
    "timezone_aware": "must include a time zone offset (e.g. Z or +02:00)",
    "timezone_offset": "must have the time zone offset {tz_expected}",
    "time_delta_type": "must be a duration",
    "time_delta_parsing": "must be a duration",
    "url_type": "must be a valid URL",
    "url_parsing": "must be a valid URL",
    "url_syntax_violation": "must be a valid URL",
    "url_too_long": "must be at most {max_length} characters",
    "url_scheme": "must be a URL starting with {expected_schemes}",
    "json_invalid": "is not valid JSON",
    "json_type": "must be JSON text",
    "union_tag_invalid": "has an unknown {discriminator}; expected {expected_tags}",
    "union_tag_not_found": "must include {discriminator}",
    "recursion_loop": "is nested too deeply",
    "recursion_depth_exceeded": "is nested too deeply",
    # Types only Python callers can cause; a request body can never produce them.
    "no_such_attribute": _INVALID,
    "get_attribute_error": _INVALID,
    "needs_python_object": _INVALID,
    "default_factory_not_called": _INVALID,
    "is_instance_of": _INVALID,
    "is_subclass_of": _INVALID,
    "callable_type": _INVALID,
    "missing_sentinel_error": _INVALID,
    "ellipsis_error": _INVALID,
}


def validation_message(error: Mapping[str, Any]) -> str:
    """A pydantic error (``{"type", "msg", "ctx"}``) as a phrase that follows the field name:
    "is required", "must be at least 3 characters". Our own validators' ``ValueError``
    messages are already written that way."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error") or _INVALID)
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind == "too_short" and ctx.get("min_length") == 1:
        return "must have at least one item"
    template = VALIDATION_MESSAGES.get(kind, _INVALID)
    try:
        return template.format_map({k: _plain(v) for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return template.split("{", 1)[0].strip() if "{" in template else template


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def validation_errors(
    errors: Iterable[Mapping[str, Any]], *, prefix: str = ""
) -> list[dict[str, Any]]:
    """pydantic errors as problem field errors: the field's dotted path (without FastAPI's
    body/query/path/header head, which goes to ``in``), the phrase, and ``code``."""
    out = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        where = loc[0] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else None
        parts = loc[1:] if where else loc
        if err.get("type") == "json_invalid":
            out.append(
                {**field_error("body", "is not valid JSON"), "in": "body", "code": "json_invalid"}
            )
            continue
        entry = {
            **field_error(prefix + ".".join(parts) or where or "body", validation_message(err)),
            "code": str(err.get("type", "value_error")),
        }
        if where:
            entry["in"] = where
        out.append(entry)
    return out


def validation_detail(errors: list[dict[str, Any]]) -> str:
    """The problem's one-line detail: the first few field errors, as sentences."""
    shown = [f"{e['field']} {e['detail']}" for e in errors[:3]]
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more > 0 else "")
