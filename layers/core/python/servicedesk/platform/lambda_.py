"""Lambda entry-point factories: the same FastAPI routers, behind Mangum, with Powertools."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def settle_heap() -> None:
    """Once initialization is done: what it loaded stays for the life of the process, so
    move it out of the cyclic collector's way (``gc.freeze``). A full collection otherwise
    walks every object the app loaded: ~300,000 in one API process, 230-240 ms each, which
    gave agent-performance a 400 ms p95 tail at 1,000,000 tickets (docs/benchmarks.md).
    After the freeze it walks only what the requests made. Garbage first, so none of it
    becomes permanent."""
    import gc

    gc.collect()
    gc.freeze()


def domain_handler(*routers: APIRouter, title: str = "Servicedesk API") -> LambdaHandler:
    """FastAPI app with ``routers`` + Mangum (lifespan off) + Powertools logger and metrics."""
    from aws_lambda_powertools import Metrics
    from mangum import Mangum
    from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

    from servicedesk.platform.app import create_app
    from servicedesk.platform.config import get_settings
    from servicedesk.platform.logging import log_invocation
    from servicedesk.platform.snapstart import register as register_snapstart_hooks

    settings = get_settings()
    app = create_app(*routers, title=title)
    # Problem details are text: without this Mangum base64-encodes every error body.
    adapter = Mangum(
        app,
        lifespan="off",
        text_mime_types=[
            *DEFAULT_TEXT_MIME_TYPES,
            "application/problem+json",
            "application/scim+json",
        ],
    )
    metrics = Metrics(namespace="Servicedesk", service=settings.service_name)

    @metrics.log_metrics(capture_cold_start_metric=True)
    @log_invocation
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response: dict[str, Any] = adapter(event, context)
        return response

    # The API functions run with SnapStart (stacks/api.py): initialization up to here is in
    # the snapshot, and the hooks reconnect what must not be shared between its copies.
    register_snapstart_hooks()
    settle_heap()
    wrapped: LambdaHandler = handler
    return wrapped
