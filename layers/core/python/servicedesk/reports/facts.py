"""Per-ticket facts, recomputed from source (docs/reports.md, "Definitions").

``refresh(session, tenant_id, ticket_ids)`` reads the tickets, their status and assignment
history, their public staff replies, their SLA pauses and calendar, and rewrites each
ticket's ``report_ticket_facts`` row and its ``report_events``. It computes from source
every time, never from the previous facts, so applying it twice, or for events delivered in
any order, gives the same rows: the consumer and the rebuild share it.

Runs in the caller's tenant transaction (RLS); the fact rows are locked (``FOR UPDATE``) in
ticket-id order before they are rewritten, so two consumers refreshing one ticket serialise.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.reports import cache
from servicedesk.sla import calendars
from servicedesk.sla.business_time import (
    BusinessCalendar,
    business_seconds_between_excluding,
)
from servicedesk.sla.models import Calendar
from servicedesk.tickets.states import ACTIVE_STATUSES, FINISHED_STATUSES, RESOLVED_STATUSES

STAFF_ROLES = ("agent", "manager", "admin")
ACTIVE = frozenset(s.value for s in ACTIVE_STATUSES)
FINISHED = frozenset(s.value for s in FINISHED_STATUSES)
RESOLVED = frozenset(s.value for s in RESOLVED_STATUSES)

Pause = tuple[datetime, datetime | None]

SLA_TARGETS = ("first_response", "next_response", "resolution")
# A met SLA target: on time, or late (breached before it was met), per target.
SLA_KINDS = tuple(f"sla_{o}_{t}" for t in SLA_TARGETS for o in ("on_time", "late"))
# CSAT: a survey sent; an answer by its rating on the 1-5 scale, or good/bad (stored 5/1).
CSAT_ANSWER_KINDS = (*(f"csat_{r}" for r in range(1, 6)), "csat_good", "csat_bad")
CSAT_KINDS = ("csat_sent", *CSAT_ANSWER_KINDS)
# The answers that count as satisfied in a CSAT score: 4-5, or good.
CSAT_GOOD_KINDS = ("csat_4", "csat_5", "csat_good")
# The kinds counted in report_rollup_hourly, and its dimensions (column of report_events).
# ``resolved_last`` is a resolved ticket's last resolution (one per ticket, at the facts'
# ``resolved_at``); ``one_touch`` is the same moment when the ticket had exactly one public
# reply and no reopening (the one-touch report).
ROLLUP_KINDS = (
    "created",
    "resolved",
    "reopened",
    "backlog_in",
    "backlog_out",
    "resolved_last",
    "one_touch",
    *SLA_KINDS,
    *CSAT_KINDS,
)
ROLLUP_DIMS = {
    "team": "team_id",
    "agent": "assignee_id",
    "category": "category_id",
    "priority": "priority",
    "channel": "channel",
    "type": "type",
}
# The SLA kinds are also counted by the target's policy (sla-compliance's group_by=policy).
POLICY_DIM = ("policy", "policy_id")
RollupKey = tuple[str, str, datetime, str]  # dim, kind, hour, value


@dataclass
class History:
    """What the facts of one ticket are computed from."""

    statuses: list[tuple[datetime, str, str]] = field(default_factory=list)  # at, from, to
    assignments: list[tuple[datetime, uuid.UUID | None, uuid.UUID | None]] = field(
        default_factory=list
    )
    replies: list[tuple[datetime, uuid.UUID]] = field(default_factory=list)  # at, author
    pauses: list[Pause] = field(default_factory=list)
    calendar_id: uuid.UUID | None = None
    # Met SLA targets: met at, target, late (breached before met), policy.
    sla: list[tuple[datetime, str, bool, uuid.UUID | None]] = field(default_factory=list)
    # CSAT surveys: sent at, answered at, rating, scale.
    surveys: list[tuple[datetime | None, datetime | None, int | None, str]] = field(
        default_factory=list
    )


def _histories(
    session: Session, tenant_id: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, History]:
    out: dict[uuid.UUID, History] = defaultdict(History)
    params = {"t": tenant_id, "ids": ids}
    for r in session.execute(
        text(
            "SELECT ticket_id, created_at, type, payload FROM ticket_events"
            " WHERE tenant_id = :t AND ticket_id = ANY(:ids)"
            " AND type IN ('status_changed', 'reopened', 'assigned') ORDER BY created_at, id"
        ),
        params,
    ):
        payload: dict[str, Any] = r.payload or {}
        if r.type == "assigned":
            if "to" in payload:
                # A change (tickets/service.assign): {"from": {"assignee_id", "team_id"},
                # "to": {...}}.
                before, after = _assignee(payload.get("from")), _assignee(payload.get("to"))
            else:
                # The creation with an assignee (tickets/service._new_ticket_rows):
                # {"assignee_id", "team_id"}, from nobody.
                before, after = None, _assignee(payload)
            out[r.ticket_id].assignments.append((r.created_at, before, after))
        else:
            out[r.ticket_id].statuses.append(
                (r.created_at, str(payload.get("from")), str(payload.get("to")))
            )
    # Public replies: public, not deleted, by a staff member (current role) who is not the
    # ticket's requester.
    for r in session.execute(
        text(
            "SELECT c.ticket_id, c.created_at, c.author_id FROM ticket_comments c"
            " JOIN tickets t ON t.tenant_id = c.tenant_id AND t.id = c.ticket_id"
            " JOIN memberships m ON m.tenant_id = c.tenant_id AND m.user_id = c.author_id"
            " WHERE c.tenant_id = :t AND c.ticket_id = ANY(:ids) AND c.visibility = 'public'"
            " AND c.deleted_at IS NULL AND c.author_id <> t.requester_id"
            " AND m.role IN ('agent', 'manager', 'admin') ORDER BY c.created_at, c.id"
        ),
        params,
    ):
        out[r.ticket_id].replies.append((r.created_at, r.author_id))
    for r in session.execute(
        text(
            "SELECT ticket_id, started_at, ended_at FROM ticket_sla_pauses"
            " WHERE tenant_id = :t AND ticket_id = ANY(:ids)"
        ),
        params,
    ):
        out[r.ticket_id].pauses.append((r.started_at, r.ended_at))
    # The calendar of the SLA policy on the ticket's targets (the latest cycle's).
    for r in session.execute(
        text(
            "SELECT DISTINCT ON (s.ticket_id) s.ticket_id, p.calendar_id"
            " FROM ticket_sla_targets s JOIN sla_policies p"
            " ON p.tenant_id = s.tenant_id AND p.id = s.policy_id"
            " WHERE s.tenant_id = :t AND s.ticket_id = ANY(:ids)"
            " ORDER BY s.ticket_id, s.cycle DESC, s.target"
        ),
        params,
    ):
        out[r.ticket_id].calendar_id = r.calendar_id
    for r in session.execute(
        text(
            "SELECT ticket_id, met_at, target, breached_at IS NOT NULL AS late, policy_id"
            " FROM ticket_sla_targets WHERE tenant_id = :t AND ticket_id = ANY(:ids)"
            " AND met_at IS NOT NULL ORDER BY met_at, target"
        ),
        params,
    ):
        out[r.ticket_id].sla.append((r.met_at, r.target, bool(r.late), r.policy_id))
    for r in session.execute(
        text(
            "SELECT ticket_id, sent_at, answered_at, rating, scale FROM csat_surveys"
            " WHERE tenant_id = :t AND ticket_id = ANY(:ids)"
            " AND (sent_at IS NOT NULL OR answered_at IS NOT NULL) ORDER BY created_at, id"
        ),
        params,
    ):
        out[r.ticket_id].surveys.append((r.sent_at, r.answered_at, r.rating, r.scale))
    return out


def _assignee(side: object) -> uuid.UUID | None:
    value = side.get("assignee_id") if isinstance(side, dict) else None
    return uuid.UUID(str(value)) if value else None


class Calendars:
    """Business calendars by id, read once per refresh; none means 24x7."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[uuid.UUID | None, BusinessCalendar] = {}

    def get(self, calendar_id: uuid.UUID | None) -> BusinessCalendar:
        if calendar_id not in self._cache:
            stored = self.session.get(Calendar, calendar_id) if calendar_id else None
            self._cache[calendar_id] = calendars.to_business(stored)
        return self._cache[calendar_id]


