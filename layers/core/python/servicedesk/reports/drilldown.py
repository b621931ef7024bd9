"""Drill-down: the ticket-list query (``GET /v1/tickets``) listing the tickets a report's
number counts (docs/reports.md, "Drill-down"). One place for every report and the
dashboard.

A drill-down is a ``dict[str, str]`` of query parameters; a value with commas is a repeated
parameter (``status=new,open``). Ranges are the row's own UTC instants, [after, before),
already clipped to the report's range: the local midnights of the report's zone, so the
list needs no zone. Where the list cannot reproduce a number exactly, there is none.

What a list shows for a count:

- tickets counted once (``created``, backlog's ``open``, the duration reports' ``count``,
  ``one-touch``): the list has exactly that many tickets;
- moments counted per ticket (resolutions, reopens, SLA targets met, surveys): the list has
  the tickets with at least one such moment in the row; a ticket resolved twice in the row
  counts twice and is listed once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from servicedesk.reports.window import ReportParams, Window

Drill = dict[str, str]

ACTIVE = "new,open,in_progress,pending"
# group_by -> (ticket-list parameter, its value for "no such thing"), None: not expressible
GROUP_PARAMS: dict[str, tuple[str, str | None]] = {
    "team": ("team_id", "none"),
    "agent": ("assignee", "none"),
    "category": ("category_id", "none"),
    "priority": ("priority", None),
    "channel": ("channel", None),
    "type": ("type", None),
    "policy": ("sla_policy_id", None),
}
# report filter -> ticket-list parameter
FILTER_PARAMS = {
    "team_id": "team_id",
    "assignee_id": "assignee",
    "category_id": "category_id",
    "priority": "priority",
    "channel": "channel",
    "type": "type",
}
SLA_TARGETS = ("first_response", "next_response", "resolution")


def instant(moment: datetime) -> str:
    """An ISO 8601 UTC instant with ``Z`` (no ``+`` to escape in an address)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def between(prefix: str, start: datetime, end: datetime) -> Drill:
    return {f"{prefix}_after": instant(start), f"{prefix}_before": instant(end)}


def _scope(params: ReportParams, group_by: str | None, group: str | None) -> Drill | None:
    """The report's filters and the row's group as list parameters; None when the list
    cannot say it (a missing policy or priority) or the two contradict each other."""
    out: Drill = {FILTER_PARAMS[k]: v for k, v in params.filters().items()}
    if group_by is None:
        return out
    name, missing = GROUP_PARAMS[group_by]
    value = group if group is not None else missing
    if value is None:
        return None
    if name in out and out[name] != value:
        return None
    out[name] = value
    return out


def _range(window: Window, bucket: date | None) -> tuple[datetime, datetime]:
    """The row's moments: its period, clipped to the range (the reports count moments in
    [range start, range end) and put each in its period)."""
    if bucket is None:
        return window.start, window.end
    for day, start, end in window.buckets:
        if day == bucket:
            return max(start, window.start), min(end, window.end)
    raise ValueError(f"no period {bucket}")


def for_row(
    report: str,
    params: ReportParams,
    window: Window,
    *,
    bucket: date | None,
    group: str | None,
    grouped: bool,
    totals: bool = False,
    now: datetime | None = None,
) -> dict[str, Drill]:
    """Measure key -> the list of the tickets it counts, for one row (or the totals: no
    bucket, every group)."""
    if report == "agent-performance":
        start, end = _range(window, bucket)
        return {} if totals else _agent(params, start, end, group)
    scope = _scope(params, params.group_by if grouped else None, group)
    build = BUILDERS.get(report)
    if scope is None or build is None:
        return {}
    start, end = _range(window, bucket)
    return build(scope, start, end, now or datetime.now(UTC))


Builder = Callable[[Drill, datetime, datetime, datetime], dict[str, Drill]]


