"""SQL over the facts: one aggregate per (bucket, group) plus the totals, in one statement
(``GROUPING SETS``), read in the caller's tenant transaction (RLS as the app role)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.reports.window import ReportParams, Window

# group_by -> the column of the facts/events that holds it
GROUP_COLUMNS = {
    "team": "team_id",
    "agent": "assignee_id",
    "category": "category_id",
    "priority": "priority",
    "channel": "channel",
    "type": "type",
}
FILTER_COLUMNS = ("team_id", "assignee_id", "category_id", "priority", "channel", "type")
# ... and of report_events, whose SLA kinds also carry their target's policy.
EVENT_GROUP_COLUMNS = {**GROUP_COLUMNS, "policy": "policy_id"}
NULL_LABELS = {"team": "(no team)", "agent": "(unassigned)", "category": "(no category)"}

Cell = dict[str, Any]
Key = tuple[date | None, str | None]


@dataclass
class Aggregated:
    cells: dict[Key, Cell]
    totals: Cell


def bucket_sql(column: str, window: Window) -> str:
    """The local period a moment falls in: a binary search over the periods' UTC starts
    (cheaper per row than converting every moment to local time)."""
    if window.interval is None:
        return "NULL::date"
    return (
        f"(CAST(:bucket_days AS date[]))[width_bucket({column},"
        " CAST(:bucket_starts AS timestamptz[]))]"
    )


def bucket_params(window: Window) -> dict[str, Any]:
    return {
        "bucket_days": [day for day, _, _ in window.buckets],
        "bucket_starts": [start for _, start, _ in window.buckets],
    }


def filter_sql(params: ReportParams, alias: str = "f") -> tuple[str, dict[str, Any]]:
    clauses, values = [], {}
    for name in FILTER_COLUMNS:
        value = getattr(params, name)
        if value is not None:
            clauses.append(f" AND {alias}.{name} = :f_{name}")
            values[f"f_{name}"] = value
    return "".join(clauses), values


def aggregate(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    source: str,
    time_column: str,
    measures: dict[str, str],
    window: Window,
    params: ReportParams,
    group_column: str | None,
    where: str = "",
    extra: dict[str, Any] | None = None,
    filtered: bool = True,
) -> Aggregated:
    """``measures`` (key -> SQL aggregate) over ``source`` rows (alias ``f``) whose
    ``time_column`` falls in the window, per bucket and group, and over everything."""
    bucket = bucket_sql(f"f.{time_column}", window)
    group = f"f.{group_column}::text" if group_column else "NULL::text"
    filters, values = filter_sql(params) if filtered else ("", {})
    selected = ", ".join(f"{sql} AS {key}" for key, sql in measures.items())
    # One row and no group: the totals are the row (no second pass over the same rows).
    single = window.interval is None and group_column is None
    grouping = "1 AS total" if single else f"GROUPING({bucket}, {group}) AS total"
    sql = (
        f"SELECT {bucket} AS bucket, {group} AS grp, {grouping},"
        f" {selected} FROM {source} f WHERE f.tenant_id = :t"
        f" AND f.{time_column} >= :start AND f.{time_column} < :end{where}{filters}"
        + ("" if single else f" GROUP BY GROUPING SETS (({bucket}, {group}), ())")
    )
    rows = session.execute(
        text(sql),
        {
            "t": tenant_id,
            "start": window.start,
            "end": window.end,
            "tz": window.tz,
            **bucket_params(window),
            **values,
            **(extra or {}),
        },
    ).mappings()
    cells: dict[Key, Cell] = {}
    totals: Cell = {}
    for row in rows:
        values_of = {k: _plain(row[k]) for k in measures}
        if row["total"]:
            totals = values_of
        else:
            cells[(row["bucket"], row["grp"])] = values_of
    if not totals:
        totals = {k: None for k in measures}
    if single:
        cells[(None, None)] = dict(totals)
    return Aggregated(cells, totals)


def _plain(value: Any) -> Any:
    """Decimals and floats as floats, counts as ints."""
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, list):  # percentile_cont over an array of fractions
        return [_plain(v) for v in value]
    return float(value)


def labels(session: Session, group_by: str, ids: set[str | None]) -> dict[str | None, str]:
    """Display labels of group ids: team/category names, agents' display names, else the value."""
    named = {
        "team": "SELECT id::text AS id, name FROM teams WHERE id::text = ANY(:ids)",
        "category": "SELECT id::text AS id, name FROM categories WHERE id::text = ANY(:ids)",
        "agent": "SELECT id::text AS id, name FROM users WHERE id::text = ANY(:ids)",
        "policy": "SELECT id::text AS id, name FROM sla_policies WHERE id::text = ANY(:ids)",
        # Keys are unique per tenant; RLS keeps the caller's.
        "type": "SELECT key AS id, name FROM ticket_types WHERE key = ANY(:ids)",
    }
    out: dict[str | None, str] = {None: NULL_LABELS.get(group_by, "(none)")}
    present = [i for i in ids if i is not None]
    if group_by in named and present:
        for r in session.execute(text(named[group_by]), {"ids": present}):
            out[r.id] = r.name
    for i in present:
        out.setdefault(i, i)
    return out


