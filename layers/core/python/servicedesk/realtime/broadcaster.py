"""The realtime queue's consumer: outbox events (and typing) to the connections allowed
to hear them (large fan-outs in chunks: ``fanout``). The sweep of expired connections
is ``sweep``.

Who hears an event (DESIGN invariant 12), per connection of the event's tenant:

- ``ticket:<id>`` subscribers who may see the ticket now (the tickets' visibility rule,
  re-checked at every push, since a subscription can outlive the access that allowed it);
- ``team:<id>`` subscribers (staff) for new and assigned tickets of that team, under the
  same visibility rule;
- ``user:<id>`` (everyone's own channel) when the notification rules name that user
  (``notifications.recipients``, in-app preference honoured): the same people, and the
  same staff-only gate, as the in-app inbox;
- ``changes`` subscribers who hold ``change:read`` now, for change events (``rooms``).

Internal events (internal notes, SLA, invitations) reach staff only. A frame carries ids
and a small summary; clients refetch details through the REST API, which applies the same
rules again. Expired connections met on the way are closed; gone ones are forgotten.

GraphQL subscriptions (``graphql-transport-ws`` sockets) hear the same ticket events under
the same checks, as the results of their stored selections (``graphql_push``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Session

from servicedesk.platform.consumer import Envelope, claim
from servicedesk.platform.logging import get_logger
from servicedesk.platform.permissions import TEAM_SCOPED, Access, Permission, access
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.realtime import fanout, push, rooms
from servicedesk.realtime.service import (
    PRESENCE_TTL,
    PRESENCE_TYPE,
    TYPING_TYPE,
    ticket_channel,
    user_channel,
)
from servicedesk.tickets import settings as ticket_settings
from servicedesk.tickets.models import Comment, Ticket
from servicedesk.tickets.visibility import visible

CHANNEL = "realtime"
# A ticket's fields are all shown to whoever may see the ticket (its REST read): these
# reach every viewer of the ticket.
PUBLIC_TYPES = frozenset(
    {"ticket.created", "ticket.status_changed", "ticket.assigned", "ticket.updated"}
)
# Events about one comment: public to whoever may see that comment (comment.internal is
# always staff only, whatever the comment says). A file belongs to its comment (or to the
# ticket itself, when it has none).
COMMENT_TYPES = frozenset({"comment.public", "comment.edited", "comment.deleted"})
ATTACHMENT_TYPES = frozenset({"attachment.added", "attachment.removed"})
# Timeline changes (tickets.timeline.LIVE_EVENTS): public only when their timeline entry is.
TIMELINE_TYPES = frozenset(
    {
        "ticket.participant_added",
        "ticket.participant_removed",
        "ticket.linked",
        "ticket.unlinked",
        "ticket.merged",
    }
)
TEAM_TYPES = frozenset({"ticket.created", "ticket.assigned"})
UNTRIAGED = "queue:untriaged"
# What a frame may say about an event: ids and small scalars, never bodies or addresses.
SUMMARY_KEYS = (
    "number",
    "actor_id",
    "comment_id",
    "visibility",
    "status_from",
    "status_to",
    "assignee_id",
    "team_id",
    "invitation_id",
    "target",
    "kind",
)
# Events about no ticket, for one member only (payload user_id), on their own channel.
PERSONAL_TYPES = frozenset({"export.ready", "ci.import_finished"})
PERSONAL_KEYS = ("job_id", "kind", "report", "format", "status")
TYPING_MAX_AGE = timedelta(seconds=10)
# A revoked sign-in (identity.sessions.REVOKED_EVENT): its sockets are closed.
SESSION_REVOKED = "session.revoked"
# A GraphQL socket that broke its protocol (realtime.graphql_ws.CLOSE_TYPE).
GRAPHQL_CLOSE = "realtime.close"
# API Gateway closes every WebSocket after two hours; an older row lost its $disconnect.
MAX_CONNECTION_AGE = timedelta(hours=2)


@dataclass
class Target:
    connection_id: str
    user_id: uuid.UUID
    role: Role | None  # None: no longer an active member
    expires_at: datetime
    channels: set[str] = field(default_factory=set)
    # What the member may do, read with the connection (a custom role's permissions and
    # team scope, else the built-in role's): the ticket rule and the internal gate use it.
    access: Access | None = None


# The connection's member, with their custom role (platform/tenancy's member statement).
MEMBER_COLUMNS = (
    "m.role, m.active, r.permissions AS custom_permissions, r.team_id AS custom_team_id"
)
MEMBER_JOIN = (
    " LEFT JOIN memberships m ON m.tenant_id = c.tenant_id AND m.user_id = c.user_id"
    " LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.custom_role_id"
)


def member(row: Any) -> tuple[Role | None, Access | None]:
    if not row.role or not row.active:
        return None, None
    role = Role(row.role)
    return role, access(role, row.custom_permissions, row.custom_team_id)


def hears_internal(target: Target, team_id: uuid.UUID | None) -> bool:
    """Internal notes and events: ``comment:internal``, on this ticket's team when the
    member's custom role is team-scoped (as ``RequestContext.can_on`` decides for REST)."""
    granted = target.access
    if granted is None or Permission.COMMENT_INTERNAL not in granted.permissions:
        return False
    return (
        granted.team_id is None
        or Permission.COMMENT_INTERNAL not in TEAM_SCOPED
        or granted.team_id == team_id
    )


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


