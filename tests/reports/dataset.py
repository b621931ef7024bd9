"""A deterministic dataset of SOURCE rows for the reports: one tenant's people, teams,
categories, calendars, SLA policies and tickets with their whole history, written as the
services would have written it (tickets/service.py, tickets/comments.py, sla/engine.py,
csat/service.py), loaded in bulk (COPY into temporary twins, then INSERT ... SELECT, as the
owner role: COPY FROM is refused on a table under FORCE ROW LEVEL SECURITY).

What a ticket's life holds (a random walk over tickets/states.py's GRAPH, seeded):
status_changed events with ``from``/``to`` (``reopened`` when a finished ticket goes back to
open, as ``apply_status`` names it), staff and requester public replies and internal notes
(a requester's public reply moves pending/resolved/closed back to open), reassignments,
resolved -> closed, cancels, merges into an older ticket, deleted comments; the SLA targets
and pauses of the ticket's policy kept by the engine's own ``settle``/``schedule`` rules;
CSAT surveys sent on each resolution, superseded by the next, answered or not. Creation
times crowd around the daylight-saving changes of Europe/Paris and America/New_York and
around local midnights. ``tickets.first_response_at/resolved_at/closed_at`` follow.

Used by tests/reports (a few hundred tickets) and bench/reports.py (a million, in batches).
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from servicedesk.sla import engine
from servicedesk.sla.business_time import BusinessCalendar
from servicedesk.tickets.states import FINISHED_STATUSES

PASSWORD = "dataset-password-2026!"
NULL = "\\N"
Conn = psycopg.Connection[tuple[Any, ...]]

TEAMS = ("Service Desk", "Network", "Applications")
CATEGORIES = ("Access", "Hardware", "Email", "VPN")
CHANNELS = ("web", "email", "assistant")
PRIORITIES = ("low", "medium", "high", "critical")
PAUSE_STATUSES = ("pending",)
FINISHED = frozenset(str(s) for s in FINISHED_STATUSES)
WEEKDAYS = 5


def _week(*spans: tuple[str, str]) -> list[list[dict[str, str]]]:
    day = [{"start": s, "end": e} for s, e in spans]
    return [list(day) for _ in range(WEEKDAYS)] + [[], []]


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True)
class CalendarSpec:
    key: str
    name: str
    timezone: str
    week: list[list[dict[str, str]]]
    holidays: tuple[date, ...]
    yearly: tuple[str, ...]

    def business(self) -> BusinessCalendar:
        week = [[(_minutes(i["start"]), _minutes(i["end"])) for i in day] for day in self.week]
        yearly = [(int(v[:2]), int(v[3:])) for v in self.yearly]
        return BusinessCalendar.build(self.timezone, week, self.holidays, yearly)


CALENDARS = (
    CalendarSpec(
        "paris",
        "Paris office",
        "Europe/Paris",
        _week(("09:00", "12:30"), ("13:30", "18:00")),
        (date(2025, 5, 1), date(2026, 4, 6), date(2026, 5, 1), date(2026, 7, 14)),
        ("01-01", "12-25"),
    ),
    CalendarSpec(
        "new_york",
        "New York office",
        "America/New_York",
        _week(("08:00", "12:00"), ("13:00", "17:00")),
        (date(2025, 11, 27), date(2026, 7, 3), date(2026, 11, 26)),
        ("12-25",),
    ),
)


@dataclass(frozen=True)
class PolicySpec:
    key: str
    name: str
    calendar: str | None  # a CalendarSpec key, None = 24x7
    first_response_minutes: int
    resolution_minutes: int
    priorities: tuple[str, ...]


POLICIES = (
    PolicySpec("urgent", "Urgent (Paris hours)", "paris", 60, 8 * 60, ("high", "critical")),
    PolicySpec(
        "standard", "Standard (New York hours)", "new_york", 4 * 60, 3 * 8 * 60, ("medium",)
    ),
    PolicySpec("low", "Low (24x7)", None, 8 * 60, 5 * 24 * 60, ("low",)),
)


@dataclass
class Shape:
    """What to generate: ``tickets`` created in [start, start + days), history up to
    ``horizon`` (default start + days)."""

    tickets: int = 300
    seed: int = 19
    start: datetime = datetime(2026, 1, 5, tzinfo=UTC)
    days: int = 320
    agents: int = 6
    requesters: int = 25
    horizon: datetime | None = None
    batch: int = 20_000

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    @property
    def stop(self) -> datetime:
        return self.horizon or self.end


@dataclass
class People:
    tenant_id: uuid.UUID
    slug: str
    manager: uuid.UUID
    manager_email: str
    agents: list[uuid.UUID]
    staff_requester: uuid.UUID  # an agent who also opens tickets
    requesters: list[uuid.UUID]
    names: dict[uuid.UUID, str]
    roles: dict[uuid.UUID, str]
    teams: list[uuid.UUID]
    team_names: dict[uuid.UUID, str]
    members: dict[uuid.UUID, list[uuid.UUID]]
    categories: list[uuid.UUID]
    category_names: dict[uuid.UUID, str]
    calendars: dict[str, uuid.UUID]
    policies: dict[str, uuid.UUID]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _line(values: Sequence[object]) -> str:
    """One COPY text-format row (generated values hold no tab, newline or backslash)."""
    return "\t".join(NULL if v is None else str(v) for v in values) + "\n"


BARE_TICKET_COLUMNS = (
    "id, tenant_id, number, title, status, priority, requester_id, assignee_id,"
    " created_at, first_response_at"
)


def bare_ticket(
    ticket_id: uuid.UUID, tenant_id: uuid.UUID, number: str, requester: uuid.UUID, created: datetime
) -> str:
    """A ``tickets`` row (``BARE_TICKET_COLUMNS``) that only anchors report facts written by hand."""
    return _line(
        (
            ticket_id,
            tenant_id,
            number,
            "t",
            "open",
            "low",
            requester,
            None,
            created.isoformat(),
            None,
        )
    )


def load_facts(
    conn: Conn, tenant_id: uuid.UUID, tickets: list[str], columns: str, facts: list[str]
) -> list[uuid.UUID]:
    """COPY the bare tickets and their hand-written facts; the tenant's ticket ids, sorted."""
    copy_into(conn, "tickets", BARE_TICKET_COLUMNS, tickets)
    copy_into(conn, "report_ticket_facts", columns, facts)
    return [
        r[0]
        for r in conn.execute(
            "SELECT ticket_id FROM report_ticket_facts WHERE tenant_id = %s ORDER BY 1",
            (tenant_id,),
        )
    ]


