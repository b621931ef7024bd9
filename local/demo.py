"""A believable desk for each demo tenant of `make dev` (local/seed.py calls it).

Configuration goes through the services, as an admin would make it: teams with members,
categories with custom fields routed to teams, a business calendar, SLA policies and a
webhook that is switched off. Then ~150 tickets per tenant with a history over the last 60
days: each ticket's story (replies, notes, status changes) is simulated at its own past
instants and written in bulk, with the rules of the services applied on the way: the state
machine decides every transition, the category's schema validates the custom fields, the
priority matrix sets the priority, and the SLA clock (``sla.engine.Clock``, the services'
own) runs at every step with the step's time, so targets, pauses, breaches and the
evaluator's crossings are what a live desk would have recorded.

History is not news: it writes no outbox rows (no mail or webhook for old events) and no
audit rows (nobody did these things) except one ``demo.seeded`` row per tenant. Only the few
newest events are announced, so the bell and the mail viewer have something to show.

Deterministic (a random generator seeded by the tenant slug; times relative to now) and
idempotent: a tenant that has any team or ticket already is left alone.
"""

from __future__ import annotations

import random
import struct
import uuid
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, inspect, text
from sqlalchemy.orm import Session

from local import demo_content as content
from local.demo_kb import seed_kb
from servicedesk.attachments.models import Attachment
from servicedesk.catalog import jsonschema
from servicedesk.catalog.schemas import CategoryCreate
from servicedesk.platform import audit, outbox
from servicedesk.platform.db import jsonable, set_tenant
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.sla import calendars, policies
from servicedesk.sla.engine import Clock
from servicedesk.sla.models import Pause, Policy, SlaTarget
from servicedesk.sla.schemas import CalendarCreate, Conditions, PolicyCreate, WorkInterval
from servicedesk.teams import service as teams
from servicedesk.teams.schemas import AssignmentStrategy, TeamCreate
from servicedesk.tickets import settings as ticket_settings
from servicedesk.tickets import states
from servicedesk.tickets.models import Comment, Participant, Ticket, TicketEvent
from servicedesk.webhooks.schemas import WebhookCreate
from servicedesk.webhooks.service import create_endpoint

TICKETS_PER_TENANT = 150
HISTORY_DAYS = 60
# Working hours in UTC per tenant (the calendars' zones), where most tickets are filed.
CALENDARS = {
    "acme": ("Office hours (Berlin)", "Europe/Berlin", 7),
    "globex": ("Office hours (New York)", "America/New_York", 13),
}
LEVELS = ("low", "medium", "high", "critical")
S = states.Status


def png(width: int = 48, height: int = 32, rgb: tuple[int, int, int] = (37, 99, 235)) -> bytes:
    """A small solid PNG, made here so that no binary file sits in the repository."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


@dataclass
class Desk:
    """One tenant's configuration and people, as the simulation needs them."""

    tenant_id: uuid.UUID
    admin: uuid.UUID
    people: dict[str, uuid.UUID]  # local part -> user id
    roles: dict[uuid.UUID, str]
    teams: dict[str, uuid.UUID] = field(default_factory=dict)
    members: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    categories: dict[str, uuid.UUID] = field(default_factory=dict)
    policies: list[Policy] = field(default_factory=list)

    @property
    def requesters(self) -> list[uuid.UUID]:
        return [u for u, r in self.roles.items() if r == "requester"]


@dataclass
class Story:
    """A ticket being written: the ticket, its rows, and the simulated present."""

    ticket: Ticket
    now: datetime
    rows: list[Any] = field(default_factory=list)
    staff: set[uuid.UUID] = field(default_factory=set)


