"""Connection rules: $connect registers, $disconnect forgets, $default answers frames.

No Lambda events here and no commit: ``realtime.handlers`` parses the API Gateway event and
owns the transaction. Subscriptions are authorized with the tickets' one visibility
predicate (``tickets.visibility.visible``); what the caller may not see is ``not_found``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from servicedesk.platform import aws, tracing
from servicedesk.platform.config import get_settings
from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import TooManyRequests, Unauthorized, validation_message
from servicedesk.platform.logging import get_logger
from servicedesk.platform.permissions import Permission
from servicedesk.realtime.models import Connection, Subscription
from servicedesk.realtime.schemas import (
    ACTIONS,
    GRAPHQL_WS,
    SUBPROTOCOL,
    ClientFrame,
    ErrorCode,
)

if TYPE_CHECKING:
    # Imported where used: $disconnect needs neither the principal lookup (platform.tenancy)
    # nor the tickets domain nor the token verifier (DESIGN invariant 14).
    from servicedesk.platform.tenancy import RequestContext
    from servicedesk.platform.tokens import Claims

TYPING_TYPE = "realtime.typing"
PRESENCE_TYPE = "realtime.presence"
# A viewer's presence lasts this long after their last heartbeat (the web app beats every
# 20 s); a change of state (viewing, editing, left) is sent at once, a repeat at most once
# per PRESENCE_REPEAT.
PRESENCE_TTL = timedelta(seconds=45)
PRESENCE_REPEAT = timedelta(seconds=5)
FRAME_WINDOW = timedelta(seconds=60)


class FrameError(Exception):
    """A refused frame: answered with an ``error`` frame, the connection stays open."""

    def __init__(self, code: ErrorCode, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.field = field

    def frame(self, *, action: str | None = None, frame_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "error", "code": self.code.value, "detail": self.detail}
        for key, value in (("field", self.field), ("action", action), ("id", frame_id)):
            if value is not None:
                body[key] = value
        return body


@dataclass(frozen=True)
class Registered:
    """What the registry knows of a connection before any tenant is set."""

    tenant_id: uuid.UUID
    user_id: uuid.UUID
    expires_at: datetime
    protocol: str = SUBPROTOCOL
    acked_at: datetime | None = None

    @property
    def speaks_graphql(self) -> bool:
        return self.protocol == GRAPHQL_WS


def user_channel(user_id: uuid.UUID) -> str:
    return f"user:{user_id}"


def ticket_channel(ticket_id: uuid.UUID | str) -> str:
    return f"ticket:{ticket_id}"


# --- $connect / $disconnect -----------------------------------------------------------


def connect(
    session: Session,
    *,
    connection_id: str,
    claims: Claims,
    now: datetime,
    protocol: str = SUBPROTOCOL,
) -> Registered:
    """Register a connection for verified claims; raises a ProblemError to refuse it."""
    from servicedesk.platform.tenancy import resolve_principal

    if claims.expires_at is None:
        raise Unauthorized("the access token has no expiry")
    expires_at = datetime.fromtimestamp(claims.expires_at, UTC)
    # Sets the tenant from what the token (and, for external tokens, provisioning) verified
    # and refuses an inactive membership, exactly as a request does.
    tenant_id, user_id, _, _ = resolve_principal(session, claims)
    set_tenant(session, tenant_id=tenant_id, user_id=user_id)
    open_now = session.execute(
        text(
            "SELECT count(*) FROM realtime_connections"
            " WHERE tenant_id = :t AND user_id = :u AND expires_at > :now"
        ),
        {"t": tenant_id, "u": user_id, "now": now},
    ).scalar_one()
    limit = get_settings().websocket_max_connections_per_user
    if open_now >= limit:
        raise TooManyRequests(f"at most {limit} open connections per user", retry_after=60)
    session.add(
        Connection(
            connection_id=connection_id,
            tenant_id=tenant_id,
            user_id=user_id,
            session_id=uuid.UUID(claims.session_id) if claims.session_id else None,
            expires_at=expires_at,
            connected_at=now,
            window_started_at=now,
            protocol=protocol,
        )
    )
    session.flush()
    if protocol == SUBPROTOCOL:
        # Everyone hears their own notifications without asking (a GraphQL socket hears
        # only the operations it subscribes: another frame would break its protocol).
        session.add(
            Subscription(
                connection_id=connection_id, tenant_id=tenant_id, channel=user_channel(user_id)
            )
        )
        session.flush()
    return Registered(tenant_id, user_id, expires_at, protocol)


def lookup(session: Session, connection_id: str) -> Registered | None:
    row = session.execute(
        text(
            "SELECT tenant_id, user_id, expires_at, protocol, acked_at FROM realtime_connection(:c)"
        ),
        {"c": connection_id},
    ).first()
    if row is None:
        return None
    return Registered(row.tenant_id, row.user_id, row.expires_at, row.protocol, row.acked_at)


def disconnect(session: Session, *, connection_id: str) -> bool:
    """Forget a connection (its subscriptions go with it). False if it was not known."""
    found = lookup(session, connection_id)
    if found is None:
        return False
    set_tenant(session, tenant_id=found.tenant_id, user_id=found.user_id)
    present_on = session.execute(
        text(
            "SELECT channel FROM realtime_subscriptions WHERE connection_id = :c"
            " AND presence_state IS NOT NULL AND channel LIKE 'ticket:%'"
        ),
        {"c": connection_id},
    ).scalars()
    tickets = [channel.removeprefix("ticket:") for channel in present_on]
    session.execute(
        text("DELETE FROM realtime_connections WHERE connection_id = :c"), {"c": connection_id}
    )
    # A closed tab left the tickets it showed: the others hear it now, not at expiry. Best
    # effort: presence is ephemeral and expires anyway, so a failed send never keeps a
    # connection registered.
    now = datetime.now(UTC)
    for ticket in tickets if get_settings().realtime_queue_url else []:
        _send(
            session,
            found.tenant_id,
            found.user_id,
            PRESENCE_TYPE,
            uuid.UUID(ticket),
            {"connection_id": connection_id, "state": "left"},
            now,
        )
    return True


# --- $default ---------------------------------------------------------------------------


def parse(body: str) -> ClientFrame:
    """A client frame, or FrameError (size is checked by the caller, before decoding)."""
    try:
        raw = json.loads(body)
    except ValueError as exc:
        raise FrameError(ErrorCode.INVALID_JSON, "the frame is not valid JSON") from exc
    if not isinstance(raw, dict):
        raise FrameError(ErrorCode.INVALID_JSON, "the frame must be a JSON object")
    action = raw.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise FrameError(
            ErrorCode.UNKNOWN_ACTION,
            f"action must be one of: {', '.join(ACTIONS)}",
            field="action",
        )
    try:
        return ClientFrame.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(part) for part in first.get("loc", ())]
        field = loc[0] if loc else "ticket_id"
        raise FrameError(
            ErrorCode.INVALID_FIELD, f"{field} {validation_message(first)}", field=field
        ) from exc


def frame_id_of(body: str) -> str | None:
    """The client's correlation id, if the frame is an object that carries a sane one."""
    try:
        raw = json.loads(body)
    except ValueError:
        return None
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def attach(
    session: Session, *, connection_id: str, now: datetime, found: Registered | None = None
) -> RequestContext:
    """The connection's principal, in its tenant's transaction; counts the frame."""
    from servicedesk.platform.tenancy import RequestContext, member_access

    found = found or lookup(session, connection_id)
    if found is None:
        raise FrameError(ErrorCode.UNAUTHORIZED, "this connection is not registered; reconnect")
    set_tenant(session, tenant_id=found.tenant_id, user_id=found.user_id)
    if found.expires_at <= now:
        raise FrameError(ErrorCode.TOKEN_EXPIRED, "the access token expired; reconnect")
    frames = session.execute(
        text(
            "UPDATE realtime_connections SET"
            " frames_in_window = CASE WHEN window_started_at <= :start THEN 1"
            "   ELSE frames_in_window + 1 END,"
            " window_started_at = CASE WHEN window_started_at <= :start THEN :now"
            "   ELSE window_started_at END"
            " WHERE connection_id = :c RETURNING frames_in_window"
        ),
        {"c": connection_id, "now": now, "start": now - FRAME_WINDOW},
    ).scalar_one()
    limit = get_settings().websocket_frames_per_minute
    if frames > limit:
        raise FrameError(ErrorCode.RATE_LIMITED, f"at most {limit} frames per minute")
    member = member_access(session, found.tenant_id, found.user_id)
    if member is None:
        raise FrameError(ErrorCode.UNAUTHORIZED, "this account is not active in the tenant")
    role, granted = member
    return RequestContext.of(session, found.tenant_id, found.user_id, role, granted)


