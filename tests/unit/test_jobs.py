"""The scheduled-handler wrapper (platform.jobs.scheduled): the job's budget, its log line and
its failure (the per-tenant loop runs on the real database in tests/integration/test_jobs.py)."""

from __future__ import annotations

from typing import Any

import pytest

from servicedesk.platform.jobs import scheduled
from tests.events import TimedLambdaContext


def test_the_scheduled_handler_gives_the_job_its_remaining_time_less_the_margin(log_lines):
    budgets: list[float | None] = []

    @scheduled("test schedule", margin_seconds=10.0)
    def handler(budget: float | None) -> dict[str, Any]:
        budgets.append(budget)
        return {"done": len(budgets)}

    event = {"time": "2026-12-05T08:00:00Z"}
    assert handler(event, TimedLambdaContext(30_000)) == {"done": 1}
    assert handler(event, TimedLambdaContext(4_000)) == {
        "done": 2
    }  # past the margin: nothing to start
    assert handler(event, object()) == {"done": 3}  # the local scheduler: no clock
    assert budgets == [20.0, 0.0, None]
    lines = [line for line in log_lines() if line["message"] == "test schedule"]
    assert [line["done"] for line in lines] == [1, 2, 3]
    assert {line["scheduled_for"] for line in lines} == {event["time"]}
    assert lines[0]["function_request_id"] == "req-sweeper"

    @scheduled("unbudgeted")
    def plain(budget: float | None) -> dict[str, Any]:
        budgets.append(budget)
        return {}

    plain(event, TimedLambdaContext(30_000))
    assert budgets[-1] is None


def test_a_failed_tenant_fails_the_scheduled_invocation_after_its_log_line(log_lines):
    @scheduled("test schedule")
    def handler(budget: float | None) -> dict[str, Any]:
        return {"tenants": 2, "failed_tenants": ["t1"]}

    with pytest.raises(RuntimeError, match="1 tenant"):
        handler({"time": "2026-12-05T08:00:00Z"}, TimedLambdaContext(30_000))
    [line] = [line for line in log_lines() if line["message"] == "test schedule"]
    assert line["failed_tenants"] == ["t1"] and line["tenants"] == 2
