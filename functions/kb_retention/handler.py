"""Knowledge base retention Lambda, invoked daily by EventBridge Scheduler: deletes search
log and deflection rows older than each tenant's ``kb.activity_retention_days``
(``servicedesk.kb.retention``). A repeated run deletes nothing more. A failed tenant fails
the invocation (``jobs.scheduled``); the others are committed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servicedesk.kb.retention import run
from servicedesk.platform.jobs import scheduled


@scheduled("kb retention")
def lambda_handler(budget_seconds: float | None) -> dict[str, Any]:
    report = run(datetime.now(UTC))
    return {
        "tenants": report.tenants,
        "deleted": report.deleted,
        "failed_tenants": report.failed_tenants,
    }
