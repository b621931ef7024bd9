"""Outbox sweeper Lambda, every minute: publish rows a crash or an SQS outage left behind."""

from __future__ import annotations

from typing import Any

from servicedesk.platform.jobs import scheduled
from servicedesk.platform.publisher import sweep

# Stop taking new batches this long before the Lambda timeout: the batch in flight finishes
# and commits; what is left waits for the next minute.
MARGIN_SECONDS = 10.0


@scheduled("outbox sweep", margin_seconds=MARGIN_SECONDS)
def lambda_handler(budget_seconds: float | None) -> dict[str, Any]:
    return {"published": sweep(budget_seconds=budget_seconds)}