# Filter column -> rollup dimension.
ROLLUP_OF_FILTER = {
    "team_id": "team",
    "assignee_id": "agent",
    "category_id": "category",
    "priority": "priority",
    "channel": "channel",
    "type": "type",
}


def rollup_choice(params: ReportParams, window: Window) -> tuple[str, str | None] | None:
    """The rollup dimension (and value) that answers a count over these parameters: at most
    one dimension filtered or grouped, and every boundary on a UTC hour (zones with
    half-hour offsets count events instead)."""
    moments = [window.start, window.end, *(m for _, a, b in window.buckets for m in (a, b))]
    if any(m.minute or m.second or m.microsecond for m in moments):
        return None
    given = [(c, getattr(params, c)) for c in FILTER_COLUMNS if getattr(params, c) is not None]
    if len(given) > 1:
        return None
    group = params.group_by
    if given:
        dim = ROLLUP_OF_FILTER[given[0][0]]
        if group is not None and group != dim:
            return None
        return dim, str(given[0][1])
    if group is None:
        return "all", None
    # policy: a dimension of the SLA kinds only (sla-compliance's group_by=policy).
    return (group, None) if group in (*ROLLUP_OF_FILTER.values(), "policy") else None


def counts(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    kinds: dict[str, str],
    ratios: dict[str, tuple[str, str]],
    window: Window,
    params: ReportParams,
) -> Aggregated:
    """Counts of ``report_events`` kinds (measure -> kind) and their ratios (measure ->
    (numerator, denominator) measures), from the hourly rollup when it can answer."""
    choice = rollup_choice(params, window)
    if choice is None:
        counted = {m: f"count(*) FILTER (WHERE f.kind = '{k}')" for m, k in kinds.items()}
        measures = {**counted, **{m: _ratio(counted, a, b) for m, (a, b) in ratios.items()}}
        group = EVENT_GROUP_COLUMNS[params.group_by] if params.group_by else None
        where = " AND f.kind IN ({})".format(", ".join(f"'{k}'" for k in kinds.values()))
        return aggregate(
            session,
            tenant_id,
            source="report_events",
            time_column="at",
            measures=measures,
            window=window,
            params=params,
            group_column=group,
            where=where,
        )
    dim, value = choice
    summed = {m: f"coalesce(sum(f.n) FILTER (WHERE f.kind = '{k}'), 0)" for m, k in kinds.items()}
    measures = {**summed, **{m: _ratio(summed, a, b) for m, (a, b) in ratios.items()}}
    where = " AND f.dim = :dim AND f.kind IN ({})".format(
        ", ".join(f"'{k}'" for k in kinds.values())
    )
    if value is not None:
        where += " AND f.value = :value"
    agg = aggregate(
        session,
        tenant_id,
        source="report_rollup_hourly",
        time_column="hour",
        measures=measures,
        window=window,
        params=params,
        group_column="value" if params.group_by else None,
        where=where,
        extra={"dim": dim, "value": value},
        filtered=False,
    )
    # The rollup spells "no team" (etc.) as ''.
    agg.cells = {(b, g or None): v for (b, g), v in agg.cells.items()}
    return agg


def _ratio(measures: dict[str, str], numerator: str, denominator: str) -> str:
    return f"({measures[numerator]})::float8 / nullif({measures[denominator]}, 0)"