# --- the queue ------------------------------------------------------------------------


def process(session: Session, envelope: Envelope) -> None:
    """One record of the realtime queue (the tenant is already set by the consumer)."""
    special = _special(envelope.type)
    if special is not None:
        special(session, envelope)
        return
    ticket_id = _uuid(envelope.payload.get("ticket_id"))
    if ticket_id is None:
        return
    in_rooms, in_graphql = _listening(session, envelope.tenant_id)
    if not (in_rooms or in_graphql):
        return
    # Idempotent by event id: a redelivered message pushes nothing twice. A crash before
    # the commit repeats the pushes; clients drop an event_id they have seen.
    if not claim(session, envelope, channel=CHANNEL, recipient="*"):
        return
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.tenant_id != envelope.tenant_id:
        return
    staff_only = _staff_only(session, envelope, ticket)
    notified = _notified(session, envelope)
    channels = {ticket_channel(ticket.id)}
    team = ticket.team_id or _uuid(envelope.payload.get("team_id"))
    if envelope.type in TEAM_TYPES:
        # A ticket with no team is in the triage queue every agent may see (visible()).
        channels.add(f"team:{team}" if team is not None else UNTRIAGED)
    personal = {user_channel(u) for u in notified}
    targets = _targets(session, envelope.tenant_id, channels | personal)
    live, closing = _split_live(targets, datetime.now(UTC))
    seeing = visible_to(session, envelope.tenant_id, ticket.id, _principals(live))
    frames: dict[str, bytes] = {}
    for target in live:
        heard = _heard(
            target, seeing, staff_only=staff_only, notified=notified, team_id=ticket.team_id
        )
        if not heard:
            continue
        data = push.encode(_event_frame(envelope, ticket.id, sorted(heard)))
        if data is not None:
            frames[target.connection_id] = data
    # Without a GraphQL subscription in the tenant, no statement looks for one.
    graphql = _graphql(session, envelope, ticket, staff_only=staff_only) if in_graphql else 0
    _deliver_and_log(
        session, envelope, frames, closing, "realtime event pushed", graphql_sent=graphql
    )


def _graphql(session: Session, envelope: Envelope, ticket: Ticket, *, staff_only: bool) -> int:
    """The event's ``next`` messages to the GraphQL subscriptions that match it (posted
    here: each selection's result is its subscriber's own); the count sent."""
    from servicedesk.realtime import graphql_push

    messages, closing = graphql_push.messages(session, envelope, ticket, staff_only=staff_only)
    outcome = push.post_each(messages)
    if closing:
        push.close_all(closing, reason="token_expired", notice=False)
    forget(session, set(closing) | outcome.gone)
    return len(outcome.sent)


def _close(session: Session, envelope: Envelope) -> None:
    """A GraphQL socket that broke its protocol (``graphql_ws``): close it. Its row is
    already gone; API Gateway takes no close code, so the protocol's is only logged."""
    connection_id = envelope.payload.get("connection_id")
    if not isinstance(connection_id, str) or not connection_id:
        return
    push.close_all([connection_id], reason=str(envelope.payload.get("reason")), notice=False)
    get_logger().info(
        "graphql socket closed",
        extra={
            "close_code": envelope.payload.get("code"),
            "reason": envelope.payload.get("reason"),
        },
    )