def handle(
    session: Session,
    *,
    connection_id: str,
    frame: ClientFrame,
    now: datetime,
    found: Registered | None = None,
) -> dict[str, Any]:
    """Answer one parsed frame: an ``ack``/``pong`` frame, or FrameError."""
    ctx = attach(session, connection_id=connection_id, now=now, found=found)
    if frame.action == "ping":
        return _reply({"type": "pong"}, frame)
    if frame.state is not None and frame.action != "presence":
        raise FrameError(ErrorCode.INVALID_FIELD, "state goes with presence only", field="state")
    if frame.action == "presence":
        present = _presence(ctx, connection_id, frame, now)
        ack = {"type": "ack", "action": frame.action, "channel": frame.channel, "present": present}
        return _reply(ack, frame)
    if frame.action == "subscribe":
        _subscribe(ctx, connection_id, frame)
    elif frame.action == "unsubscribe":
        gone = session.execute(
            text(
                "DELETE FROM realtime_subscriptions WHERE connection_id = :c AND channel = :ch"
                " RETURNING presence_state"
            ),
            {"c": connection_id, "ch": frame.channel},
        ).first()
        if gone is not None and gone.presence_state is not None and frame.ticket_id is not None:
            # Leaving the room is leaving the ticket: the others hear it now, not at expiry.
            _enqueue(
                ctx,
                PRESENCE_TYPE,
                frame.ticket_id,
                {"connection_id": connection_id, "state": "left"},
                now,
            )
    else:
        _typing(ctx, connection_id, frame, now)
    return _reply({"type": "ack", "action": frame.action, "channel": frame.channel}, frame)


