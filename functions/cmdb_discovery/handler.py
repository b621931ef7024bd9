"""CMDB AWS discovery Lambda, invoked every minute by EventBridge Scheduler: each enabled
discovery source due gets a run, and queued runs (due ones and "Run now") are made while
the invocation's time lasts (servicedesk.cmdb.discovery_runs). A failed tenant fails the
invocation; the others commit."""

from __future__ import annotations

import dataclasses
from typing import Any

from servicedesk.cmdb.discovery_runs import tick
from servicedesk.platform.jobs import scheduled


@scheduled("cmdb discovery", margin_seconds=10)
def lambda_handler(budget_seconds: float | None) -> dict[str, Any]:
    return dataclasses.asdict(tick(budget_seconds=budget_seconds))
