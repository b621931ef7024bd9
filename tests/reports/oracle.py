"""An independent computation of every report in BRIEF-DEFS (docs/reports.md), in plain
Python over rows SELECTed from the SOURCE tables (tickets, ticket_events, ticket_comments,
ticket_sla_targets, ticket_sla_pauses, sla_policies, business_calendars, csat_surveys,
memberships, users, teams, categories). It never imports servicedesk.reports: the only
shared code is the SLA engine's calendar maths (sla/business_time), which the definitions
name.

``Oracle(conn, tenant_id, now).report(name, Query(...))`` answers an ``Expected``: values
per (bucket, group id) and totals, keyed by the measure names of the definitions.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from servicedesk.sla.business_time import BusinessCalendar, business_seconds_between_excluding

ACTIVE = frozenset({"new", "open", "in_progress", "pending"})
FINISHED = frozenset({"resolved", "closed", "cancelled"})
RESOLVED = frozenset({"resolved", "closed"})
STAFF_ROLES = frozenset({"agent", "manager", "admin"})
NULL_LABELS = {"team": "(no team)", "agent": "(unassigned)", "category": "(no category)"}
AGE_BANDS = (
    ("aging_lt_1d", 0, 1),
    ("aging_1_3d", 1, 3),
    ("aging_3_7d", 3, 7),
    ("aging_7_30d", 7, 30),
    ("aging_gt_30d", 30, None),
)
Value = float | int | None
Key = tuple[date | None, str | None]


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Ticket:
    id: uuid.UUID
    created: datetime
    status: str
    priority: str
    channel: str
    team: uuid.UUID | None
    assignee: uuid.UUID | None
    category: uuid.UUID | None
    requester: uuid.UUID
    merged: bool
    first_response: datetime | None
    changes: list[tuple[datetime, str, str]] = field(default_factory=list)
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    replies: list[tuple[datetime, uuid.UUID]] = field(default_factory=list)
    policy: uuid.UUID | None = None
    assignments: list[tuple[datetime, uuid.UUID | None]] = field(default_factory=list)

    def assignee_at(self, moment: datetime) -> uuid.UUID | None:
        """The assignee as of ``moment`` (the last ``assigned`` event at or before it)."""
        current = None
        for at, assignee in self.assignments:
            if at > moment:
                break
            current = assignee
        return current

    @property
    def resolutions(self) -> list[datetime]:
        return [t for t, a, b in self.changes if a not in RESOLVED and b in RESOLVED]

    @property
    def reopens(self) -> list[datetime]:
        return [t for t, a, b in self.changes if a in FINISHED and b in ACTIVE]

    def status_at(self, moment: datetime) -> str | None:
        """The status just before ``moment`` (None: not created yet)."""
        if self.created >= moment:
            return None
        status = "new"
        for at, _, to in self.changes:
            if at >= moment:
                break
            status = to
        return status


@dataclass
class Query:
    since: date
    until: date
    tz: str = "UTC"
    interval: str | None = None
    group_by: str | None = None
    filters: dict[str, str] = field(default_factory=dict)


@dataclass
class Expected:
    rows: dict[Key, dict[str, Value]]
    totals: dict[str, Value]
    labels: dict[str | None, str] = field(default_factory=dict)


@dataclass
class Surveys:
    ticket: uuid.UUID
    sent: datetime | None
    answered: datetime | None
    rating: int | None
    scale: str = "1-5"


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def period_start(day: date, interval: str) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def next_period(start: date, interval: str) -> date:
    if interval == "week":
        return start + timedelta(days=7)
    if interval == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


class Oracle:
    def __init__(
        self,
        conn: Any,
        tenant_id: uuid.UUID,
        now: datetime,
        *,
        variants: frozenset[str] = frozenset(),
    ) -> None:
        """``variants`` compute a known, documented departure from the definitions (so a
        comparison still checks everything else): ``merged-csat`` counts the surveys of
        merged tickets; ``backlog-period-end`` takes the backlog of a partial last period
        at the period's end rather than the range's."""
        self.tenant_id, self.now, self.variants = tenant_id, now, variants
        self._load(conn)

    # -- source rows ---------------------------------------------------------------------

    def _load(self, conn: Any) -> None:
        t = self.tenant_id
        self.roles: dict[uuid.UUID, str] = dict(
            conn.execute(
                "SELECT user_id, role FROM memberships WHERE tenant_id = %s", (t,)
            ).fetchall()
        )
        self.names: dict[uuid.UUID, str] = dict(
            conn.execute(
                "SELECT u.id, u.name FROM users u JOIN memberships m ON m.user_id = u.id"
                " WHERE m.tenant_id = %s",
                (t,),
            ).fetchall()
        )
        self.team_names = dict(
            conn.execute("SELECT id, name FROM teams WHERE tenant_id = %s", (t,)).fetchall()
        )
        self.category_names = dict(
            conn.execute("SELECT id, name FROM categories WHERE tenant_id = %s", (t,)).fetchall()
        )
        calendars = {
            row[0]: BusinessCalendar.build(
                row[1],
                [[(_minutes(i["start"]), _minutes(i["end"])) for i in day] for day in row[2]],
                row[3],
                [(int(v[:2]), int(v[3:])) for v in row[4]],
            )
            for row in conn.execute(
                "SELECT id, timezone, week, holidays, yearly_holidays FROM business_calendars"
                " WHERE tenant_id = %s",
                (t,),
            ).fetchall()
        }
        self.policy_calendar: dict[uuid.UUID, BusinessCalendar] = {}
        self.policy_names: dict[uuid.UUID, str] = {}
        for policy_id, calendar_id, name in conn.execute(
            "SELECT id, calendar_id, name FROM sla_policies WHERE tenant_id = %s", (t,)
        ).fetchall():
            self.policy_names[policy_id] = name
            self.policy_calendar[policy_id] = (
                calendars[calendar_id] if calendar_id else BusinessCalendar.always()
            )
        self.tickets: dict[uuid.UUID, Ticket] = {}
        for row in conn.execute(
            "SELECT id, created_at, status, priority, channel, team_id, assignee_id,"
            " category_id, requester_id, merged_into_id IS NOT NULL, first_response_at"
            " FROM tickets WHERE tenant_id = %s",
            (t,),
        ).fetchall():
            self.tickets[row[0]] = Ticket(*row)
        for ticket_id, at, payload in conn.execute(
            "SELECT ticket_id, created_at, payload FROM ticket_events WHERE tenant_id = %s"
            " AND type IN ('status_changed', 'reopened') ORDER BY created_at, id",
            (t,),
        ).fetchall():
            self.tickets[ticket_id].changes.append((at, payload["from"], payload["to"]))
        for ticket_id, at, payload in conn.execute(
            "SELECT ticket_id, created_at, payload FROM ticket_events WHERE tenant_id = %s"
            " AND type = 'assigned' ORDER BY created_at, id",
            (t,),
        ).fetchall():
            now = payload.get("to", payload)  # a reassignment {from, to}, or at creation
            value = now.get("assignee_id")
            self.tickets[ticket_id].assignments.append((at, uuid.UUID(value) if value else None))
        for ticket_id, start, end in conn.execute(
            "SELECT ticket_id, started_at, ended_at FROM ticket_sla_pauses WHERE tenant_id = %s",
            (t,),
        ).fetchall():
            self.tickets[ticket_id].pauses.append((start, end))
        for ticket_id, at, author in conn.execute(
            "SELECT ticket_id, created_at, author_id FROM ticket_comments WHERE tenant_id = %s"
            " AND visibility = 'public' AND deleted_at IS NULL ORDER BY created_at",
            (t,),
        ).fetchall():
            ticket = self.tickets[ticket_id]
            if self.roles.get(author) in STAFF_ROLES and author != ticket.requester:
                ticket.replies.append((at, author))
        self.targets: list[
            tuple[
                uuid.UUID,
                str,
                datetime | None,
                datetime | None,
                datetime | None,
                datetime | None,
                list[datetime],
            ]
        ] = []
        for row in conn.execute(
            "SELECT ticket_id, target, policy_id, met_at, breached_at, paused_since, warn_at"
            " FROM ticket_sla_targets WHERE tenant_id = %s",
            (t,),
        ).fetchall():
            ticket_id, target, policy_id, met, breached, paused, warn_at = row
            if policy_id is not None and self.tickets[ticket_id].policy is None:
                self.tickets[ticket_id].policy = policy_id
            self.targets.append((ticket_id, target, met, breached, paused, None, warn_at))
        self.surveys = [
            Surveys(*row)
            for row in conn.execute(
                "SELECT ticket_id, sent_at, answered_at, rating, scale FROM csat_surveys"
                " WHERE tenant_id = %s",
                (t,),
            ).fetchall()
        ]

    # -- shared pieces -------------------------------------------------------------------

    def calendar(self, ticket: Ticket) -> BusinessCalendar:
        if ticket.policy is not None and ticket.policy in self.policy_calendar:
            return self.policy_calendar[ticket.policy]
        return BusinessCalendar.always()

    def business(self, ticket: Ticket, end: datetime) -> float:
        return float(
            business_seconds_between_excluding(
                self.calendar(ticket), ticket.created, end, ticket.pauses
            )
        )

    @staticmethod
    def wall(ticket: Ticket, end: datetime) -> float:
        """Whole elapsed seconds, floored like the business seconds."""
        return float(math.floor((end - ticket.created).total_seconds()))

    def range_of(self, q: Query) -> tuple[datetime, datetime]:
        zone = ZoneInfo(q.tz)
        return _local_midnight(q.since, zone), _local_midnight(q.until + timedelta(days=1), zone)

    def buckets(self, q: Query) -> list[tuple[date | None, datetime, datetime]]:
        start, end = self.range_of(q)
        if q.interval is None:
            return [(None, start, end)]
        zone = ZoneInfo(q.tz)
        out: list[tuple[date | None, datetime, datetime]] = []
        first = period_start(q.since, q.interval)
        while first <= q.until:
            nxt = next_period(first, q.interval)
            lo = max(start, _local_midnight(first, zone))
            hi = min(end, _local_midnight(nxt, zone))
            out.append((first, lo, hi))
            first = nxt
        return out

    def group_of(self, ticket: Ticket, group_by: str | None) -> str | None:
        if group_by is None:
            return None
        value = {
            "team": ticket.team,
            "agent": ticket.assignee,
            "category": ticket.category,
            "priority": ticket.priority,
            "channel": ticket.channel,
            "policy": ticket.policy,
        }[group_by]
        return None if value is None else str(value)

    def label(self, group_by: str | None, group: str | None) -> str:
        if group_by is None:
            return ""
        if group is None:
            return NULL_LABELS.get(group_by, "(none)")
        if group_by == "team":
            return str(self.team_names[uuid.UUID(group)])
        if group_by == "agent":
            return str(self.names[uuid.UUID(group)])
        if group_by == "category":
            return str(self.category_names[uuid.UUID(group)])
        if group_by == "policy":
            return str(self.policy_names[uuid.UUID(group)])
        return group

    def selected(self, q: Query, *, merged: bool = False) -> list[Ticket]:
        """The tickets the filters keep (merged ones only when asked: they count in
        ``created`` alone)."""
        f = q.filters
        keep = []
        for t in self.tickets.values():
            if t.merged and not merged:
                continue
            if "team_id" in f and str(t.team) != f["team_id"]:
                continue
            if "assignee_id" in f and str(t.assignee) != f["assignee_id"]:
                continue
            if "category_id" in f and str(t.category) != f["category_id"]:
                continue
            if "priority" in f and t.priority != f["priority"]:
                continue
            if "channel" in f and t.channel != f["channel"]:
                continue
            keep.append(t)
        return keep

    def _fold(
        self,
        q: Query,
        items: Iterable[tuple[Ticket, datetime, Any]],
        measures: Callable[[list[Any]], dict[str, Value]],
    ) -> Expected:
        """Each item (ticket, instant, datum) into its bucket and group; then ``measures``
        over the data of each cell and of the whole range."""
        buckets = self.buckets(q)
        start, end = self.range_of(q)
        cells: dict[Key, list[Any]] = defaultdict(list)
        everything: list[Any] = []
        groups: set[str | None] = set()
        for ticket, at, datum in items:
            if not start <= at < end:
                continue
            group = self.group_of(ticket, q.group_by)
            groups.add(group)
            everything.append(datum)
            for first, lo, hi in buckets:
                if lo <= at < hi:
                    cells[(first, group)].append(datum)
                    break
        if q.group_by is None:
            groups = {None}
        rows = {
            (first, group): measures(cells.get((first, group), []))
            for first, _, _ in buckets
            for group in groups
        }
        labels = {g: self.label(q.group_by, g) for g in groups}
        return Expected(rows, measures(everything), labels)

    # -- reports -------------------------------------------------------------------------

    def report(self, name: str, q: Query) -> Expected:
        method = getattr(self, name.replace("-", "_"))
        result: Expected = method(q)
        return result

    def volume(self, q: Query) -> Expected:
        items: list[tuple[Ticket, datetime, str]] = []
        for t in self.selected(q, merged=True):
            items.append((t, t.created, "created"))
            if t.merged:
                continue
            items.extend((t, at, "resolved") for at in t.resolutions)
            items.extend((t, at, "reopened") for at in t.reopens)

        def measures(kinds: list[str]) -> dict[str, Value]:
            return {k: kinds.count(k) for k in ("created", "resolved", "reopened")}

        return self._fold(q, items, measures)

    def _backlog_ends(self, q: Query) -> list[datetime]:
        """Each bucket's end (clipped to the range), or its period's end (a variant)."""
        if q.interval and "backlog-period-end" in self.variants:
            zone = ZoneInfo(q.tz)
            return [
                _local_midnight(next_period(first, q.interval), zone)
                for first, _, _ in self.buckets(q)
                if first is not None
            ]
        return [hi for _, _, hi in self.buckets(q)]

    def backlog(self, q: Query) -> Expected:
        tickets = self.selected(q)
        groups = {self.group_of(t, q.group_by) for t in tickets} if q.group_by else {None}
        rows: dict[Key, dict[str, Value]] = {}
        ends = self._backlog_ends(q)
        for (first, _lo, _hi), hi in zip(self.buckets(q), ends, strict=True):
            moment = min(hi, self.now)
            counts: dict[str | None, int] = defaultdict(int)
            for t in tickets:
                if t.status_at(moment) in ACTIVE:
                    counts[self.group_of(t, q.group_by)] += 1
            for group in groups:
                rows[(first, group)] = {"open": counts.get(group, 0)}
        totals: dict[str, Value] = {}
        moment = min(ends[-1], self.now)
        totals["open"] = sum(1 for t in tickets if t.status_at(moment) in ACTIVE)
        for band, _, _ in AGE_BANDS:
            totals[band] = 0
        for t in tickets:
            if t.status in ACTIVE:
                age = (self.now - t.created).total_seconds() / 86400
                for band, low, high in AGE_BANDS:
                    if age >= low and (high is None or age < high):
                        totals[band] = int(totals[band] or 0) + 1
        labels = {g: self.label(q.group_by, g) for g in groups}
        return Expected(rows, totals, labels)

    def _durations(self, pairs: list[tuple[float, float]]) -> dict[str, Value]:
        business = [b for b, _ in pairs]
        wall = [w for _, w in pairs]
        return {
            "count": len(pairs),
            "median_business": percentile_cont(business, 0.5),
            "mean_business": mean(business),
            "p90_business": percentile_cont(business, 0.9),
            "median_wall": percentile_cont(wall, 0.5),
            "mean_wall": mean(wall),
        }

    def first_response_items(self, q: Query) -> list[tuple[Ticket, datetime, Any]]:
        return [
            (
                t,
                t.first_response,
                (self.business(t, t.first_response), self.wall(t, t.first_response)),
            )
            for t in self.selected(q)
            if t.first_response is not None
        ]

    def first_response_time(self, q: Query) -> Expected:
        return self._fold(q, self.first_response_items(q), self._durations)

    def resolved_items(self, q: Query) -> list[tuple[Ticket, datetime, Any]]:
        items: list[tuple[Ticket, datetime, Any]] = []
        for t in self.selected(q):
            if t.status in RESOLVED and t.resolutions:
                last = t.resolutions[-1]
                items.append((t, last, (self.business(t, last), self.wall(t, last), t)))
        return items

    def resolution_time(self, q: Query) -> Expected:
        return self._fold(
            q, self.resolved_items(q), lambda data: self._durations([(b, w) for b, w, _ in data])
        )

    def sla_compliance(self, q: Query) -> Expected:
        tickets = {t.id: t for t in self.selected(q)}
        items = [
            (tickets[ticket_id], met, (target, breached is None))
            for ticket_id, target, met, breached, *_ in self.targets
            if met is not None and ticket_id in tickets
        ]

        def measures(data: list[tuple[str, bool]]) -> dict[str, Value]:
            on_time = sum(1 for _, ok in data if ok)
            out: dict[str, Value] = {
                "on_time": on_time,
                "late": len(data) - on_time,
                "compliance": ratio(on_time, len(data)),
            }
            for target in ("first_response", "next_response", "resolution"):
                hit = sum(1 for name, ok in data if name == target and ok)
                late = sum(1 for name, ok in data if name == target and not ok)
                out[f"{target}_on_time"] = hit
                out[f"{target}_late"] = late
                out[f"{target}_compliance"] = ratio(hit, hit + late)
            return out

        return self._fold(q, items, measures)

    def reopen_rate(self, q: Query) -> Expected:
        items: list[tuple[Ticket, datetime, str]] = []
        for t in self.selected(q):
            items.extend((t, at, "resolved") for at in t.resolutions)
            items.extend((t, at, "reopened") for at in t.reopens)

        def measures(kinds: list[str]) -> dict[str, Value]:
            resolved, reopened = kinds.count("resolved"), kinds.count("reopened")
            return {
                "reopened": reopened,
                "resolved": resolved,
                "ratio": ratio(reopened, resolved),
            }

        return self._fold(q, items, measures)

    def one_touch(self, q: Query) -> Expected:
        def measures(data: list[tuple[float, float, Ticket]]) -> dict[str, Value]:
            one = sum(1 for _, _, t in data if len(t.replies) == 1 and not t.reopens)
            return {
                "resolved": len(data),
                "one_touch": one,
                "ratio": ratio(one, len(data)),
            }

        return self._fold(q, self.resolved_items(q), measures)

    def csat(self, q: Query) -> Expected:
        tickets = {t.id: t for t in self.selected(q, merged="merged-csat" in self.variants)}
        items: list[tuple[Ticket, datetime, Any]] = []
        for s in self.surveys:
            ticket = tickets.get(s.ticket)
            if ticket is None:
                continue
            if s.sent is not None:
                items.append((ticket, s.sent, ("sent", None)))
            if s.answered is not None:
                items.append((ticket, s.answered, ("answered", (s.rating, s.scale))))

        def measures(data: list[tuple[str, Any]]) -> dict[str, Value]:
            sent = sum(1 for k, _ in data if k == "sent")
            answers = [(int(a[0]), a[1]) for k, a in data if k == "answered" and a[0] is not None]
            ratings = [r for r, _ in answers]
            good = sum(1 for r in ratings if r >= 4)
            return {
                "sent": sent,
                "answered": len(ratings),
                "response_rate": ratio(len(ratings), sent),
                "score": ratio(good, len(ratings)),
                # The average over the 1-5 surveys only (good/bad are stored 5/1).
                "average": mean([float(r) for r, scale in answers if scale == "1-5"]),
            }

        return self._fold(q, items, measures)

    def agent_performance(self, q: Query) -> Expected:
        """Per agent: resolution events while the ticket was assigned to them (the assignee
        at that instant, from the ``assigned`` events' payloads), their public replies,
        medians over the tickets they handled, CSAT answers on the tickets assigned to them
        now, their open load now."""
        start, end = self.range_of(q)
        tickets = self.selected(q)
        per: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"handled": 0, "replies": 0, "tickets": set(), "ratings": [], "load": 0}
        )
        for t in tickets:
            for at in t.resolutions:
                then = t.assignee_at(at)
                if start <= at < end and then is not None:
                    per[str(then)]["handled"] += 1
                    per[str(then)]["tickets"].add(t.id)
            if t.status in ACTIVE and t.assignee is not None:
                per[str(t.assignee)]["load"] += 1
            for at, author in t.replies:
                if start <= at < end:
                    per[str(author)]["replies"] += 1
        by_id = {t.id: t for t in tickets}
        surveyed = {t.id: t for t in self.selected(q, merged="merged-csat" in self.variants)}
        for s in self.surveys:
            rated = surveyed.get(s.ticket)
            if rated is None or rated.assignee is None or s.answered is None:
                continue
            if start <= s.answered < end:
                per[str(rated.assignee)]["ratings"].append(s.rating)
        rows: dict[Key, dict[str, Value]] = {
            (None, who): self._agent_row(d, by_id) for who, d in per.items()
        }
        totals: dict[str, Value] = {
            k: sum(int(v[k] or 0) for v in rows.values())
            for k in ("handled", "replies", "csat_count", "load")
        }
        labels: dict[str | None, str] = {g: self.label("agent", g) for g in rows_groups(rows)}
        return Expected(rows, totals, labels)

    def _agent_row(self, d: dict[str, Any], by_id: dict[uuid.UUID, Ticket]) -> dict[str, Value]:
        handled = [by_id[i] for i in d["tickets"]]
        frt = [self.business(t, t.first_response) for t in handled if t.first_response]
        res = [
            self.business(t, t.resolutions[-1])
            for t in handled
            if t.status in RESOLVED and t.resolutions
        ]
        ratings = [int(r) for r in d["ratings"]]
        return {
            "handled": d["handled"],
            "replies": d["replies"],
            "median_first_response_business": percentile_cont(frt, 0.5),
            "median_resolution_business": percentile_cont(res, 0.5),
            "csat_score": ratio(sum(1 for r in ratings if r >= 4), len(ratings)),
            "csat_count": len(ratings),
            "load": d["load"],
        }

    # -- dashboard -----------------------------------------------------------------------

    def dashboard(self, tz: str) -> dict[str, Any]:
        zone = ZoneInfo(tz)
        today = self.now.astimezone(zone).date()
        day_start = _local_midnight(today, zone)
        tickets = self.selected(Query(today, today, tz))
        open_now = [t for t in tickets if t.status in ACTIVE]
        unmet = [x for x in self.targets if x[2] is None and x[0] in {t.id for t in open_now}]
        breached = {x[0] for x in unmet if x[3] is not None}
        at_risk = {
            x[0] for x in unmet if x[3] is None and x[4] is None and x[6] and x[6][0] <= self.now
        }
        week = self.first_response_time(Query(today - timedelta(days=6), today, tz))
        month = self.csat(Query(today - timedelta(days=29), today, tz))
        created = self.volume(Query(today - timedelta(days=13), today, tz, "day"))
        by_priority: dict[str, int] = defaultdict(int)
        by_team: dict[str | None, int] = defaultdict(int)
        for t in open_now:
            by_priority[t.priority] += 1
            by_team[None if t.team is None else str(t.team)] += 1
        return {
            "open": len(open_now),
            "unassigned_open": sum(1 for t in open_now if t.assignee is None),
            "created_today": sum(
                1
                for t in self.selected(Query(today, today, tz), merged=True)
                if t.created >= day_start
            ),
            "resolved_today": sum(
                1 for t in tickets for at in t.resolutions if day_start <= at <= self.now
            ),
            "sla_breached": len(breached),
            "sla_at_risk": len(at_risk),
            "median_first_response_business_7d": week.totals["median_business"],
            "csat_score_30d": month.totals["score"],
            "backlog_by_priority": dict(by_priority),
            "backlog_by_team": dict(by_team),
            "created_vs_resolved": {
                first: (v["created"], v["resolved"]) for (first, _), v in created.rows.items()
            },
        }


def rows_groups(rows: dict[Key, dict[str, Value]]) -> set[str | None]:
    return {g for _, g in rows}


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)
