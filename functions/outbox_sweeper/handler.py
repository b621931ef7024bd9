"""Outbox sweeper Lambda, every minute: publish rows a crash or an SQS outage left behind."""

from __future__ import annotations

from typing import Any

from servicedesk.platform.logging import get_logger, log_invocation
from servicedesk.platform.publisher import sweep

logger = get_logger()
# Stop taking new batches this long before the Lambda timeout: the batch in flight finishes
# and commits; what is left waits for the next minute.
MARGIN_SECONDS = 10.0


def _budget(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):  # the local scheduler's context has no clock
        return None
    return max(0.0, int(remaining()) / 1000 - MARGIN_SECONDS)


@log_invocation
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    published = sweep(budget_seconds=_budget(context))
    logger.info("outbox sweep", extra={"published": published, "scheduled_for": event.get("time")})
    return {"published": published}