@contextmanager
def manager(tenant_id: uuid.UUID) -> Iterator[Any]:
    """A manager's request context in the tenant's transaction (RLS applies), with the report
    summaries switched back on afterwards (tests compare them on and off)."""
    from servicedesk.platform.db import set_tenant, transaction
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext
    from servicedesk.reports import summaries

    try:
        with transaction() as session:
            set_tenant(session, tenant_id=tenant_id, user_id=None)
            yield RequestContext(
                session=session, tenant_id=tenant_id, user_id=uuid.uuid4(), role=Role.MANAGER
            )
    finally:
        summaries.ENABLED = True


# --------------------------------------------------------------------------- loading


def copy_into(conn: Conn, table: str, columns: str, lines: list[str]) -> None:
    """COPY into a temporary twin, then INSERT ... SELECT (passes owner_maintenance)."""
    if not lines:
        return
    stage = f"stage_{table}"
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {columns} FROM {table} WITH NO DATA"
    )
    with conn.cursor() as cur, cur.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
        for at in range(0, len(lines), 20_000):
            copy.write("".join(lines[at : at + 20_000]))
    conn.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage}")
    conn.execute(f"TRUNCATE {stage}")


def create_tenant(conn: Conn, slug: str, rng: random.Random) -> uuid.UUID:
    tenant_id = _uuid(rng)
    copy_into(conn, "tenants", "id, slug, name", [_line((tenant_id, slug, f"Dataset {slug}"))])
    return tenant_id


