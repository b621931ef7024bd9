"""Each report's SQL over the facts (definitions: docs/reports.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text

from servicedesk.platform.tenancy import RequestContext
from servicedesk.reports import agents, facts, summaries
from servicedesk.reports.query import (
    GROUP_COLUMNS,
    Aggregated,
    Cell,
    Key,
    aggregate,
    counts,
    filter_sql,
    rollup_choice,
)
from servicedesk.reports.window import ReportParams, Window

SLA_TARGETS = facts.SLA_TARGETS
AGE_BANDS = (
    ("aging_lt_1d", None, "1 day"),
    ("aging_1_3d", "1 day", "3 days"),
    ("aging_3_7d", "3 days", "7 days"),
    ("aging_7_30d", "7 days", "30 days"),
    ("aging_gt_30d", "30 days", None),
)


@dataclass
class Computed:
    agg: Aggregated
    extra_totals: Cell | None = None


Compute = Callable[[RequestContext, Window, ReportParams], Computed]


def _group(params: ReportParams) -> str | None:
    if params.group_by is None:
        return None
    return "policy_id" if params.group_by == "policy" else GROUP_COLUMNS[params.group_by]


def _durations(business: str, wall: str) -> dict[str, str]:
    # Both business percentiles from one sort (an array of fractions), split by _split.
    return {
        "count": "count(*)",
        "pct_business": f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY f.{business})",
        "mean_business": f"avg(f.{business})",
        "median_wall": f"percentile_cont(0.5) WITHIN GROUP (ORDER BY f.{wall})",
        "mean_wall": f"avg(f.{wall})",
    }


def _split(agg: Aggregated) -> Aggregated:
    def one(cell: Cell) -> Cell:
        pct = cell.pop("pct_business", None) or [None, None]
        return {**cell, "median_business": pct[0], "p90_business": pct[1]}

    return Aggregated({k: one(v) for k, v in agg.cells.items()}, one(agg.totals))


def _summarised(
    ctx: RequestContext, metric: str, window: Window, params: ReportParams
) -> Aggregated | None:
    """From the sorted summaries of closed periods (servicedesk.reports.summaries), when
    they can answer (at most one dimension grouped or filtered)."""
    if not summaries.ENABLED:
        return None
    return summaries.durations(ctx.session, ctx.tenant_id, metric, window, params)


def volume(ctx: RequestContext, window: Window, params: ReportParams) -> Computed:
    kinds = {k: k for k in ("created", "resolved", "reopened")}
    return Computed(
        counts(ctx.session, ctx.tenant_id, kinds=kinds, ratios={}, window=window, params=params)
    )


def first_response_time(ctx: RequestContext, window: Window, params: ReportParams) -> Computed:
    summarised = _summarised(ctx, "first_response", window, params)
    if summarised is not None:
        return Computed(_split(summarised))
    measures = _durations("first_response_business", "first_response_wall")
    return Computed(
        _split(
            _agg(
                ctx,
                window,
                params,
                "report_ticket_facts",
                "first_response_at",
                measures,
                where=" AND f.first_response_at IS NOT NULL AND NOT f.merged",
            )
        )
    )


def resolution_time(ctx: RequestContext, window: Window, params: ReportParams) -> Computed:
    summarised = _summarised(ctx, "resolution", window, params)
    if summarised is not None:
        return Computed(_split(summarised))
    measures = _durations("resolution_business", "resolution_wall")
    return Computed(
        _split(
            _agg(
                ctx,
                window,
                params,
                "report_ticket_facts",
                "resolved_at",
                measures,
                where=" AND f.resolved_at IS NOT NULL AND NOT f.merged",
            )
        )
    )


def one_touch(ctx: RequestContext, window: Window, params: ReportParams) -> Computed:
    """Resolved tickets by their last resolution, and those of them with one public reply
    and no reopening: the facts' moments counted as ``resolved_last``/``one_touch``."""
    kinds = {"resolved": "resolved_last", "one_touch": "one_touch"}
    return Computed(
        counts(
            ctx.session,
            ctx.tenant_id,
            kinds=kinds,
            ratios={"ratio": ("one_touch", "resolved")},
            window=window,
            params=params,
        )
    )


def reopen_rate(ctx: RequestContext, window: Window, params: ReportParams) -> Computed:
    return Computed(
        counts(
            ctx.session,
            ctx.tenant_id,
            kinds={"reopened": "reopened", "resolved": "resolved"},
            ratios={"ratio": ("reopened", "resolved")},
            window=window,
            params=params,
        )
    )