def _assignee_at(
    moment: datetime,
    history: list[tuple[datetime, uuid.UUID | None, uuid.UUID | None]],
    current: uuid.UUID | None,
) -> uuid.UUID | None:
    """The assignee at ``moment`` from the ``assigned`` events: the last change at or before
    it, else the first change's "from"; no change recorded: the current assignee."""
    before = [to for at, _, to in history if at <= moment]
    if before:
        return before[-1]
    if history:
        return history[0][1]
    return current


# A countable moment: kind, at, agent (resolved: the assignee then; reply: its author),
# policy (an SLA kind: the target's policy).
Event = tuple[str, datetime, uuid.UUID | None, uuid.UUID | None]


@dataclass
class Facts:
    row: dict[str, Any]
    events: list[Event]


def compute(ticket: Any, history: History, calendar: BusinessCalendar) -> Facts:
    """The facts of one ticket (a ``tickets`` row) from its history."""
    merged = ticket.merged_into_id is not None
    # Created: every ticket, merged ones too (they count in "created" only).
    events: list[Event] = [("created", ticket.created_at, None, None)]
    resolutions: list[datetime] = []
    reopens = 0
    if not merged:
        # The ticket is created 'new': it enters the backlog then.
        events.append(("backlog_in", ticket.created_at, None, None))
        for at, before, after in history.statuses:
            if before in ACTIVE and after not in ACTIVE:
                events.append(("backlog_out", at, None, None))
            elif before not in ACTIVE and after in ACTIVE:
                events.append(("backlog_in", at, None, None))
            if before not in RESOLVED and after in RESOLVED:
                resolutions.append(at)
                agent = _assignee_at(at, history.assignments, ticket.assignee_id)
                events.append(("resolved", at, agent, None))
            if before in FINISHED and after in ACTIVE:
                reopens += 1
                events.append(("reopened", at, None, None))
        events.extend(("reply", at, author, None) for at, author in history.replies)
        events.extend(_sla_and_surveys(history))
    first_response_at = ticket.first_response_at
    resolved_at = resolutions[-1] if resolutions and ticket.status in RESOLVED else None
    if resolved_at is not None:
        events.append(("resolved_last", resolved_at, None, None))
        if len(history.replies) == 1 and reopens == 0:
            events.append(("one_touch", resolved_at, None, None))
    row = {
        "ticket_id": ticket.id,
        "team_id": ticket.team_id,
        "assignee_id": ticket.assignee_id,
        "category_id": ticket.category_id,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "type": ticket.type,
        "requester_id": ticket.requester_id,
        "status": ticket.status,
        "merged": merged,
        "created_at": ticket.created_at,
        "first_response_at": first_response_at,
        "first_response_business": _business(
            calendar, ticket.created_at, first_response_at, history
        ),
        "first_response_wall": _wall(ticket.created_at, first_response_at),
        "resolved_at": resolved_at,
        "resolution_business": _business(calendar, ticket.created_at, resolved_at, history),
        "resolution_wall": _wall(ticket.created_at, resolved_at),
        "public_replies": len(history.replies),
        "reopens": reopens,
    }
    return Facts(row=row, events=events)