def seed_people(conn: Conn, tenant_id: uuid.UUID, slug: str, shape: Shape) -> People:
    """Users (a manager, agents, requesters), teams, categories, calendars and policies."""
    from servicedesk.identity.passwords import hash_password

    rng = random.Random(shape.seed * 7919 + 1)
    password_hash = hash_password(PASSWORD)
    names: dict[uuid.UUID, str] = {}
    roles: dict[uuid.UUID, str] = {}
    users: list[str] = []
    memberships: list[str] = []

    def user(role: str, n: int) -> uuid.UUID:
        user_id = _uuid(rng)
        names[user_id] = f"{role.title()} {n:03d}"
        roles[user_id] = role
        address = f"{role}{n}-{slug}@dataset.example"
        users.append(_line((user_id, address, names[user_id], password_hash)))
        memberships.append(_line((tenant_id, user_id, role)))
        return user_id

    manager = user("manager", 1)
    agents = [user("agent", n) for n in range(1, shape.agents + 1)]
    requesters = [user("requester", n) for n in range(1, shape.requesters + 1)]
    copy_into(conn, "users", "id, email, name, password_hash", users)
    copy_into(conn, "memberships", "tenant_id, user_id, role", memberships)
    teams = [_uuid(rng) for _ in TEAMS]
    members: dict[uuid.UUID, list[uuid.UUID]] = {t: [] for t in teams}
    for i, agent in enumerate(agents):
        members[teams[i % len(teams)]].append(agent)
        if i % 2:
            members[teams[(i + 1) % len(teams)]].append(agent)
    copy_into(
        conn,
        "teams",
        "id, tenant_id, name",
        [_line((t, tenant_id, n)) for t, n in zip(teams, TEAMS, strict=True)],
    )
    copy_into(
        conn,
        "team_members",
        "tenant_id, team_id, user_id",
        [_line((tenant_id, t, u)) for t, us in members.items() for u in us],
    )
    categories = [_uuid(rng) for _ in CATEGORIES]
    copy_into(
        conn,
        "categories",
        "id, tenant_id, name, default_team_id",
        [
            _line((c, tenant_id, n, teams[i % len(teams)]))
            for i, (c, n) in enumerate(zip(categories, CATEGORIES, strict=True))
        ],
    )
    calendars = {c.key: _uuid(rng) for c in CALENDARS}
    copy_into(
        conn,
        "business_calendars",
        "id, tenant_id, name, timezone, week, holidays, yearly_holidays",
        [
            _line(
                (
                    calendars[c.key],
                    tenant_id,
                    c.name,
                    c.timezone,
                    json.dumps(c.week),
                    "{" + ",".join(d.isoformat() for d in c.holidays) + "}",
                    "{" + ",".join(c.yearly) + "}",
                )
            )
            for c in CALENDARS
        ],
    )
    policies = {p.key: _uuid(rng) for p in POLICIES}
    copy_into(
        conn,
        "sla_policies",
        "id, tenant_id, name, position, conditions, calendar_id,"
        " first_response_minutes, resolution_minutes",
        [
            _line(
                (
                    policies[p.key],
                    tenant_id,
                    p.name,
                    n,
                    json.dumps({"priority": list(p.priorities)}),
                    calendars[p.calendar] if p.calendar else None,
                    p.first_response_minutes,
                    p.resolution_minutes,
                )
            )
            for n, p in enumerate(POLICIES, start=1)
        ],
    )
    return People(
        tenant_id=tenant_id,
        slug=slug,
        manager=manager,
        manager_email=f"manager1-{slug}@dataset.example",
        agents=agents,
        staff_requester=agents[-1],
        requesters=requesters,
        names=names,
        roles=roles,
        teams=teams,
        team_names=dict(zip(teams, TEAMS, strict=True)),
        members=members,
        categories=categories,
        category_names=dict(zip(categories, CATEGORIES, strict=True)),
        calendars=calendars,
        policies=policies,
    )


# --------------------------------------------------------------------------- times


def dst_changes(zone: str, start: datetime, end: datetime) -> list[datetime]:
    """The instants in [start, end) when ``zone``'s UTC offset changes (hour resolution)."""
    tz = ZoneInfo(zone)
    changes: list[datetime] = []
    at = start.replace(minute=0, second=0, microsecond=0)
    offset = at.astimezone(tz).utcoffset()
    while at < end:
        nxt = at + timedelta(hours=1)
        now_offset = nxt.astimezone(tz).utcoffset()
        if now_offset != offset:
            changes.append(nxt)
            offset = now_offset
        at = nxt
    return changes


