"""Ticket lists and search: filters, keyset pages, full-text search with ranking.

Every page orders by (sort key..., id) in one direction and continues strictly after the
last row's key, so concurrent inserts never shift a page or repeat a row.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Numeric,
    Select,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy import column as col_
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.types import DateTime, Integer, String

from servicedesk.platform.config import get_settings
from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.platform.pagination import (
    DECIMAL,
    INTEGER,
    TIMESTAMP,
    UUID,
    Key,
    Keyset,
    paginate,
)
from servicedesk.platform.rls import CURRENT_TENANT
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.sla.models import SlaTarget
from servicedesk.tickets import timeline
from servicedesk.tickets.models import (
    TICKET_SEARCH,
    Participant,
    Ticket,
    TicketEvent,
    TicketLink,
)
from servicedesk.tickets.service import get_visible, load_settings
from servicedesk.tickets.visibility import visible, visible_events

SORTS: dict[str, tuple[tuple[str, ...], bool]] = {
    "-created_at": (("created_at",), True),
    "created_at": (("created_at",), False),
    "-updated_at": (("updated_at",), True),
    "updated_at": (("updated_at",), False),
    "-priority": (("priority_rank", "created_at"), True),
    "priority": (("priority_rank", "created_at"), False),
    "sla_due": (("sla_due_at",), False),
}
EVENTS_IN_ORDER = Keyset([Key(TicketEvent.id, INTEGER)])
NUMBER = re.compile(r"^[A-Za-z]{2,8}-\d{4}-\d{1,9}$")
WORD = re.compile(r"[\w]+", re.UNICODE)


@dataclass
class TicketFilters:
    status: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    assignee: str | None = None  # uuid, "me" or "none"
    team_id: uuid.UUID | Literal["none"] | None = None
    requester_id: uuid.UUID | None = None
    category_id: uuid.UUID | Literal["none"] | None = None
    type: list[str] = field(default_factory=list)  # ticket type keys: any of them
    problem_id: uuid.UUID | None = None  # the incidents this problem links (problem_of)
    tag: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    q: str | None = None
    sla: list[str] = field(default_factory=list)  # breached | at_risk: any of them
    # The report drill-downs' filters (docs/reports.md, "Drill-down"). team_id and
    # category_id also take "none" (no team / no category).
    channel: list[str] = field(default_factory=list)
    merged: Literal["include", "exclude", "only"] = "include"
    reopened: bool | None = None  # reopened at least once (the facts' reopens > 0)
    one_touch: bool | None = None  # exactly one public reply and never reopened
    first_response_after: datetime | None = None  # the first public reply
    first_response_before: datetime | None = None
    resolved_after: datetime | None = None  # the last resolution of a ticket resolved now
    resolved_before: datetime | None = None
    resolution_after: datetime | None = None  # at least one resolution in the range
    resolution_before: datetime | None = None
    resolved_by: uuid.UUID | None = None  # ... while assigned to this agent
    reopen_after: datetime | None = None  # at least one reopen in the range
    reopen_before: datetime | None = None
    sla_met_after: datetime | None = None  # an SLA target met in the range
    sla_met_before: datetime | None = None
    sla_target: str | None = None  # ... of this kind
    sla_outcome: str | None = None  # ... on_time (never breached) or late
    sla_policy_id: uuid.UUID | None = None  # ... under this policy
    csat_sent_after: datetime | None = None  # a CSAT survey sent in the range
    csat_sent_before: datetime | None = None
    csat_answered_after: datetime | None = None  # a CSAT survey answered in the range
    csat_answered_before: datetime | None = None
    open_at: datetime | None = None  # in the backlog at this moment (the backlog report's)


# The report tables the drill-down filters read (RLS applies: the caller's tenant only).
FACTS = table(
    "report_ticket_facts",
    col_("tenant_id", PG_UUID(as_uuid=True)),
    col_("ticket_id", PG_UUID(as_uuid=True)),
    col_("first_response_at", DateTime(timezone=True)),
    col_("resolved_at", DateTime(timezone=True)),
    col_("public_replies", Integer),
    col_("reopens", Integer),
)
EVENTS = table(
    "report_events",
    col_("tenant_id", PG_UUID(as_uuid=True)),
    col_("ticket_id", PG_UUID(as_uuid=True)),
    col_("kind", String),
    col_("at", DateTime(timezone=True)),
    col_("agent_id", PG_UUID(as_uuid=True)),
)
SURVEYS = table(
    "csat_surveys",
    col_("tenant_id", PG_UUID(as_uuid=True)),
    col_("ticket_id", PG_UUID(as_uuid=True)),
    col_("sent_at", DateTime(timezone=True)),
    col_("answered_at", DateTime(timezone=True)),
)


def _assignee_clause(ctx: RequestContext, value: str) -> ColumnElement[bool]:
    if value == "me":
        return Ticket.assignee_id == ctx.user_id
    if value == "none":
        return Ticket.assignee_id.is_(None)
    try:
        return Ticket.assignee_id == uuid.UUID(value)
    except ValueError as exc:
        raise ValidationProblem(
            errors=[field_error("assignee", "a user id, 'me' or 'none'")]
        ) from exc


def _filter_clauses(ctx: RequestContext, f: TicketFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.status:
        clauses.append(Ticket.status.in_(f.status))
    if f.priority:
        clauses.append(Ticket.priority.in_(f.priority))
    if f.assignee:
        clauses.append(_assignee_clause(ctx, f.assignee))
    if f.tag:
        clauses.append(Ticket.tags.contains([f.tag.lower()]))
    if f.sla:
        clauses.append(or_(*(_sla_clause(kind) for kind in sorted(set(f.sla)))))
    if f.channel:
        clauses.append(Ticket.channel.in_(f.channel))
    if f.merged == "exclude":
        clauses.append(Ticket.merged_into_id.is_(None))
    elif f.merged == "only":
        clauses.append(Ticket.merged_into_id.is_not(None))
    return clauses + _type_clauses(f) + _exact_and_range_clauses(f) + _report_clauses(f)


def _type_clauses(f: TicketFilters) -> list[ColumnElement[bool]]:
    """The ticket types, and the incidents of one problem."""
    clauses: list[ColumnElement[bool]] = []
    if f.type:
        clauses.append(Ticket.type.in_(f.type))
    if f.problem_id is not None:
        clauses.append(
            exists().where(
                TicketLink.tenant_id == Ticket.tenant_id,
                TicketLink.source_id == f.problem_id,
                TicketLink.target_id == Ticket.id,
                TicketLink.kind == "problem_of",
            )
        )
    return clauses


def _report_clauses(f: TicketFilters) -> list[ColumnElement[bool]]:
    """The drill-downs' filters over the report facts, events, SLA targets and surveys:
    each an EXISTS on the ticket's own rows, so one event/target/survey meets all of a
    group's conditions together."""
    return (
        _facts_clauses(f)
        + _event_clauses(f)
        + _backlog_clauses(f)
        + _sla_target_clauses(f)
        + _survey_clauses(f)
    )


