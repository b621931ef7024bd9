"""Outbox sweeper Lambda, every minute: publish rows a crash or an SQS outage left behind."""

from __future__ import annotations

from typing import Any

from servicedesk.platform.logging import get_logger
from servicedesk.platform.publisher import sweep

logger = get_logger()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    published = sweep()
    logger.info("outbox sweep", extra={"published": published, "scheduled_for": event.get("time")})
    return {"published": published}