def _special(event_type: str) -> Callable[[Session, Envelope], None] | None:
    """The handler of a record that is not a ticket's event: typing, a fan-out chunk, an
    event for one member, a room's event (a project's, the changes'), a GraphQL socket to
    close."""
    exact = {
        TYPING_TYPE: _typing,
        PRESENCE_TYPE: _presence,
        fanout.FANOUT_TYPE: _chunk,
        SESSION_REVOKED: _session_revoked,
        GRAPHQL_CLOSE: _close,
    }
    if event_type in exact:
        return exact[event_type]
    if rooms.kind_of(event_type) is not None:
        return _room_event
    return _personal if event_type in PERSONAL_TYPES else None


def _session_revoked(session: Session, envelope: Envelope) -> None:
    """A revoked sign-in's sockets: close them (the API forgot them in the revoking
    transaction, so nothing reaches them meanwhile). Closing is idempotent: a redelivery
    finds them gone."""
    ids = envelope.payload.get("connection_ids")
    closing = sorted({str(c) for c in ids if isinstance(c, str)}) if isinstance(ids, list) else []
    if closing:
        push.close_all(closing, reason="session_revoked")
    forget(session, set(closing))


def _personal(session: Session, envelope: Envelope) -> None:
    """An event for one member (an export ready): their ``user:<id>`` connections only."""
    recipient = _uuid(envelope.payload.get("user_id"))
    if recipient is None or not _anyone_listening(session, envelope.tenant_id):
        return
    if not claim(session, envelope, channel=CHANNEL, recipient="*"):
        return
    channel = user_channel(recipient)
    live, closing = _split_live(_targets(session, envelope.tenant_id, {channel}), datetime.now(UTC))
    frames: dict[str, bytes] = {}
    for target in live:
        if target.user_id != recipient:
            continue
        frame = {
            "type": "event",
            "event": envelope.type,
            "event_id": str(envelope.event_id),
            "seq": envelope.seq,
            "channels": [channel],
            "notification": True,
            "at": envelope.created_at.isoformat(),
            "data": {
                k: envelope.payload[k]
                for k in PERSONAL_KEYS
                if isinstance(envelope.payload.get(k), str | int)
            },
        }
        data = push.encode(frame)
        if data is not None:
            frames[target.connection_id] = data
    outcome, _ = _deliver(envelope, frames)
    _close_and_forget(session, closing, outcome.gone)


def _room_event(session: Session, envelope: Envelope) -> None:
    """An event for a room of the tenant (``rooms``: the change room, a project's room):
    every subscriber whom the room kind lets hear it at push time."""
    kind = rooms.kind_of(envelope.type)
    room = kind.room(envelope) if kind is not None else None
    if kind is None or room is None or not _anyone_listening(session, envelope.tenant_id):
        return
    if not claim(session, envelope, channel=CHANNEL, recipient="*"):
        return
    live, closing = _split_live(_targets(session, envelope.tenant_id, {room}), datetime.now(UTC))
    hears = kind.listeners(session, envelope) if live else None
    data = push.encode(rooms.frame(envelope, kind, room))
    frames = {
        t.connection_id: data
        for t in live
        if data is not None and hears is not None and hears(t.user_id, t.access)
    }
    _deliver_and_log(session, envelope, frames, closing, "realtime room event pushed", room=room)


def _deliver_and_log(
    session: Session,
    envelope: Envelope,
    frames: dict[str, bytes],
    closing: list[str],
    message: str,
    **extra: Any,
) -> None:
    outcome, chunks = _deliver(envelope, frames)
    _close_and_forget(session, closing, outcome.gone)
    get_logger().info(
        message,
        extra={
            "event_id": str(envelope.event_id),
            "event_type": envelope.type,
            "chunks": chunks,
            "sent": len(outcome.sent),
            "gone": len(outcome.gone),
            "failed": len(outcome.failed),
            "closed": len(closing),
            **extra,
        },
    )


def _deliver(envelope: Envelope, frames: dict[str, bytes]) -> tuple[push.Outcome, int]:
    """Post the frames here, or (past ``fanout.CHUNK`` connections, when the realtime
    queue is configured) the first chunk here and the others through the queue: every
    invocation that takes one posts in parallel with this one. Enqueued first, so a
    refused enqueue fails the event before anything was posted."""
    url = fanout.queue_url()
    if len(frames) <= fanout.CHUNK or not url:
        return push.post_all(frames), 1
    chunks = fanout.split(frames)
    fanout.enqueue(url, envelope, chunks[1:])
    return push.post_all(chunks[0]), len(chunks)