class Rows:
    """What the SLA clock writes, kept in memory while the stories are simulated and added
    to the real session at the end: the clock's rules run unchanged, without a database
    round trip per step (``Clock`` reads policies and calendars through ``get``, which the
    real session answers from its identity map)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.targets: dict[uuid.UUID, list[SlaTarget]] = {}
        self.pauses: dict[uuid.UUID, list[Pause]] = {}

    def get(self, entity: Any, key: Any) -> Any:
        return self.session.get(entity, key)

    def add(self, row: Any) -> None:
        if isinstance(row, SlaTarget):
            self.targets.setdefault(row.ticket_id, []).append(row)
        elif isinstance(row, Pause):
            self.pauses.setdefault(row.ticket_id, []).append(row)
        else:
            raise TypeError(f"the SLA clock added a {type(row).__name__}")

    def add_all(self, rows: Iterable[Any]) -> None:
        for row in rows:
            self.add(row)

    def delete(self, row: Any) -> None:
        self.targets[row.ticket_id].remove(row)

    def flush(self) -> None:
        pass

    def all(self) -> list[Any]:
        rows: list[Any] = [t for ts in self.targets.values() for t in ts]
        return rows + [p for ps in self.pauses.values() for p in ps]


class MemoryClock(Clock):
    def __init__(self, rows: Rows, tenant_id: uuid.UUID) -> None:
        super().__init__(rows, tenant_id)  # type: ignore[arg-type]
        self.rows = rows

    def targets(self, ticket_id: uuid.UUID) -> list[SlaTarget]:
        return list(self.rows.targets.get(ticket_id, []))

    def _close_pause(self, ticket_id: uuid.UUID, now: datetime) -> None:
        for pause in self.rows.pauses.get(ticket_id, []):
            if pause.ended_at is None:
                pause.ended_at = now


class Simulator:
    def __init__(self, session: Session, desk: Desk, rng: random.Random, now: datetime) -> None:
        self.session = session
        self.desk = desk
        self.rng = rng
        self.now = now
        self.sla = Rows(session)
        self.clock = MemoryClock(self.sla, desk.tenant_id)
        self.settings = ticket_settings.SECTION.load(session, desk.tenant_id)
        self.crossings: list[dict[str, Any]] = []
        self.crossed: set[tuple[uuid.UUID, str, int, str]] = set()

    # -- the steps of a story, each at its own instant --------------------------------

    def event(
        self, story: Story, kind: str, actor: uuid.UUID | None, payload: dict[str, Any], **kw: Any
    ) -> None:
        story.rows.append(
            TicketEvent(
                tenant_id=self.desk.tenant_id,
                ticket_id=story.ticket.id,
                type=kind,
                actor_id=actor,
                visibility=kw.get("visibility", "public"),
                payload=jsonable(payload),
                created_at=story.now,
            )
        )

    def advance(self, story: Story, to: datetime) -> None:
        """Move the story's clock, recording the SLA crossings the evaluator would have."""
        to = min(max(to, story.now + timedelta(seconds=30)), self.now)
        self.cross(story, to)
        story.now = to

    def cross(self, story: Story, at: datetime) -> None:
        for target in self.clock.targets(story.ticket.id):
            if target.next_check_at is None or target.next_check_at > at:
                continue
            points = [
                (f"warning_{level}", when)
                for when, level in zip(target.warn_at, target.warn_levels, strict=True)
                if when <= at
            ]
            if target.due_at is not None and target.due_at <= at:
                points.append(("breached", target.due_at))
                target.breached_at = target.breached_at or target.due_at
            for kind, when in points:
                key = (story.ticket.id, target.target, target.cycle or 1, kind)
                if key in self.crossed:
                    continue
                self.crossed.add(key)
                self.crossings.append(
                    {"key": key, "policy_id": target.policy_id, "crossed_at": when}
                )
                event = "sla_breached" if kind == "breached" else "sla_warning"
                payload = {"ticket_id": story.ticket.id, "target": target.target, "kind": kind}
                self.event(
                    story, event, None, {**payload, "crossed_at": when}, visibility="internal"
                )
            later = [x for x in [*target.warn_at, target.due_at] if x is not None and x > at]
            target.next_check_at = min(later) if later else None

    def status(self, story: Story, to: states.Status, actor: uuid.UUID) -> None:
        ticket = story.ticket
        previous = states.Status(ticket.status)
        assert to in states.GRAPH[previous], f"{previous} -> {to} is not a transition"
        ticket.status = to.value
        if to is S.RESOLVED:
            ticket.resolved_at = story.now
        elif to is S.CLOSED:
            ticket.closed_at = story.now
            ticket.resolved_at = ticket.resolved_at or story.now
        elif to is S.OPEN and previous in (S.RESOLVED, S.CLOSED):
            ticket.resolved_at = ticket.closed_at = None
        ticket.version += 1
        ticket.updated_at = story.now
        self.clock.status_changed(
            ticket, previous.value, story.now, finished=states.FINISHED_STATUSES
        )
        reopened = previous in (S.RESOLVED, S.CLOSED) and to is S.OPEN
        payload = {"from": previous.value, "to": to.value}
        self.event(story, "reopened" if reopened else "status_changed", actor, payload)
        self.take_part(story, actor)

    def reply(self, story: Story, author: uuid.UUID, body: str, visibility: str = "public") -> None:
        ticket = story.ticket
        requester = author == ticket.requester_id
        moves_to = states.reply_moves_to(states.Status(ticket.status))
        if requester and visibility == "public" and moves_to is not None:
            self.status(story, moves_to, author)
        comment = Comment(
            id=uuid.uuid4(),
            tenant_id=self.desk.tenant_id,
            ticket_id=ticket.id,
            author_id=author,
            visibility=visibility,
            body=body,
            created_at=story.now,
        )
        story.rows.append(comment)
        if visibility == "public":
            by_staff = not requester
            if by_staff:
                ticket.first_response_at = ticket.first_response_at or story.now
            self.clock.replied(ticket, by_staff=by_staff, now=story.now)
        ticket.updated_at = story.now
        kind = "internal" if visibility == "internal" else "public"
        payload = {"comment_id": comment.id, "visibility": visibility}
        self.event(story, "comment_added", author, payload, visibility=kind)
        self.take_part(story, author)

    def assign(self, story: Story, assignee: uuid.UUID, actor: uuid.UUID) -> None:
        ticket = story.ticket
        before = {"assignee_id": ticket.assignee_id, "team_id": ticket.team_id}
        ticket.assignee_id = assignee
        ticket.version += 1
        ticket.updated_at = story.now
        after = {"assignee_id": assignee, "team_id": ticket.team_id}
        self.event(story, "assigned", actor, {"from": before, "to": after})
        self.take_part(story, actor)

    def take_part(self, story: Story, user: uuid.UUID) -> None:
        """Staff who act on a ticket take part in it (tickets.service.enroll_staff)."""
        if self.desk.roles.get(user) == "requester" or user == story.ticket.assignee_id:
            return
        if user not in story.staff:
            story.staff.add(user)
            story.rows.append(
                Participant(
                    tenant_id=self.desk.tenant_id,
                    ticket_id=story.ticket.id,
                    user_id=user,
                    kind="participant",
                    added_by=user,
                    created_at=story.now,
                )
            )

    # -- one ticket --------------------------------------------------------------------

    def policy_for(self, ticket: Ticket) -> Policy | None:
        for policy in self.desk.policies:
            if policies.matches(
                policy,
                priority=ticket.priority,
                category_id=ticket.category_id,
                team_id=ticket.team_id,
                requester_tags=[],
            ):
                return policy
        return None

    def custom_fields(self, category: str) -> dict[str, Any]:
        rng = self.rng
        values: dict[str, dict[str, Any]] = {
            "Hardware problem": {
                "device": rng.choice(content.DEVICES),
                "asset_tag": f"AT-{rng.randint(10000, 99999)}",
                "under_warranty": rng.random() < 0.6,
            },
            "Access request": {
                "system": rng.choice(content.SYSTEMS),
                "access_level": rng.choice(["Read", "Read", "Write", "Admin"]),
                "needed_by": (self.now.date() + timedelta(days=rng.randint(1, 20))).isoformat(),
            },
            "Software issue": {
                "application": rng.choice(content.APPS),
                "users_affected": rng.choice([1, 1, 2, 5, 12, 40]),
            },
            "Network / VPN": {"site": rng.choice(content.SITES), "wired": rng.random() < 0.4},
        }
        return values.get(category, {})

    def open_ticket(
        self, number: str, created: datetime, *, fate: str, category: str | None = None
    ) -> Story:
        rng, desk = self.rng, self.desk
        drawn = rng.choice(list(content.CATEGORIES))
        category = category or drawn
        description, team_name, schema, titles = content.CATEGORIES[category]
        title, body = rng.choice(titles)
        fields = self.custom_fields(category)
        if schema is not None:
            assert jsonschema.validate(schema, fields) == [], (category, fields)
        impact = rng.choices(LEVELS, weights=(4, 5, 2, 1))[0]
        urgency = rng.choices(LEVELS, weights=(3, 5, 3, 1))[0]
        if fate.startswith("critical"):
            impact = urgency = "critical"
        triage = fate == "untriaged"
        team = None if triage else desk.teams[team_name]
        ticket = Ticket(
            id=uuid.uuid4(),
            tenant_id=desk.tenant_id,
            number=number,
            title=title,
            description=f"{body}\n\n{description}",
            status=S.NEW.value,
            priority=self.settings.priority_for(impact, urgency),
            impact=impact,
            urgency=urgency,
            category_id=None if triage else desk.categories[category],
            requester_id=rng.choice(desk.requesters),
            team_id=team,
            tags=rng.sample(["vip", "onboarding", "remote", "recurring"], k=rng.choice([0, 0, 1])),
            custom_fields={} if triage else fields,
            created_at=created,
            updated_at=created,
            version=1,
        )
        story = Story(ticket, created)
        self.clock.start(ticket, self.policy_for(ticket), created)
        self.event(story, "created", ticket.requester_id, {"number": number})
        return story

    def later(self, story: Story, **delta: float) -> None:
        self.advance(story, story.now + timedelta(**delta))

    def live(self, story: Story, fate: str) -> None:
        """The ticket's life up to now, ending in ``fate``."""
        if fate in ("untriaged", "new_unassigned"):
            return
        if fate == "cancelled":
            ticket = story.ticket
            self.later(story, hours=self.rng.uniform(0.5, 30))
            self.reply(story, ticket.requester_id, self.rng.choice(content.CANCEL_REASONS))
            self.status(story, S.CANCELLED, ticket.requester_id)
            return
        agent = self._pick_up(story, fate)
        if fate not in ("new_assigned", "critical_new"):
            self._answer(story, agent, fate)
            if fate not in ("critical", "pending", "open"):
                self._work(story, agent, fate)

    def _pick_up(self, story: Story, fate: str) -> uuid.UUID:
        rng, ticket = self.rng, story.ticket
        agent = rng.choice(self.desk.members[ticket.team_id] if ticket.team_id else [])
        manager = self.desk.people["manager"]
        self.later(
            story, minutes=rng.uniform(1, 4) if fate.startswith("critical") else rng.uniform(3, 50)
        )
        self.assign(story, agent, manager if rng.random() < 0.3 else agent)
        return agent

    def _answer(self, story: Story, agent: uuid.UUID, fate: str) -> None:
        """First response (late now and then: breached first responses), a note, maybe a
        question to the requester and their answer."""
        rng, ticket = self.rng, story.ticket
        late = rng.random() < 0.18
        wait = rng.uniform(8, 30) if late else rng.uniform(0.2, 3)
        self.later(story, hours=rng.uniform(0.05, 0.3) if fate == "critical" else wait)
        self.status(story, S.OPEN, agent)
        self.reply(story, agent, rng.choice(content.FIRST_REPLIES))
        if rng.random() < 0.45:
            self.later(story, minutes=rng.uniform(10, 240))
            self.reply(story, agent, rng.choice(content.NOTES), "internal")
        if fate == "critical":
            self.status(story, S.IN_PROGRESS, agent)
        elif rng.random() < 0.5 or fate == "pending":
            self.later(story, hours=rng.uniform(0.5, 6))
            self.reply(story, agent, rng.choice(content.QUESTIONS))
            self.status(story, S.PENDING, agent)
            if fate != "pending":
                self.later(story, hours=rng.uniform(1, 40))
                self.reply(story, ticket.requester_id, rng.choice(content.REQUESTER_REPLIES[:5]))

    def _work(self, story: Story, agent: uuid.UUID, fate: str) -> None:
        """In progress, then resolved (a thank-you may reopen it), then closed."""
        rng, ticket = self.rng, story.ticket
        self.later(story, hours=rng.uniform(0.5, 8))
        self.status(story, S.IN_PROGRESS, agent)
        if fate == "in_progress":
            return
        self.later(story, hours=rng.uniform(1, 60))
        self.reply(story, agent, rng.choice(content.RESOLUTIONS))
        self.status(story, S.RESOLVED, agent)
        if fate == "resolved" and rng.random() < 0.4:
            self.later(story, hours=rng.uniform(0.5, 20))
            self.reply(story, ticket.requester_id, content.REQUESTER_REPLIES[-1])
            # A thank-you reopens (the requester's reply); the agent resolves again.
            self.later(story, minutes=rng.uniform(5, 90))
            self.status(story, S.RESOLVED, agent)
        if fate == "closed":
            self.later(story, days=rng.uniform(2, 5))
            self.status(story, S.CLOSED, ticket.requester_id if rng.random() < 0.3 else agent)