def _reply(body: dict[str, Any], frame: ClientFrame) -> dict[str, Any]:
    return {**body, "id": frame.id} if frame.id is not None else body


def may_see_ticket(ctx: RequestContext, ticket_id: uuid.UUID) -> bool:
    # Imported here: $connect and $disconnect load this module and need no tickets code.
    from servicedesk.tickets.permissions import may_read

    return may_read(ctx, ticket_id)


def may_see_project(ctx: RequestContext, project_id: uuid.UUID) -> bool:
    """A member of the project, or ``project:read_all`` (the projects' own rule)."""
    from servicedesk.projects.access import may_see

    return may_see(ctx, project_id)


def _may_join(ctx: RequestContext, frame: ClientFrame) -> None:
    """The join authorization of each kind of room (FrameError when refused)."""
    if frame.team_id is not None:
        if not ctx.is_staff:
            raise FrameError(ErrorCode.FORBIDDEN, "team queues are for staff", field="team_id")
        team = ctx.session.execute(
            text("SELECT 1 FROM teams WHERE tenant_id = :t AND id = :id AND active"),
            {"t": ctx.tenant_id, "id": frame.team_id},
        ).first()
        if team is None:
            raise FrameError(ErrorCode.NOT_FOUND, "no such team", field="team_id")
    elif frame.queue is not None:
        if not ctx.is_staff:
            raise FrameError(ErrorCode.FORBIDDEN, "team queues are for staff", field="queue")
    elif frame.project_id is not None and not may_see_project(ctx, frame.project_id):
        raise FrameError(ErrorCode.NOT_FOUND, "no such project", field="project_id")
    elif frame.room is not None:
        # The change room: whoever may read changes (the broadcaster asks again per push).
        if not ctx.can(Permission.CHANGE_READ):
            raise FrameError(ErrorCode.FORBIDDEN, "the change room needs change:read", field="room")
    elif frame.ticket_id is not None and not may_see_ticket(ctx, frame.ticket_id):
        raise FrameError(ErrorCode.NOT_FOUND, "no such ticket", field="ticket_id")