def _backlog_clauses(f: TicketFilters) -> list[ColumnElement[bool]]:
    """In the backlog at ``open_at``, as the backlog report counts it: more entries into
    the backlog than exits before that moment (a ticket enters when created and reopened,
    leaves when resolved, closed or cancelled; merged tickets have neither)."""
    if f.open_at is None:
        return []
    net = func.sum(case((EVENTS.c.kind == "backlog_in", 1), else_=-1))
    # Uncorrelated (the tenant from the request's setting, as RLS reads it): PostgreSQL
    # then computes the set once and hashes it. Correlated on ``Ticket.tenant_id`` it was a
    # subplan per candidate ticket: 2.2 s for a page at 20,000 tickets (docs/benchmarks.md).
    inside = (
        select(EVENTS.c.ticket_id)
        .where(
            EVENTS.c.tenant_id == literal_column(CURRENT_TENANT),
            EVENTS.c.kind.in_(("backlog_in", "backlog_out")),
            EVENTS.c.at < f.open_at,
        )
        .group_by(EVENTS.c.ticket_id)
        .having(net > 0)
    )
    return [Ticket.created_at < f.open_at, Ticket.id.in_(inside)]


def _facts_clauses(f: TicketFilters) -> list[ColumnElement[bool]]:
    facts: list[ColumnElement[bool]] = _ranged(
        [
            (FACTS.c.first_response_at, f.first_response_after, f.first_response_before),
            (FACTS.c.resolved_at, f.resolved_after, f.resolved_before),
        ]
    )
    if f.reopened is not None:
        facts.append(FACTS.c.reopens > 0 if f.reopened else FACTS.c.reopens == 0)
    if f.one_touch is not None:
        touched = and_(FACTS.c.public_replies == 1, FACTS.c.reopens == 0)
        facts.append(touched if f.one_touch else ~touched)
    if not facts:
        return []
    return [
        exists().where(
            FACTS.c.tenant_id == Ticket.tenant_id, FACTS.c.ticket_id == Ticket.id, *facts
        )
    ]


