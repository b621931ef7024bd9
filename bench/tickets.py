"""Tickets at a million: seed 1,000,000 tickets over 100 tenants, then measure the tickets API.

Seeding (skipped when the data is already there; ``--reseed`` drops and recreates it): the
embedded PostgreSQL under ``.data/bench-pg/data`` (or the server of ``DATABASE_URL``),
database ``servicedesk_bench`` migrated to head, then, as the owner role and in ONE
transaction (a failed seed leaves nothing behind), COPY into temporary staging tables and
INSERT ... SELECT from there (PostgreSQL refuses COPY FROM into a table under FORCE ROW
LEVEL SECURITY even for its owner; the INSERT passes the ``owner_maintenance`` policy):

- 100 tenants ``bench-000`` .. ``bench-099``; ``bench-000`` holds 200,000 tickets, the
  others 8,080 or 8,081 each;
- per tenant an admin, managers, agents and requesters (bench-000: 2 managers, 12 agents,
  200 requesters; the others 1, 4 and 20), all sharing ONE argon2 hash of ``PASSWORD``;
- four teams (round robin, manual, least open, manual) with the agents as members, and
  eight categories, seven of them routed to a team;
- tickets spread over two years (more recent ones more frequent), numbered
  ``TCK-<year>-<6 digits>`` per tenant and year in creation order, with status by age,
  priority from impact x urgency, team by category, tags; ~2.2 comments per ticket, ~20%
  of them internal notes, participants for the staff who commented, a ``created`` event
  per ticket; ``ticket_counters`` at the highest number so the app continues the sequence.

The load drops the ticket tables' secondary indexes and rebuilds them from their own
definitions (``pg_get_indexdef``) before the commit; then ``VACUUM (ANALYZE)``.

Measurement: the API under uvicorn (2 workers, 127.0.0.1, a free port) with the
environment of ``make dev``, and TCP_NODELAY on the workers' connections, which uvicorn's
multi-worker mode leaves off (``--keep-nagle`` measures without; see
``NODELAY_SITECUSTOMIZE``); one login per role in bench-000 (manager: sees all; agent
``agent4``: one team plus the untriaged; a requester of median activity). Per operation a
warm-up, then ``--seconds`` at concurrency 8 (threads, one keep-alive httpx client each).
The table gives requests, req/s, latency percentiles, errors and where the CPU went (this
client, the API processes, PostgreSQL, the rest of the machine), in cores.

    .venv/bin/python bench/tickets.py [--reseed] [--seed-only] [--seconds S] [--only a,b]

Writes (create, comment) add rows to bench-000 on every run (at most ``--max-writes``
each), as other users than the ones whose reads are measured (agent8 and requester101), so
the readers' own tickets and participations stay as seeded; ``--reseed`` returns to the
seeded state. Exit status 1 when a request failed (an
unexpected status or a transport error), never because a target was missed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

if TYPE_CHECKING:
    from local.db import Database

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".data" / "bench-pg" / "data"
DB_NAME = "servicedesk_bench"
PASSWORD = "bench-password-2026!"  # the benchmark users' shared password
TENANTS = 100
TOTAL_TICKETS = 1_000_000
BIG_TICKETS = 200_000
SPAN = timedelta(days=730)
SEED = 20261125
NULL = "\\N"
BIG = "bench-000"

# (name, assignment strategy); agent i joins team i % 4, and from the fifth on also team 0.
TEAMS = (
    ("Service Desk", "round_robin"),
    ("Network", "manual"),
    ("Applications", "least_open"),
    ("Hardware", "manual"),
)
# (name, default team index, weight, subjects the titles talk about)
CATEGORIES: tuple[tuple[str, int | None, int, tuple[str, ...]], ...] = (
    (
        "Access request",
        0,
        10,
        ("SharePoint site", "shared drive", "Jira project", "finance folder", "HR portal"),
    ),
    ("Password and MFA", 0, 12, ("domain password", "MFA token", "Okta account", "SSO login")),
    ("Network and VPN", 1, 14, ("VPN", "Wi-Fi", "office network", "firewall rule", "proxy")),
    ("Email and calendar", 2, 14, ("Outlook", "shared mailbox", "calendar", "Teams meeting")),
    ("Business applications", 2, 16, ("SAP", "Salesforce", "Workday", "Confluence", "Power BI")),
    ("Laptop and desktop", 3, 18, ("laptop", "monitor", "docking station", "keyboard", "headset")),
    ("Printing", 3, 8, ("printer", "scanner", "label printer", "plotter")),
    ("Other", None, 8, ("desk phone", "badge reader", "mobile phone", "meeting room screen")),
)
CATEGORY_WEIGHTS = [c[2] for c in CATEGORIES]
TITLES = (
    "{s} not working",
    "{s} is very slow",
    "Cannot connect to {s}",
    "{s} keeps crashing",
    "Request access to {s}",
    "Error when opening {s}",
    "{s} stopped working after the update",
    "Need a new {s}",
    "{s} shows error {code}",
    "{s} disconnects every few minutes",
    "Question about {s}",
    "{s} locked after several attempts",
)
SITES = ("Berlin", "London", "Lisbon", "Toronto", "Singapore", "home office")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "yesterday", "this morning")
SYMPTOMS = (
    "does not respond",
    "is extremely slow",
    "shows an error message",
    "freezes after a few minutes",
    "cannot be reached",
    "asks for my password again and again",
    "works only intermittently",
)
ATTEMPTS = (
    "I already restarted my computer.",
    "Restarting did not help.",
    "A colleague has the same problem.",
    "I cleared the cache and tried again.",
    "It works from home but not in the office.",
    "",
)
CLOSERS = (
    "Error code: {code}.",
    "This blocks my work on the quarterly report.",
    "Please help as soon as possible.",
    "Not urgent, but annoying.",
    "Screenshot available on request.",
)
RARE = ("bitlocker", "kerberos", "thunderbolt", "certificate", "intune", "citrix", "sccm")
PUBLIC_STAFF: tuple[str, ...] = (
    "Thanks for reporting. Could you send a screenshot of the error?",
    "I have reset the {s}; please try again.",
    "We are looking into the {s} issue and will update you today.",
    "This is a known issue with the {s}; a fix is planned for the next release.",
    "Can you confirm whether the problem persists after a restart?",
)
REQUESTER_REPLIES: tuple[str, ...] = (
    "Still happening, see the attached screenshot.",
    "It works now, thanks!",
    "Same problem again this morning.",
    "I tried that but the {s} still {symptom}.",
)
INTERNAL_NOTES: tuple[str, ...] = (
    "Escalating to second line.",
    "Vendor case opened for the {s}.",
    "Probably related to the change last weekend.",
    "Checked the logs: {code} repeated many times.",
)
TAGS = (
    "incident",
    "request",
    "hardware",
    "software",
    "access",
    "onboarding",
    "offboarding",
    "urgent",
    "vip",
    "remote",
    "security",
    "license",
    "mobile",
    "office-move",
    "outage",
    "known-error",
    "escalated",
    "waiting-vendor",
    "how-to",
    "audit",
)
LEVELS = ("low", "medium", "high", "critical")
ACTIVE = ("new", "open", "in_progress", "pending")
# Status by age: (statuses, weights) for under 2 days, under 30 days, older.
STATUS_BY_AGE: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...] = (
    ((*ACTIVE, "resolved"), (45, 25, 20, 5, 5)),
    (
        ("new", "open", "in_progress", "pending", "resolved", "closed", "cancelled"),
        (5, 20, 25, 15, 25, 8, 2),
    ),
    (
        ("open", "in_progress", "pending", "resolved", "closed", "cancelled"),
        (2, 1, 1, 3, 90, 3),
    ),
)
VERSIONS = {"new": 1, "open": 2, "in_progress": 3, "pending": 4, "resolved": 4, "closed": 5}
COMMENT_COUNTS = (range(7), (12, 22, 26, 18, 11, 7, 4))  # mean 2.31
# Who reads (their data stays as seeded) and who writes, in bench-000. agent4 is only in
# Hardware; agent8 in Hardware and Service Desk; requester100 has median activity.
READER_AGENT = ("agent", 4)
READER_REQUESTER = ("requester", 100)
WRITER_AGENT = ("agent", 8)
WRITER_REQUESTER = ("requester", 101)
SEARCH_WORDS = ("printer", "vpn", "outlook calendar", "docking station", "bitlocker", "crash")


# --------------------------------------------------------------------------- dataset


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _line(values: Sequence[str | None]) -> str:
    """One COPY text-format row. Generated values never contain tabs, newlines or '\\'."""
    return "\t".join(NULL if v is None else v for v in values) + "\n"


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass
class TenantSeed:
    index: int
    id: uuid.UUID
    slug: str
    tickets: int
    users: list[tuple[uuid.UUID, str, str]] = field(default_factory=list)  # id, email, role
    teams: list[uuid.UUID] = field(default_factory=list)
    members: list[list[uuid.UUID]] = field(default_factory=list)  # per team
    categories: list[uuid.UUID] = field(default_factory=list)
    requester_weights: list[float] = field(default_factory=list)

    def of_role(self, role: str) -> list[uuid.UUID]:
        return [u for u, _, r in self.users if r == role]


def tenant_shapes() -> list[tuple[str, int, tuple[int, int, int]]]:
    """(slug, tickets, (managers, agents, requesters)) for every tenant."""
    rest, extra = divmod(TOTAL_TICKETS - BIG_TICKETS, TENANTS - 1)
    shapes = [(BIG, BIG_TICKETS, (2, 12, 200))]
    for i in range(1, TENANTS):
        shapes.append((f"bench-{i:03d}", rest + (1 if i <= extra else 0), (1, 4, 20)))
    return shapes


def email(role: str, n: int, slug: str) -> str:
    return f"{role}{n}@{slug}.bench.example"


def build_tenants(rng: random.Random) -> list[TenantSeed]:
    tenants: list[TenantSeed] = []
    for index, (slug, tickets, (managers, agents, requesters)) in enumerate(tenant_shapes()):
        tenant = TenantSeed(index=index, id=_uuid(rng), slug=slug, tickets=tickets)
        for role, count in (
            ("admin", 1),
            ("manager", managers),
            ("agent", agents),
            ("requester", requesters),
        ):
            tenant.users.extend(
                (_uuid(rng), email(role, n, slug), role) for n in range(1, count + 1)
            )
        tenant.teams = [_uuid(rng) for _ in TEAMS]
        tenant.members = [[] for _ in TEAMS]
        for i, agent in enumerate(tenant.of_role("agent")):
            tenant.members[i % len(TEAMS)].append(agent)
            if i >= len(TEAMS) and i % len(TEAMS):
                tenant.members[0].append(agent)
        tenant.categories = [_uuid(rng) for _ in CATEGORIES]
        # Zipf-like activity: a few requesters open many tickets, most open a few.
        tenant.requester_weights = [1 / (r + 1) ** 0.8 for r in range(requesters)]
        tenants.append(tenant)
    return tenants


def _code(rng: random.Random) -> str:
    return f"0x8007{rng.randrange(400):04X}"


def title_for(rng: random.Random, subject: str) -> str:
    title = rng.choice(TITLES).format(s=subject, code=_code(rng))
    title = title[0].upper() + title[1:]
    if rng.random() < 0.3:
        title += f" ({rng.choice(SITES)})"
    return title


def description_for(rng: random.Random, subject: str) -> str:
    parts = [
        f"Since {rng.choice(DAYS)} the {subject} {rng.choice(SYMPTOMS)}.",
        rng.choice(ATTEMPTS),
        rng.choice(CLOSERS).format(code=_code(rng)),
        f"Asset tag LT-{rng.randrange(100_000):05d}.",
    ]
    if rng.random() < 0.05:
        parts.append(f"Possibly {rng.choice(RARE)} related.")
    return " ".join(p for p in parts if p)


@dataclass
class TicketPlan:
    """What the conversation of one ticket needs to know."""

    id: uuid.UUID
    number: str
    subject: str
    status: str
    created: datetime
    end: datetime  # last activity
    requester: uuid.UUID
    assignee: uuid.UUID | None
    team: int | None


@dataclass
class Rows:
    tickets: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    counters: dict[int, int] = field(default_factory=dict)


class TicketFactory:
    """Tickets, conversations and events of one tenant, deterministic for a given seed."""

    def __init__(self, tenant: TenantSeed, rng: random.Random, now: datetime) -> None:
        from servicedesk.tickets.settings import DEFAULT_MATRIX

        self.tenant, self.rng, self.now = tenant, rng, now
        self.matrix = DEFAULT_MATRIX
        self.tid = str(tenant.id)
        self.requesters = tenant.of_role("requester")
        self.agents = tenant.of_role("agent")

    def created_times(self) -> list[datetime]:
        start, latest = self.now - SPAN, self.now - timedelta(minutes=10)
        # Density grows linearly over the two years: the desk serves a growing company.
        times = [start + SPAN * math.sqrt(self.rng.random()) for _ in range(self.tenant.tickets)]
        return sorted(min(t, latest) for t in times)

    def status(self, age: timedelta) -> str:
        band = 0 if age < timedelta(days=2) else 1 if age < timedelta(days=30) else 2
        statuses, weights = STATUS_BY_AGE[band]
        return self.rng.choices(statuses, weights)[0]

    def priority(self) -> tuple[str, str | None, str | None]:
        if self.rng.random() < 0.5:
            impact = self.rng.choices(LEVELS, (30, 40, 22, 8))[0]
            urgency = self.rng.choices(LEVELS, (30, 40, 22, 8))[0]
            return self.matrix[impact][urgency], impact, urgency  # type: ignore[index]
        return self.rng.choices(LEVELS, (25, 47, 21, 7))[0], None, None

    def routing(self, category: int, status: str) -> tuple[int | None, uuid.UUID | None]:
        team = CATEGORIES[category][1]
        if status == "new" and self.rng.random() < 0.5:
            team = None  # untriaged
        if team is None or (status == "new" and self.rng.random() < 0.5):
            return team, None
        return team, self.rng.choice(self.tenant.members[team])

    def lifecycle(
        self, status: str, created: datetime
    ) -> tuple[datetime | None, datetime | None, datetime | None]:
        """first_response_at, resolved_at, closed_at."""
        rng, room = self.rng, self.now - created
        first = None
        if status != "new":
            first = created + min(room * 0.5, timedelta(hours=rng.expovariate(1 / 2)))
        resolved = closed = None
        if status in ("resolved", "closed"):
            resolved = created + min(room * 0.8, timedelta(days=rng.expovariate(1 / 2)))
        if status == "closed" and resolved is not None:
            closed = resolved + min((self.now - resolved) * 0.9, timedelta(days=3))
        return first, resolved, closed

    def tags(self) -> str:
        kind = "incident" if self.rng.random() < 0.7 else "request"
        extra = self.rng.sample(TAGS[2:], self.rng.choices((0, 1, 2), (50, 35, 15))[0])
        return "{" + ",".join([kind, *extra]) + "}"

    def number(self, created: datetime, rows: Rows) -> str:
        value = rows.counters.get(created.year, 0) + 1
        rows.counters[created.year] = value
        return f"TCK-{created.year}-{value:06d}"

    def ticket(self, created: datetime, rows: Rows) -> TicketPlan:
        rng = self.rng
        category = rng.choices(range(len(CATEGORIES)), CATEGORY_WEIGHTS)[0]
        subject = rng.choice(CATEGORIES[category][3])
        status = self.status(self.now - created)
        priority, impact, urgency = self.priority()
        team, assignee = self.routing(category, status)
        first, resolved, closed = self.lifecycle(status, created)
        requester = rng.choices(self.requesters, self.tenant.requester_weights)[0]
        end = closed or resolved or created + min((self.now - created) * 0.5, timedelta(days=1))
        plan = TicketPlan(
            _uuid(rng),
            self.number(created, rows),
            subject,
            status,
            created,
            end,
            requester,
            assignee,
            team,
        )
        rows.tickets.append(
            _line(
                (
                    str(plan.id),
                    self.tid,
                    plan.number,
                    title_for(rng, subject),
                    description_for(rng, subject),
                    status,
                    priority,
                    impact,
                    urgency,
                    str(self.tenant.categories[category]),
                    str(requester),
                    None if assignee is None else str(assignee),
                    None if team is None else str(self.tenant.teams[team]),
                    self.tags(),
                    str(VERSIONS.get(status, 2)),
                    _ts(created),
                    _ts(end),
                    _ts(first),
                    _ts(resolved),
                    _ts(closed),
                )
            )
        )
        return plan

    def staff_author(self, plan: TicketPlan) -> uuid.UUID:
        if plan.assignee is not None and self.rng.random() < 0.7:
            return plan.assignee
        pool = self.tenant.members[plan.team] if plan.team is not None else self.agents
        return self.rng.choice(pool)

    def conversation(self, plan: TicketPlan, rows: Rows) -> None:
        rng, tid, ticket_id = self.rng, self.tid, str(plan.id)
        count = rng.choices(*COMMENT_COUNTS)[0]
        if plan.status == "new":
            count //= 2
        span = (plan.end - plan.created).total_seconds()
        times = sorted(plan.created + timedelta(seconds=rng.random() * span) for _ in range(count))
        enrolled: set[uuid.UUID] = set()
        for when in times:
            roll = rng.random()
            if roll < 0.2:
                author, visibility, body = self.staff_author(plan), "internal", INTERNAL_NOTES
            elif roll < 0.6:
                author, visibility, body = plan.requester, "public", REQUESTER_REPLIES
            else:
                author, visibility, body = self.staff_author(plan), "public", PUBLIC_STAFF
            text = rng.choice(body).format(
                s=plan.subject, symptom=rng.choice(SYMPTOMS), code=_code(rng)
            )
            rows.comments.append(
                _line((str(_uuid(rng)), tid, ticket_id, str(author), visibility, text, _ts(when)))
            )
            if author not in (plan.requester, plan.assignee) and author not in enrolled:
                enrolled.add(author)
                rows.participants.append(
                    _line((tid, ticket_id, str(author), str(author), _ts(when)))
                )

    def rows(self) -> Rows:
        rows = Rows()
        for created in self.created_times():
            plan = self.ticket(created, rows)
            payload = json.dumps({"number": plan.number})
            rows.events.append(
                _line(
                    (
                        self.tid,
                        str(plan.id),
                        "created",
                        str(plan.requester),
                        "public",
                        payload,
                        _ts(created),
                    )
                )
            )
            self.conversation(plan, rows)
        return rows


# --------------------------------------------------------------------------- seeding

TICKET_COLUMNS = (
    "id, tenant_id, number, title, description, status, priority, impact, urgency,"
    " category_id, requester_id, assignee_id, team_id, tags, version, created_at,"
    " updated_at, first_response_at, resolved_at, closed_at"
)
# Row key in Rows -> (table, columns COPY fills).
LOADS = {
    "tickets": ("tickets", TICKET_COLUMNS),
    "comments": (
        "ticket_comments",
        "id, tenant_id, ticket_id, author_id, visibility, body, created_at",
    ),
    "participants": ("ticket_participants", "tenant_id, ticket_id, user_id, added_by, created_at"),
    "events": (
        "ticket_events",
        "tenant_id, ticket_id, type, actor_id, visibility, payload, created_at",
    ),
}
LOADED_TABLES = ("tickets", "ticket_comments", "ticket_participants", "ticket_events")
VACUUMED = (
    "tenants",
    "users",
    "memberships",
    "teams",
    "team_members",
    "categories",
    "ticket_counters",
    *LOADED_TABLES,
)
Conn = psycopg.Connection[tuple[Any, ...]]


def libpq(url: Any) -> str:
    rendered: str = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return rendered


def copy_lines(conn: Conn, statement: str, lines: list[str], chunk: int = 20_000) -> None:
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for start in range(0, len(lines), chunk):
            copy.write("".join(lines[start : start + chunk]))


def load(conn: Conn, table: str, columns: str, lines: list[str]) -> None:
    """COPY into a temporary twin, then INSERT ... SELECT into the real table.

    PostgreSQL refuses COPY FROM into a table whose row-level security applies to the
    caller, and FORCE makes it apply to the owner too; an INSERT passes the owner's
    ``owner_maintenance`` policy.
    """
    stage = f"stage_{table}"
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {columns} FROM {table} WITH NO DATA"
    )
    copy_lines(conn, f"COPY {stage} ({columns}) FROM STDIN", lines)
    conn.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage}")
    conn.execute(f"TRUNCATE {stage}")


def seed_people(conn: Conn, tenants: list[TenantSeed]) -> None:
    from servicedesk.identity.passwords import hash_password

    password_hash = hash_password(PASSWORD)  # once: argon2 costs ~100 ms a hash
    tenant_rows: list[str] = []
    users: list[str] = []
    memberships: list[str] = []
    teams: list[str] = []
    members: list[str] = []
    categories: list[str] = []
    for t in tenants:
        tid = str(t.id)
        tenant_rows.append(_line((tid, t.slug, f"Bench tenant {t.index:03d}")))
        for user_id, address, role in t.users:
            name = address.split("@")[0].replace(role, f"{role.title()} ")
            users.append(_line((str(user_id), address, name, password_hash)))
            memberships.append(_line((tid, str(user_id), role)))
        for (name, strategy), team_id, team_members in zip(TEAMS, t.teams, t.members, strict=True):
            description = f"{name} queue"
            teams.append(_line((str(team_id), tid, name, description, strategy)))
            members.extend(_line((tid, str(team_id), str(m))) for m in team_members)
        for (name, team, _, _), category_id in zip(CATEGORIES, t.categories, strict=True):
            default = None if team is None else str(t.teams[team])
            categories.append(_line((str(category_id), tid, name, f"{name} requests", default)))
    load(conn, "tenants", "id, slug, name", tenant_rows)
    load(conn, "users", "id, email, name, password_hash", users)
    load(conn, "memberships", "tenant_id, user_id, role", memberships)
    load(conn, "teams", "id, tenant_id, name, description, assignment_strategy", teams)
    load(conn, "team_members", "tenant_id, team_id, user_id", members)
    load(conn, "categories", "id, tenant_id, name, description, default_team_id", categories)


def drop_secondary_indexes(conn: Conn) -> list[str]:
    """Drop the loaded tables' indexes that back no constraint; return their definitions."""
    rows = conn.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
           FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
           WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(%s)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
           ORDER BY 1""",
        (list(LOADED_TABLES),),
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


def seed_tickets(conn: Conn, tenants: list[TenantSeed], now: datetime) -> dict[str, int]:
    totals = dict.fromkeys(LOADS, 0)
    counters: list[str] = []
    for t in tenants:
        rows = TicketFactory(t, random.Random(SEED * 1000 + t.index), now).rows()
        for key, (table, columns) in LOADS.items():
            lines: list[str] = getattr(rows, key)
            load(conn, table, columns, lines)
            totals[key] += len(lines)
        counters.extend(_line((str(t.id), str(y), str(v))) for y, v in rows.counters.items())
        if t.index % 10 == 9 or t.index == 0:
            print(f"  … {t.slug}: {sum(totals.values()):,} rows so far", flush=True)
    load(conn, "ticket_counters", "tenant_id, year, last_value", counters)
    return totals


def seeded(db: Database) -> tuple[int, int]:
    with psycopg.connect(libpq(db.owner_url)) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM tenants WHERE slug LIKE 'bench-%%'),"
            " (SELECT count(*) FROM tickets)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def seed(db: Database) -> float:
    """Load the dataset in one transaction; return the seconds it took."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    tenants = build_tenants(random.Random(SEED))
    with psycopg.connect(libpq(db.owner_url)) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET temp_buffers = '1GB'")  # the staging tables stay in memory
        print("• seeding: tenants, users, teams, categories …", flush=True)
        seed_people(conn, tenants)
        definitions = drop_secondary_indexes(conn)
        print("• seeding: tickets, comments, participants, events (COPY) …", flush=True)
        totals = seed_tickets(conn, tenants, now)
        loaded = time.perf_counter()
        print(f"• rebuilding {len(definitions)} indexes …", flush=True)
        for definition in definitions:
            conn.execute(definition)
        indexed = time.perf_counter()
        print(f"  load {loaded - started:.0f} s, indexes {indexed - loaded:.0f} s", flush=True)
    print("• VACUUM (ANALYZE) …", flush=True)
    with psycopg.connect(libpq(db.owner_url), autocommit=True) as conn:
        for table in VACUUMED:
            conn.execute(f"VACUUM (ANALYZE) {table}")
    elapsed = time.perf_counter() - started
    print(
        "  rows: "
        + ", ".join(f"{key} {count:,}" for key, count in totals.items())
        + f"; seeding took {elapsed:.0f} s",
        flush=True,
    )
    return elapsed