class Clock:
    """Creation times: uniform over the span, a share crowded around daylight-saving
    changes and around local midnights in Paris and New York."""

    def __init__(self, shape: Shape, rng: random.Random) -> None:
        self.shape, self.rng = shape, rng
        self.changes = [
            c
            for zone in ("Europe/Paris", "America/New_York")
            for c in dst_changes(zone, shape.start, shape.end)
        ]

    def created(self) -> datetime:
        rng, shape = self.rng, self.shape
        roll = rng.random()
        span = shape.end - shape.start
        if roll < 0.15 and self.changes:
            at = rng.choice(self.changes) + timedelta(hours=rng.uniform(-36, 36))
        elif roll < 0.25:
            zone = ZoneInfo(rng.choice(("Europe/Paris", "America/New_York")))
            day = (shape.start + span * rng.random()).astimezone(zone).date()
            midnight = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
            at = midnight + timedelta(minutes=rng.uniform(-20, 20))
        else:
            # Density grows over the span (a growing company), as bench/tickets.py does.
            at = shape.start + span * math.sqrt(rng.random())
        return min(max(at, shape.start), shape.end - timedelta(seconds=1))

    def gap(self) -> timedelta:
        roll = self.rng.random()
        if roll < 0.5:
            return timedelta(minutes=self.rng.expovariate(1 / 45))
        if roll < 0.85:
            return timedelta(hours=self.rng.expovariate(1 / 8))
        return timedelta(days=self.rng.expovariate(1 / 3))


# --------------------------------------------------------------------------- SLA


@dataclass
class Target:
    """The engine's SlaTarget, as a plain object (engine.settle/schedule read attributes)."""

    target: str
    policy_id: uuid.UUID
    budget_seconds: int
    clock_at: datetime
    elapsed_seconds: int = 0
    paused_since: datetime | None = None
    due_at: datetime | None = None
    warn_at: list[datetime] = field(default_factory=list)
    warn_levels: list[int] = field(default_factory=list)
    next_check_at: datetime | None = None
    met_at: datetime | None = None
    breached_at: datetime | None = None
    cycle: int = 1


THRESHOLDS = [75, 90]


class SlaClock:
    """sla/engine.Clock for one ticket, without a session: the same rules, in memory."""

    def __init__(
        self,
        policy: PolicySpec | None,
        policy_id: uuid.UUID | None,
        cal: BusinessCalendar,
        now: datetime,
    ) -> None:
        self.cal = cal
        self.targets: list[Target] = []
        self.pauses: list[list[datetime | None]] = []
        if policy is None or policy_id is None:
            return
        for name, minutes in (
            ("first_response", policy.first_response_minutes),
            ("resolution", policy.resolution_minutes),
        ):
            target = Target(name, policy_id, minutes * 60, now)
            self._schedule(target)
            self.targets.append(target)

    def _schedule(self, target: Target) -> None:
        engine.schedule(target, self.cal, THRESHOLDS)  # type: ignore[arg-type]

    def _settle(self, target: Target, now: datetime) -> None:
        engine.settle(target, self.cal, now)  # type: ignore[arg-type]

    def meet(self, target: Target, now: datetime) -> None:
        if target.met_at is not None:
            return
        self._settle(target, now)
        target.met_at = now
        if target.elapsed_seconds > target.budget_seconds and target.breached_at is None:
            target.breached_at = target.due_at or now
        self._schedule(target)

    def status_changed(self, previous: str, status: str, now: datetime, *, answered: bool) -> None:
        if not self.targets:
            return
        if status in FINISHED:
            for target in self.targets:
                self.meet(target, now)
            self._close_pause(now)
        elif previous in FINISHED:
            self._reopen(status, now, answered=answered)
        elif status in PAUSE_STATUSES and previous not in PAUSE_STATUSES:
            self._pause(now)
        elif previous in PAUSE_STATUSES and status not in PAUSE_STATUSES:
            self._resume(now)

    def _reopen(self, status: str, now: datetime, *, answered: bool) -> None:
        again = {"resolution"} if answered else {"resolution", "first_response"}
        for target in self.targets:
            if target.target in again:
                target.met_at, target.clock_at = None, now
                target.paused_since = now if status in PAUSE_STATUSES else None
                self._schedule(target)

    def _pause(self, now: datetime) -> None:
        for target in self.targets:
            if target.met_at is None and target.paused_since is None:
                self._settle(target, now)
                target.paused_since = now
                self._schedule(target)
        self.pauses.append([now, None])

    def _resume(self, now: datetime) -> None:
        for target in self.targets:
            if target.paused_since is not None:
                target.paused_since, target.clock_at = None, now
                self._schedule(target)
        self._close_pause(now)

    def _close_pause(self, now: datetime) -> None:
        for pause in self.pauses:
            if pause[1] is None:
                pause[1] = now

    def evaluate(self, now: datetime) -> None:
        """What the SLA evaluator has done by ``now``: running targets settled, so a budget
        that ran out carries its breach instant."""
        for target in self.targets:
            if target.met_at is None and target.paused_since is None:
                self._settle(target, now)
                self._schedule(target)

    def staff_replied(self, now: datetime) -> None:
        for target in self.targets:
            if target.target == "first_response":
                self.meet(target, now)

    def due(self) -> datetime | None:
        dues = [t.due_at for t in self.targets if t.due_at is not None and t.met_at is None]
        return min(dues) if dues else None