def _chunk(session: Session, envelope: Envelope) -> None:
    """One chunk of a large fan-out: who hears it was decided before the split; only the
    connections' expiry (and membership) is checked again, and only this tenant's
    connections are found."""
    index, frames = fanout.addressed(envelope)
    if index < 1 or not frames:
        return
    if not claim(session, envelope, channel=CHANNEL, recipient=f"chunk:{index}"):
        return
    rows = session.execute(
        text(
            f"SELECT c.connection_id, c.user_id, c.expires_at, {MEMBER_COLUMNS}"
            f" FROM realtime_connections c{MEMBER_JOIN}"
            " WHERE c.tenant_id = :t AND c.connection_id = ANY(:ids)"
        ),
        {"t": envelope.tenant_id, "ids": sorted(frames)},
    ).all()
    targets = [
        Target(r.connection_id, r.user_id, member(r)[0], r.expires_at, access=member(r)[1])
        for r in rows
    ]
    live, closing = _split_live(targets, datetime.now(UTC))
    outcome = push.post_all({t.connection_id: frames[t.connection_id] for t in live})
    _close_and_forget(session, closing, outcome.gone)
    get_logger().info(
        "realtime chunk pushed",
        extra={
            "event_id": str(envelope.event_id),
            "event_type": envelope.payload.get("event_type"),
            "chunk": index,
            "sent": len(outcome.sent),
            "gone": len(outcome.gone),
            "failed": len(outcome.failed),
            "closed": len(closing),
        },
    )


def _staff_only(session: Session, envelope: Envelope, ticket: Ticket) -> bool:
    """Deny by default: only the event types named public reach non-staff."""
    if envelope.type in COMMENT_TYPES:
        # Defence in depth: the comment itself decides, whatever the event is called.
        comment_id = _uuid(envelope.payload.get("comment_id"))
        comment = session.get(Comment, comment_id) if comment_id else None
        return comment is None or comment.ticket_id != ticket.id or comment.visibility != "public"
    if envelope.type in ATTACHMENT_TYPES:
        comment_id = _uuid(envelope.payload.get("comment_id"))
        if comment_id is None:
            return envelope.payload.get("visibility") != "public"
        comment = session.get(Comment, comment_id)
        return comment is None or comment.ticket_id != ticket.id or comment.visibility != "public"
    if envelope.type in TIMELINE_TYPES:
        return envelope.payload.get("visibility") != "public"
    return envelope.type not in PUBLIC_TYPES


def _notified(session: Session, envelope: Envelope) -> set[uuid.UUID]:
    """The members the in-app inbox would tell about this event."""
    from servicedesk.notifications import recipients
    from servicedesk.notifications.service import preferences_of

    rule = recipients.RULES.get(envelope.type)
    if rule is None or not rule.in_app:
        return set()
    members = [r.user_id for r in recipients.resolve(session, envelope) if r.user_id]
    prefs = preferences_of(session, envelope.tenant_id, members, envelope.type)
    return {m for m in members if prefs.get((m, "in_app"), True)}


# One index probe each (ix_realtime_subscriptions_channel, ix_graphql_subscriptions_ticket):
# every listener is a subscription row.
_LISTENING = text(
    "SELECT EXISTS (SELECT 1 FROM realtime_subscriptions WHERE tenant_id = :t) AS rooms,"
    " EXISTS (SELECT 1 FROM graphql_subscriptions WHERE tenant_id = :t) AS graphql"
)


def _listening(session: Session, tenant_id: uuid.UUID) -> tuple[bool, bool]:
    """Whether any connection of the tenant is in a room, and whether any holds a GraphQL
    subscription (one statement)."""
    row = session.execute(_LISTENING, {"t": tenant_id}).one()
    return bool(row.rooms), bool(row.graphql)


def _anyone_listening(session: Session, tenant_id: uuid.UUID) -> bool:
    """Whether any connection of the tenant is subscribed to anything. With none, an event
    has nobody to reach: nothing is read, claimed or pushed (the common case locally, and
    for a tenant nobody has open in a browser, whose events would otherwise each cost the
    full fan-out work)."""
    return any(_listening(session, tenant_id))


def _targets(session: Session, tenant_id: uuid.UUID, channels: set[str]) -> list[Target]:
    rows = session.execute(
        text(
            f"SELECT s.connection_id, s.channel, c.user_id, c.expires_at, {MEMBER_COLUMNS}"
            " FROM realtime_subscriptions s"
            f" JOIN realtime_connections c ON c.connection_id = s.connection_id{MEMBER_JOIN}"
            " WHERE s.tenant_id = :t AND s.channel = ANY(:channels)"
        ),
        {"t": tenant_id, "channels": sorted(channels)},
    ).all()
    targets: dict[str, Target] = {}
    for row in rows:
        role, granted = member(row)
        target = targets.setdefault(
            row.connection_id,
            Target(row.connection_id, row.user_id, role, row.expires_at, access=granted),
        )
        target.channels.add(row.channel)
    return list(targets.values())


