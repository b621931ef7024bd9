"""The report catalogue and ``run_report``: every report answers with ``ReportResult``.

Callers: the API (servicedesk.reports.routes), the renderers and the deliveries. The query
runs in ``ctx``'s tenant transaction; nothing here checks roles (the routes do).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import text

from servicedesk.platform.errors import (
    NotFound,
    ValidationProblem,
    field_error,
    validation_errors,
)
from servicedesk.platform.tenancy import RequestContext
from servicedesk.reports import cache, definitions, drilldown
from servicedesk.reports.definitions import AGE_BANDS, SLA_TARGETS, Compute
from servicedesk.reports.query import Cell, labels
from servicedesk.reports.schemas import (
    Chart,
    GroupBy,
    GroupKey,
    Interval,
    Measure,
    ReportInfo,
    ReportResult,
    ReportRow,
)
from servicedesk.reports.window import FILTERS, ReportParams, Window, resolve

__all__ = ["CATALOGUE", "ReportParams", "check_params", "run_report"]

GROUPS: list[GroupBy] = ["team", "agent", "category", "priority", "channel", "type"]
INTERVALS: list[Interval] = ["day", "week", "month"]
WORK_MEM = "64MB"
BUSINESS = "business hours of the ticket's SLA calendar (24x7 without one), SLA pauses excluded"


def _count(key: str, label: str, description: str = "") -> Measure:
    return Measure(key=key, label=label, unit="count", description=description)


def _seconds(key: str, label: str, description: str = "") -> Measure:
    return Measure(key=key, label=label, unit="seconds", description=description)


def _ratio(key: str, label: str, description: str = "") -> Measure:
    return Measure(key=key, label=label, unit="ratio", description=description)


def _durations(what: str) -> list[Measure]:
    return [
        _count("count", "Tickets"),
        _seconds("median_business", f"Median {what} (business)", BUSINESS),
        _seconds("mean_business", f"Mean {what} (business)", BUSINESS),
        _seconds("p90_business", f"90th percentile {what} (business)", BUSINESS),
        _seconds("median_wall", f"Median {what} (wall-clock)"),
        _seconds("mean_wall", f"Mean {what} (wall-clock)"),
    ]


def _sla_measures() -> list[Measure]:
    out = [
        _count("on_time", "Met on time"),
        _count("late", "Met late"),
        _ratio("compliance", "Compliance", "on time / all met"),
    ]
    for target in SLA_TARGETS:
        label = target.replace("_", " ").capitalize()
        out += [
            _count(f"{target}_on_time", f"{label}: on time"),
            _count(f"{target}_late", f"{label}: late"),
            _ratio(f"{target}_compliance", f"{label}: compliance"),
        ]
    return out


@dataclass(frozen=True)
class Report:
    info: ReportInfo
    compute: Compute
    notes: tuple[str, ...] = ()


def _report(
    name: str,
    title: str,
    description: str,
    measures: list[Measure],
    compute: Compute,
    *,
    chart: Chart = "line",
    group_by: list[GroupBy] | None = None,
    intervals: list[Interval] | None = None,
    notes: tuple[str, ...] = (),
) -> Report:
    info = ReportInfo(
        name=name,
        title=title,
        description=description,
        measures=measures,
        group_by=GROUPS if group_by is None else group_by,
        intervals=INTERVALS if intervals is None else intervals,
        filters=list(FILTERS),
        chart=chart,
    )
    return Report(info, compute, notes)


REPORTS: dict[str, Report] = {
    r.info.name: r
    for r in (
        _report(
            "volume",
            "Ticket volume",
            "Tickets created, resolution events and reopen events by their time.",
            [
                _count("created", "Created", "merged tickets included"),
                _count("resolved", "Resolved", "status changes into resolved/closed"),
                _count("reopened", "Reopened", "status changes from finished to active"),
            ],
            definitions.volume,
            chart="stacked_bar",
        ),
        _report(
            "backlog",
            "Backlog",
            "Tickets in an active status at the end of each period (or now); aging of the"
            " open tickets now in the totals.",
            [_count("open", "Open")]
            + [_count(key, key.replace("_", " ")) for key, _, _ in AGE_BANDS],
            definitions.backlog,
        ),
        _report(
            "first-response-time",
            "First response time",
            "Tickets whose first public reply falls in the period: time from creation.",
            _durations("first response"),
            definitions.first_response_time,
        ),
        _report(
            "resolution-time",
            "Resolution time (MTTR)",
            "Tickets now resolved or closed whose last resolution falls in the period: time"
            " from creation to that resolution.",
            _durations("resolution time"),
            definitions.resolution_time,
        ),
        _report(
            "sla-compliance",
            "SLA compliance",
            "SLA targets met in the period: on time (never breached) or late.",
            _sla_measures(),
            definitions.sla_compliance,
            chart="bar",
            group_by=[*GROUPS, "policy"],
        ),
        _report(
            "reopen-rate",
            "Reopen rate",
            "Reopen events / resolution events in the period.",
            [
                _count("reopened", "Reopened"),
                _count("resolved", "Resolved"),
                _ratio("ratio", "Reopen rate"),
            ],
            definitions.reopen_rate,
        ),
        _report(
            "one-touch",
            "One-touch resolution",
            "Among the tickets of the resolution-time report: exactly one public reply and"
            " never reopened.",
            [
                _count("resolved", "Resolved"),
                _count("one_touch", "One-touch"),
                _ratio("ratio", "One-touch rate"),
            ],
            definitions.one_touch,
        ),
        _report(
            "agent-performance",
            "Agent performance",
            "Per agent: resolutions while assigned, public replies, medians, CSAT, load now.",
            [
                _count("handled", "Handled", "resolution events while assigned to the agent"),
                _count("replies", "Public replies"),
                _seconds("median_first_response_business", "Median first response", BUSINESS),
                _seconds("median_resolution_business", "Median resolution", BUSINESS),
                Measure(key="csat_score", label="CSAT score", unit="ratio"),
                _count("csat_count", "CSAT answers"),
                _count("load", "Open tickets now", "not bound to the range"),
            ],
            definitions.agent_performance,
            chart="table",
            group_by=["agent"],
            intervals=[],
            notes=(
                "handled: the assignee at the resolution, from the ticket's assignment history;"
                " CSAT: answers in the range on tickets assigned to the agent now",
            ),
        ),
        _report(
            "csat",
            "Customer satisfaction",
            "Surveys sent and answered; score = share of answers rated 4 or 5.",
            [
                _count("sent", "Sent"),
                _count("answered", "Answered"),
                _ratio("response_rate", "Response rate"),
                _ratio("score", "Score", "answers rated 4-5 / answers"),
                Measure(key="average", label="Average rating", unit="score"),
            ],
            definitions.csat,
            group_by=["team", "agent", "category", "priority", "channel", "type"],
        ),
    )
}

CATALOGUE: dict[str, ReportInfo] = {name: r.info for name, r in REPORTS.items()}


def check_params(
    name: str | None, params: ReportParams | Mapping[str, Any], *, prefix: str = ""
) -> tuple[ReportParams, Window]:
    """The one check of a report's parameters, for every caller (the API's query strings,
    export jobs, subscriptions, the scheduler): the named report exists, the parameters are
    known and well-formed (``ReportParams``, unknown ones refused), the grouping and
    interval are ones the report offers, the range and zone resolve. 422 naming the field
    (``prefix`` + its name, e.g. ``params.group_by``; an unknown report names ``report``);
    the checked parameters (agent-performance is always by agent) and their window."""
    report = REPORTS.get(name or "")
    if report is None:
        raise ValidationProblem(
            errors=[field_error("report", f"one of {', '.join(sorted(CATALOGUE))}")]
        )
    checked = _model(params, prefix)
    try:
        return _checked(report, checked)
    except ValidationProblem as exc:
        for error in exc.errors or []:
            error.update(field_error(prefix + error["field"], error["detail"]))
        raise


def _model(params: ReportParams | Mapping[str, Any], prefix: str) -> ReportParams:
    if isinstance(params, ReportParams):
        return params
    try:
        return ReportParams.model_validate(dict(params))
    except ValidationError as exc:
        errors = validation_errors(exc.errors(), prefix=prefix)
        raise ValidationProblem(errors=errors) from exc


def _checked(report: Report, params: ReportParams) -> tuple[ReportParams, Window]:
    info = report.info
    if info.name == "agent-performance":
        params = params.model_copy(update={"group_by": "agent"})
    if params.group_by is not None and params.group_by not in info.group_by:
        raise ValidationProblem(
            errors=[field_error("group_by", f"one of {', '.join(info.group_by)}")]
        )
    if params.interval is not None and params.interval not in info.intervals:
        raise ValidationProblem(errors=[field_error("interval", f"not available for {info.name}")])
    return params, resolve(params)


def run_report(ctx: RequestContext, name: str, params: ReportParams) -> ReportResult:
    """The named report over ``params`` (404 for an unknown report; 422 naming the field
    for bad parameters, ``check_params``)."""
    report = REPORTS.get(name)
    if report is None:
        raise NotFound("no such report")
    params, window = _checked(report, params)
    # The medians sort up to a year of tickets: in memory, not through temporary files
    # (PostgreSQL's default 4 MB spills at ~100,000 rows). This transaction only.
    ctx.session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    return cache.cached(ctx, name, params, window, lambda: _run(ctx, report, params, window))


def _run(ctx: RequestContext, report: Report, params: ReportParams, window: Window) -> ReportResult:
    computed = report.compute(ctx, window, params)
    info = report.info
    defaults: Cell = {m.key: (0 if m.unit == "count" else None) for m in info.measures}
    cells = computed.agg.cells
    groups = sorted({g for _, g in cells}, key=lambda g: (g is None, g or ""))
    named = labels(ctx.session, params.group_by, set(groups)) if params.group_by else {}
    buckets: list[date | None] = [b for b, _, _ in window.buckets] or [None]
    counted = [m.key for m in info.measures if m.unit == "count"]
    rows: list[ReportRow] = []
    for bucket in buckets:
        for g in groups if params.group_by else [None]:
            cell = cells.get((bucket, g))
            if cell is None and params.group_by and window.interval is None:
                continue
            drills = drilldown.for_row(
                info.name, params, window, bucket=bucket, group=g, grouped=True
            )
            rows.append(
                ReportRow(
                    bucket=bucket,
                    group=GroupKey(id=g, label=named.get(g, "")) if params.group_by else None,
                    values={**defaults, **(cell or {})},
                    drilldown=drilldown.primary(drills, counted),
                    drilldowns=drills,
                )
            )
    if params.group_by:
        rows.sort(key=lambda r: (r.bucket or date.min, r.group.label if r.group else ""))
    totals = {**defaults, **computed.agg.totals, **(computed.extra_totals or {})}
    for key, value in totals.items():
        if value is None and defaults.get(key) == 0:
            totals[key] = 0
    return ReportResult(
        report=info.name,
        title=info.title,
        since=window.start,
        until=window.end,
        tz=window.tz,
        interval=window.interval,
        group_by=params.group_by,
        filters=params.filters(),
        measures=info.measures,
        rows=rows,
        totals=totals,
        totals_drilldowns=drilldown.for_row(
            info.name, params, window, bucket=None, group=None, grouped=False, totals=True
        ),
        chart=info.chart,
        generated_at=datetime.now(UTC),
        notes=list(report.notes),
    )
