"""CSAT sender Lambda, invoked every five minutes by EventBridge Scheduler: hands the
delayed satisfaction surveys that are due to the e-mail consumer (a ``csat.survey_due``
event each), and cancels those whose ticket was reopened (``servicedesk.csat.sender``).

A late or repeated run hands nothing over twice: due rows are taken with SKIP LOCKED and
leave the due set in the statement that writes their event; the consumer claims each
mail in ``deliveries``. A failed tenant fails the invocation (``jobs.scheduled``); the
others are committed.
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
        "queued": report.queued,
        "cancelled": report.cancelled,
        "failed_tenants": report.failed_tenants,
    }