def _subscribe(ctx: RequestContext, connection_id: str, frame: ClientFrame) -> None:
    _may_join(ctx, frame)
    channels = set(
        ctx.session.execute(
            text("SELECT channel FROM realtime_subscriptions WHERE connection_id = :c"),
            {"c": connection_id},
        ).scalars()
    )
    if frame.channel in channels:
        return  # already subscribed: idempotent
    limit = get_settings().websocket_max_subscriptions
    if len(channels) >= limit:
        raise FrameError(
            ErrorCode.TOO_MANY_SUBSCRIPTIONS, f"at most {limit} subscriptions per connection"
        )
    ctx.session.execute(
        text(
            "INSERT INTO realtime_subscriptions (tenant_id, connection_id, channel)"
            " VALUES (:t, :c, :ch) ON CONFLICT DO NOTHING"
        ),
        {"t": ctx.tenant_id, "c": connection_id, "ch": frame.channel},
    )


def _typing(ctx: RequestContext, connection_id: str, frame: ClientFrame, now: datetime) -> None:
    assert frame.ticket_id is not None  # the schema requires it for typing
    if frame.visibility == "internal" and not ctx.can(Permission.COMMENT_INTERNAL):
        raise FrameError(ErrorCode.FORBIDDEN, "internal notes are for staff", field="visibility")
    interval = timedelta(seconds=get_settings().websocket_typing_interval_seconds)
    stamped = ctx.session.execute(
        text(
            "UPDATE realtime_subscriptions SET typing_at = :now"
            " WHERE connection_id = :c AND channel = :ch"
            " AND (typing_at IS NULL OR typing_at <= :since) RETURNING 1"
        ),
        {"c": connection_id, "ch": frame.channel, "now": now, "since": now - interval},
    ).first()
    if stamped is None:
        subscribed = ctx.session.execute(
            text("SELECT 1 FROM realtime_subscriptions WHERE connection_id = :c AND channel = :ch"),
            {"c": connection_id, "ch": frame.channel},
        ).first()
        if subscribed is None:
            raise FrameError(
                ErrorCode.NOT_SUBSCRIBED, "subscribe to the ticket first", field="ticket_id"
            )
        raise FrameError(
            ErrorCode.RATE_LIMITED,
            f"one typing indicator per {interval.total_seconds():g} s per ticket",
        )
    # Visibility can change after subscribing (reassignment, removal from a team).
    if not may_see_ticket(ctx, frame.ticket_id):
        raise FrameError(ErrorCode.NOT_FOUND, "no such ticket", field="ticket_id")
    _enqueue_typing(ctx, connection_id, frame.ticket_id, frame.visibility, now)


def _presence(
    ctx: RequestContext, connection_id: str, frame: ClientFrame, now: datetime
) -> list[dict[str, Any]]:
    """Record (or clear) this connection's presence on the ticket, tell the ticket's other
    staff viewers when it changed or is due again, and answer who else is there now."""
    assert frame.ticket_id is not None  # the schema requires it for presence
    if frame.state is None:
        raise FrameError(ErrorCode.INVALID_FIELD, "state is required", field="state")
    if not ctx.is_staff:
        raise FrameError(ErrorCode.FORBIDDEN, "presence is for staff", field="action")
    state = None if frame.state == "left" else frame.state
    row = ctx.session.execute(
        text(
            "SELECT presence_state, presence_at FROM realtime_subscriptions"
            " WHERE connection_id = :c AND channel = :ch FOR UPDATE"
        ),
        {"c": connection_id, "ch": frame.channel},
    ).first()
    if row is None:
        raise FrameError(
            ErrorCode.NOT_SUBSCRIBED, "subscribe to the ticket first", field="ticket_id"
        )
    if state is not None and not may_see_ticket(ctx, frame.ticket_id):
        raise FrameError(ErrorCode.NOT_FOUND, "no such ticket", field="ticket_id")
    changed = row.presence_state != state
    due = row.presence_at is None or row.presence_at <= now - PRESENCE_REPEAT
    ctx.session.execute(
        text(
            "UPDATE realtime_subscriptions SET presence_state = :s, presence_at = :at"
            " WHERE connection_id = :c AND channel = :ch"
        ),
        {"c": connection_id, "ch": frame.channel, "s": state, "at": now if state else None},
    )
    if changed or (state is not None and due):
        _enqueue(
            ctx,
            PRESENCE_TYPE,
            frame.ticket_id,
            {"connection_id": connection_id, "state": frame.state},
            now,
        )
    return present(ctx.session, ctx.tenant_id, frame.ticket_id, now, besides=ctx.user_id)