# --------------------------------------------------------------------------- tickets


@dataclass
class Batch:
    tickets: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    pauses: list[str] = field(default_factory=list)
    surveys: list[str] = field(default_factory=list)


TICKET_COLUMNS = (
    "id, tenant_id, number, title, status, priority, category_id, requester_id, assignee_id,"
    " team_id, merged_into_id, channel, version, created_at, updated_at, first_response_at,"
    " resolved_at, closed_at, sla_due_at"
)
LOADS = {
    "tickets": ("tickets", TICKET_COLUMNS),
    "events": (
        "ticket_events",
        "tenant_id, ticket_id, type, actor_id, visibility, payload, created_at",
    ),
    "comments": (
        "ticket_comments",
        "id, tenant_id, ticket_id, author_id, visibility, body, created_at, deleted_at, deleted_by",
    ),
    "targets": (
        "ticket_sla_targets",
        "tenant_id, ticket_id, target, cycle, policy_id, budget_seconds, elapsed_seconds,"
        " clock_at, paused_since, due_at, warn_at, warn_levels, next_check_at, met_at,"
        " breached_at",
    ),
    "pauses": ("ticket_sla_pauses", "tenant_id, ticket_id, started_at, ended_at, reason"),
    "surveys": (
        "csat_surveys",
        "id, tenant_id, ticket_id, requester_id, resolution_event_id, token_hash, question,"
        " sent_at, expires_at, answered_at, rating, superseded_at, created_at",
    ),
}
RATINGS = ((1, 2, 3, 4, 5), (8, 7, 12, 30, 43))


