"""Report scheduler Lambda, invoked every 5 minutes by EventBridge Scheduler: scheduled
reports due are rendered and sent through the outbox; expired exports are marked so
(servicedesk.exports.scheduler). A failed tenant fails the invocation; the others commit."""

from __future__ import annotations

import dataclasses
from typing import Any

from servicedesk.exports.scheduler import run
from servicedesk.platform.jobs import scheduled


@scheduled("report scheduling")
def lambda_handler(budget_seconds: float | None) -> dict[str, Any]:
    return dataclasses.asdict(run())
