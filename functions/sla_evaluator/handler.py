"""SLA evaluator Lambda, invoked every minute by EventBridge Scheduler.

It evaluates at the current time, whatever the event's scheduled time: crossings carry
their own precomputed instants, and a late or repeated run records nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servicedesk.platform.jobs import time_budget
from servicedesk.platform.logging import get_logger, log_invocation
from servicedesk.sla.evaluator import run

logger = get_logger()
# Stop publishing this long before the Lambda timeout: the remaining tenants are still
# evaluated and committed, and the outbox sweeper sends their events.
PUBLISH_MARGIN_SECONDS = 20.0


@log_invocation
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = run(
        datetime.now(UTC),
        publish_budget_seconds=time_budget(context, margin_seconds=PUBLISH_MARGIN_SECONDS),
    )
    result = {
        "scheduled_for": event.get("time"),
        "tenants": report.tenants,
        "crossings": report.crossings,
        "failed_tenants": report.failed_tenants,
    }
    logger.info("sla evaluation", extra=result)
    if report.failed_tenants:
        # Fail the invocation so the schedule's retry policy and DLQ see it; the tenants
        # that succeeded are committed and will not be counted twice.
        raise RuntimeError(f"{len(report.failed_tenants)} tenant(s) failed")
    return result
