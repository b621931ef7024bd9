"""Exact duration percentiles from sorted summaries of closed local periods (docs/reports.md,
"Durations").

``report_duration_summaries`` holds, per (metric, zone, grain, local period, dimension,
value), the count, the sums and the sorted business and wall-clock seconds of the facts whose
moment falls in the period. A report's window [start, end) in zone ``tz`` (edges are local
midnights) is cut per cell into: the CLOSED local months fully inside (month summaries), the
other closed local days (day summaries) and the open rest (today and later: the facts,
read directly). A missing summary is built from the facts in one statement (an index range
scan and a sort per period) and stored with ``ON CONFLICT DO NOTHING``.

Percentiles are ``percentile_cont``'s: the floor/ceil((n - 1) p)-th order statistics of the
union of the sorted runs (a k-th-smallest selection over the runs by binary search, never a
merge), interpolated as PostgreSQL does. Means are the sums over the counts.

Writers of the facts invalidate by trigger (migration 0028) under the tenant's summaries
lock taken EXCLUSIVE; a builder takes it SHARED before its build statement (READ COMMITTED:
the statement's snapshot comes after the lock). Builder first: the writer waits for the
builder's commit, then deletes what it stored. Writer first: the builder waits, then reads
the committed facts. Either way no stale summary survives.
"""

from __future__ import annotations

import sys
import threading
import uuid
from array import array
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from math import ceil, floor
from typing import Any
from zoneinfo import ZoneInfo

from psycopg.rows import namedtuple_row
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from servicedesk.reports.query import (
    FILTER_COLUMNS,
    GROUP_COLUMNS,
    ROLLUP_OF_FILTER,
    Aggregated,
    Cell,
    Key,
)
from servicedesk.reports.window import ReportParams, Window, local_midnight, next_period

# Off: the duration reports sort the facts in SQL (the benchmark compares both).
ENABLED = True
METRICS = {
    "first_response": ("first_response_at", "first_response_business", "first_response_wall"),
    "resolution": ("resolved_at", "resolution_business", "resolution_wall"),
}
DIM_COLUMNS = {"all": None, **{dim: GROUP_COLUMNS[dim] for dim in ROLLUP_OF_FILTER.values()}}
COMPLETE = "*"  # the dim_value of the row that marks a (dimension, period) built
# Totals merged from the cells' runs up to this many runs; more: their own summaries.
MAX_MERGED_RUNS = 64
POOL = 512  # kth: candidates left that are sorted rather than bisected further
_SWAP = sys.byteorder == "little"  # the values are stored big-endian (int4send)

# A waiter for another builder's lock gives up after this long and builds itself (below the
# statement timeout of 10 s, platform/db.py).
BUILD_WAIT_MS = 8000
BUILD_ATTEMPTS = 3  # lock-or-wait rounds before building without the lock
# lock_not_available (lock_timeout), query_canceled (statement_timeout), deadlock_detected
_GAVE_UP = {"55P03", "57014", "40P01"}
# Build statements run in this process (the tests count them: one per herd).
BUILDS = {"count": 0}
_BUILDS_LOCK = threading.Lock()

Period = tuple[str, datetime]  # grain, UTC start
OpenRow = tuple[datetime, str, int | None, int | None]  # moment, dim value, business, wall


def count_build() -> None:
    with _BUILDS_LOCK:
        BUILDS["count"] += 1


@dataclass
class Runs:
    """The sorted runs of one cell: the facts of disjoint periods."""

    n: int = 0
    sum_business: int = 0
    sum_wall: int = 0
    business: list[Sequence[int]] = field(default_factory=list)
    wall: list[Sequence[int]] = field(default_factory=list)

    def add(
        self, n: int, sb: int | None, sw: int | None, b: Sequence[int], w: Sequence[int]
    ) -> None:
        self.n += n
        self.sum_business += sb or 0
        self.sum_wall += sw or 0
        if b:
            self.business.append(b)
        if w:
            self.wall.append(w)

    def extend(self, other: Runs) -> None:
        self.n += other.n
        self.sum_business += other.sum_business
        self.sum_wall += other.sum_wall
        self.business.extend(other.business)
        self.wall.extend(other.wall)

    def cell(self) -> Cell:
        nb, nw = sum(len(r) for r in self.business), sum(len(r) for r in self.wall)
        return {
            "count": self.n,
            "pct_business": (
                [percentile(self.business, nb, 0.5), percentile(self.business, nb, 0.9)]
                if nb
                else None
            ),
            "mean_business": self.sum_business / nb if nb else None,
            "median_wall": percentile(self.wall, nw, 0.5) if nw else None,
            "mean_wall": self.sum_wall / nw if nw else None,
        }


