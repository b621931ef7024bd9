"""CSAT sender Lambda, invoked every five minutes by EventBridge Scheduler: mails the
delayed satisfaction surveys that are due (``servicedesk.csat.sender``).

A late or repeated run mails nothing twice: due rows are taken with SKIP LOCKED and each
mail is claimed in ``deliveries``. A failed tenant fails the invocation
(``jobs.scheduled``); the others are committed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servicedesk.csat.sender import run
from servicedesk.platform.jobs import scheduled


@scheduled("csat sending")
def lambda_handler(budget_seconds: float | None) -> dict[str, Any]:
    report = run(datetime.now(UTC))
    return {
        "tenants": report.tenants,
        "sent": report.sent,
        "cancelled": report.cancelled,
        "unmailable": report.unmailable,
        "failed": report.failed,
        "failed_tenants": report.failed_tenants,
    }