def _fate(rng: random.Random, age_days: float) -> str:
    if age_days > 14:
        table = {
            "closed": 70,
            "resolved": 8,
            "cancelled": 7,
            "open": 5,
            "pending": 4,
            "in_progress": 6,
        }
    elif age_days > 3:
        table = {
            "closed": 12,
            "resolved": 33,
            "pending": 15,
            "in_progress": 15,
            "open": 15,
            "cancelled": 5,
            "new_assigned": 5,
        }
    else:
        table = {
            "new_unassigned": 22,
            "untriaged": 8,
            "new_assigned": 10,
            "open": 20,
            "in_progress": 18,
            "pending": 10,
            "resolved": 12,
        }
    return rng.choices(list(table), weights=list(table.values()))[0]


def _filing_time(rng: random.Random, now: datetime, age_days: float, work_start: int) -> datetime:
    """A working-day instant about ``age_days`` ago (in the tenant's office hours)."""
    day = (now - timedelta(days=age_days)).date()
    while day.weekday() >= 5 and rng.random() < 0.85:
        day -= timedelta(days=1)
    hour = work_start + rng.uniform(0, 9.5)
    at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour)
    return min(at, now - timedelta(minutes=rng.uniform(5, 90)))


# -- configuration, through the services ---------------------------------------------------


