"""``registry.check_params``: the one check of a report's parameters that the API, export
jobs, subscriptions and the scheduler share; unknown parameters refused, fields named with
the caller's prefix."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from servicedesk.exports import params as checks
from servicedesk.platform.errors import ValidationProblem
from servicedesk.reports.registry import check_params
from servicedesk.reports.window import ReportParams


def _fields(exc: pytest.ExceptionInfo[ValidationProblem]) -> set[str]:
    return {e["field"] for e in exc.value.errors or []}


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("nope", {}, "report"),
        (None, {}, "report"),
        ("volume", {"bogus": 1}, "params.bogus"),
        ("volume", {"group_by": "policy"}, "params.group_by"),  # sla-compliance's only
        ("agent-performance", {"interval": "day"}, "params.interval"),
        ("volume", {"tz": "Mars/Olympus"}, "params.tz"),
        ("volume", {"since": "2026-03-02", "until": "2026-03-01"}, "params.until"),
        ("volume", {"priority": "urgent"}, "params.priority"),
    ],
)
def test_bad_parameters_name_the_field_with_the_prefix(
    name: str | None, params: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationProblem) as exc:
        check_params(name, params, prefix="params.")
    assert _fields(exc) == {field}
    assert all(e["pointer"] == "/" + e["field"].replace(".", "/") for e in exc.value.errors or [])
    with pytest.raises(ValidationProblem) as same:  # the exports' entry point is this check
        checks.report_params(name, params)
    assert _fields(same) == {field}


def test_checked_parameters_and_their_window() -> None:
    params, window = check_params(
        "agent-performance", {"since": "2026-03-01", "until": "2026-03-07", "tz": "Europe/Paris"}
    )
    assert params.group_by == "agent"  # agent-performance is always by agent
    assert (window.since, window.until, window.tz) == (
        date(2026, 3, 1),
        date(2026, 3, 7),
        "Europe/Paris",
    )
    unchanged, _ = check_params("volume", ReportParams(interval="week"))
    assert unchanged.interval == "week"


def test_report_params_refuse_unknown_names() -> None:
    with pytest.raises(ValidationError) as exc:
        ReportParams.model_validate({"tz": "UTC", "teamid": "x"})
    assert [e["loc"] for e in exc.value.errors()] == [("teamid",)]
