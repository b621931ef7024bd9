"""SLA evaluator Lambda, invoked every minute by EventBridge Scheduler; approval stages
that wait past their due time are reminded and escalated in the same pass
(servicedesk/approvals/timers.py).

It evaluates at the current time, whatever the event's scheduled time: crossings carry
their own precomputed instants, and a late or repeated run records nothing twice. A failed
tenant fails the invocation (``jobs.scheduled``); the others are committed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servicedesk.platform.jobs import scheduled
from servicedesk.sla.evaluator import run

# Stop publishing this long before the Lambda timeout: the remaining tenants are still
# evaluated and committed, and the outbox sweeper sends their events.
PUBLISH_MARGIN_SECONDS = 20.0


@scheduled("sla evaluation", margin_seconds=PUBLISH_MARGIN_SECONDS)
def lambda_handler(budget_seconds: float | None) -> dict[str, Any]:
    now = datetime.now(UTC)
    report = run(now, publish_budget_seconds=budget_seconds)
    # The approval stages that wait too long ride on the same timer (servicedesk/approvals).
    from servicedesk.approvals import timers

    approvals = timers.run(now)
    return {
        "tenants": report.tenants,
        "crossings": report.crossings,
        "approvals_reminded": approvals.reminded,
        "approvals_escalated": approvals.escalated,
        "failed_tenants": report.failed_tenants + approvals.failed_tenants,
    }
