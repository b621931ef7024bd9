"""agent-performance's resolutions, replies and medians from agent summaries of closed local
periods (docs/reports.md, "agent-performance from agent summaries"; migration 0038).

``report_agent_summaries`` holds, per (zone, grain, local period, agent), the resolution
events (``handled``), the public replies, and the first-response and resolution business
seconds of each resolution event's ticket, sorted. A report's range is cut as the duration
summaries cut it (``summaries.plan``: closed local months, closed local days, the open rest
read from the events); missing periods are built in one statement under the same locks as
the duration summaries (the build lock per (tenant, metric, zone, dimension), then the
tenant's summaries lock shared; the writers of ``report_events`` take it exclusive).

The medians count each (agent, ticket) once however often the agent resolved the ticket in
the range (the direct SQL's ``DISTINCT``). Each resolution event carries the moment of the
same agent's previous resolution of the ticket (``prev_same_at``, written by
``facts.refresh``), so the repeats in [start, end) are the resolution events in it whose
``prev_same_at`` is in it too: for k resolutions of one ticket by one agent in the range,
k - 1 rows. A period's summary leaves out its own repeats (the previous resolution in the
same period, migration 0062); the rest (the previous one in an earlier period of the
range, or in the open rest) are taken out at query time, read from a partial index of the
few events that have one. The k-th smallest of the runs less those values is a binary
search on the (integer) value: the smallest x with ``#(runs <= x) - #(removed <= x) > k``.

CSAT (answers on the tickets assigned to the agent now) is counted into the same summaries
from the answer kinds by the events' ``assignee_id`` (migration 0062).
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from math import ceil, floor

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.reports import summaries
from servicedesk.reports.facts import CSAT_ANSWER_KINDS, CSAT_GOOD_KINDS
from servicedesk.reports.query import FILTER_COLUMNS
from servicedesk.reports.window import ReportParams, Window

COMPLETE = summaries.COMPLETE


@dataclass
class AgentRuns:
    """One agent's resolutions, replies and sorted runs over disjoint periods."""

    handled: int = 0
    replies: int = 0
    first_response: list[Sequence[int]] = field(default_factory=list)
    resolution: list[Sequence[int]] = field(default_factory=list)
    # CSAT answers on the tickets assigned to the agent now, and the good ones (4-5, good).
    csat_answered: int = 0
    csat_good: int = 0

    def add(
        self,
        handled: int,
        replies: int,
        fr: Sequence[int],
        res: Sequence[int],
        csat: tuple[int, int] = (0, 0),
    ) -> None:
        self.handled += handled
        self.replies += replies
        if fr:
            self.first_response.append(fr)
        if res:
            self.resolution.append(res)
        self.csat_answered += csat[0]
        self.csat_good += csat[1]


@dataclass
class Performance:
    handled: int
    replies: int
    median_first_response: float | None
    median_resolution: float | None
    csat_answered: int = 0
    csat_good: int = 0


def kth_without(runs: Sequence[Sequence[int]], removed: Sequence[int], k: int) -> int:
    """The k-th smallest (0-based) of the union of the sorted ``runs`` less the sorted
    multiset ``removed`` (a sub-multiset of the union)."""
    if not removed:
        return summaries.kth(runs, k)
    lo = min(r[0] for r in runs if r)
    hi = max(r[-1] for r in runs if r)
    while lo < hi:
        mid = (lo + hi) // 2
        if sum(bisect_right(r, mid) for r in runs) - bisect_right(removed, mid) > k:
            hi = mid
        else:
            lo = mid + 1
    return lo


def median_without(runs: Sequence[Sequence[int]], removed: list[int]) -> float | None:
    """``percentile_cont(0.5)`` of the runs less ``removed``, as PostgreSQL computes it."""
    n = sum(len(r) for r in runs) - len(removed)
    if n <= 0:
        return None
    if not removed:
        return summaries.percentile(runs, n, 0.5)
    removed.sort()
    at = 0.5 * (n - 1)
    first, second = floor(at), ceil(at)
    low = float(kth_without(runs, removed, first))
    if second == first:
        return low
    high = float(kth_without(runs, removed, second))
    return low + (at - first) * (high - low)


