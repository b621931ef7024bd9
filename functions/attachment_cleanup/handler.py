"""Attachment cleanup Lambda, invoked by EventBridge Scheduler.

Removes uploads left pending past their form's expiry (plus a grace period to complete),
and the objects of deleted and rejected attachments (the asynchronous half of a delete).
A late or repeated run is harmless: rows are locked with SKIP LOCKED and marked once. A
failed tenant fails the invocation (``jobs.scheduled``); the others are committed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servicedesk.attachments.service import run_cleanup
from servicedesk.platform.jobs import scheduled


@scheduled("attachment cleanup")
def lambda_handler(budget_seconds: float | None) -> dict[str, Any]:
    report = run_cleanup(datetime.now(UTC))
    return {
        "tenants": report.tenants,
        "expired": report.expired,
        "removed": report.removed,
        "failed_tenants": report.failed_tenants,
    }
