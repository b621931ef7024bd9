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
}
FILTER_COLUMNS = ("team_id", "assignee_id", "category_id", "priority", "channel")
NULL_LABELS = {"team": "(no team)", "agent": "(unassigned)", "category": "(no category)"}

Cell = dict[str, Any]
Key = tuple[date | None, str | None]


@dataclass
class Aggregated:
    cells: dict[Key, Cell]
    totals: Cell


def bucket_sql(column: str, window: Window) -> str:
    if window.interval is None:
        return "NULL::date"
    return f"(date_trunc('{window.interval}', {column} AT TIME ZONE :tz))::date"


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
) -> Aggregated:
    """``measures`` (key -> SQL aggregate) over ``source`` rows (alias ``f``) whose
    ``time_column`` falls in the window, per bucket and group, and over everything."""
    bucket = bucket_sql(f"f.{time_column}", window)
    group = f"f.{group_column}::text" if group_column else "NULL::text"
    filters, values = filter_sql(params)
    selected = ", ".join(f"{sql} AS {key}" for key, sql in measures.items())
    sql = (
        f"SELECT {bucket} AS bucket, {group} AS grp, GROUPING({bucket}, {group}) AS total,"
        f" {selected} FROM {source} f WHERE f.tenant_id = :t"
        f" AND f.{time_column} >= :start AND f.{time_column} < :end{where}{filters}"
        f" GROUP BY GROUPING SETS (({bucket}, {group}), ())"
    )
    rows = session.execute(
        text(sql),
        {
            "t": tenant_id,
            "start": window.start,
            "end": window.end,
            "tz": window.tz,
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
    return Aggregated(cells, totals)


def _plain(value: Any) -> Any:
    """Decimals and floats as floats, counts as ints."""
    if value is None or isinstance(value, int | float):
        return value
    return float(value)


def labels(session: Session, group_by: str, ids: set[str | None]) -> dict[str | None, str]:
    """Display labels of group ids: team/category names, agents' display names, else the value."""
    named = {
        "team": "SELECT id::text AS id, name FROM teams WHERE id::text = ANY(:ids)",
        "category": "SELECT id::text AS id, name FROM categories WHERE id::text = ANY(:ids)",
        "agent": "SELECT id::text AS id, name FROM users WHERE id::text = ANY(:ids)",
        "policy": "SELECT id::text AS id, name FROM sla_policies WHERE id::text = ANY(:ids)",
    }
    out: dict[str | None, str] = {None: NULL_LABELS.get(group_by, "(none)")}
    present = [i for i in ids if i is not None]
    if group_by in named and present:
        for r in session.execute(text(named[group_by]), {"ids": present}):
            out[r.id] = r.name
    for i in present:
        out.setdefault(i, i)
    return out