def _split_live(targets: list[Target], now: datetime) -> tuple[list[Target], list[str]]:
    """Connections that may still hear (token valid, member active), and those to close."""
    live = [t for t in targets if t.expires_at > now and t.role is not None]
    closing = [t.connection_id for t in targets if t.expires_at <= now or t.role is None]
    return live, closing


def _principals(live: list[Target]) -> set[tuple[uuid.UUID, Role, Access]]:
    return {(t.user_id, t.role, t.access) for t in live if t.role and t.access}


def visible_to(
    session: Session,
    tenant_id: uuid.UUID,
    ticket_id: uuid.UUID,
    principals: set[tuple[uuid.UUID, Role, Access]],
) -> set[uuid.UUID]:
    """The users among ``principals`` who may see the ticket, by the tickets' own rule.

    ``visible`` uses ``ctx.user_id`` only inside SQL, so handing it a column of user ids
    (``unnest`` of one array parameter) evaluates the very same predicate for a whole role
    at once: one small query per role instead of one per user (a ticket watched by 200
    agents is one query). One parameter, not a VALUES row per user: the statement's
    shape does not depend on the count, so SQLAlchemy compiles it once per role.
    """
    # One query per distinct access (a built-in role, or a custom role's permissions and
    # team scope): what the rule reads is the permissions, not the role's name.
    by_access: dict[tuple[Role, Access], list[uuid.UUID]] = defaultdict(list)
    for user, role, granted in principals:
        by_access[(role, granted)].append(user)
    if not by_access:
        return set()
    settings = ticket_settings.SECTION.load(session, tenant_id)
    seeing: set[uuid.UUID] = set()
    for (role, granted), users in by_access.items():
        listed = (
            func.unnest(bindparam("principals", users, type_=ARRAY(PG_UUID(as_uuid=True))))
            .table_valued("user_id")
            .render_derived(name="principals")
        )
        ctx = RequestContext.of(
            session, tenant_id, cast(uuid.UUID, listed.c.user_id), role, granted
        )
        query = (
            select(listed.c.user_id)
            .select_from(listed)
            .join(Ticket, Ticket.id == ticket_id)
            .where(Ticket.tenant_id == tenant_id, visible(ctx, settings))
        )
        seeing.update(session.execute(query).scalars())
    return seeing


def _heard(
    target: Target,
    seeing: set[uuid.UUID],
    *,
    staff_only: bool,
    notified: set[uuid.UUID],
    team_id: uuid.UUID | None,
) -> set[str]:
    """The channels through which this connection hears the event (empty: it does not).

    Rooms: the ticket's visibility rule, and staff only for internal events. The personal
    channel: the notification rules, which carry their own staff-only gate (an invitee
    hears of an invitation to a ticket they cannot see yet, as the inbox tells them)."""
    is_staff = target.role is not None and target.role.is_staff
    heard = set()
    for channel in target.channels:
        kind = channel.split(":", 1)[0]
        if kind == "user":
            if target.user_id in notified:
                heard.add(channel)
        elif staff_only and not hears_internal(target, team_id):
            continue
        elif target.user_id in seeing and (kind == "ticket" or is_staff):
            heard.add(channel)
    return heard


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _field_data(payload: dict[str, Any]) -> dict[str, Any]:
    fields, values = payload.get("fields"), payload.get("values")
    data: dict[str, Any] = {}
    if isinstance(fields, list) and all(isinstance(f, str) for f in fields):
        data["fields"] = fields
    if isinstance(values, dict):
        data["values"] = {k: v for k, v in values.items() if isinstance(k, str) and _scalar(v)}
    return data


def _event_frame(envelope: Envelope, ticket_id: uuid.UUID, channels: list[str]) -> dict[str, Any]:
    payload = envelope.payload
    return {
        "type": "event",
        "event": envelope.type,
        "event_id": str(envelope.event_id),
        "seq": envelope.seq,
        "ticket_id": str(ticket_id),
        "channels": channels,
        "notification": any(c.startswith("user:") for c in channels),
        "at": envelope.created_at.isoformat(),
        "data": {
            k: payload[k]
            for k in SUMMARY_KEYS
            if k in payload and isinstance(payload[k], str | int | float | bool)
        }
        | _field_data(payload),
    }