def kth(runs: Sequence[Sequence[int]], k: int, pool: int | None = None) -> int:
    """The k-th smallest value (0-based) of the union of sorted ``runs``: binary search on a
    pivot, the weighted median of the runs' middle candidates, so that every step drops at
    least a quarter of the candidates (O(m log^2 N) for m runs of N values); once at most
    ``pool`` candidates are left, they are sorted and indexed.

    Invariant: every value before ``lo[i]`` in run i is below the answer, every value from
    ``hi[i]`` on is above it (each bound comes from a pivot on the other side of it), so
    the bisections stay inside [lo[i], hi[i]) and ``sum(lo)`` values precede the
    candidates."""
    limit = POOL if pool is None else pool
    lo = [0] * len(runs)
    hi = [len(r) for r in runs]
    while True:
        left = sum(hi) - sum(lo)
        if left <= limit:
            candidates = sorted(v for r, a, b in zip(runs, lo, hi, strict=True) for v in r[a:b])
            return candidates[k - sum(lo)]
        mids = sorted(
            (runs[i][(lo[i] + hi[i]) // 2], hi[i] - lo[i])
            for i in range(len(runs))
            if hi[i] > lo[i]
        )
        acc, pivot = 0, mids[-1][0]
        for value, weight in mids:
            acc += weight
            if 2 * acc >= left:
                pivot = value
                break
        less = [bisect_left(r, pivot, a, b) for r, a, b in zip(runs, lo, hi, strict=True)]
        upto = [bisect_right(r, pivot, a, b) for r, a, b in zip(runs, less, hi, strict=True)]
        if k < sum(less):
            hi = less
        elif k >= sum(upto):
            lo = upto
        else:
            return pivot


def _next(runs: Sequence[Sequence[int]], value: int, k: int) -> int:
    """The (k+1)-th smallest, given the k-th is ``value``."""
    if sum(bisect_right(r, value) for r in runs) > k + 1:
        return value
    return min(r[i] for r in runs if (i := bisect_right(r, value)) < len(r))


def percentile(runs: Sequence[Sequence[int]], n: int, p: float) -> float:
    """``percentile_cont(p)`` over the union of ``runs`` (``n`` values), as PostgreSQL
    computes it (orderedsetaggs.c: float8_lerp of the floor and ceiling rows)."""
    if len(runs) == 1:
        one = runs[0]
        at = p * (n - 1)
        first, second = floor(at), ceil(at)
        low, high = float(one[first]), float(one[second])
    else:
        at = p * (n - 1)
        first, second = floor(at), ceil(at)
        low_value = kth(runs, first)
        low = float(low_value)
        high = float(_next(runs, low_value, first)) if second != first else low
    if second == first:
        return low
    return low + (at - first) * (high - low)


def fetch_binary(session: Session, sql: str, params: dict[str, object]) -> list[Any]:
    """The rows of ``sql`` (psycopg placeholders), results in PostgreSQL's binary format, on
    the session's own connection and transaction (so its tenant and RLS apply).

    The summaries are mostly ``bytea``: in text format they travel as hex (twice the bytes,
    encoded by the server and decoded here); in binary they arrive as their bytes. Measured
    on the 1M-ticket bench (a year of agent summaries, 2,091 rows, 3.6 MB of arrays): 31-46 ms
    binary against 49-106 ms text, in the same run."""
    raw = session.connection().connection.driver_connection
    assert raw is not None  # a checked-out connection always has its driver's
    with raw.cursor(binary=True, row_factory=namedtuple_row) as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def unpack(data: bytes) -> array[int]:
    values = array("i")
    values.frombytes(data)
    if _SWAP:
        values.byteswap()
    return values


def choice(params: ReportParams) -> tuple[str, str | None] | None:
    """The summaries' dimension (and value) for these parameters: at most one dimension
    filtered or grouped (as ``query.rollup_choice``, any zone: summaries are local)."""
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
    return (group, None) if group in DIM_COLUMNS else None


@dataclass
class Plan:
    """One span [first, last + 1 day) of local days cut into closed months, closed days and
    the open rest (UTC bounds)."""

    periods: list[tuple[str, datetime, datetime]]  # grain, UTC start, UTC end
    open_from: datetime | None  # the open rest: [open_from, the span's end)


def plan(first: date, stop: date, zone: ZoneInfo, today: date) -> Plan:
    """The local days [first, stop): closed months fully inside, other closed days, and the
    rest from ``today`` on."""
    closed_stop = min(stop, today)
    periods: list[tuple[str, datetime, datetime]] = []
    day = first
    while day < closed_stop:
        month_end = next_period(day.replace(day=1), "month")
        if day.day == 1 and month_end <= closed_stop:
            periods.append(("month", local_midnight(day, zone), local_midnight(month_end, zone)))
            day = month_end
        else:
            following = day + timedelta(days=1)
            periods.append(("day", local_midnight(day, zone), local_midnight(following, zone)))
            day = following
    open_from = local_midnight(max(first, today), zone) if stop > today else None
    return Plan(periods, open_from)


class Reader:
    """Reads (building what is missing) the summaries of one metric, zone and dimension."""

    def __init__(
        self,
        session: Session,
        tenant_id: uuid.UUID,
        metric: str,
        tz: str,
        dim: str,
        value: str | None,
    ) -> None:
        self.session, self.tenant_id, self.metric = session, tenant_id, metric
        self.tz, self.dim, self.value = tz, dim, value
        self.got: dict[Period, dict[str, Runs]] = {}  # period -> dim value -> runs

    def load(self, periods: Iterable[tuple[str, datetime, datetime]]) -> None:
        wanted = {(g, s): e for g, s, e in periods if (g, s) not in self.got}
        if not wanted:
            return
        self._select(list(wanted))
        missing = self._missing(wanted)
        for _ in range(BUILD_ATTEMPTS):
            if not missing:
                return
            if self._try_lock():
                # A builder may have committed since the read above: read again first.
                self._select([(g, s) for g, s, _ in missing])
                self._build_missing(self._missing(wanted))
                return
            if not self._wait():
                break
            self._select([(g, s) for g, s, _ in missing])  # what the builder stored
            missing = self._missing(wanted)
        self._build_missing(missing)

    def _missing(self, wanted: dict[Period, datetime]) -> list[tuple[str, datetime, datetime]]:
        return [(g, s, e) for (g, s), e in wanted.items() if (g, s) not in self.got]

    def _build_missing(self, missing: list[tuple[str, datetime, datetime]]) -> None:
        if not missing:
            return
        self._build(missing)
        # Another builder stored some first (ON CONFLICT DO NOTHING): read them.
        again = [(g, s) for g, s, _ in missing if (g, s) not in self.got]
        if again:
            self._select(again)

    def _lock_key(self) -> dict[str, str]:
        return {"k": f"report-summary-build:{self.tenant_id}:{self.metric}:{self.tz}:{self.dim}"}

    def _try_lock(self) -> bool:
        """This tuple's build lock, held to the commit, if no other builder holds it."""
        return bool(
            self.session.execute(
                text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"),
                self._lock_key(),
            ).scalar()
        )

    def _wait(self) -> bool:
        """Wait (at most ``BUILD_WAIT_MS``) until the holder of the build lock commits, without
        keeping the lock: taken shared in a savepoint that is rolled back (which releases it
        and the local ``lock_timeout``). False when the wait gave up."""
        nested = self.session.begin_nested()
        try:
            self.session.execute(
                text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": str(BUILD_WAIT_MS)}
            )
            self.session.execute(
                text("SELECT pg_advisory_xact_lock_shared(hashtextextended(:k, 0))"),
                self._lock_key(),
            )
        except DBAPIError as error:
            nested.rollback()
            if getattr(error.orig, "sqlstate", None) in _GAVE_UP:
                return False
            raise
        nested.rollback()
        return True

    def _keep(self, rows: Iterable[object]) -> None:
        for r in rows:
            period = (r.grain, r.period_start)  # type: ignore[attr-defined]
            values = self.got.setdefault(period, {})
            if r.dim_value == COMPLETE:  # type: ignore[attr-defined]
                continue
            runs = Runs()
            runs.add(
                r.n,  # type: ignore[attr-defined]
                r.sum_business,  # type: ignore[attr-defined]
                r.sum_wall,  # type: ignore[attr-defined]
                unpack(r.business),  # type: ignore[attr-defined]
                unpack(r.wall),  # type: ignore[attr-defined]
            )
            values[r.dim_value] = runs  # type: ignore[attr-defined]

    def _params(self) -> dict[str, object]:
        return {"t": self.tenant_id, "m": self.metric, "tz": self.tz, "dim": self.dim}

    def _select(self, periods: list[Period]) -> None:
        rows = fetch_binary(
            self.session,
            "SELECT s.grain, s.period_start, s.dim_value, s.n, s.sum_business, s.sum_wall,"
            " s.business, s.wall FROM report_duration_summaries s"
            " JOIN unnest(CAST(%(grains)s AS text[]), CAST(%(starts)s AS timestamptz[]))"
            " AS p(grain, start) ON s.grain = p.grain AND s.period_start = p.start"
            " WHERE s.tenant_id = %(t)s AND s.metric = %(m)s AND s.tz = %(tz)s"
            " AND s.dim = %(dim)s"
            # One value: with the marker row, which says the period is built.
            + ("" if self.value is None else " AND s.dim_value IN (%(v)s, '*')"),
            {
                **self._params(),
                "grains": [g for g, _ in periods],
                "starts": [s for _, s in periods],
                "v": self.value,
            },
        )
        self._keep(rows)

    def _build(self, periods: list[tuple[str, datetime, datetime]]) -> None:
        at, business, wall = METRICS[self.metric]
        column = DIM_COLUMNS[self.dim]
        value = "''" if column is None else f"coalesce(f.{column}::text, '')"
        count_build()
        # Shared with other builders; a writer of the facts takes it exclusive (0028).
        self.session.execute(
            text("SELECT pg_advisory_xact_lock_shared(hashtext('report-summaries:' || :t))"),
            {"t": str(self.tenant_id)},
        )
        rows = self.session.execute(
            text(
                "INSERT INTO report_duration_summaries (tenant_id, metric, tz, grain,"
                " period_start, period_end, dim, dim_value, n, sum_business, sum_wall,"
                " business, wall)"
                " SELECT :t, :m, :tz, p.grain, p.start, p.stop, :dim, v.dim_value, v.n,"
                " v.sb, v.sw, v.b, v.w"
                " FROM unnest(CAST(:grains AS text[]), CAST(:starts AS timestamptz[]),"
                " CAST(:stops AS timestamptz[])) AS p(grain, start, stop)"
                " CROSS JOIN LATERAL ("
                f" SELECT {value} AS dim_value, count(*)::integer AS n,"
                f" sum(f.{business}) AS sb, sum(f.{wall}) AS sw,"
                f" coalesce(string_agg(int4send(f.{business}), ''::bytea ORDER BY f.{business})"
                f" FILTER (WHERE f.{business} IS NOT NULL), ''::bytea) AS b,"
                f" coalesce(string_agg(int4send(f.{wall}), ''::bytea ORDER BY f.{wall})"
                f" FILTER (WHERE f.{wall} IS NOT NULL), ''::bytea) AS w"
                " FROM report_ticket_facts f WHERE f.tenant_id = :t"
                f" AND f.{at} >= p.start AND f.{at} < p.stop AND NOT f.merged GROUP BY 1"
                " UNION ALL SELECT '*', 0, NULL, NULL, ''::bytea, ''::bytea) v"
                " ON CONFLICT DO NOTHING"
                " RETURNING grain, period_start, dim_value, n, sum_business, sum_wall,"
                " business, wall"
            ),
            {
                **self._params(),
                "grains": [g for g, _, _ in periods],
                "starts": [s for _, s, _ in periods],
                "stops": [e for _, _, e in periods],
            },
        )
        self._keep(r for r in rows if self.value is None or r.dim_value in (self.value, COMPLETE))

    def runs(self, periods: Iterable[tuple[str, datetime, datetime]]) -> dict[str, Runs]:
        """Dimension value -> the runs of these (loaded) periods."""
        out: dict[str, Runs] = defaultdict(Runs)
        for grain, start, _ in periods:
            for dim_value, runs in self.got.get((grain, start), {}).items():
                out[dim_value].extend(runs)
        return out


def _open_rows(
    session: Session,
    tenant_id: uuid.UUID,
    metric: str,
    start: datetime,
    end: datetime,
    params: ReportParams,
    dim: str,
) -> list[OpenRow]:
    """The open period's facts: (moment, dimension value, business, wall)."""
    at, business, wall = METRICS[metric]
    column = DIM_COLUMNS[dim]
    value = "''" if column is None else f"coalesce(f.{column}::text, '')"
    filters, values = "", {}
    for name in FILTER_COLUMNS:
        given = getattr(params, name)
        if given is not None:
            filters += f" AND f.{name} = :f_{name}"
            values[f"f_{name}"] = given
    return [
        (r[0], r[1], r[2], r[3])
        for r in session.execute(
            text(
                f"SELECT f.{at}, {value}, f.{business}, f.{wall} FROM report_ticket_facts f"
                f" WHERE f.tenant_id = :t AND f.{at} >= :start AND f.{at} < :end"
                f" AND NOT f.merged{filters}"
            ),
            {"t": tenant_id, "start": start, "end": end, **values},
        )
    ]


def _open_runs(rows: list[OpenRow]) -> dict[str, Runs]:
    by: dict[str, list[tuple[int | None, int | None]]] = defaultdict(list)
    for _, dim_value, b, w in rows:
        by[dim_value].append((b, w))
    out: dict[str, Runs] = {}
    for dim_value, pairs in by.items():
        bs = sorted(b for b, _ in pairs if b is not None)
        ws = sorted(w for _, w in pairs if w is not None)
        runs = Runs()
        runs.add(len(pairs), sum(bs), sum(ws), bs, ws)
        out[dim_value] = runs
    return out


def _spans(window: Window) -> list[tuple[date | None, date, date]]:
    """The cells' spans of local days: the buckets clipped to the range (or the range)."""
    stop = window.until + timedelta(days=1)
    if window.interval is None:
        return [(None, window.since, stop)]
    return [
        (day, max(day, window.since), min(next_period(day, window.interval), stop))
        for day, _, _ in window.buckets
    ]


def durations(
    session: Session,
    tenant_id: uuid.UUID,
    metric: str,
    window: Window,
    params: ReportParams,
    *,
    now: datetime | None = None,
) -> Aggregated | None:
    """The duration measures (``definitions._durations``' keys) per bucket and group and
    over everything, from the summaries; None when they cannot answer (two dimensions)."""
    chosen = choice(params)
    if chosen is None:
        return None
    dim, value = chosen
    zone = window.zone
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    reader = Reader(session, tenant_id, metric, window.tz, dim, value)
    plans = [
        (bucket, plan(a, b, zone, today), local_midnight(b, zone))
        for bucket, a, b in _spans(window)
    ]
    reader.load(period for _, p, _ in plans for period in p.periods)  # one read for all
    open_start = min((p.open_from for _, p, _ in plans if p.open_from is not None), default=None)
    rows = (
        _open_rows(session, tenant_id, metric, open_start, window.end, params, dim)
        if open_start is not None
        else []
    )
    grouped = params.group_by is not None
    cells_runs = _cells(reader, plans, rows, value, grouped=grouped)
    if window.interval is None and not grouped:
        cell = cells_runs.get((None, None), Runs()).cell()
        return Aggregated({(None, None): dict(cell)}, cell)
    cells = {key: runs.cell() for key, runs in cells_runs.items()}
    # An empty range still has its totals row (GROUPING SETS' ()): count 0.
    if sum(len(r.business) + len(r.wall) for r in cells_runs.values()) <= 2 * MAX_MERGED_RUNS:
        totals = Runs()
        for runs in cells_runs.values():
            totals.extend(runs)
    else:
        totals = _totals(session, tenant_id, metric, window, dim, value, today, rows)
    return Aggregated(cells, totals.cell())


def _cells(
    reader: Reader,
    plans: list[tuple[date | None, Plan, datetime]],
    rows: list[OpenRow],
    value: str | None,
    *,
    grouped: bool,
) -> dict[Key, Runs]:
    """Each (bucket, group)'s runs: its closed periods' summaries and its open rows."""
    out: dict[Key, Runs] = {}
    for bucket, p, span_end in plans:
        per_value = reader.runs(p.periods)
        if p.open_from is not None:
            start = p.open_from
            inside = [r for r in rows if start <= r[0] < span_end]
            for dim_value, runs in _open_runs(inside).items():
                per_value.setdefault(dim_value, Runs()).extend(runs)
        for dim_value, runs in per_value.items():
            if runs.n and (value is None or dim_value == value):
                group = (dim_value or None) if grouped else None
                out.setdefault((bucket, group), Runs()).extend(runs)
    return out


def _totals(
    session: Session,
    tenant_id: uuid.UUID,
    metric: str,
    window: Window,
    dim: str,
    value: str | None,
    today: date,
    rows: list[OpenRow],
) -> Runs:
    """Over the whole range, without grouping: its own (coarser) summaries, fewer runs."""
    whole = plan(window.since, window.until + timedelta(days=1), window.zone, today)
    over = Reader(session, tenant_id, metric, window.tz, "all" if value is None else dim, value)
    over.load(whole.periods)
    totals = Runs()
    for dim_value, runs in over.runs(whole.periods).items():
        if value is None or dim_value == value:
            totals.extend(runs)
    if whole.open_from is not None:
        start = whole.open_from
        for runs in _open_runs([(r[0], "", r[2], r[3]) for r in rows if r[0] >= start]).values():
            totals.extend(runs)
    return totals