def present(
    session: Session,
    tenant_id: uuid.UUID,
    ticket_id: uuid.UUID,
    now: datetime,
    *,
    besides: uuid.UUID,
) -> list[dict[str, Any]]:
    """The staff on the ticket now (a heartbeat within PRESENCE_TTL), but ``besides``; one
    entry per person, editing if any of their tabs is."""
    rows = session.execute(
        text(
            "SELECT c.user_id, u.name, bool_or(s.presence_state = 'editing') AS editing"
            " FROM realtime_subscriptions s"
            " JOIN realtime_connections c ON c.connection_id = s.connection_id"
            " JOIN users u ON u.id = c.user_id"
            " JOIN memberships m ON m.tenant_id = c.tenant_id AND m.user_id = c.user_id"
            " WHERE s.tenant_id = :t AND s.channel = :ch AND s.presence_at > :since"
            " AND c.expires_at > :now AND c.user_id <> :me AND m.active"
            " AND m.role <> 'requester'"
            " GROUP BY c.user_id, u.name ORDER BY u.name, c.user_id"
        ),
        {
            "t": tenant_id,
            "ch": ticket_channel(ticket_id),
            "since": now - PRESENCE_TTL,
            "now": now,
            "me": besides,
        },
    ).all()
    return [
        {"user_id": str(r.user_id), "name": r.name, "state": "editing" if r.editing else "viewing"}
        for r in rows
    ]


def _enqueue_typing(
    ctx: RequestContext, connection_id: str, ticket_id: uuid.UUID, visibility: str, now: datetime
) -> None:
    """Typing is ephemeral: no outbox row, straight onto the realtime queue, where the
    broadcaster (the only holder of the @connections grant) fans it out."""
    _enqueue(
        ctx, TYPING_TYPE, ticket_id, {"connection_id": connection_id, "visibility": visibility}, now
    )


def _enqueue(
    ctx: RequestContext,
    kind: str,
    ticket_id: uuid.UUID,
    extra: dict[str, Any],
    now: datetime,
) -> None:
    """Typing and presence are ephemeral: no outbox row, straight onto the realtime queue."""
    _send(ctx.session, ctx.tenant_id, ctx.user_id, kind, ticket_id, extra, now)


def _send(
    session: Session,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    kind: str,
    ticket_id: uuid.UUID,
    extra: dict[str, Any],
    now: datetime,
) -> None:
    """Put a typing or presence frame on the realtime queue once ``session`` commits.

    After, not before: the broadcaster reads who is on the ticket from the database when the
    message arrives, and a message sent inside the transaction can be read before the
    change it announces is visible (a join would then be pushed as "left", a tab's close as
    still viewing). A rolled-back frame is never sent. Best effort: presence and typing are
    ephemeral (expiry and the next heartbeat repair a lost one), so a failed send is logged.
    """
    message = {
        "event_id": str(uuid.uuid4()),
        "seq": 0,
        "tenant_id": str(tenant_id),
        "type": kind,
        "aggregate": {"type": "ticket", "id": str(ticket_id)},
        "payload": {"ticket_id": str(ticket_id), "user_id": str(user_id), **extra},
        "created_at": now.isoformat(),
    }
    queue_after_commit(session, message)


def queue_after_commit(session: Session, message: dict[str, Any]) -> None:
    """Put an ephemeral message (typing, presence, a close) on the realtime queue once
    ``session`` commits; a rolled-back one is never sent. Best effort, logged."""
    url = get_settings().realtime_queue_url
    if not url:
        raise RuntimeError("no realtime queue configured (SERVICEDESK_REALTIME_QUEUE_URL)")
    kind = str(message["type"])
    trace = tracing.current()  # the frame is pushed on the request's trace
    if trace:
        message["trace"] = trace

    def send(_: Session) -> None:
        try:
            aws.sqs().send_message(
                QueueUrl=url,
                MessageBody=json.dumps(message),
                MessageAttributes={"type": {"DataType": "String", "StringValue": kind}},
            )
        except Exception:  # noqa: BLE001 - ephemeral: expiry and the next beat repair it
            get_logger().warning(
                "realtime frame not sent",
                extra={"type": kind, "aggregate_id": message["aggregate"]["id"]},
            )

    event.listen(session, "after_commit", send, once=True)