def _sla_and_surveys(history: History) -> list[Event]:
    """The SLA targets met (sla-compliance) and the surveys sent and answered (csat,
    agent-performance's CSAT). Merged tickets have none: the reports leave them out."""
    events: list[Event] = []
    for met_at, target, late, policy in history.sla:
        events.append((f"sla_{'late' if late else 'on_time'}_{target}", met_at, None, policy))
    for sent_at, answered_at, rating, scale in history.surveys:
        if sent_at is not None:
            events.append(("csat_sent", sent_at, None, None))
        if answered_at is not None and rating is not None:
            events.append((_answer_kind(rating, scale), answered_at, None, None))
    return events


def _answer_kind(rating: int, scale: str) -> str:
    """A survey answer's kind: its rating on the 1-5 scale; good (stored 5) or bad (1)."""
    if scale == "good-bad":
        return "csat_good" if rating >= 4 else "csat_bad"
    return f"csat_{rating}"


def _business(
    calendar: BusinessCalendar, start: datetime, end: datetime | None, history: History
) -> int | None:
    if end is None:
        return None
    return business_seconds_between_excluding(calendar, start, end, history.pauses)


def _wall(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else max(0, int((end - start).total_seconds()))


COLUMNS = (
    "ticket_id, team_id, assignee_id, category_id, priority, channel, type, requester_id, status,"
    " merged, created_at, first_response_at, first_response_business, first_response_wall,"
    " resolved_at, resolution_business, resolution_wall, public_replies, reopens"
)
UPDATES = (
    ", ".join(f"{c.strip()} = EXCLUDED.{c.strip()}" for c in COLUMNS.split(",")[1:])
    + ", computed_at = now()"
)


def refresh(
    session: Session, tenant_id: uuid.UUID, ticket_ids: list[uuid.UUID], *, rollups: bool = True
) -> int:
    """Recompute the facts of these tickets (a deleted ticket's rows go with it by cascade).
    Answers how many tickets were written. ``rollups=False`` leaves the rollups alone: the
    rebuild recounts them from the events once at its end (``rebuild_rollup``), which waits
    for every refresh in flight, so the diffs would be work thrown away."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return 0
    params = {"t": tenant_id, "ids": ids}
    # Shared with other refreshes, exclusive for a rebuild of the tenant's rollups.
    session.execute(text("SELECT pg_advisory_xact_lock_shared(hashtext('reports:' || :t))"), params)
    # Lock the fact rows first (ticket-id order: no deadlock between two refreshes).
    session.execute(
        text(
            "SELECT 1 FROM report_ticket_facts WHERE tenant_id = :t AND ticket_id = ANY(:ids)"
            " ORDER BY ticket_id FOR UPDATE"
        ),
        params,
    )
    tickets = session.execute(
        text(
            "SELECT id, team_id, assignee_id, category_id, priority, channel, type, requester_id,"
            " status, merged_into_id, created_at, first_response_at FROM tickets"
            " WHERE tenant_id = :t AND id = ANY(:ids) ORDER BY id"
        ),
        params,
    ).all()
    histories = _histories(session, tenant_id, [t.id for t in tickets])
    cals = Calendars(session)
    facts = [compute(t, histories[t.id], cals.get(histories[t.id].calendar_id)) for t in tickets]
    cache.bump(session, tenant_id)
    if not facts:
        return 0
    session.execute(
        text(
            f"INSERT INTO report_ticket_facts (tenant_id, {COLUMNS})"
            f" VALUES (:tenant_id, {', '.join(':' + c.strip() for c in COLUMNS.split(','))})"
            f" ON CONFLICT (tenant_id, ticket_id) DO UPDATE SET {UPDATES}"
        ),
        [{"tenant_id": tenant_id, **f.row} for f in facts],
    )
    old: Counter[RollupKey] = _old_contributions(session, params) if rollups else Counter()
    session.execute(
        text("DELETE FROM report_events WHERE tenant_id = :t AND ticket_id = ANY(:ids)"), params
    )
    rows = [
        {
            "ticket": f.row["ticket_id"],
            "kind": kind,
            "at": at,
            "agent": agent,
            "team_id": f.row["team_id"],
            "assignee_id": f.row["assignee_id"],
            "category_id": f.row["category_id"],
            "priority": f.row["priority"],
            "channel": f.row["channel"],
            "type": f.row["type"],
            "frb": f.row["first_response_business"] if kind == "resolved" else None,
            "rb": f.row["resolution_business"] if kind == "resolved" else None,
            "policy_id": policy,
        }
        for f in facts
        for kind, at, agent, policy in f.events
    ]
    _link_repeats(rows)
    _insert_events(session, tenant_id, rows)
    if rollups:
        new: Counter[RollupKey] = Counter()
        for row in rows:
            if row["kind"] in ROLLUP_KINDS:
                hour = row["at"].astimezone(UTC).replace(minute=0, second=0, microsecond=0)
                _count_into(new, str(row["kind"]), hour, row)
        apply_rollup(session, tenant_id, {k: new[k] - old[k] for k in new.keys() | old.keys()})
    return len(facts)


def _link_repeats(rows: list[dict[str, Any]]) -> None:
    """``prev``: on a resolution event, the moment of the previous resolution of the same
    ticket by the same agent (None if none, or no agent). agent-performance counts each
    ticket once per agent in a range: the repeats in [start, end) are the resolution events
    in it whose ``prev`` is in it too (servicedesk.reports.agents)."""
    last: dict[tuple[Any, Any], datetime] = {}
    for row in rows:  # a ticket's events in the order of its history
        row["prev"] = None
        if row["kind"] == "resolved" and row["agent"] is not None:
            key = (row["ticket"], row["agent"])
            row["prev"] = last.get(key)
            last[key] = row["at"]


EVENT_COLUMNS = (
    ("ticket", "ticket_id", "uuid"),
    ("kind", "kind", "text"),
    ("at", "at", "timestamptz"),
    ("agent", "agent_id", "uuid"),
    ("team_id", "team_id", "uuid"),
    ("assignee_id", "assignee_id", "uuid"),
    ("category_id", "category_id", "uuid"),
    ("priority", "priority", "text"),
    ("channel", "channel", "text"),
    ("type", "type", "text"),
    ("frb", "first_response_business", "integer"),
    ("rb", "resolution_business", "integer"),
    ("prev", "prev_same_at", "timestamptz"),
    ("policy_id", "policy_id", "uuid"),
)


def _insert_events(session: Session, tenant_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
    """The events in one statement (one array per column, not one statement per row)."""
    if not rows:
        return
    names = ", ".join(column for _, column, _ in EVENT_COLUMNS)
    arrays = ", ".join(f"CAST(:{key} AS {kind}[])" for key, _, kind in EVENT_COLUMNS)
    session.execute(
        text(f"INSERT INTO report_events (tenant_id, {names}) SELECT :t, * FROM unnest({arrays})"),
        {"t": tenant_id, **{key: [r[key] for r in rows] for key, _, _ in EVENT_COLUMNS}},
    )


def _count_into(
    counter: Counter[RollupKey], kind: str, hour: datetime, dims: dict[str, Any], n: int = 1
) -> None:
    counter[("all", kind, hour, "")] += n
    for dim, column in ROLLUP_DIMS.items():
        value = dims[column]
        counter[(dim, kind, hour, "" if value is None else str(value))] += n
    if kind in SLA_KINDS:
        dim, column = POLICY_DIM
        value = dims[column]
        counter[(dim, kind, hour, "" if value is None else str(value))] += n


def _old_contributions(session: Session, params: dict[str, Any]) -> Counter[RollupKey]:
    old: Counter[RollupKey] = Counter()
    for r in session.execute(
        text(
            "SELECT kind, date_trunc('hour', at, 'UTC') AS hour, team_id, assignee_id,"
            " category_id, priority, channel, type, policy_id, count(*) AS n FROM report_events"
            " WHERE tenant_id = :t AND ticket_id = ANY(:ids) AND kind = ANY(:kinds)"
            " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9"
        ),
        {**params, "kinds": list(ROLLUP_KINDS)},
    ).mappings():
        _count_into(old, r["kind"], r["hour"], dict(r), int(r["n"]))
    return old


def apply_rollup(session: Session, tenant_id: uuid.UUID, diff: dict[RollupKey, int]) -> None:
    """Add ``diff`` to the hourly rollup in one statement, rows in key order (two
    refreshes lock shared rows in the same order: no deadlock)."""
    keys = sorted((k for k, n in diff.items() if n), key=lambda k: (k[0], k[1], k[2], k[3]))
    if not keys:
        return
    session.execute(
        text(
            "INSERT INTO report_rollup_hourly (tenant_id, dim, kind, hour, value, n)"
            " SELECT :t, d, k, h, v, n FROM unnest(CAST(:dims AS text[]),"
            " CAST(:kinds AS text[]), CAST(:hours AS timestamptz[]), CAST(:vals AS text[]),"
            " CAST(:ns AS integer[])) WITH ORDINALITY AS u(d, k, h, v, n, o) ORDER BY o"
            " ON CONFLICT (tenant_id, dim, kind, hour, value)"
            " DO UPDATE SET n = report_rollup_hourly.n + EXCLUDED.n"
        ),
        {
            "t": tenant_id,
            "dims": [k[0] for k in keys],
            "kinds": [k[1] for k in keys],
            "hours": [k[2] for k in keys],
            "vals": [k[3] for k in keys],
            "ns": [diff[k] for k in keys],
        },
    )


def rebuild_rollup(session: Session, tenant_id: uuid.UUID) -> None:
    """The tenant's hourly rollup recounted from its events (refreshes wait meanwhile), and
    its duration summaries deleted. An operator's command: no request statement timeout;
    one statement per dimension."""
    params = {"t": tenant_id, "kinds": list(ROLLUP_KINDS)}
    session.execute(text("SET LOCAL statement_timeout = 0"))
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('reports:' || :t))"), params)
    session.execute(text("DELETE FROM report_rollup_hourly WHERE tenant_id = :t"), params)
    # The duration and agent summaries too (built again lazily): a rebuild starts from a
    # clean slate, under their lock taken exclusive (builders take it shared; 0028, 0038).
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('report-summaries:' || :t))"),
        {"t": str(tenant_id)},
    )
    session.execute(text("DELETE FROM report_duration_summaries WHERE tenant_id = :t"), params)
    session.execute(text("DELETE FROM report_agent_summaries WHERE tenant_id = :t"), params)
    selects = [("all", "''", ROLLUP_KINDS)] + [
        (dim, f"coalesce({column}::text, '')", ROLLUP_KINDS) for dim, column in ROLLUP_DIMS.items()
    ]
    selects.append((POLICY_DIM[0], f"coalesce({POLICY_DIM[1]}::text, '')", SLA_KINDS))
    for dim, value, kinds in selects:
        session.execute(
            text(
                "INSERT INTO report_rollup_hourly (tenant_id, dim, kind, hour, value, n)"
                f" SELECT :t, '{dim}', kind, date_trunc('hour', at, 'UTC'), {value}, count(*)"
                " FROM report_events WHERE tenant_id = :t AND kind = ANY(:kinds)"
                " GROUP BY 3, 4, 5"
            ),
            {**params, "kinds": list(kinds)},
        )