def _volume(scope: Drill, start: datetime, end: datetime, now: datetime) -> dict[str, Drill]:
    return {
        "created": {**scope, **between("created", start, end)},
        "resolved": {**scope, **between("resolution", start, end)},
        "reopened": {**scope, **between("reopen", start, end)},
    }


def _reopen_rate(scope: Drill, start: datetime, end: datetime, now: datetime) -> dict[str, Drill]:
    return {
        "reopened": {**scope, **between("reopen", start, end)},
        "resolved": {**scope, **between("resolution", start, end)},
    }


def _backlog(scope: Drill, start: datetime, end: datetime, now: datetime) -> dict[str, Drill]:
    # Open at min(period end, range end, now): now, by status; before, by the backlog's
    # entries and exits (the report's own events).
    if end < now:
        return {"open": {**scope, "merged": "exclude", "open_at": instant(end)}}
    return {"open": {**scope, "merged": "exclude", "status": ACTIVE}}


def _first_response(
    scope: Drill, start: datetime, end: datetime, now: datetime
) -> dict[str, Drill]:
    return {"count": {**scope, "merged": "exclude", **between("first_response", start, end)}}


def _resolution(scope: Drill, start: datetime, end: datetime, now: datetime) -> dict[str, Drill]:
    return {"count": {**scope, "merged": "exclude", **between("resolved", start, end)}}


def _one_touch(scope: Drill, start: datetime, end: datetime, now: datetime) -> dict[str, Drill]:
    resolved = {**scope, "merged": "exclude", **between("resolved", start, end)}
    return {"resolved": resolved, "one_touch": {**resolved, "one_touch": "true"}}


def _sla(scope: Drill, start: datetime, end: datetime, now: datetime) -> dict[str, Drill]:
    met = {**scope, "merged": "exclude", **between("sla_met", start, end)}
    out: dict[str, Drill] = {
        "on_time": {**met, "sla_outcome": "on_time"},
        "late": {**met, "sla_outcome": "late"},
    }
    for target in SLA_TARGETS:
        out[f"{target}_on_time"] = {**out["on_time"], "sla_target": target}
        out[f"{target}_late"] = {**out["late"], "sla_target": target}
    return out


def _csat(scope: Drill, start: datetime, end: datetime, now: datetime) -> dict[str, Drill]:
    return {
        "sent": {**scope, "merged": "exclude", **between("csat_sent", start, end)},
        "answered": {**scope, "merged": "exclude", **between("csat_answered", start, end)},
    }


BUILDERS: dict[str, Builder] = {
    "volume": _volume,
    "reopen-rate": _reopen_rate,
    "backlog": _backlog,
    "first-response-time": _first_response,
    "resolution-time": _resolution,
    "one-touch": _one_touch,
    "sla-compliance": _sla,
    "csat": _csat,
}


def _agent(
    params: ReportParams, start: datetime, end: datetime, agent: str | None
) -> dict[str, Drill]:
    """An agent's row: the tickets they resolved in the range (the assignee then), the
    answered surveys and the open tickets of the tickets assigned to them now. Totals and
    replies: none (the totals sum agents; a reply is not a ticket-list filter)."""
    if agent is None:
        return {}
    try:
        uuid.UUID(agent)
    except ValueError:
        return {}
    scope = {FILTER_PARAMS[k]: v for k, v in params.filters().items()}
    out: dict[str, Drill] = {
        "handled": {**scope, **between("resolution", start, end), "resolved_by": agent}
    }
    if scope.get("assignee", agent) == agent:
        mine = {**scope, "assignee": agent, "merged": "exclude"}
        out["csat_count"] = {**mine, **between("csat_answered", start, end)}
        out["load"] = {**mine, "status": ACTIVE}
    return out


def primary(drills: dict[str, Drill], measure_keys: list[str]) -> Drill | None:
    """The row's drill-down: that of its first count measure that has one."""
    for key in measure_keys:
        if key in drills:
            return drills[key]
    return None


__all__ = ["ACTIVE", "Drill", "between", "for_row", "instant", "primary"]