def _event_clauses(f: TicketFilters) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    for kind, low, high, agent in (
        ("resolved", f.resolution_after, f.resolution_before, f.resolved_by),
        ("reopened", f.reopen_after, f.reopen_before, None),
    ):
        conds = _ranged([(EVENTS.c.at, low, high)])
        if agent is not None:
            conds.append(EVENTS.c.agent_id == agent)
        if conds:
            out.append(
                exists().where(
                    EVENTS.c.tenant_id == Ticket.tenant_id,
                    EVENTS.c.ticket_id == Ticket.id,
                    EVENTS.c.kind == kind,
                    *conds,
                )
            )
    return out


def _sla_target_clauses(f: TicketFilters) -> list[ColumnElement[bool]]:
    sla = _ranged([(SlaTarget.met_at, f.sla_met_after, f.sla_met_before)])
    if f.sla_target is not None:
        sla.append(SlaTarget.target == f.sla_target)
    if f.sla_policy_id is not None:
        sla.append(SlaTarget.policy_id == f.sla_policy_id)
    if f.sla_outcome is not None:
        late = f.sla_outcome == "late"
        sla += [
            SlaTarget.met_at.is_not(None),
            SlaTarget.breached_at.is_not(None) if late else SlaTarget.breached_at.is_(None),
        ]
    if not sla:
        return []
    return [
        exists().where(
            SlaTarget.tenant_id == Ticket.tenant_id, SlaTarget.ticket_id == Ticket.id, *sla
        )
    ]


def _survey_clauses(f: TicketFilters) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    for at, low, high in (
        (SURVEYS.c.sent_at, f.csat_sent_after, f.csat_sent_before),
        (SURVEYS.c.answered_at, f.csat_answered_after, f.csat_answered_before),
    ):
        conds = _ranged([(at, low, high)])
        if conds:
            out.append(
                exists().where(
                    SURVEYS.c.tenant_id == Ticket.tenant_id,
                    SURVEYS.c.ticket_id == Ticket.id,
                    *conds,
                )
            )
    return out


def _ranged(ranges: list[tuple[Any, datetime | None, datetime | None]]) -> list[Any]:
    """[low, high): the reports' half-open ranges."""
    out: list[Any] = []
    for moment, low, high in ranges:
        if low is not None:
            out.append(moment >= low)
        if high is not None:
            out.append(moment < high)
    return out