class Life:
    """One ticket's history, simulated step by step."""

    def __init__(self, gen: Generator, created: datetime, number: str) -> None:
        self.gen, self.rng, p = gen, gen.rng, gen.people
        rng = self.rng
        self.id = _uuid(rng)
        self.created = self.t = created
        self.number = number
        self.status = "new"
        self.priority = rng.choices(PRIORITIES, (25, 45, 22, 8))[0]
        self.category = rng.choice(p.categories) if rng.random() < 0.85 else None
        self.team = rng.choice(p.teams) if rng.random() < 0.85 else None
        pool = p.members[self.team] if self.team else p.agents
        self.assignee = rng.choice(pool) if rng.random() < 0.8 else None
        self.requester = p.staff_requester if rng.random() < 0.05 else rng.choice(p.requesters)
        self.channel = rng.choices(CHANNELS, (60, 30, 10))[0]
        self.merged_into: uuid.UUID | None = None
        self.first_response: datetime | None = None
        self.resolved_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.version = 1
        self.policy = (
            None
            if rng.random() < 0.1
            else next(q for q in POLICIES if self.priority in q.priorities)
        )
        policy_id = p.policies[self.policy.key] if self.policy else None
        self.sla = SlaClock(self.policy, policy_id, gen.cal_for(self.policy), created)
        self.surveys: list[list[Any]] = []
        self.staff_replies: list[int] = []  # indexes into the batch's comments (deletable)
        self.event("created", self.requester, {"number": number})
        if self.assignee is not None:
            self.event(
                "assigned",
                None,
                {
                    "assignee_id": str(self.assignee),
                    "team_id": str(self.team) if self.team else None,
                },
            )

    # -- rows ---------------------------------------------------------------------------

    def event(
        self,
        kind: str,
        actor: uuid.UUID | None,
        payload: dict[str, Any],
        visibility: str = "public",
    ) -> None:
        self.gen.batch.events.append(
            _line(
                (
                    self.gen.people.tenant_id,
                    self.id,
                    kind,
                    actor,
                    visibility,
                    json.dumps(payload),
                    _ts(self.t),
                )
            )
        )

    def staff(self) -> uuid.UUID:
        p = self.gen.people
        if (
            self.assignee is not None
            and self.assignee != self.requester
            and self.rng.random() < 0.75
        ):
            return self.assignee
        if self.rng.random() < 0.1:
            return p.manager
        return self.rng.choice([a for a in p.agents if a != self.requester])

    def comment(self, author: uuid.UUID, visibility: str) -> None:
        comment_id = _uuid(self.rng)
        self.gen.batch.comments.append(
            _line(
                (
                    comment_id,
                    self.gen.people.tenant_id,
                    self.id,
                    author,
                    visibility,
                    f"{visibility} note on {self.number}",
                    _ts(self.t),
                    None,
                    None,
                )
            )
        )
        self.event(
            "comment_added",
            author,
            {"comment_id": str(comment_id), "visibility": visibility},
            "internal" if visibility == "internal" else "public",
        )

    # -- actions ------------------------------------------------------------------------

    def move(self, status: str, actor: uuid.UUID) -> None:
        previous, self.status = self.status, status
        if status == "resolved":
            self.resolved_at = self.t
        elif status == "closed":
            self.closed_at = self.t
            self.resolved_at = self.resolved_at or self.t
        elif status == "cancelled":
            self.closed_at = self.t
        elif status == "open" and previous in FINISHED:
            self.resolved_at = self.closed_at = None
        self.version += 1
        self.sla.status_changed(previous, status, self.t, answered=self.first_response is not None)
        kind = "reopened" if previous in FINISHED and status == "open" else "status_changed"
        self.event(kind, actor, {"from": previous, "to": status})
        if status == "resolved":  # csat/service.is_resolution: status_to == "resolved"
            self.resolution()

    def resolution(self) -> None:
        """csat/service.py: a survey per move to resolved, sent at once; it supersedes
        the earlier ones."""
        if self.gen.no_csat or self.rng.random() < 0.3:
            return
        for survey in self.surveys:
            if survey[5] is None:
                survey[5] = self.t
        sent = self.t + timedelta(seconds=self.rng.uniform(5, 300))
        self.surveys.append(
            [_uuid(self.rng), sent, sent + timedelta(days=30), None, None, None, self.t]
        )

    def staff_reply(self) -> None:
        author = self.staff()
        self.comment(author, "public")
        self.staff_replies.append(len(self.gen.batch.comments) - 1)
        if self.first_response is None:
            self.first_response = self.t
        self.sla.staff_replied(self.t)

    def requester_reply(self) -> None:
        self.comment(self.requester, "public")
        staff_requester = self.requester == self.gen.people.staff_requester
        if not staff_requester and self.status in ("pending", "resolved", "closed"):
            self.move("open", self.requester)

    def reassign(self) -> None:
        p = self.gen.people
        before = {"assignee_id": _str(self.assignee), "team_id": _str(self.team)}
        self.team = self.rng.choice(p.teams)
        self.assignee = self.rng.choice(p.members[self.team])
        self.version += 1
        self.event(
            "assigned",
            p.manager,
            {"from": before, "to": {"assignee_id": str(self.assignee), "team_id": str(self.team)}},
        )

    def _to(self, status: str, by_requester: bool = False) -> Callable[[], bool]:
        def act() -> bool:
            self.move(status, self.requester if by_requester else self.staff())
            return True

        return act

    def _then(self, *actions: Callable[[], object]) -> Callable[[], bool]:
        def act() -> bool:
            for action in actions:
                action()
            return True

        return act

    def _answer_pending(self) -> bool:
        self.requester_reply()
        if self.status == "pending":  # a staff requester's reply moves nothing
            self.move("open", self.staff())
        return True

    def choices(self) -> list[tuple[float, Callable[[], bool]]]:
        """(cumulative probability, action) for the current status; an action answering
        False ends the ticket's story."""
        internal = self._then(lambda: self.comment(self.staff(), "internal"))
        end: Callable[[], bool] = lambda: False  # noqa: E731
        s = self.status
        if s == "new":
            return [
                (0.55, self._then(self.staff_reply, self._to("open"))),
                (0.7, self._to("in_progress")),
                (0.75, self._to("resolved")),
                (0.8, self._to("cancelled", by_requester=True)),
                (0.85, self._to("pending")),
                (1.0, self._then(self.requester_reply)),
            ]
        if s in ("open", "in_progress"):
            return [
                (0.28, self._then(self.staff_reply)),
                (0.36, internal),
                (0.5, self._then(self.staff_reply, self._to("pending"))),
                (0.75, self._to("resolved")),
                (0.78, self._to("closed")),
                (0.8, self._to("cancelled")),
                (0.88, self._then(self.requester_reply)),
                (0.93, self._then(self.reassign)),
                (1.0, self._to("in_progress" if s == "open" else "open")),
            ]
        if s == "pending":
            return [
                (0.5, self._answer_pending),
                (0.7, self._to("in_progress")),
                (0.9, self._to("resolved")),
                (0.95, self._to("closed", by_requester=True)),
                (1.0, self._to("cancelled")),
            ]
        if s == "resolved":
            return [
                (0.5, self._to("closed")),
                (0.68, self._then(self.requester_reply)),
                (0.75, self._to("open")),
                (1.0, end),
            ]
        if s == "closed":
            return [(0.08, self._then(self.requester_reply)), (0.12, self._to("open")), (1.0, end)]
        return [(0.15, self._to("open", by_requester=True)), (1.0, end)]  # cancelled

    def step(self) -> bool:
        """One thing happens; False when the ticket's story ends."""
        roll = self.rng.random()
        for upto, action in self.choices():
            if roll < upto:
                return action()
        return False

    def merge(self, into: uuid.UUID) -> None:
        self.move("closed", self.gen.people.manager)
        self.merged_into = into
        self.event("merged", self.gen.people.manager, {"into": str(into), "number": "(older)"})

    def live(self, stop: datetime, merge_into: uuid.UUID | None) -> None:
        merge_at = self.rng.randrange(1, 6) if merge_into else -1
        for n in range(60):
            self.t += self.gen.clock.gap()
            if self.t >= stop:
                self.t = stop
                break
            if n == merge_at and merge_into and self.status not in FINISHED:
                self.merge(merge_into)
                break
            if not self.step():
                break
        self.sla.evaluate(stop)
        self.delete_some()

    def delete_some(self) -> None:
        """A later staff reply deleted now and then (never the first: tickets.first_response_at
        stays the first public reply's time)."""
        batch = self.gen.batch
        for index in self.staff_replies[1:]:
            if self.rng.random() < 0.1:
                cols = batch.comments[index].rstrip("\n").split("\t")
                at = datetime.fromisoformat(cols[6]) + timedelta(minutes=5)
                cols[7], cols[8] = at.isoformat(), str(self.gen.people.manager)
                batch.comments[index] = "\t".join(cols) + "\n"

    def rows(self, stop: datetime) -> None:
        p, batch, rng = self.gen.people, self.gen.batch, self.rng
        updated = min(self.t, stop)
        batch.tickets.append(
            _line(
                (
                    self.id,
                    p.tenant_id,
                    self.number,
                    f"Dataset ticket {self.number}",
                    self.status,
                    self.priority,
                    self.category,
                    self.requester,
                    self.assignee,
                    self.team,
                    self.merged_into,
                    self.channel,
                    self.version,
                    _ts(self.created),
                    _ts(updated),
                    _ts(self.first_response),
                    _ts(self.resolved_at),
                    _ts(self.closed_at),
                    _ts(self.sla.due()),
                )
            )
        )
        for t in self.sla.targets:
            batch.targets.append(
                _line(
                    (
                        p.tenant_id,
                        self.id,
                        t.target,
                        t.cycle,
                        t.policy_id,
                        t.budget_seconds,
                        t.elapsed_seconds,
                        _ts(t.clock_at),
                        _ts(t.paused_since),
                        _ts(t.due_at),
                        "{" + ",".join(f'"{w.isoformat()}"' for w in t.warn_at) + "}",
                        "{" + ",".join(str(w) for w in t.warn_levels) + "}",
                        _ts(t.next_check_at),
                        _ts(t.met_at),
                        _ts(t.breached_at),
                    )
                )
            )
        for started, ended in self.sla.pauses:
            batch.pauses.append(_line((p.tenant_id, self.id, _ts(started), _ts(ended), "pending")))
        for survey_id, sent, expires, _answered, _rating, superseded, made in self.surveys:
            answered = rating = None
            if sent >= stop:
                continue
            if rng.random() < 0.55:
                at = sent + timedelta(hours=rng.expovariate(1 / 20))
                if at < min(expires, stop) and (superseded is None or at < superseded):
                    answered, rating = at, rng.choices(*RATINGS)[0]
            batch.surveys.append(
                _line(
                    (
                        survey_id,
                        p.tenant_id,
                        self.id,
                        self.requester,
                        _uuid(rng),
                        "\\\\x" + rng.randbytes(32).hex(),
                        "How would you rate the support you received?",
                        _ts(sent),
                        _ts(expires),
                        _ts(answered),
                        rating,
                        _ts(superseded),
                        _ts(made),
                    )
                )
            )


