"""Outbox sweeper Lambda, every minute: publish rows a crash or an SQS outage left behind."""

from __future__ import annotations

from typing import Any

from servicedesk.platform.jobs import time_budget
from servicedesk.platform.logging import get_logger, log_invocation
from servicedesk.platform.publisher import sweep

logger = get_logger()
# Stop taking new batches this long before the Lambda timeout: the batch in flight finishes
# and commits; what is left waits for the next minute.
MARGIN_SECONDS = 10.0


@log_invocation
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    published = sweep(budget_seconds=time_budget(context, margin_seconds=MARGIN_SECONDS))
    logger.info("outbox sweep", extra={"published": published, "scheduled_for": event.get("time")})
    return {"published": published}