def _configure(ctx: RequestContext, desk: Desk, slug: str) -> None:
    for name, (description, strategy, members) in content.TEAMS.items():
        team = teams.create_team(
            ctx,
            data=TeamCreate(
                name=name,
                description=description,
                assignment_strategy=AssignmentStrategy(strategy),
            ),
        )
        desk.teams[name] = team.id
        desk.members[team.id] = []
        for local in members:
            teams.put_member(ctx, team_id=team.id, user_id=desk.people[local])
            desk.members[team.id].append(desk.people[local])
    for name, (description, team_name, schema, _titles) in content.CATEGORIES.items():
        category = teams_category(ctx, name, description, schema, desk.teams[team_name])
        desk.categories[name] = category
    cal_name, zone, _start = CALENDARS[slug]
    local_start = 8 if zone == "Europe/Berlin" else 9
    day = [WorkInterval(start=f"{local_start:02d}:00", end=f"{local_start + 9:02d}:00")]
    calendar = calendars.create(
        ctx,
        data=CalendarCreate(
            name=cal_name,
            timezone=zone,
            week=[day, day, day, day, day, [], []],
            holidays=[date(datetime.now(UTC).year, 12, 24)],
            yearly_holidays=["01-01", "12-25", "12-26"],
        ),
    )
    specs = [
        ("Critical incidents (24x7)", ["critical"], None, 30, None, 240),
        ("High priority", ["high"], calendar.id, 120, 480, 960),
        ("Standard", ["medium", "low"], calendar.id, 480, 960, 2700),
    ]
    for position, (name, levels, calendar_id, first, nxt, resolution) in enumerate(specs):
        policy = policies.create(
            ctx,
            data=PolicyCreate(
                name=name,
                position=(position + 1) * 10,
                conditions=Conditions(priorities=levels),
                calendar_id=calendar_id,
                first_response_minutes=first,
                next_response_minutes=nxt,
                resolution_minutes=resolution,
            ),
        )
        desk.policies.append(policy)
    # Integrators' first stop: an endpoint to look at, switched off so nothing is sent.
    create_endpoint(
        ctx,
        data=WebhookCreate(
            url=f"https://hooks.{slug}.example/servicedesk",
            event_types=["ticket.created", "ticket.status_changed"],
            active=False,
        ),
    )


