"""Attachment cleanup Lambda, invoked by EventBridge Scheduler.

Removes uploads left pending past their form's expiry (plus a grace period to complete),
and the objects of deleted and rejected attachments (the asynchronous half of a delete).
A late or repeated run is harmless: rows are locked with SKIP LOCKED and marked once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servicedesk.attachments.cleanup import run_cleanup
from servicedesk.platform.logging import get_logger, log_invocation

logger = get_logger()


@log_invocation
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = run_cleanup(datetime.now(UTC))
    result = {
        "scheduled_for": event.get("time"),
        "tenants": report.tenants,
        "expired": report.expired,
        "removed": report.removed,
        "failed_tenants": report.failed_tenants,
    }
    logger.info("attachment cleanup", extra=result)
    if report.failed_tenants:
        # Fail the invocation so the schedule's retries and DLQ see it; finished tenants
        # are committed and will not be processed twice.
        raise RuntimeError(f"{len(report.failed_tenants)} tenant(s) failed")
    return result
