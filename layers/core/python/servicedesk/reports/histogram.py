"""Exact percentiles of the durations from a histogram rollup (docs/reports.md).

``report_duration_hist`` (migration 0027) counts the facts' durations per tenant, metric
(first_response | resolution), basis (business | wall), dimension and value (as the hourly
rollup), UTC period (grain 'd': a day, 'm': a month) and log-scale bin (``bin_of``; -1: no
duration), with the sum of the seconds. ``refresh_diff``/``apply`` keep it with the facts in
``facts.refresh`` (old contribution out, new in, one statement in key order);
``rebuild`` recounts it from the facts.

``durations`` answers the duration reports exactly in two steps:

1. counts per (cell, bin): each cell's time range (a bucket of the window, or the window)
   is cut into whole UTC months and days read from the histogram, and the partial UTC days
   at its edges read from the facts (a partial day longer than 12 hours is the day's
   histogram less the facts of its other part, so at most 12 hours of facts per edge);
2. the bins that hold the k-th values ``percentile_cont`` interpolates between (positions
   ``p * (n - 1)``, floor and ceiling) are read from the facts for that cell only (index on
   (tenant, bin, moment)), ``ORDER BY value OFFSET LIMIT``; interpolation as PostgreSQL
   does it, means as ``avg`` does (numeric sum / count).
"""

from __future__ import annotations

import math
import uuid
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.reports.query import (
    GROUP_COLUMNS,
    Aggregated,
    Cell,
    Key,
    dimension_choice,
    filter_sql,
)
from servicedesk.reports.window import ReportParams, Window