def teams_category(
    ctx: RequestContext, name: str, description: str, schema: Any, team_id: uuid.UUID
) -> uuid.UUID:
    from servicedesk.catalog.service import create_category

    data = CategoryCreate(
        name=name, description=description, fields_schema=schema, default_team_id=team_id
    )
    return create_category(ctx, data=data).id


def _people(session: Session, tenant_id: uuid.UUID, slug: str, password_hash: str) -> None:
    for local, role, name in content.PEOPLE:
        email = f"{local}@{slug}.example"
        user_id = session.execute(
            text("SELECT user_id FROM auth_password_hash(:e)"), {"e": email}
        ).scalar()
        if user_id is None:
            user_id = uuid.uuid4()
            session.execute(
                text("INSERT INTO users (id, email, name, password_hash) VALUES (:i, :e, :n, :h)"),
                {"i": user_id, "e": email, "n": name, "h": password_hash},
            )
        set_tenant(session, tenant_id=tenant_id, user_id=user_id)
        session.execute(
            text(
                "INSERT INTO memberships (tenant_id, user_id, role) VALUES (:t, :u, :r)"
                " ON CONFLICT DO NOTHING"
            ),
            {"t": tenant_id, "u": user_id, "r": role},
        )


def _desk(session: Session, tenant_id: uuid.UUID) -> Desk:
    rows = session.execute(
        text(
            "SELECT u.id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id"
            " WHERE m.tenant_id = :t AND m.active ORDER BY u.email"
        ),
        {"t": tenant_id},
    ).all()
    people = {row.email.split("@")[0]: row.id for row in rows}
    return Desk(
        tenant_id=tenant_id,
        admin=people["admin"],
        people=people,
        roles={row.id: row.role for row in rows},
    )


