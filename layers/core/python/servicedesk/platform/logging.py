"""Structured JSON logs through Powertools, with secrets and e-mail addresses redacted."""

from __future__ import annotations

import functools
import re
from typing import Any

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


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: Any) -> str:
        return super().serialize(redact(dict(log)))


@functools.cache
def get_logger() -> Logger:
    settings = get_settings()
    return Logger(
        service=settings.service_name,
        level=settings.log_level,
        logger_formatter=RedactingFormatter(),
    )