def _exact_and_range_clauses(f: TicketFilters) -> list[ColumnElement[bool]]:
    exact: list[tuple[Any, uuid.UUID | str | None]] = [
        (Ticket.team_id, f.team_id),
        (Ticket.requester_id, f.requester_id),
        (Ticket.category_id, f.category_id),
    ]
    clauses: list[ColumnElement[bool]] = [
        col.is_(None) if value == "none" else col == value
        for col, value in exact
        if value is not None
    ]
    ranges: list[tuple[Any, datetime | None, datetime | None]] = [
        (Ticket.created_at, f.created_after, f.created_before),
        (Ticket.updated_at, f.updated_after, f.updated_before),
    ]
    for column, low, high in ranges:
        if low is not None:
            clauses.append(column >= low)
        if high is not None:
            clauses.append(column < high)
    return clauses


def _sla_clause(kind: str) -> ColumnElement[bool]:
    """breached: a target still open past its due time; at_risk: past its first warning."""
    unmet = and_(
        SlaTarget.tenant_id == Ticket.tenant_id,
        SlaTarget.ticket_id == Ticket.id,
        SlaTarget.met_at.is_(None),
    )
    if kind == "breached":
        return exists().where(unmet, SlaTarget.breached_at.is_not(None))
    return exists().where(
        unmet,
        SlaTarget.breached_at.is_(None),
        SlaTarget.paused_since.is_(None),
        SlaTarget.warn_at[1] <= func.now(),
    )


def _tsquery(q: str) -> Any:
    words = WORD.findall(q)[:10]
    if not words:
        raise ValidationProblem(errors=[field_error("q", "nothing to search for")])
    # Prefix matching on every word; words are \w+ only, so nothing can inject operators.
    return func.to_tsquery("english", " & ".join(f"{w}:*" for w in words))


def _search(
    ctx: RequestContext, q: str, window_clauses: list[ColumnElement[bool]]
) -> tuple[ColumnElement[bool], Any]:
    """Words (prefix-matched) in the ticket or a comment the caller may read, or a number.

    The matching ids come from ``ticket_search_candidates`` (migration 0009), which reaches
    the full-text and trigram indexes that row-level security keeps from the app role; the
    outer query still runs under RLS and ``visible()``.

    Ranking is bounded: only the newest ``search_rank_window`` matches the caller may see
    (with the list's filters) are ranked. Ranking reads every match's tsvector, so a broad
    word ("printer": 8,000 matches in a 200,000-ticket tenant) cost more than the rest of
    the search together. When there are fewer matches than the window (every narrow word)
    the result is the full ranking; a broad word returns the best-ranked of its newest
    matches (docs/benchmarks.md, "Search").
    """
    text = q.strip()
    if NUMBER.match(text):
        return Ticket.number == text.upper(), cast(literal(1), Numeric)
    query = _tsquery(q)
    # A fragment of a ticket number ("2026-00", "INC-2026-1") matches by substring; plain
    # words do not go through ILIKE (prefix full-text search finds them in the title).
    number: str | None = None
    if any(ch.isdigit() for ch in text):
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        number = f"%{escaped}%"
    candidates = func.ticket_search_candidates(query, literal(number, Text)).table_valued(
        "ticket_id"
    )
    matches = select(Ticket.id).where(
        Ticket.tenant_id == ctx.tenant_id,
        visible(ctx, load_settings(ctx)),
        *window_clauses,
        Ticket.id.in_(select(candidates.c.ticket_id)),
    )
    newest = matches.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(
        get_settings().search_rank_window
    )
    match = Ticket.id.in_(newest.scalar_subquery())
    # Rounded numeric, not float4: the cursor must compare equal to what the row computes.
    rank = func.round(cast(func.ts_rank(TICKET_SEARCH, query), Numeric), 6)
    return match, rank


def count_tickets(ctx: RequestContext, *, filters: TicketFilters, cap: int) -> int:
    """How many tickets the list with these filters holds, counted up to ``cap + 1``."""
    clauses = _filter_clauses(ctx, filters)
    base: Select[Any] = select(Ticket.id).where(
        Ticket.tenant_id == ctx.tenant_id, visible(ctx, load_settings(ctx)), *clauses
    )
    if filters.q:
        match, _rank = _search(ctx, filters.q, clauses)
        base = base.where(match)
    counted = select(func.count()).select_from(base.limit(cap + 1).subquery())
    return int(ctx.session.execute(counted).scalar_one())