def seed_tenant(
    session: Session, tenant_id: uuid.UUID, slug: str, *, password_hash: str, now: datetime
) -> list[uuid.UUID] | None:
    """The desk of one tenant, in the caller's transaction; None if it has one already.
    Returns the outbox ids it wrote (the few newest events), to publish after commit."""
    set_tenant(session, tenant_id=tenant_id, user_id=None)
    busy = session.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM teams WHERE tenant_id = :t)"
            " OR EXISTS (SELECT 1 FROM tickets WHERE tenant_id = :t)"
        ),
        {"t": tenant_id},
    ).scalar()
    if busy:
        return None
    _people(session, tenant_id, slug, password_hash)
    desk = _desk(session, tenant_id)
    set_tenant(session, tenant_id=tenant_id, user_id=desk.admin)
    ctx = RequestContext(session=session, tenant_id=tenant_id, user_id=desk.admin, role=Role.ADMIN)
    _configure(ctx, desk, slug)
    rng = random.Random(f"servicedesk-demo-{slug}")
    sim = Simulator(session, desk, rng, now)
    start = CALENDARS[slug][2]
    plans: list[tuple[datetime, str, str | None]] = []
    for _ in range(TICKETS_PER_TENANT):
        age = HISTORY_DAYS * rng.random() ** 1.3  # a little busier lately: a trend to show
        created = _filing_time(rng, now, age, start)
        plans.append((created, _fate(rng, (now - created).total_seconds() / 86400), None))
    # SLA states that hold whatever the hour: critical tickets (24x7 policy) filed recently
    # enough to be at risk now, and one already breached. Their categories are fixed, not
    # drawn: how many draws the history above takes depends on the hour, and a drawn team
    # could leave an agent's "at risk" queue empty. Hardware and Network & Access put one
    # at-risk ticket in each agent's teams.
    plans += [
        (now - timedelta(minutes=200), "critical", "Hardware problem"),
        (now - timedelta(minutes=215), "critical", "Network / VPN"),
        (now - timedelta(minutes=420), "critical", "General question"),
        (now - timedelta(minutes=24), "critical_new", "Software issue"),
        # One new ticket waiting for triage (no team) whatever the day: the history's
        # untriaged tickets come only from its last three days, which a weekend can empty.
        (now - timedelta(minutes=140), "untriaged", "General question"),
    ]
    plans.sort(key=lambda p: p[0])
    prefix = sim.settings.number_prefix
    counters: dict[int, int] = {}
    stories = []
    for created, fate, category in plans:
        counters[created.year] = counters.get(created.year, 0) + 1
        number = f"{prefix}-{created.year}-{counters[created.year]:06d}"
        story = sim.open_ticket(number, created, fate=fate, category=category)
        sim.live(story, fate)
        sim.cross(story, now)
        stories.append(story)
    # The tickets, then what refers to them: one batched INSERT per table.
    session.add_all([story.ticket for story in stories])
    session.flush()
    _bulk_insert(session, [row for story in stories for row in story.rows] + sim.sla.all())
    for year, last in counters.items():
        session.execute(
            text(
                "INSERT INTO ticket_counters (tenant_id, year, last_value) VALUES (:t, :y, :v)"
                " ON CONFLICT (tenant_id, year) DO UPDATE"
                " SET last_value = greatest(ticket_counters.last_value, :v)"
            ),
            {"t": tenant_id, "y": year, "v": last},
        )
    session.flush()
    if sim.crossings:
        session.execute(
            text(
                "INSERT INTO sla_crossings"
                " (tenant_id, ticket_id, target, cycle, kind, policy_id, crossed_at)"
                " VALUES (:t, :ticket, :target, :cycle, :kind, :policy, :at)"
                " ON CONFLICT DO NOTHING"
            ),
            [
                {
                    "t": tenant_id,
                    "ticket": c["key"][0],
                    "target": c["key"][1],
                    "cycle": c["key"][2],
                    "kind": c["key"][3],
                    "policy": c["policy_id"],
                    "at": c["crossed_at"],
                }
                for c in sim.crossings
            ],
        )
    _attachments(ctx, stories[-40:], rng)
    announced = seed_kb(ctx, now=now)
    audit.record(
        ctx,
        action="demo.seeded",
        entity_type="tenant",
        entity_id=tenant_id,
        data={"tickets": len(stories)},
    )
    return _announce(ctx, stories) + announced


