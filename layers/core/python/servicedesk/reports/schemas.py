"""The shape of a report's answer, shared by the API, the renderers (CSV, JSON, PDF), the
asynchronous exports and the scheduled deliveries.

A report is a table: ``rows`` of values keyed by measure, each row optionally in a time
``bucket`` (the start of the local day/week/month in ``tz``, ISO date) and/or a ``group``
(team, agent, category, priority, channel or type). ``totals`` holds the same measures over
the whole range and filter. ``drilldown`` on a row gives the ticket-list query parameters
(``GET /v1/tickets``) that list exactly the tickets the row counts, when there is such a list.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Unit = Literal["count", "seconds", "ratio", "score"]
Interval = Literal["day", "week", "month"]
# "policy": sla-compliance only (the old route's grouping)
GroupBy = Literal["team", "agent", "category", "priority", "channel", "type", "policy"]
Chart = Literal["line", "bar", "stacked_bar", "table"]


class Measure(BaseModel):
    key: str = Field(description="Key of the value in each row's `values`")
    label: str
    unit: Unit
    description: str = ""


class GroupKey(BaseModel):
    id: str | None = Field(None, description="Id of the team/agent/category, or the value")
    label: str


class ReportRow(BaseModel):
    bucket: date | None = Field(None, description="Start of the local period (interval)")
    group: GroupKey | None = None
    values: dict[str, float | int | None]
    drilldown: dict[str, str] | None = Field(
        None,
        description="Ticket list query parameters (GET /v1/tickets) that list the tickets of"
        " this row's first count; a value with commas is a repeated parameter",
    )
    drilldowns: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Measure key -> the ticket list query listing the tickets that count"
        " (docs/reports.md, Drill-down); a measure without one has no exact list",
    )


class ReportResult(BaseModel):
    report: str = Field(description="The report's name in the catalogue")
    title: str
    since: datetime
    until: datetime
    tz: str
    interval: Interval | None = None
    group_by: GroupBy | None = None
    filters: dict[str, str] = Field(default_factory=dict)
    measures: list[Measure]
    rows: list[ReportRow]
    totals: dict[str, float | int | None] = Field(default_factory=dict)
    totals_drilldowns: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="As a row's drilldowns, for the totals"
    )
    chart: Chart = "table"
    generated_at: datetime
    notes: list[str] = Field(default_factory=list, description="Definitions, caveats")


class ReportInfo(BaseModel):
    """One entry of the catalogue ``GET /v1/reports``."""

    name: str
    title: str
    description: str
    measures: list[Measure]
    group_by: list[GroupBy]
    intervals: list[Interval]
    filters: list[str]
    chart: Chart


__all__ = [
    "Chart",
    "GroupBy",
    "GroupKey",
    "Interval",
    "Measure",
    "ReportInfo",
    "ReportResult",
    "ReportRow",
    "Unit",
]