def _str(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


class Generator:
    def __init__(self, people: People, shape: Shape, *, no_csat: bool = False) -> None:
        self.people, self.shape, self.no_csat = people, shape, no_csat
        self.rng = random.Random(shape.seed)
        self.clock = Clock(shape, self.rng)
        self.batch = Batch()
        self.cals = {c.key: c.business() for c in CALENDARS}
        self.always = BusinessCalendar.always()
        self.counters: dict[int, int] = {}

    def cal_for(self, policy: PolicySpec | None) -> BusinessCalendar:
        if policy is None or policy.calendar is None:
            return self.always
        return self.cals[policy.calendar]

    def batches(self) -> Iterator[Batch]:
        """The tickets in creation order, ``shape.batch`` at a time."""
        shape = self.shape
        made = 0
        recent: list[uuid.UUID] = []
        while made < shape.tickets:
            count = min(shape.batch, shape.tickets - made)
            times = sorted(self.clock.created() for _ in range(count))
            for created in times:
                value = self.counters.get(created.year, 0) + 1
                self.counters[created.year] = value
                life = Life(self, created, f"RPT-{created.year}-{value:06d}")
                into = self.rng.choice(recent) if recent and self.rng.random() < 0.03 else None
                life.live(shape.stop, into)
                life.rows(shape.stop)
                if life.merged_into is None:
                    recent.append(life.id)
                    recent = recent[-50:]
            made += count
            batch, self.batch = self.batch, Batch()
            yield batch


def load_batch(conn: Conn, batch: Batch) -> dict[str, int]:
    counts = {}
    for key, (table, columns) in LOADS.items():
        lines: list[str] = getattr(batch, key)
        copy_into(conn, table, columns, lines)
        counts[key] = len(lines)
    return counts


def seed(
    conn: Conn, shape: Shape, *, tenant_id: uuid.UUID | None = None, slug: str | None = None
) -> People:
    """Seed one tenant (created here unless ``tenant_id`` names an existing one) in the
    caller's transaction, as the owner role."""
    rng = random.Random(shape.seed * 31 + 7)
    slug = slug or f"ds-{shape.seed}-{rng.randrange(16**8):08x}"
    if tenant_id is None:
        tenant_id = create_tenant(conn, slug, rng)
    people = seed_people(conn, tenant_id, slug, shape)
    gen = Generator(people, shape)
    for batch in gen.batches():
        load_batch(conn, batch)
    copy_into(
        conn,
        "ticket_counters",
        "tenant_id, year, last_value",
        [_line((tenant_id, y, v)) for y, v in gen.counters.items()],
    )
    return people