class AgentReader(summaries.Reader):
    """Reads (building what is missing) the agent summaries of one zone."""

    def __init__(self, session: Session, tenant_id: uuid.UUID, tz: str) -> None:
        super().__init__(session, tenant_id, "agent", tz, "agent", None)
        self.data: dict[summaries.Period, dict[str, AgentRuns]] = {}

    def _keep(self, rows: Iterable[object]) -> None:
        for r in rows:
            period = (r.grain, r.period_start)  # type: ignore[attr-defined]
            self.got.setdefault(period, {})
            values = self.data.setdefault(period, {})
            if r.agent == COMPLETE:  # type: ignore[attr-defined]
                continue
            runs = AgentRuns()
            runs.add(
                r.handled,  # type: ignore[attr-defined]
                r.replies,  # type: ignore[attr-defined]
                summaries.unpack(r.first_response),  # type: ignore[attr-defined]
                summaries.unpack(r.resolution),  # type: ignore[attr-defined]
                (r.csat_answered, r.csat_good),  # type: ignore[attr-defined]
            )
            values[r.agent] = runs  # type: ignore[attr-defined]

    def _select(self, periods: list[summaries.Period]) -> None:
        rows = summaries.fetch_binary(
            self.session,
            "SELECT s.grain, s.period_start, s.agent, s.handled, s.replies,"
            " s.first_response, s.resolution, s.csat_answered, s.csat_good"
            " FROM report_agent_summaries s"
            " JOIN unnest(CAST(%(grains)s AS text[]), CAST(%(starts)s AS timestamptz[]))"
            " AS p(grain, start) ON s.grain = p.grain AND s.period_start = p.start"
            " WHERE s.tenant_id = %(t)s AND s.tz = %(tz)s"
            # Written by the code before migration 0062 (no CSAT): built again over it.
            " AND s.csat_answered IS NOT NULL",
            {
                "t": self.tenant_id,
                "tz": self.tz,
                "grains": [g for g, _ in periods],
                "starts": [s for _, s in periods],
            },
        )
        self._keep(rows)

    def _build(self, periods: list[tuple[str, datetime, datetime]]) -> None:
        summaries.count_build()
        # Shared with other builders; a writer of the events takes it exclusive (0038).
        self.session.execute(
            text("SELECT pg_advisory_xact_lock_shared(hashtext('report-summaries:' || :t))"),
            {"t": str(self.tenant_id)},
        )
        rows = self.session.execute(
            text(
                "INSERT INTO report_agent_summaries (tenant_id, tz, grain, period_start,"
                " period_end, agent, handled, replies, first_response, resolution,"
                " csat_answered, csat_good)"
                " SELECT :t, :tz, p.grain, p.start, p.stop, v.agent, v.handled, v.replies,"
                " v.fr, v.res, v.answered, v.good"
                " FROM unnest(CAST(:grains AS text[]), CAST(:starts AS timestamptz[]),"
                " CAST(:stops AS timestamptz[])) AS p(grain, start, stop)"
                " CROSS JOIN LATERAL ("
                " SELECT u.agent, sum(u.handled)::integer AS handled,"
                " sum(u.replies)::integer AS replies, string_agg(u.fr, ''::bytea) AS fr,"
                " string_agg(u.res, ''::bytea) AS res, sum(u.answered)::integer AS answered,"
                " sum(u.good)::integer AS good FROM ("
                " SELECT e.agent_id::text AS agent, count(*) AS handled, 0 AS replies,"
                # The values: each (agent, ticket) once in the period (a repeat whose
                # previous resolution by the agent is in the period too is left out).
                " coalesce(string_agg(int4send(e.first_response_business), ''::bytea"
                " ORDER BY e.first_response_business)"
                " FILTER (WHERE e.first_response_business IS NOT NULL"
                " AND (e.prev_same_at IS NULL OR e.prev_same_at < p.start)), ''::bytea) AS fr,"
                " coalesce(string_agg(int4send(e.resolution_business), ''::bytea"
                " ORDER BY e.resolution_business)"
                " FILTER (WHERE e.resolution_business IS NOT NULL"
                " AND (e.prev_same_at IS NULL OR e.prev_same_at < p.start)), ''::bytea) AS res,"
                " 0 AS answered, 0 AS good"
                " FROM report_events e WHERE e.tenant_id = :t AND e.kind = 'resolved'"
                " AND e.agent_id IS NOT NULL AND e.at >= p.start AND e.at < p.stop"
                " GROUP BY 1"
                " UNION ALL SELECT e.agent_id::text, 0, count(*), ''::bytea, ''::bytea, 0, 0"
                " FROM report_events e WHERE e.tenant_id = :t AND e.kind = 'reply'"
                " AND e.agent_id IS NOT NULL AND e.at >= p.start AND e.at < p.stop"
                " GROUP BY 1"
                # CSAT by the ticket's current assignee (the events carry it).
                " UNION ALL SELECT e.assignee_id::text, 0, 0, ''::bytea, ''::bytea, count(*),"
                " count(*) FILTER (WHERE e.kind = ANY(CAST(:good AS text[])))"
                " FROM report_events e WHERE e.tenant_id = :t"
                " AND e.kind = ANY(CAST(:answers AS text[])) AND e.assignee_id IS NOT NULL"
                " AND e.at >= p.start AND e.at < p.stop GROUP BY 1) u GROUP BY 1"
                " UNION ALL SELECT '*', 0, 0, ''::bytea, ''::bytea, 0, 0) v"
                " ON CONFLICT (tenant_id, tz, grain, period_start, agent) DO UPDATE SET"
                " period_end = EXCLUDED.period_end, handled = EXCLUDED.handled,"
                " replies = EXCLUDED.replies, first_response = EXCLUDED.first_response,"
                " resolution = EXCLUDED.resolution, csat_answered = EXCLUDED.csat_answered,"
                " csat_good = EXCLUDED.csat_good, built_at = now()"
                " WHERE report_agent_summaries.csat_answered IS NULL"
                " RETURNING grain, period_start, agent, handled, replies, first_response,"
                " resolution, csat_answered, csat_good"
            ),
            {
                "t": self.tenant_id,
                "tz": self.tz,
                "grains": [g for g, _, _ in periods],
                "starts": [s for _, s, _ in periods],
                "stops": [e for _, _, e in periods],
                "answers": list(CSAT_ANSWER_KINDS),
                "good": list(CSAT_GOOD_KINDS),
            },
        )
        self._keep(rows)

    def agents(self, periods: Iterable[tuple[str, datetime, datetime]]) -> dict[str, AgentRuns]:
        out: dict[str, AgentRuns] = defaultdict(AgentRuns)
        for grain, start, _ in periods:
            for agent, runs in self.data.get((grain, start), {}).items():
                total = out[agent]
                total.handled += runs.handled
                total.replies += runs.replies
                total.first_response.extend(runs.first_response)
                total.resolution.extend(runs.resolution)
                total.csat_answered += runs.csat_answered
                total.csat_good += runs.csat_good
        return out