def schema_head(code: Path) -> str:
    """The newest migration of a checkout (the schema its code expects)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(code / "migrations")).get_current_head()
    assert head is not None
    return head


def match_schema(db: Database, code: Path) -> None:
    """Bring the schema to what ``code`` expects: migrate up to this checkout's head, or,
    for an older checkout, down to its head (with this checkout's downgrades; the data
    stays). The next run of this checkout's code migrates it back up."""
    from alembic import command
    from alembic.config import Config

    from local import db as localdb

    localdb.migrate(db)
    wanted = schema_head(code)
    if wanted == schema_head(ROOT):
        return
    print(f"• schema: downgrading to {wanted}, the head of {code}", flush=True)
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = db.owner_url.render_as_string(hide_password=False)
    command.downgrade(config, wanted)


def prepare_database(reseed: bool, code: Path = ROOT) -> tuple[Database, Any]:
    """Start (or join) the server, create and migrate the database, seed it if needed."""
    from local import db as localdb

    server = None
    if not os.environ.get("DATABASE_URL"):
        server = localdb.embedded_server(DATA_DIR)
    admin = localdb.admin_url(DATA_DIR)
    if reseed:
        print(f"• --reseed: dropping {DB_NAME}", flush=True)
        localdb.drop_database(admin, DB_NAME)
    db = localdb.ensure_database(admin, DB_NAME)
    localdb.migrate(db)
    tenants, tickets = seeded(db)
    if tenants == TENANTS and tickets >= TOTAL_TICKETS:
        print(f"• dataset present ({tickets:,} tickets); not seeding (--reseed to redo)")
        match_schema(db, code)
        return db, server
    if tenants or tickets:
        print(f"• incomplete dataset ({tenants} tenants, {tickets:,} tickets): recreating")
        localdb.drop_database(admin, DB_NAME)
        db = localdb.ensure_database(admin, DB_NAME)
        localdb.migrate(db)
    seed(db)
    return db, server


