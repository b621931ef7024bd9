"""Automation time rules Lambda, invoked every 5 minutes by EventBridge Scheduler
(servicedesk/automation/timed.py). A failed tenant fails the invocation; the others are
committed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servicedesk.automation.timed import run
from servicedesk.platform.jobs import scheduled


@scheduled("automation time rules")
def lambda_handler(budget_seconds: float | None) -> dict[str, Any]:
    report = run(datetime.now(UTC))
    return {
        "tenants": report.tenants,
        "fired": report.fired,
        "failed_tenants": report.failed_tenants,
    }