def usable(params: ReportParams) -> bool:
    """The summaries answer agent-performance without filters (they are per agent only)."""
    return summaries.ENABLED and all(getattr(params, c) is None for c in FILTER_COLUMNS)


def performance(
    session: Session,
    tenant_id: uuid.UUID,
    window: Window,
    *,
    now: datetime | None = None,
) -> dict[str, Performance]:
    """Per agent (its uuid as text): resolutions, replies and the medians, exactly as the
    direct SQL of ``definitions.agent_performance``."""
    zone = window.zone
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    cut = summaries.plan(window.since, window.until + timedelta(days=1), zone, today)
    reader = AgentReader(session, tenant_id, window.tz)
    reader.load(cut.periods)
    per_agent = reader.agents(cut.periods)
    if cut.open_from is not None:
        _add_open(session, tenant_id, cut.open_from, window.end, per_agent)
    removed = _duplicates(
        session, tenant_id, window.start, window.end, [s for _, s, _ in cut.periods], cut.open_from
    )
    out: dict[str, Performance] = {}
    for agent, runs in per_agent.items():
        if not runs.handled and not runs.replies and not runs.csat_answered:
            continue
        fr_removed, res_removed = removed.get(agent, ([], []))
        out[agent] = Performance(
            runs.handled,
            runs.replies,
            median_without(runs.first_response, fr_removed),
            median_without(runs.resolution, res_removed),
            runs.csat_answered,
            runs.csat_good,
        )
    return out