# --------------------------------------------------------------------------- the API


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# uvicorn --workers N binds its listening socket as socket.socket(AF_INET): proto 0. asyncio
# turns Nagle off only for sockets whose proto is IPPROTO_TCP, so the workers' connections
# keep Nagle on, and every keep-alive response uvicorn writes in two parts (head, body)
# waits for the client's delayed ACK: +40 ms a request on Linux. A single-worker uvicorn
# (make dev) or any real front end does not have this. Without --keep-nagle the API
# processes import this as sitecustomize (from a temporary directory on their PYTHONPATH).
NODELAY_SITECUSTOMIZE = """
import asyncio.base_events
import socket


def _set_nodelay(sock):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


asyncio.base_events._set_nodelay = _set_nodelay
"""


def api_env(
    db: Database,
    pool_size: int,
    site_dir: Path | None,
    code: Path = ROOT,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    key = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEDESK_")}
    env.update(
        {
            "SERVICEDESK_ENVIRONMENT": "dev",
            "SERVICEDESK_DATABASE_URL": db.app_url.render_as_string(hide_password=False),
            "SERVICEDESK_JWT_PRIVATE_KEY": key,  # one key for every worker
            "SERVICEDESK_LOG_LEVEL": "WARNING",
            "SERVICEDESK_DB_POOL_SIZE": str(pool_size),
            "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "us-east-1"),
        }
    )
    env.update(extra or {})
    paths = [str(code / "layers" / "core" / "python"), env.get("PYTHONPATH")]
    if site_dir is not None:
        (site_dir / "sitecustomize.py").write_text(NODELAY_SITECUSTOMIZE)
        paths.insert(0, str(site_dir))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    return env


def served_code(code: Path, env: dict[str, str]) -> str:
    """Where the API processes will import ``servicedesk`` from (same cwd and environment)."""
    probe = "import servicedesk, local.asgi; print(servicedesk.__file__)"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        check=False,
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() or result.stderr.strip()


def start_api(
    db: Database,
    port: int,
    workers: int,
    pool_size: int,
    site_dir: Path | None,
    code: Path = ROOT,
    extra: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    from local.serve import uvicorn_command

    command = uvicorn_command(port, workers=workers, quiet=True)
    env = api_env(db, pool_size, site_dir, code, extra)
    print(f"• the API serves {served_code(code, env)}", flush=True)
    process = subprocess.Popen(command, cwd=code, env=env)
    deadline = time.monotonic() + 90
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {process.returncode}")
            try:
                if client.get("/v1/health/ready").status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            time.sleep(0.25)
    stop_api(process)
    raise RuntimeError("the API did not become ready in 90 s")


def stop_api(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def login(client: httpx.Client, address: str) -> str:
    response = client.post("/v1/auth/login", json={"email": address, "password": PASSWORD})
    if response.status_code != 200:
        raise RuntimeError(f"login {address}: {response.status_code} {response.text}")
    token: str = response.json()["access_token"]
    return token


# --------------------------------------------------------------------------- CPU accounting

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(c) for c in children)
    return pids


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine (all cores) since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS


@dataclass
class CpuSnapshot:
    wall: float
    client: float
    api: dict[int, float]
    db: dict[int, float]
    machine: float


@dataclass
class CpuMeter:
    """Where the CPU goes during a phase: this client, the API tree, PostgreSQL, the rest."""

    api_pid: int
    db_pid: int | None
    enabled: bool = field(default_factory=lambda: Path("/proc/stat").exists())

    def snapshot(self) -> CpuSnapshot | None:
        if not self.enabled:
            return None
        db = {p: _process_cpu(p) for p in _tree(self.db_pid)} if self.db_pid else {}
        return CpuSnapshot(
            wall=time.perf_counter(),
            client=time.process_time(),
            api={p: _process_cpu(p) for p in _tree(self.api_pid)},
            db=db,
            machine=_machine_busy(),
        )

    @staticmethod
    def cores(before: CpuSnapshot | None, after: CpuSnapshot | None) -> dict[str, float] | None:
        if before is None or after is None:
            return None
        wall = after.wall - before.wall

        def tree(a: dict[int, float], b: dict[int, float]) -> float:
            return sum(v - a.get(p, 0.0) for p, v in b.items())

        client = after.client - before.client
        api = tree(before.api, after.api)
        db = tree(before.db, after.db)
        other = max(0.0, after.machine - before.machine - client - api - db)
        return {"client": client / wall, "api": api / wall, "db": db / wall, "other": other / wall}


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    token: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Target:
    kind: Literal["p95", "rps"]
    value: float

    def __str__(self) -> str:
        return f"p95 <= {self.value:.0f} ms" if self.kind == "p95" else f">= {self.value:.0f} req/s"


@dataclass
class Operation:
    key: str
    name: str
    make: Callable[[int, random.Random], Call]  # (worker index, rng) -> the request
    expect: int = 200
    target: Target | None = None
    writes: bool = False


@dataclass
class Result:
    operation: Operation
    latencies: list[float]
    seconds: float
    errors: list[str]
    cpu: dict[str, float] | None

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return math.nan
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    def met(self) -> str:
        target = self.operation.target
        if target is None:
            return "-"
        value = self.percentile(0.95) if target.kind == "p95" else self.rps
        ok = value <= target.value if target.kind == "p95" else value >= target.value
        return f"{target}: {'yes' if ok else '**no**'}"


class Budget:
    """A shared request allowance for the writing operations."""

    def __init__(self, limit: int | None) -> None:
        self.left, self.lock = limit, threading.Lock()

    def take(self) -> bool:
        if self.left is None:
            return True
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def _worker(
    op: Operation, index: int, base_url: str, until: float, budget: Budget
) -> tuple[list[float], list[str]]:
    rng = random.Random(SEED + index * 7919 + hash(op.key) % 1000)
    latencies: list[float] = []
    errors: list[str] = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        while time.perf_counter() < until and budget.take():
            call = op.make(index, rng)
            headers = {"Authorization": f"Bearer {call.token}"}
            started = time.perf_counter()
            try:
                response = client.request(call.method, call.path, headers=headers, json=call.body)
            except httpx.HTTPError as exc:
                errors.append(f"{call.method} {call.path}: {exc!r}")
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != op.expect:
                errors.append(
                    f"{call.method} {call.path} -> {response.status_code} {response.text[:600]}"
                )
    return latencies, errors


def run(
    op: Operation,
    *,
    base_url: str,
    concurrency: int,
    seconds: float,
    limit: int | None,
    meter: CpuMeter | None,
) -> Result:
    budget = Budget(limit if op.writes else None)
    before = meter.snapshot() if meter else None
    started = time.perf_counter()
    until = started + seconds
    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(_worker, op, i, base_url, until, budget) for i in range(concurrency)]
        outcomes = [f.result() for f in futures]
    elapsed = time.perf_counter() - started
    after = meter.snapshot() if meter else None
    latencies = [ms for lat, _ in outcomes for ms in lat]
    errors = [e for _, errs in outcomes for e in errs]
    return Result(op, latencies, elapsed, errors, CpuMeter.cores(before, after))


@dataclass
class Fixture:
    """Who calls, and which tickets exist for them (sampled from the database)."""

    manager: str
    agent: str
    requester: str
    tenant_requesters: list[str]
    categories: list[str]
    manager_ids: list[str]
    agent_ids: list[str]
    writer_agent: str
    writer_requester: str
    writer_active_ids: list[str]
    requester_ids: list[str]
    numbers: list[str]
    requester_tickets: int
    deep_cursor: str | None = None
    deep_pages: int = 0


def sample_fixture(db: Database) -> dict[str, Any]:
    """Ids, numbers and the bench users' identities, read as the owner."""
    agent, requester = email(*READER_AGENT, BIG), email(*READER_REQUESTER, BIG)
    writer = email(*WRITER_AGENT, BIG)
    with psycopg.connect(libpq(db.owner_url)) as conn:

        def column(query: str, *params: Any) -> list[str]:
            return [str(r[0]) for r in conn.execute(query, params).fetchall()]

        tenant = column("SELECT id FROM tenants WHERE slug = %s", BIG)[0]
        agent_id = column("SELECT id FROM users WHERE email = %s", agent)[0]
        requester_id = column("SELECT id FROM users WHERE email = %s", requester)[0]
        writer_id = column("SELECT id FROM users WHERE email = %s", writer)[0]
        agent_visible = (
            "SELECT id FROM tickets t WHERE tenant_id = %s AND (team_id IS NULL OR team_id IN"
            " (SELECT team_id FROM team_members WHERE user_id = %s)"
            " OR assignee_id = %s)"
        )
        return {
            "agent": agent,
            "requester": requester,
            "writer_agent": writer,
            "writer_requester": email(*WRITER_REQUESTER, BIG),
            "categories": column(  # in CATEGORIES order, so the weights apply
                "SELECT c.id FROM categories c JOIN unnest(%s::text[]) WITH ORDINALITY"
                " AS n(name, i) ON n.name = c.name WHERE c.tenant_id = %s ORDER BY n.i",
                [c[0] for c in CATEGORIES],
                tenant,
            ),
            "manager_ids": column(
                "SELECT id FROM tickets WHERE tenant_id = %s ORDER BY random() LIMIT 3000", tenant
            ),
            "agent_ids": column(
                agent_visible + " ORDER BY random() LIMIT 3000", tenant, agent_id, agent_id
            ),
            "writer_active_ids": column(
                agent_visible + " AND status = ANY(%s) ORDER BY random() LIMIT 3000",
                tenant,
                writer_id,
                writer_id,
                list(ACTIVE),
            ),
            "requester_ids": column(
                "SELECT id FROM tickets WHERE tenant_id = %s AND requester_id = %s"
                " ORDER BY random() LIMIT 3000",
                tenant,
                requester_id,
            ),
            "requester_tickets": int(
                column(
                    "SELECT count(*) FROM tickets WHERE tenant_id = %s AND requester_id = %s",
                    tenant,
                    requester_id,
                )[0]
            ),
            "numbers": column(
                "SELECT number FROM tickets WHERE tenant_id = %s ORDER BY random() LIMIT 3000",
                tenant,
            ),
        }


def deep_cursor(client: httpx.Client, token: str, query: str, pages: int) -> tuple[str | None, int]:
    """Follow next_cursor ``pages - 1`` times; the cursor of page ``pages`` (or the last)."""
    headers = {"Authorization": f"Bearer {token}"}
    cursor: str | None = None
    depth = 1
    for _ in range(pages - 1):
        suffix = f"&cursor={cursor}" if cursor else ""
        response = client.get(f"/v1/tickets?{query}{suffix}", headers=headers)
        response.raise_for_status()
        nxt = response.json()["next_cursor"]
        if nxt is None:
            break
        cursor, depth = nxt, depth + 1
    return cursor, depth


def ticket_body(rng: random.Random, categories: list[str]) -> dict[str, Any]:
    category = rng.choices(range(len(CATEGORIES)), CATEGORY_WEIGHTS)[0]
    subject = rng.choice(CATEGORIES[category][3])
    return {
        "title": title_for(rng, subject),
        "description": description_for(rng, subject),
        "category_id": categories[category],
        "impact": rng.choice(LEVELS),
        "urgency": rng.choice(LEVELS),
        "tags": [rng.choice(("incident", "request")), rng.choice(TAGS[2:])],
    }


DEEP_QUERY = "limit=25&status=open&priority=high"
LIST_P95 = Target("p95", 20)
SEARCH_P95 = Target("p95", 100)
CREATE_RPS = Target("rps", 500)


def operations(fx: Fixture) -> list[Operation]:
    def get(token: str, ids: list[str]) -> Callable[[int, random.Random], Call]:
        return lambda _, rng: Call("GET", f"/v1/tickets/{rng.choice(ids)}", token)

    def listing(token: str) -> Callable[[int, random.Random], Call]:
        return lambda _, __: Call("GET", "/v1/tickets?limit=25", token)

    deep = f"/v1/tickets?{DEEP_QUERY}" + (f"&cursor={fx.deep_cursor}" if fx.deep_cursor else "")
    cats = fx.categories
    words = [w.replace(" ", "+") for w in SEARCH_WORDS]
    return [
        Operation("list", "list page 1 (manager)", listing(fx.manager), target=LIST_P95),
        Operation("list-agent", "list page 1 (agent)", listing(fx.agent), target=LIST_P95),
        Operation(
            "list-requester", "list page 1 (requester)", listing(fx.requester), target=LIST_P95
        ),
        Operation(
            "deep",
            f"page {fx.deep_pages}, status=open&priority=high (manager)",
            lambda _, __: Call("GET", deep, fx.manager),
            target=LIST_P95,
        ),
        Operation("get", "get (manager)", get(fx.manager, fx.manager_ids), target=LIST_P95),
        Operation("get-agent", "get (agent)", get(fx.agent, fx.agent_ids), target=LIST_P95),
        Operation(
            "get-requester",
            "get (requester, own)",
            get(fx.requester, fx.requester_ids),
            target=LIST_P95,
        ),
        Operation(
            "search",
            "search words (manager)",
            lambda _, rng: Call("GET", f"/v1/tickets?limit=25&q={rng.choice(words)}", fx.manager),
            target=SEARCH_P95,
        ),
        Operation(
            "search-number",
            "search a number (manager)",
            lambda _, rng: Call(
                "GET", f"/v1/tickets?limit=25&q={rng.choice(fx.numbers)}", fx.manager
            ),
            target=SEARCH_P95,
        ),
        Operation(
            "create",
            "create (requester, one tenant)",
            lambda _, rng: Call("POST", "/v1/tickets", fx.writer_requester, ticket_body(rng, cats)),
            expect=201,
            target=CREATE_RPS,
            writes=True,
        ),
        Operation(
            "create-tenants",
            "create (8 requesters, 8 small tenants)",
            lambda i, rng: Call(
                "POST",
                "/v1/tickets",
                fx.tenant_requesters[i % len(fx.tenant_requesters)],
                {k: v for k, v in ticket_body(rng, cats).items() if k != "category_id"},
            ),
            expect=201,
            target=CREATE_RPS,
            writes=True,
        ),
        Operation(
            "comment",
            "comment, 20% internal (agent)",
            lambda _, rng: Call(
                "POST",
                f"/v1/tickets/{rng.choice(fx.writer_active_ids)}/comments",
                fx.writer_agent,
                {
                    "body": rng.choice(PUBLIC_STAFF).format(s="laptop"),
                    "visibility": "internal" if rng.random() < 0.2 else "public",
                },
            ),
            expect=201,
            writes=True,
        ),
    ]


def table(results: list[Result]) -> str:
    lines = [
        "| operation | requests | req/s | p50 ms | p95 ms | p99 ms | errors | target met "
        "| CPU cores: client / API / PostgreSQL / other | CPU ms per request: API / PostgreSQL |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in results:
        cpu = (
            " / ".join(f"{r.cpu[k]:.2f}" for k in ("client", "api", "db", "other"))
            if r.cpu
            else "n/a"
        )
        # CPU per request is what a busy machine disturbs least: compare code by it.
        per = (
            f"{1000 * r.cpu['api'] / r.rps:.2f} / {1000 * r.cpu['db'] / r.rps:.2f}"
            if r.cpu and r.rps
            else "n/a"
        )
        lines.append(
            f"| {r.operation.name} | {len(r.latencies)} | {r.rps:.0f} "
            f"| {r.percentile(0.5):.1f} | {r.percentile(0.95):.1f} | {r.percentile(0.99):.1f} "
            f"| {len(r.errors)} | {r.met()} | {cpu} | {per} |"
        )
    return "\n".join(lines)


def fixture(db: Database, base_url: str) -> Fixture:
    sampled = sample_fixture(db)
    with httpx.Client(base_url=base_url, timeout=60) as client:
        manager = login(client, email("manager", 1, BIG))
        fx = Fixture(
            manager=manager,
            agent=login(client, sampled.pop("agent")),
            requester=login(client, sampled.pop("requester")),
            writer_agent=login(client, sampled.pop("writer_agent")),
            writer_requester=login(client, sampled.pop("writer_requester")),
            tenant_requesters=[
                login(client, email("requester", 1, f"bench-{i:03d}")) for i in range(1, 9)
            ],
            **sampled,
        )
        fx.deep_cursor, fx.deep_pages = deep_cursor(client, manager, DEEP_QUERY, 40)
    return fx


def measure(db: Database, server: Any, args: argparse.Namespace) -> list[Result]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    print(f"• starting the API on {base_url} ({args.workers} uvicorn workers) …", flush=True)
    site = tempfile.TemporaryDirectory(prefix="bench-api-")
    site_dir = None if args.keep_nagle else Path(site.name)
    extra = dict(item.split("=", 1) for item in args.api_env)
    api = start_api(db, port, args.workers, args.pool_size, site_dir, args.code.resolve(), extra)
    try:
        fx = fixture(db, base_url)
        print(
            f"• requester {email(*READER_REQUESTER, BIG)} owns {fx.requester_tickets} tickets;"
            f" deep page reached: {fx.deep_pages}",
            flush=True,
        )
        db_pid = int(server.get_pid()) if server is not None else None
        meter = CpuMeter(api.pid, db_pid)
        chosen = [o for o in operations(fx) if not args.only or o.key in args.only]
        results = []
        for op in chosen:
            kwargs: dict[str, Any] = {
                "base_url": base_url,
                "concurrency": args.concurrency,
                "limit": args.max_writes,
            }
            run(op, seconds=args.warmup, meter=None, **{**kwargs, "limit": 50})
            result = run(op, seconds=args.seconds, meter=meter, **kwargs)
            print(
                f"  {op.name}: {len(result.latencies)} requests, {result.rps:.0f} req/s,"
                f" p95 {result.percentile(0.95):.1f} ms, {len(result.errors)} errors",
                flush=True,
            )
            results.append(result)
        return results
    finally:
        stop_api(api)
        site.cleanup()


def describe_machine() -> str:
    cpu = "unknown CPU"
    info = Path("/proc/cpuinfo")
    if info.exists():
        for row in info.read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {sys.version.split()[0]},"
        f" load average {load:.2f} at start"
    )


def commit_of(code: Path) -> str:
    result = subprocess.run(
        ["git", "-C", str(code), "rev-parse", "--short", "HEAD"],
        check=False,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() or "?"


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed again")
    parser.add_argument("--seed-only", action="store_true", help="seed (if needed) and stop")
    parser.add_argument("--seconds", type=float, default=15, help="timed run per operation")
    parser.add_argument("--warmup", type=float, default=2, help="discarded run per operation")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--pool-size", type=int, default=8, help="SERVICEDESK_DB_POOL_SIZE")
    parser.add_argument(
        "--max-writes", type=int, default=5000, help="cap on requests per writing operation"
    )
    parser.add_argument(
        "--code",
        type=Path,
        default=ROOT,
        help="a checkout whose local/ and servicedesk the API runs (a worktree of an older"
        " commit, for before/after ratios on the same data); this one by default",
    )
    parser.add_argument(
        "--api-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra setting for the API processes, e.g. SERVICEDESK_DB_POOL_PRE_PING=false",
    )
    parser.add_argument(
        "--keep-nagle",
        action="store_true",
        help="leave Nagle on in the uvicorn workers (adds ~40 ms a keep-alive request)",
    )
    parser.add_argument(
        "--only",
        type=lambda v: {k.strip() for k in v.split(",") if k.strip()},
        default=set(),
        help="comma-separated operation keys (list, list-agent, list-requester, deep, get,"
        " get-agent, get-requester, search, search-number, create, create-tenants, comment)",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _terminated)  # run the finally blocks: stop what we started
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # for `local`, as `python -m` from the root would

    print(f"Tickets benchmark: {describe_machine()}", flush=True)
    db, server = prepare_database(args.reseed, args.code.resolve())
    try:
        if args.seed_only:
            return 0
        with psycopg.connect(libpq(db.owner_url)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        print(f"• PostgreSQL {row[0] if row else '?'}", flush=True)
        results = measure(db, server, args)
    finally:
        if server is not None:
            server.cleanup()
    print(
        f"\nTickets API, concurrency {args.concurrency}, {args.seconds:.0f} s per operation"
        f" after {args.warmup:.0f} s warm-up, {args.workers} uvicorn workers,"
        f" pool {args.pool_size}, code {commit_of(args.code)}"
    )
    print(table(results))
    failed = [r for r in results if r.errors]
    for r in failed:
        print(f"\n{r.operation.name}: {len(r.errors)} errors, e.g.:")
        for sample in list(dict.fromkeys(r.errors))[:5]:
            print(f"  {sample}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
