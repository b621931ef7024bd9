"""Optional error reporting to Sentry (issue 25 item 6): off by default.

With a DSN (``SERVICEDESK_SENTRY_DSN``, or on Lambda the Secrets Manager secret named by
``SERVICEDESK_SENTRY_DSN_SECRET_ARN``) every line logged at ERROR (an unhandled request
error, an outbox publish that failed, ...) becomes a Sentry event, with the trace id, the
service and the request's labels as tags. Events are scrubbed by the logs' own redaction
(platform.logging.redact: secrets by key, e-mail addresses, bearer tokens and JWTs in any
string), never carry request bodies, cookies, the frames' local variables or the user's
IP (``send_default_pii`` off), and no performance data is sent. Without a DSN
``sentry_sdk`` is never imported (cold start).

On Lambda: ``sentry-sdk`` is in the deps layer, and a stage deployed with
``sentryDsnSecret`` gives every function the secret's name and a read grant, and runs the
functions in the VPC in the egress subnets (DomainFunction): docs/operations.md, "Error
reporting".
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from servicedesk.platform.config import get_settings, resolve_secret
from servicedesk.platform.logging import current_labels, redact

# Labels of the line that raised the event, as the event's tags (searchable in Sentry).
TAGS = ("service", "function_name", "trace_id", "event_type", "ticket_id")


def scrub(event: Any, hint: Any = None) -> Any:
    """What leaves for Sentry, redacted like a log line; no request body or cookies."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "env"):
            request.pop(key, None)
    event.pop("user", None)
    labels = {**(event.get("extra") or {}), **current_labels()}  # the line's, its context's
    tags = event.setdefault("tags", {})
    tags.update({key: str(labels[key]) for key in TAGS if labels.get(key)})
    scrubbed: dict[str, Any] = redact(event)
    return scrubbed


@functools.cache
def init() -> bool:
    """Start reporting when a DSN is configured (once per process); whether it is on."""
    settings = get_settings()
    dsn = resolve_secret(settings.sentry_dsn, settings.sentry_dsn_secret_arn)
    if not dsn:
        return False
    try:
        import sentry_sdk
        from sentry_sdk.integrations.logging import LoggingIntegration
    except ImportError:  # a DSN but no sentry-sdk (a deps layer built without it)
        from servicedesk.platform.logging import get_logger

        get_logger().warning("a Sentry DSN is set but sentry-sdk is not installed")
        return False

    sentry_sdk.init(
        dsn=dsn,
        environment=f"{settings.environment.value}",
        server_name=settings.service_name,
        send_default_pii=False,
        # A frame's locals hold headers, bodies, tokens as reprs no key-based scrub finds.
        include_local_variables=False,
        traces_sample_rate=0.0,
        max_breadcrumbs=20,
        # Only what we log: the logging integration turns ERROR lines into events; the
        # frameworks' auto-enabled integrations would capture request data we do not send.
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
        before_send=scrub,
        before_breadcrumb=lambda crumb, hint: redact(crumb),
    )
    sentry_sdk.set_tag("service", settings.service_name)
    return True