def _add_open(
    session: Session,
    tenant_id: uuid.UUID,
    start: datetime,
    end: datetime,
    per_agent: dict[str, AgentRuns],
) -> None:
    """The open rest (today and later), from the events directly."""
    values: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    handled: dict[str, int] = defaultdict(int)
    replies: dict[str, int] = defaultdict(int)
    csat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for kind, agent, assignee, fr, res in session.execute(
        text(
            "SELECT e.kind, e.agent_id::text, e.assignee_id::text, e.first_response_business,"
            " e.resolution_business FROM report_events e WHERE e.tenant_id = :t"
            " AND (e.kind IN ('resolved', 'reply') AND e.agent_id IS NOT NULL"
            " OR e.kind = ANY(CAST(:answers AS text[])) AND e.assignee_id IS NOT NULL)"
            " AND e.at >= :start AND e.at < :end"
        ),
        {"t": tenant_id, "start": start, "end": end, "answers": list(CSAT_ANSWER_KINDS)},
    ):
        if kind == "reply":
            replies[agent] += 1
        elif kind == "resolved":
            handled[agent] += 1
            if fr is not None:
                values[agent][0].append(fr)
            if res is not None:
                values[agent][1].append(res)
        else:
            csat[assignee][0] += 1
            csat[assignee][1] += kind in CSAT_GOOD_KINDS
    for agent in handled.keys() | replies.keys() | csat.keys():
        fr_values, res_values = values.get(agent, ([], []))
        answered, good = csat.get(agent, (0, 0))
        per_agent[agent].add(
            handled.get(agent, 0),
            replies.get(agent, 0),
            sorted(fr_values),
            sorted(res_values),
            (answered, good),
        )


def _duplicates(
    session: Session,
    tenant_id: uuid.UUID,
    start: datetime,
    end: datetime,
    starts: list[datetime],
    open_from: datetime | None,
) -> dict[str, tuple[list[int], list[int]]]:
    """Per agent, the values still to take out: all but one of each (agent, ticket)
    resolved more than once in the range are the resolution events in it whose same
    agent's previous resolution of the ticket (``prev_same_at``) is in it too (a ticket's
    events all carry its current durations, so (agent, ticket) is the direct SQL's DISTINCT
    key). A closed period's summary already left out its own repeats (the previous one in
    the same period); what remains are those whose previous resolution is in an earlier
    period of the range, and every repeat in the open rest. ``starts``: the closed
    periods' starts, in order, contiguous from ``start``."""
    # Aggregated per agent in SQL: one array per agent, a few dozen rows, not sorted there
    # (median_without sorts them). The period of a moment: a binary search over the starts.
    rows = session.execute(
        text(
            "SELECT e.agent_id, array_agg(e.first_response_business)"
            " FILTER (WHERE e.first_response_business IS NOT NULL),"
            " array_agg(e.resolution_business) FILTER (WHERE e.resolution_business IS NOT NULL)"
            " FROM report_events e WHERE e.tenant_id = :t AND e.kind = 'resolved'"
            " AND e.prev_same_at IS NOT NULL AND e.prev_same_at >= :start"
            " AND e.at >= :start AND e.at < :end"
            " AND (e.at >= :open_from OR e.prev_same_at < (CAST(:starts AS timestamptz[]))"
            "[width_bucket(e.at, CAST(:starts AS timestamptz[]))]) GROUP BY 1"
        ),
        {
            "t": tenant_id,
            "start": start,
            "end": end,
            "starts": starts,
            "open_from": open_from or datetime.max.replace(tzinfo=UTC),
        },
    )
    out: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for agent, fr, res in rows:
        out[str(agent)] = (list(fr or ()), list(res or ()))
    return out