def _bulk_insert(session: Session, rows: list[Any]) -> None:
    """ORM bulk INSERTs (no RETURNING, so psycopg pipelines them): each row's set columns,
    the rest left to the table's defaults."""
    by_type: dict[type, list[dict[str, Any]]] = {}
    for row in rows:
        mapper = inspect(type(row))
        values = {
            attr.key: getattr(row, attr.key)
            for attr in mapper.column_attrs
            if getattr(row, attr.key) is not None
        }
        by_type.setdefault(type(row), []).append(values)
    for model, batch in by_type.items():
        session.execute(insert(model), batch)


def _announce(ctx: RequestContext, stories: list[Story]) -> list[uuid.UUID]:
    """The newest few tickets are news: their creation goes out as it would have."""
    ids = []
    for story in [s for s in stories if s.ticket.status == "new"][-3:]:
        ticket = story.ticket
        ids.append(
            outbox.emit(
                ctx.session,
                tenant_id=ctx.tenant_id,
                event_type="ticket.created",
                aggregate_type="ticket",
                aggregate_id=ticket.id,
                payload={
                    "ticket_id": ticket.id,
                    "number": ticket.number,
                    "actor_id": ticket.requester_id,
                },
            )
        )
    return ids


def _attachments(ctx: RequestContext, stories: list[Story], rng: random.Random) -> None:
    """A few real files: through the attachments service and into the bucket (the emulator
    locally), as a browser upload would put them."""
    from servicedesk.platform import storage

    files = [
        *[(name, "text/plain", body.encode()) for name, body in content.TEXT_FILES],
        ("screenshot.png", "image/png", png()),
        ("photo-of-the-desk.png", "image/png", png(64, 40, (22, 163, 74))),
    ]
    from servicedesk.tickets.timeline import HISTORY

    candidates = [s for s in stories if s.ticket.status not in ("cancelled",)]
    s3 = storage.client()
    ctx.session.info[HISTORY] = True  # old files are not news: no live push
    try:
        for story, (name, content_type, body) in zip(
            rng.sample(candidates, k=min(len(files), len(candidates))), files, strict=False
        ):
            with _dated(ctx.session, story.ticket.created_at):
                _attach(ctx, story, name, content_type, body, s3)
    finally:
        ctx.session.info.pop(HISTORY, None)
    set_tenant(ctx.session, tenant_id=ctx.tenant_id, user_id=ctx.user_id)