def list_tickets(
    ctx: RequestContext, *, filters: TicketFilters, sort: str, limit: int, cursor: str | None
) -> tuple[list[Ticket], str | None]:
    settings = load_settings(ctx)
    clauses = _filter_clauses(ctx, filters)
    names, descending = SORTS[sort]
    if sort == "sla_due":
        clauses.append(Ticket.sla_due_at.is_not(None))
    keys = [_ticket_key(n) for n in names]
    base: Select[Any] = select(Ticket).where(
        Ticket.tenant_id == ctx.tenant_id, visible(ctx, settings), *clauses
    )
    if filters.q:
        match, rank = _search(ctx, filters.q, clauses)
        base = base.where(match).add_columns(rank.label("rank"))
        keys = [Key(rank, DECIMAL, lambda row: row[1]), _ticket_key("created_at")]
        descending = True
    keyset = Keyset([*keys, _ticket_key("id")], descending=descending)
    if ctx.role is Role.REQUESTER and not filters.q:
        base = base.where(_requester_paths(ctx, clauses, keyset, cursor, limit))
    rows, nxt = paginate(ctx.session, base, keyset, limit=limit, cursor=cursor, scalars=False)
    return [row[0] for row in rows], nxt


def _requester_paths(
    ctx: RequestContext,
    clauses: list[ColumnElement[bool]],
    keyset: Keyset,
    cursor: str | None,
    limit: int,
) -> ColumnElement[bool]:
    """A requester's page drawn from the two paths ``visible()`` allows, each in index order.

    ``requester_id = me OR participant`` cannot use an index for both halves: PostgreSQL
    walks the tenant's created-at index and filters, which for a requester with few
    tickets in a large tenant reads most of the tenant. The page is the first ``limit + 1``
    rows of the union of the first ``limit + 1`` of each path (their own tickets through
    ``ix_tickets_requester``, their participations through ``ix_ticket_participants_user``),
    the same rows in the same order; the outer query still applies ``visible()``.
    """
    after = keyset.decode(cursor)

    def first(query: Select[Any]) -> Select[Any]:
        query = query.where(Ticket.tenant_id == ctx.tenant_id, *clauses)
        if after is not None:
            query = query.where(keyset.after(after))
        return query.order_by(*keyset.order_by()).limit(limit + 1)

    own = first(select(Ticket.id).where(Ticket.requester_id == ctx.user_id))
    taking_part = first(
        select(Ticket.id)
        .join(
            Participant,
            and_(Participant.ticket_id == Ticket.id, Participant.tenant_id == Ticket.tenant_id),
        )
        .where(Participant.user_id == ctx.user_id)
    )
    paths = union_all(own, taking_part).subquery()
    return Ticket.id.in_(select(paths.c.id))


def _ticket_key(name: str) -> Key:
    """A key on a Ticket column, read from the ticket in a (ticket, ...) row."""
    kind = TIMESTAMP if name.endswith("_at") else UUID if name == "id" else INTEGER
    return Key(getattr(Ticket, name), kind, lambda row: getattr(row[0], name))


def list_events(
    ctx: RequestContext, *, ticket_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[timeline.EventView], str | None]:
    get_visible(ctx, ticket_id)
    query = select(TicketEvent).where(
        and_(TicketEvent.tenant_id == ctx.tenant_id, TicketEvent.ticket_id == ticket_id),
        visible_events(ctx),
    )
    rows, nxt = paginate(ctx.session, query, EVENTS_IN_ORDER, limit=limit, cursor=cursor)
    # What an event names passes the same visibility rule as the event's own ticket.
    return timeline.viewable(ctx, rows, load_settings(ctx)), nxt