def _close_and_forget(session: Session, closing: list[str], gone: set[str]) -> None:
    if closing:
        push.close_all(closing, reason="token_expired")
    forget(session, set(closing) | gone)


def forget(session: Session, connection_ids: set[str]) -> None:
    if connection_ids:
        session.execute(
            text("DELETE FROM realtime_connections WHERE connection_id = ANY(:ids)"),
            {"ids": sorted(connection_ids)},
        )


# --- typing ---------------------------------------------------------------------------


def _typing(session: Session, envelope: Envelope) -> None:
    """Ephemeral: late indicators are dropped, duplicates are harmless (no claim)."""
    now = datetime.now(UTC)
    if now - envelope.created_at > TYPING_MAX_AGE:
        return
    payload = envelope.payload
    ticket_id, sender = _uuid(payload.get("ticket_id")), _uuid(payload.get("user_id"))
    if ticket_id is None or sender is None:
        return
    staff_only = payload.get("visibility") != "public"
    targets = [
        t
        for t in _targets(session, envelope.tenant_id, {ticket_channel(ticket_id)})
        if t.user_id != sender  # not back to the typist, nor their other tabs
    ]
    live, closing = _split_live(targets, now)
    seeing = visible_to(session, envelope.tenant_id, ticket_id, _principals(live))
    team_id = session.execute(
        select(Ticket.team_id).where(Ticket.tenant_id == envelope.tenant_id, Ticket.id == ticket_id)
    ).scalar()
    name = session.execute(text("SELECT name FROM users WHERE id = :u"), {"u": sender}).scalar()
    frame = push.encode(
        {
            "type": "typing",
            "ticket_id": str(ticket_id),
            "user_id": str(sender),
            "name": name,
            "visibility": "internal" if staff_only else "public",
        }
    )
    frames = {
        t.connection_id: frame
        for t in live
        if frame is not None
        and t.user_id in seeing
        and not (staff_only and not hears_internal(t, team_id))
    }
    outcome = push.post_all(frames)
    _close_and_forget(session, closing, outcome.gone)


# --- presence -------------------------------------------------------------------------


def _presence(session: Session, envelope: Envelope) -> None:
    """Who is on a ticket, for its other staff viewers only (requesters never hear it).

    The frame says the person's state across all their tabs at the time of the push (one
    tab leaving while another still shows the ticket is not "left"). Ephemeral like typing:
    late frames are dropped, duplicates are harmless."""
    now = datetime.now(UTC)
    if now - envelope.created_at > PRESENCE_TTL:
        return
    payload = envelope.payload
    ticket_id, sender = _uuid(payload.get("ticket_id")), _uuid(payload.get("user_id"))
    if ticket_id is None or sender is None:
        return
    staff = [
        t
        for t in _targets(session, envelope.tenant_id, {ticket_channel(ticket_id)})
        if t.user_id != sender
    ]
    live, closing = _split_live(staff, now)
    live = [t for t in live if t.role is not None and t.role.is_staff]
    seeing = visible_to(session, envelope.tenant_id, ticket_id, _principals(live))
    mine = session.execute(
        text(
            "SELECT u.name, count(s.connection_id) AS tabs,"
            " coalesce(bool_or(s.presence_state = 'editing'), false) AS editing"
            " FROM users u LEFT JOIN realtime_subscriptions s"
            " ON s.tenant_id = :t AND s.channel = :ch AND s.presence_at > :since"
            " AND s.connection_id IN (SELECT connection_id FROM realtime_connections"
            "   WHERE tenant_id = :t AND user_id = :u AND expires_at > :now)"
            " WHERE u.id = :u GROUP BY u.name"
        ),
        {
            "t": envelope.tenant_id,
            "ch": ticket_channel(ticket_id),
            "since": now - PRESENCE_TTL,
            "now": now,
            "u": sender,
        },
    ).first()
    if mine is None:
        return
    state = "left" if not mine.tabs else "editing" if mine.editing else "viewing"
    frame = push.encode(
        {
            "type": "presence",
            "ticket_id": str(ticket_id),
            "user_id": str(sender),
            "name": mine.name,
            "state": state,
        }
    )
    frames = {t.connection_id: frame for t in live if frame is not None and t.user_id in seeing}
    outcome = push.post_all(frames)
    _close_and_forget(session, closing, outcome.gone)