PER_OCTAVE = 16
# Lower bounds of bins 1.. (bin 0: below 1 s), as report_duration_bin (migration 0027).
BOUNDS = sorted(
    b
    for b in {((PER_OCTAVE + m) << e) // PER_OCTAVE for e in range(31) for m in range(PER_OCTAVE)}
    if b < 2**31
)
NO_VALUE = -1

# metric -> (moment column, business seconds column, wall seconds column)
METRICS = {
    "first_response": ("first_response_at", "first_response_business", "first_response_wall"),
    "resolution": ("resolved_at", "resolution_business", "resolution_wall"),
}
BASES = ("business", "wall")
DIMS = {"team": "team_id", "agent": "assignee_id", "category": "category_id"}
DIMS.update({"priority": "priority", "channel": "channel"})

# metric, dim, grain, period, value, basis, bin
HistKey = tuple[str, str, str, date, str, str, int]

DAY = timedelta(days=1)
HALF_DAY = timedelta(hours=12)


def bin_of(seconds: int | None) -> int:
    return NO_VALUE if seconds is None else bisect_right(BOUNDS, seconds)


# ---------------------------------------------------------------------------- maintenance


def contributions(rows: list[dict[str, Any]], sign: int) -> dict[HistKey, list[int]]:
    """What these fact rows add to the histogram (times ``sign``): key -> [n, total]."""
    out: dict[HistKey, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        if row["merged"]:
            continue
        values = [("all", "")] + [
            (dim, "" if row[column] is None else str(row[column])) for dim, column in DIMS.items()
        ]
        for metric, (moment, business, wall) in METRICS.items():
            at = row[moment]
            if at is None:
                continue
            day = at.astimezone(UTC).date()
            for basis, column in (("business", business), ("wall", wall)):
                seconds = row[column]
                b = bin_of(seconds)
                for grain, period in (("d", day), ("m", day.replace(day=1))):
                    for dim, value in values:
                        cell = out[(metric, dim, grain, period, value, basis, b)]
                        cell[0] += sign
                        cell[1] += sign * (seconds or 0)
    return out


def diff(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[HistKey, list[int]]:
    out = contributions(new, 1)
    for key, (n, total) in contributions(old, -1).items():
        out[key][0] += n
        out[key][1] += total
    return out


def apply(session: Session, tenant_id: uuid.UUID, change: dict[HistKey, list[int]]) -> None:
    """Add ``change`` to the histogram in one statement, rows in key order (no deadlock
    between two refreshes)."""
    keys = sorted(k for k, (n, total) in change.items() if n or total)
    if not keys:
        return
    session.execute(
        text(
            "INSERT INTO report_duration_hist (tenant_id, metric, dim, grain, period, value,"
            " basis, bin, n, total)"
            " SELECT :t, m, d, g, p, v, b, k, n, s FROM unnest(CAST(:m AS text[]),"
            " CAST(:d AS text[]), CAST(:g AS text[]), CAST(:p AS date[]), CAST(:v AS text[]),"
            " CAST(:b AS text[]), CAST(:k AS integer[]), CAST(:n AS integer[]),"
            " CAST(:s AS bigint[])) WITH ORDINALITY AS u(m, d, g, p, v, b, k, n, s, o)"
            " ORDER BY o ON CONFLICT (tenant_id, metric, dim, grain, period, value, basis, bin)"
            " DO UPDATE SET n = report_duration_hist.n + EXCLUDED.n,"
            " total = report_duration_hist.total + EXCLUDED.total"
        ),
        {
            "t": tenant_id,
            **{name: [k[i] for k in keys] for i, name in enumerate("mdgpvbk")},
            "n": [change[k][0] for k in keys],
            "s": [change[k][1] for k in keys],
        },
    )


REBUILD_DAYS = (
    "INSERT INTO report_duration_hist (tenant_id, metric, dim, grain, period, value, basis,"
    " bin, n, total)"
    " SELECT f.tenant_id, x.metric, :dim, 'd', (x.at AT TIME ZONE 'UTC')::date, {value},"
    " x.basis, coalesce(report_duration_bin(x.s), -1), count(*), coalesce(sum(x.s), 0)"
    " FROM report_ticket_facts f CROSS JOIN LATERAL (VALUES"
    " ('first_response', 'business', f.first_response_at, f.first_response_business),"
    " ('first_response', 'wall', f.first_response_at, f.first_response_wall),"
    " ('resolution', 'business', f.resolved_at, f.resolution_business),"
    " ('resolution', 'wall', f.resolved_at, f.resolution_wall)) x(metric, basis, at, s)"
    " WHERE f.tenant_id = :t AND NOT f.merged AND x.at IS NOT NULL"
    " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
)
REBUILD_MONTHS = (
    "INSERT INTO report_duration_hist (tenant_id, metric, dim, grain, period, value, basis,"
    " bin, n, total)"
    " SELECT tenant_id, metric, dim, 'm', date_trunc('month', period)::date, value, basis, bin,"
    " sum(n), sum(total) FROM report_duration_hist WHERE tenant_id = :t AND grain = 'd'"
    " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
)


def rebuild(session: Session, tenant_id: uuid.UUID) -> None:
    """The tenant's histogram recounted from its facts, one statement per dimension, then the
    months from the days (the caller holds the tenant's exclusive reports lock:
    ``facts.rebuild_rollup``)."""
    params = {"t": tenant_id}
    session.execute(text("SET LOCAL work_mem = '256MB'"))  # an operator's command
    session.execute(text("DELETE FROM report_duration_hist WHERE tenant_id = :t"), params)
    values = {"all": "''"} | {
        dim: f"coalesce(f.{column}::text, '')" for dim, column in DIMS.items()
    }
    for dim, value in values.items():
        session.execute(text(REBUILD_DAYS.format(value=value)), {**params, "dim": dim})
    session.execute(text(REBUILD_MONTHS), params)


# ---------------------------------------------------------------------------- query

Segment = tuple[date | None, datetime, datetime]  # bucket key, UTC start, UTC end
Edge = tuple[datetime, datetime, int]  # UTC start, end, sign


def segments(window: Window) -> list[Segment]:
    """The window's buckets clipped to it (the window if no interval)."""
    if window.interval is None:
        return [(None, window.start, window.end)]
    out: list[Segment] = []
    for day, start, end in window.buckets:
        s, e = max(start, window.start), min(end, window.end)
        if s < e:
            out.append((day, s, e))
    return out


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def decompose(start: datetime, end: datetime) -> tuple[list[tuple[str, date]], list[Edge]]:
    """[start, end) as whole UTC months and days of the histogram (grain, first day) plus
    signed ranges of the facts: a partial day of at most 12 hours is read (+1), a longer one
    is its whole day less the rest (-1)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    periods: list[tuple[str, date]] = []
    edges: list[Edge] = []
    first_day, last_day = start.date(), end.date()
    s0, e0 = _midnight(first_day), _midnight(last_day)
    if first_day == last_day:
        if end - start <= HALF_DAY:
            return [], [(start, end, 1)]
        periods.append(("d", first_day))
        edges.extend(r for r in ((s0, start, -1), (end, s0 + DAY, -1)) if r[0] < r[1])
        return periods, edges
    if start == s0:
        first = first_day
    elif s0 + DAY - start <= HALF_DAY:
        edges.append((start, s0 + DAY, 1))
        first = first_day + DAY
    else:
        edges.append((s0, start, -1))
        first = first_day
    if end == e0:
        last = last_day
    elif end - e0 <= HALF_DAY:
        edges.append((e0, end, 1))
        last = last_day
    else:
        edges.append((end, e0 + DAY, -1))
        last = last_day + DAY
    day = first
    while day < last:
        following = _next_month(day)
        if day.day == 1 and following <= last:
            periods.append(("m", day))
            day = following
        else:
            periods.append(("d", day))
            day += DAY
    return periods, edges


def choice(params: ReportParams) -> tuple[str, str | None] | None:
    """The histogram dimension (and value) that answers: at most one dimension filtered or
    grouped (``query.dimension_choice``); None: the direct SQL."""
    return dimension_choice(params)


CellId = tuple[int, str | None]  # segment index (-1: the totals), group
Bins = dict[int, list[int]]  # bin -> [n, total]
ByBasis = dict[str, Bins]
Request = tuple[CellId, str, int]  # cell, basis, bin
WANTED = {"business": (0.5, 0.9), "wall": (0.5,)}


def _bins() -> ByBasis:
    return {basis: defaultdict(lambda: [0, 0]) for basis in BASES}


@dataclass
class _Query:
    """One duration report's two steps (``durations``)."""

    session: Session
    tenant_id: uuid.UUID
    metric: str
    window: Window
    params: ReportParams
    dim: str
    only: str | None
    segs: list[Segment] = field(default_factory=list)
    acc: dict[CellId, ByBasis] = field(default_factory=lambda: defaultdict(_bins))

    def __post_init__(self) -> None:
        self.moment, self.business, self.wall = METRICS[self.metric]
        self.group_column = GROUP_COLUMNS[self.params.group_by] if self.params.group_by else None
        self.filters, values = filter_sql(self.params)
        self.base: dict[str, Any] = {"t": self.tenant_id, **values}
        self.segs = segments(self.window)
        self.single = self.window.interval is None and self.group_column is None

    # Step 1: counts per (cell, basis, bin).

    def count(self) -> None:
        grains: list[str] = []
        periods: list[date] = []
        owners: list[int] = []
        edges: list[tuple[int, int, datetime, datetime]] = []
        for index, (_, s, e) in enumerate(self.segs):
            parts, signed = decompose(s, e)
            for grain, period in parts:
                grains.append(grain)
                periods.append(period)
                owners.append(index)
            edges.extend((index, sign, a, b) for a, b, sign in signed)
        if periods:
            self._count_histogram(grains, periods, owners)
        if edges:
            self._count_facts(edges)

    def _count_histogram(self, grains: list[str], periods: list[date], owners: list[int]) -> None:
        rows = self.session.execute(
            text(
                "SELECT m.seg, h.value, h.basis, h.bin, sum(h.n) AS n, sum(h.total) AS total"
                " FROM unnest(CAST(:grains AS text[]), CAST(:periods AS date[]),"
                " CAST(:segs AS integer[])) AS m(grain, period, seg)"
                " JOIN report_duration_hist h ON h.tenant_id = :t AND h.metric = :metric"
                " AND h.dim = :dim AND h.grain = m.grain AND h.period = m.period"
                + (" AND h.value = :value" if self.only is not None else "")
                + " GROUP BY 1, 2, 3, 4"
            ),
            {
                **self.base,
                "metric": self.metric,
                "dim": self.dim,
                "value": self.only,
                "grains": grains,
                "periods": periods,
                "segs": owners,
            },
        )
        for r in rows:
            group = (r.value or None) if self.group_column else None
            cell = self.acc[(r.seg, group)][r.basis][r.bin]
            cell[0] += int(r.n)
            cell[1] += int(r.total)

    def _count_facts(self, edges: list[tuple[int, int, datetime, datetime]]) -> None:
        group_sql = f"f.{self.group_column}::text" if self.group_column else "NULL::text"
        business, wall, moment = self.business, self.wall, self.moment
        rows = self.session.execute(
            text(
                f"SELECT r.seg, r.sign, {group_sql} AS grp,"
                f" coalesce(report_duration_bin(f.{business}), -1) AS bb,"
                f" coalesce(report_duration_bin(f.{wall}), -1) AS bw, count(*) AS n,"
                f" coalesce(sum(f.{business}), 0) AS tb, coalesce(sum(f.{wall}), 0) AS tw"
                " FROM unnest(CAST(:segs AS integer[]), CAST(:signs AS integer[]),"
                " CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]))"
                " AS r(seg, sign, a, b)"
                f" JOIN report_ticket_facts f ON f.tenant_id = :t AND f.{moment} >= r.a"
                f" AND f.{moment} < r.b WHERE NOT f.merged{self.filters} GROUP BY 1, 2, 3, 4, 5"
            ),
            {
                **self.base,
                "segs": [r[0] for r in edges],
                "signs": [r[1] for r in edges],
                "starts": [r[2] for r in edges],
                "ends": [r[3] for r in edges],
            },
        )
        for r in rows:
            sign = int(r.sign)
            by_basis = self.acc[(r.seg, r.grp)]
            for basis, b, total in (("business", r.bb, r.tb), ("wall", r.bw, r.tw)):
                cell = by_basis[basis][b]
                cell[0] += sign * int(r.n)
                cell[1] += sign * int(total)

    def cells(self) -> tuple[dict[CellId, ByBasis], dict[CellId, ByBasis]]:
        """The cells with rows, and everything to answer: those and the totals (-1, None)."""
        cells: dict[CellId, ByBasis] = {}
        totals = _bins()
        for cell_id, by_basis in self.acc.items():
            count = sum(n for n, _ in by_basis["business"].values())
            if any(n < 0 for bins in by_basis.values() for n, _ in bins.values()):
                raise RuntimeError(f"report_duration_hist is inconsistent at {cell_id}")
            if count == 0:
                continue
            cells[cell_id] = by_basis
            for basis in BASES:
                for b, (n, total) in by_basis[basis].items():
                    totals[basis][b][0] += n
                    totals[basis][b][1] += total
        everything: dict[CellId, ByBasis] = {(-1, None): totals}
        if not self.single:
            everything.update(cells)
        return cells, everything

    # Step 2: the values at the ranks each percentile needs.

    def pick(self, everything: dict[CellId, ByBasis]) -> dict[tuple[CellId, str, float], float]:
        located: dict[tuple[CellId, str, float], tuple[float, list[tuple[int, int]]]] = {}
        requests: dict[Request, list[int]] = {}  # -> [first offset, last offset]
        for cell_id, by_basis in everything.items():
            for basis, fractions in WANTED.items():
                ordered = sorted((b, n) for b, (n, _) in by_basis[basis].items() if b >= 0 and n)
                valued = sum(n for _, n in ordered)
                for p in fractions if valued else ():
                    position = p * (valued - 1)
                    ranks = sorted({math.floor(position), math.ceil(position)})
                    spots = [_locate(ordered, rank) for rank in ranks]
                    located[(cell_id, basis, p)] = (position, spots)
                    for b, offset in spots:
                        span = requests.setdefault((cell_id, basis, b), [offset, offset])
                        span[0], span[1] = min(span[0], offset), max(span[1], offset)
        found = self._fetch(requests)
        out: dict[tuple[CellId, str, float], float] = {}
        for key, (position, spots) in located.items():
            cell_id, basis, _ = key
            picked = [
                float(found[(cell_id, basis, b)][offset - requests[(cell_id, basis, b)][0]])
                for b, offset in spots
            ]
            if len(picked) == 1:
                out[key] = picked[0]
            else:  # as percentile_cont: low + (position - floor) * (high - low)
                low, high = picked
                out[key] = low + (position - math.floor(position)) * (high - low)
        return out

    def _fetch(self, requests: dict[Request, list[int]]) -> dict[Request, list[int]]:
        found: dict[Request, list[int]] = {}
        for basis in BASES:
            keys = [k for k in requests if k[1] == basis]
            if not keys:
                continue
            column = self.business if basis == "business" else self.wall
            group_sql = (
                f" AND (r.anyg OR f.{self.group_column}::text IS NOT DISTINCT FROM r.grp)"
                if self.group_column
                else ""
            )
            ranges = [self._range(k[0]) for k in keys]
            rows = self.session.execute(
                text(
                    "SELECT r.id, x.v FROM unnest(CAST(:ids AS integer[]),"
                    " CAST(:bins AS integer[]), CAST(:starts AS timestamptz[]),"
                    " CAST(:ends AS timestamptz[]), CAST(:grps AS text[]),"
                    " CAST(:anys AS boolean[]), CAST(:offs AS integer[]),"
                    " CAST(:lims AS integer[])) AS r(id, bin, a, b, grp, anyg, off, lim)"
                    f" CROSS JOIN LATERAL (SELECT f.{column} AS v FROM report_ticket_facts f"
                    f" WHERE f.tenant_id = :t AND report_duration_bin(f.{column}) = r.bin"
                    f" AND f.{self.moment} >= r.a AND f.{self.moment} < r.b AND NOT f.merged"
                    f"{group_sql}{self.filters} ORDER BY f.{column} OFFSET r.off LIMIT r.lim) x"
                ),
                {
                    **self.base,
                    "ids": list(range(len(keys))),
                    "bins": [k[2] for k in keys],
                    "starts": [r[0] for r in ranges],
                    "ends": [r[1] for r in ranges],
                    "grps": [k[0][1] for k in keys],
                    "anys": [k[0][0] < 0 for k in keys],
                    "offs": [requests[k][0] for k in keys],
                    "lims": [requests[k][1] - requests[k][0] + 1 for k in keys],
                },
            )
            got: dict[int, list[int]] = defaultdict(list)
            for r in rows:
                got[int(r.id)].append(int(r.v))
            for i, key in enumerate(keys):
                found[key] = sorted(got[i])
                if len(found[key]) != requests[key][1] - requests[key][0] + 1:
                    raise RuntimeError(f"report_duration_hist disagrees with the facts at {key}")
        return found

    def _range(self, cell_id: CellId) -> tuple[datetime, datetime]:
        if cell_id[0] < 0:
            return self.window.start, self.window.end
        _, s, e = self.segs[cell_id[0]]
        return s, e

    def means(self, everything: dict[CellId, ByBasis]) -> dict[tuple[CellId, str], float]:
        """As avg() computes them: numeric sum / numeric count (same digits)."""
        sums: list[tuple[CellId, str, int, int]] = []
        for cell_id, by_basis in everything.items():
            for basis in BASES:
                n = sum(c for b, (c, _) in by_basis[basis].items() if b >= 0)
                if n:
                    sums.append((cell_id, basis, sum(t for _, t in by_basis[basis].values()), n))
        if not sums:
            return {}
        quotients = self.session.execute(
            text(
                "SELECT u.s::numeric / u.c::numeric AS q FROM unnest(CAST(:s AS bigint[]),"
                " CAST(:c AS bigint[])) WITH ORDINALITY AS u(s, c, o) ORDER BY u.o"
            ),
            {"s": [x[2] for x in sums], "c": [x[3] for x in sums]},
        ).scalars()
        return {(x[0], x[1]): float(q) for x, q in zip(sums, quotients, strict=True)}


def durations(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    metric: str,
    window: Window,
    params: ReportParams,
) -> Aggregated | None:
    """The measures of ``definitions._durations`` (count, pct_business [median, p90],
    mean_business, median_wall, mean_wall) per (bucket, group) and in total; None when the
    histogram cannot answer these parameters."""
    chosen = choice(params)
    if chosen is None:
        return None
    query = _Query(session, tenant_id, metric, window, params, *chosen)
    query.count()
    cells, everything = query.cells()
    picked = query.pick(everything)
    means = query.means(everything)

    def measures(cell_id: CellId) -> Cell:
        median = picked.get((cell_id, "business", 0.5))
        return {
            "count": sum(n for n, _ in everything[cell_id]["business"].values()),
            "pct_business": None
            if median is None
            else [median, picked[(cell_id, "business", 0.9)]],
            "mean_business": means.get((cell_id, "business")),
            "median_wall": picked.get((cell_id, "wall", 0.5)),
            "mean_wall": means.get((cell_id, "wall")),
        }

    totals = measures((-1, None))
    if query.single:
        return Aggregated({(None, None): dict(totals)}, totals)
    out: dict[Key, Cell] = {(query.segs[s][0], group): measures((s, group)) for s, group in cells}
    return Aggregated(out, totals)


def _locate(ordered: list[tuple[int, int]], rank: int) -> tuple[int, int]:
    """The bin holding the ``rank``-th value (0-based) and its offset in the bin."""
    for b, n in ordered:
        if rank < n:
            return b, rank
        rank -= n
    raise AssertionError("rank beyond the count")