def _kind_counts(
    ctx: RequestContext, window: Window, params: ReportParams, kinds: tuple[str, ...]
) -> Aggregated:
    """Counts of these ``report_events`` kinds per bucket and group (each measure named as
    its kind), from the hourly rollup when it can answer."""
    return counts(
        ctx.session,
        ctx.tenant_id,
        kinds={k: k for k in kinds},
        ratios={},
        window=window,
        params=params,
    )


def _derive(agg: Aggregated, derive: Callable[[Cell], Cell]) -> Aggregated:
    return Aggregated({k: derive(v) for k, v in agg.cells.items()}, derive(agg.totals))


def _n(cell: Cell, kind: str) -> int:
    return int(cell.get(kind) or 0)


def _ratio_of(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def sla_compliance(ctx: RequestContext, window: Window, params: ReportParams) -> Computed:
    """Targets met in the range, on time or late (breached before they were met), in all
    and per target: the SLA engine's records, counted as ``sla_<on_time|late>_<target>``
    at ``met_at`` (servicedesk.reports.facts)."""

    def derive(cell: Cell) -> Cell:
        out: Cell = {}
        for prefix, targets in [("", SLA_TARGETS), *((f"{t}_", (t,)) for t in SLA_TARGETS)]:
            on_time = sum(_n(cell, f"sla_on_time_{t}") for t in targets)
            late = sum(_n(cell, f"sla_late_{t}") for t in targets)
            out[f"{prefix}on_time"] = on_time
            out[f"{prefix}late"] = late
            out[f"{prefix}compliance"] = _ratio_of(on_time, on_time + late)
        return out

    return Computed(_derive(_kind_counts(ctx, window, params, facts.SLA_KINDS), derive))


def _csat_figures(cell: Cell) -> tuple[int, int, int, int, int]:
    """sent, answered, good (4-5 or "good"), and the 1-5 answers' count and rating sum."""
    rated = sum(_n(cell, f"csat_{r}") for r in range(1, 6))
    total = sum(r * _n(cell, f"csat_{r}") for r in range(1, 6))
    answered = rated + _n(cell, "csat_good") + _n(cell, "csat_bad")
    good = sum(_n(cell, k) for k in facts.CSAT_GOOD_KINDS)
    return _n(cell, "csat_sent"), answered, good, rated, total


def csat(ctx: RequestContext, window: Window, params: ReportParams) -> Computed:
    """Surveys sent (by sending time) and answered (by answer time); merged tickets' are
    left out. Good/bad answers (stored 5/1) count in the score, not the average
    (docs/csat.md)."""

    def derive(cell: Cell) -> Cell:
        sent, answered, good, rated, total = _csat_figures(cell)
        return {
            "sent": sent,
            "answered": answered,
            "response_rate": _ratio_of(answered, sent),
            "score": _ratio_of(good, answered),
            "average": _ratio_of(total, rated),
        }

    return Computed(_derive(_kind_counts(ctx, window, params, facts.CSAT_KINDS), derive))


def _agg(
    ctx: RequestContext,
    window: Window,
    params: ReportParams,
    source: str,
    time_column: str,
    measures: dict[str, str],
    *,
    where: str = "",
) -> Aggregated:
    return aggregate(
        ctx.session,
        ctx.tenant_id,
        source=source,
        time_column=time_column,
        measures=measures,
        window=window,
        params=params,
        group_column=_group(params),
        where=where,
    )


def backlog(ctx: RequestContext, window: Window, params: ReportParams) -> Computed:
    """Open at the end of each bucket (or now, if sooner): the open count now, less what
    entered the backlog since that moment, plus what left it."""
    now = datetime.now(UTC)
    group = f"f.{_group(params)}::text" if params.group_by else "NULL::text"
    filters, values = filter_sql(params)
    base: dict[str, object] = {"t": ctx.tenant_id, "tz": window.tz, "now": now, **values}
    open_now: dict[str | None, int] = {}
    for r in ctx.session.execute(
        text(
            f"SELECT {group} AS grp, count(*) AS n FROM report_ticket_facts f"
            " WHERE f.tenant_id = :t AND NOT f.merged"
            f" AND f.status IN ('new', 'open', 'in_progress', 'pending'){filters} GROUP BY 1"
        ),
        base,
    ):
        open_now[r.grp] = int(r.n)
    # Net backlog change per (moment, group) after each bucket's end: moments bucketed by the
    # first bucket end they are at or after.
    # The last period may run past the range: its end is the range's end (the definitions:
    # open at min(end, now), and the totals do not depend on the interval).
    ends = [min(end, window.end, now) for _, _, end in window.buckets] or [min(window.end, now)]
    delta: dict[tuple[int, str | None], int] = {}
    choice = rollup_choice(params, window)
    if choice is None:
        sql = (
            f"SELECT width_bucket(f.at, CAST(:ends AS timestamptz[])) AS slot, {group} AS grp,"
            " count(*) FILTER (WHERE f.kind = 'backlog_in')"
            " - count(*) FILTER (WHERE f.kind = 'backlog_out') AS net"
            " FROM report_events f WHERE f.tenant_id = :t"
            " AND f.kind IN ('backlog_in', 'backlog_out') AND f.at >= :first AND f.at < :now"
            f"{filters} GROUP BY 1, 2"
        )
    else:
        # Hours of the rollup: every bucket end before now is on an hour (rollup_choice);
        # an event of the current hour is before now, as the events query counts it.
        dim, only = choice
        base.update({"dim": dim, "value": only})
        grp = "nullif(f.value, '')" if params.group_by else "NULL::text"
        sql = (
            f"SELECT width_bucket(f.hour, CAST(:ends AS timestamptz[])) AS slot, {grp} AS grp,"
            " coalesce(sum(f.n) FILTER (WHERE f.kind = 'backlog_in'), 0)"
            " - coalesce(sum(f.n) FILTER (WHERE f.kind = 'backlog_out'), 0) AS net"
            " FROM report_rollup_hourly f WHERE f.tenant_id = :t AND f.dim = :dim"
            " AND f.kind IN ('backlog_in', 'backlog_out') AND f.hour >= :first"
            + (" AND f.value = :value" if only is not None else "")
            + " GROUP BY 1, 2"
        )
    for r in ctx.session.execute(text(sql), {**base, "ends": ends, "first": ends[0]}):
        delta[(int(r.slot), r.grp)] = int(r.net)
    groups = set(open_now) | {g for _, g in delta}
    cells: dict[Key, Cell] = {}
    totals_open = 0
    for g in groups:
        # open at ends[i] = open now - net change in [ends[i], now)
        later = sum(n for (slot, grp), n in delta.items() if grp == g)
        value = open_now.get(g, 0) - later
        series = []
        for i in range(len(ends)):
            series.append(value)
            value += delta.get((i + 1, g), 0)
        if window.buckets:
            for (day, _, _), v in zip(window.buckets, series, strict=True):
                cells[(day, g)] = {"open": v}
        else:
            cells[(None, g)] = {"open": series[0]}
        totals_open += series[-1]
    aging = _aging(ctx, params, now)
    return Computed(Aggregated(cells, {"open": totals_open}), extra_totals=aging)


def _aging(ctx: RequestContext, params: ReportParams, now: datetime) -> Cell:
    filters, values = filter_sql(params)
    parts = []
    for key, low, high in AGE_BANDS:
        cond = []
        if low:
            cond.append(f"f.created_at <= :now - interval '{low}'")
        if high:
            cond.append(f"f.created_at > :now - interval '{high}'")
        parts.append(f"count(*) FILTER (WHERE {' AND '.join(cond)}) AS {key}")
    row = (
        ctx.session.execute(
            text(
                f"SELECT {', '.join(parts)} FROM report_ticket_facts f WHERE f.tenant_id = :t"
                " AND NOT f.merged AND f.status IN ('new', 'open', 'in_progress', 'pending')"
                f"{filters}"
            ),
            {"t": ctx.tenant_id, "now": now, **values},
        )
        .mappings()
        .one()
    )
    return {k: int(row[k]) for k, _, _ in AGE_BANDS}


def agent_performance(ctx: RequestContext, window: Window, params: ReportParams) -> Computed:
    """Per agent: resolutions while assigned to them, their public replies, medians over the
    tickets they resolved, CSAT of the tickets assigned to them, open load now. Without
    filters, the first four from the agent summaries (``servicedesk.reports.agents``)."""
    if not agents.usable(params):
        return _agent_performance_sql(ctx, window, params)
    summarised = agents.performance(ctx.session, ctx.tenant_id, window)
    cells: dict[Key, Cell] = {}
    for agent, got in summarised.items():
        cells[(None, agent)] = {
            "handled": got.handled,
            "replies": got.replies,
            "median_first_response_business": got.median_first_response,
            "median_resolution_business": got.median_resolution,
            "csat_score": _ratio_of(got.csat_good, got.csat_answered),
            "csat_count": got.csat_answered,
            "load": 0,
        }
    _load(ctx, params, cells)
    return Computed(Aggregated(cells, _agent_totals(cells)))


_BLANK: Cell = {
    "handled": 0,
    "replies": 0,
    "median_first_response_business": None,
    "median_resolution_business": None,
    "csat_score": None,
    "csat_count": 0,
    "load": 0,
}


def _rated(
    ctx: RequestContext, window: Window, params: ReportParams, cells: dict[Key, Cell]
) -> None:
    """Into ``cells`` (one per agent): the CSAT answers in the range on the tickets
    assigned to each agent now: the answer kinds of ``report_events`` by the ticket's
    current assignee (the rollup's agent dimension when it can answer). The summaries'
    path reads the same counts from the agent summaries (``agents.performance``)."""
    by_agent = params.model_copy(update={"group_by": "agent", "interval": None})
    rated = _kind_counts(ctx, window, by_agent, facts.CSAT_ANSWER_KINDS)
    for (_, agent), got in rated.cells.items():
        _, answered, good, _, _ = _csat_figures(got)
        if agent is None or not answered:
            continue
        cell = cells.setdefault((None, agent), dict(_BLANK))
        cell.update(csat_count=answered, csat_score=_ratio_of(good, answered))


def _load(ctx: RequestContext, params: ReportParams, cells: dict[Key, Cell]) -> None:
    """Into ``cells``: each agent's open tickets now (not bound to the range)."""
    filters, values = filter_sql(params)
    for r in ctx.session.execute(
        text(
            "SELECT f.assignee_id::text AS grp, count(*) AS load"
            " FROM report_ticket_facts f WHERE f.tenant_id = :t AND NOT f.merged"
            " AND f.assignee_id IS NOT NULL"
            f" AND f.status IN ('new', 'open', 'in_progress', 'pending'){filters} GROUP BY 1"
        ),
        {"t": ctx.tenant_id, **values},
    ):
        cells.setdefault((None, r.grp), dict(_BLANK))["load"] = int(r.load)


def _agent_totals(cells: dict[Key, Cell]) -> Cell:
    return {
        k: sum(c[k] for c in cells.values()) for k in ("handled", "replies", "csat_count", "load")
    }


def _agent_performance_sql(ctx: RequestContext, window: Window, params: ReportParams) -> Computed:
    """The direct SQL (filters, or the summaries off): the reference the summaries equal."""
    filters, values = filter_sql(params)
    p = {"t": ctx.tenant_id, "start": window.start, "end": window.end, **values}
    rows = ctx.session.execute(
        text(
            "WITH resolved AS (SELECT f.agent_id, f.ticket_id, f.first_response_business,"
            " f.resolution_business FROM report_events f"
            " WHERE f.tenant_id = :t AND f.kind = 'resolved' AND f.agent_id IS NOT NULL"
            f" AND f.at >= :start AND f.at < :end{filters}),"
            " handled AS (SELECT agent_id, count(*) AS handled FROM resolved GROUP BY 1),"
            # A reply whose author is gone (NULL) is no agent's: it showed as a row of zeros.
            " replies AS (SELECT f.agent_id, count(*) AS replies FROM report_events f"
            " WHERE f.tenant_id = :t AND f.kind = 'reply' AND f.agent_id IS NOT NULL"
            f" AND f.at >= :start AND f.at < :end{filters} GROUP BY 1),"
            # Each ticket once per agent, however often they resolved it in the range.
            " medians AS (SELECT agent_id,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response_business) AS mfr,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution_business) AS mres"
            " FROM (SELECT DISTINCT agent_id, ticket_id, first_response_business,"
            " resolution_business FROM resolved) d GROUP BY 1),"
            " agents AS (SELECT agent_id FROM handled UNION SELECT agent_id FROM replies)"
            " SELECT a.agent_id::text AS grp, coalesce(h.handled, 0) AS handled,"
            " coalesce(r.replies, 0) AS replies, m.mfr, m.mres"
            " FROM agents a LEFT JOIN handled h USING (agent_id)"
            " LEFT JOIN replies r USING (agent_id) LEFT JOIN medians m USING (agent_id)"
        ),
        p,
    ).mappings()
    cells: dict[Key, Cell] = {}
    for r in rows:
        cells[(None, r["grp"])] = {
            "handled": int(r["handled"]),
            "replies": int(r["replies"]),
            "median_first_response_business": _f(r["mfr"]),
            "median_resolution_business": _f(r["mres"]),
            "csat_score": None,
            "csat_count": 0,
            "load": 0,
        }
    _rated(ctx, window, params, cells)
    _load(ctx, params, cells)
    return Computed(Aggregated(cells, _agent_totals(cells)))


def _f(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
