"""Structured JSON logs through Powertools, with secrets and e-mail addresses redacted.

Labels that belong to one invocation (the Lambda context: function name, request id, cold
start) or, locally, to one request (the function that owns its route) live in a context
variable, never in the logger's shared state: in the local runtime one process serves
every function, and a WebSocket handler's name must not stick to the next HTTP request.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from servicedesk.platform.config import get_settings
from servicedesk.platform.patterns import linear

REDACTED = "[REDACTED]"
SENSITIVE_KEY = re.compile(
    r"pass(word)?|secret|token|authorization|cookie|api[_-]?key|email|credential", re.I
)
# These two scan whatever a log line holds (user text included); with re they take
# quadratic time on a long run of address or token characters, so they run on RE2.
EMAIL = linear(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
JWT = linear(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
SAFE_KEYS = frozenset({"token_type", "expires_in"})


def redact(value: Any, key: str | None = None) -> Any:
    """Redact by key name, then scrub strings for e-mail addresses and bearer tokens."""
    if key is not None and key not in SAFE_KEYS and SENSITIVE_KEY.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else is written as its str() (the JSON serializer's default), so scrub that:
    # Powertools puts the exception object itself in stack_trace.value.
    text = value if isinstance(value, str) else str(value)
    text = BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = JWT.sub(REDACTED, text)
    return EMAIL.sub("[email]", text)


_LABELS: ContextVar[dict[str, Any] | None] = ContextVar("servicedesk_log_labels", default=None)


@contextmanager
def labels(**keys: Any) -> Iterator[None]:
    """Add keys (e.g. service, function_name) to every line logged inside, in this context
    and the threads it hands work to; they are gone afterwards."""
    token = _LABELS.set(
        {**(_LABELS.get() or {}), **{k: v for k, v in keys.items() if v is not None}}
    )
    try:
        yield
    finally:
        _LABELS.reset(token)


def current_labels() -> dict[str, Any]:
    """The labels in force in this context (platform.sentry tags its events with them)."""
    return dict(_LABELS.get() or {})


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: Any) -> str:
        return super().serialize(redact({**dict(log), **(_LABELS.get() or {})}))


Handler = TypeVar("Handler", bound=Callable[..., Any])


def log_invocation(handler: Handler) -> Handler:
    """The Lambda context's keys on every line of one invocation (what Powertools'
    inject_lambda_context adds, but scoped to the invocation instead of the logger)."""
    cold = [True]
    from servicedesk.platform import sentry

    sentry.init()  # off (and nothing imported) unless a DSN is configured

    @functools.wraps(handler)
    def wrapped(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        keys = {
            "function_name": getattr(context, "function_name", None),
            "function_memory_size": getattr(context, "memory_limit_in_mb", None),
            "function_arn": getattr(context, "invoked_function_arn", None),
            "function_request_id": getattr(context, "aws_request_id", None),
            "cold_start": cold[0],
        }
        cold[0] = False
        with labels(**keys):
            return handler(event, context, *args, **kwargs)

    return wrapped  # type: ignore[return-value]


@functools.cache
def get_logger() -> Logger:
    settings = get_settings()
    return Logger(
        service=settings.service_name,
        level=settings.log_level,
        logger_formatter=RedactingFormatter(),
        sampling_rate=settings.log_debug_sample_rate or None,  # 0: no key on every line
    )