@contextmanager
def _dated(session: Session, at: datetime) -> Iterator[None]:
    """Rows a service adds meanwhile (the attachment, its timeline entry) carry ``at``, the
    moment of the story they belong to, instead of the database's now()."""

    def stamp(session: Session, _context: Any, _instances: Any) -> None:
        for row in session.new:
            if isinstance(row, (TicketEvent, Attachment)) and row.created_at is None:
                row.created_at = at

    event.listen(session, "before_flush", stamp)
    try:
        yield
    finally:
        event.remove(session, "before_flush", stamp)


def _attach(
    ctx: RequestContext, story: Story, name: str, content_type: str, body: bytes, s3: Any
) -> None:
    from servicedesk.attachments import service as attachments
    from servicedesk.attachments.schemas import AttachmentCreate
    from servicedesk.platform import storage

    uploader = story.ticket.requester_id
    actor = RequestContext(ctx.session, ctx.tenant_id, uploader, Role.REQUESTER)
    set_tenant(ctx.session, tenant_id=ctx.tenant_id, user_id=uploader)
    row, _form = attachments.create(
        actor,
        ticket_id=story.ticket.id,
        data=AttachmentCreate(filename=name, content_type=content_type, size=len(body)),
    )
    s3.put_object(
        Bucket=storage.bucket(),
        Key=row.object_key,
        Body=body,
        ContentType=content_type,
    )
    attachments.complete(actor, attachment_id=row.id)
    ctx.session.execute(
        text("UPDATE attachments SET completed_at = created_at WHERE id = :id"),
        {"id": row.id},
    )
