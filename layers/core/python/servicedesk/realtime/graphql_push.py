"""GraphQL subscriptions at push time: a ticket event to the ``next`` messages of the
subscriptions that match it (``graphql_subscriptions``: this ticket, or every ticket).

Who hears it is decided as for the rooms (``broadcaster``): the connection is live, its
member active, the ticket visible to them now (``visible_to``, the tickets' one rule, one
query per access) and, for an internal event, the member may read internal notes. Each
stored selection is then executed as its subscriber: in a ``GraphContext`` of their own,
with ``app.user_id`` set to them, so every field goes through the same services, rules and
RLS as a query (internal notes only for staff). Subscribers share work: one context (and
its DataLoaders) per principal, and one execution per distinct (document, variables,
operation) of that principal, whatever the number of their sockets.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform.config import get_settings
from servicedesk.platform.consumer import Envelope
from servicedesk.platform.db import set_tenant
from servicedesk.platform.logging import get_logger
from servicedesk.platform.permissions import Access
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets.models import Ticket

# Grouping key of one execution: (document, variables as JSON, operation name).
Selection = tuple[str, str, str | None]


@dataclass
class Subscriber:
    connection_id: str
    operation_id: str
    selection: Selection


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _rows(session: Session, tenant_id: uuid.UUID, ticket_id: uuid.UUID) -> list[Any]:
    from servicedesk.realtime.broadcaster import MEMBER_COLUMNS, MEMBER_JOIN

    return list(
        session.execute(
            text(
                "SELECT g.connection_id, g.operation_id, g.document, g.variables,"
                f" g.operation_name, c.user_id, c.expires_at, {MEMBER_COLUMNS}"
                " FROM graphql_subscriptions g"
                f" JOIN realtime_connections c ON c.connection_id = g.connection_id{MEMBER_JOIN}"
                " WHERE g.tenant_id = :t AND (g.ticket_id = :ticket OR g.ticket_id IS NULL)"
                " AND c.acked_at IS NOT NULL"
                " ORDER BY g.connection_id, g.created_at"
            ),
            {"t": tenant_id, "ticket": ticket_id},
        ).all()
    )


def messages(
    session: Session, envelope: Envelope, ticket: Ticket, *, staff_only: bool
) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The ``next`` messages to post, and the connections to close (expired, or no longer
    an active member)."""
    from servicedesk.realtime import broadcaster

    rows = _rows(session, envelope.tenant_id, ticket.id)
    if not rows:
        return [], []
    now = datetime.now(UTC)
    groups: dict[tuple[uuid.UUID, Role, Access], list[Subscriber]] = defaultdict(list)
    closing: set[str] = set()
    for row in rows:
        role, granted = broadcaster.member(row)
        if row.expires_at <= now or role is None or granted is None:
            closing.add(row.connection_id)
            continue
        target = broadcaster.Target(row.connection_id, row.user_id, role, row.expires_at)
        target.access = granted
        if staff_only and not broadcaster.hears_internal(target, ticket.team_id):
            continue
        selection = (row.document, json.dumps(row.variables, sort_keys=True), row.operation_name)
        groups[(row.user_id, role, granted)].append(
            Subscriber(row.connection_id, row.operation_id, selection)
        )
    seeing = broadcaster.visible_to(session, envelope.tenant_id, ticket.id, set(groups))
    out: list[tuple[str, bytes]] = []
    try:
        for (user_id, role, granted), subscribers in groups.items():
            if user_id in seeing:
                ctx = RequestContext.of(session, envelope.tenant_id, user_id, role, granted)
                out.extend(_execute(ctx, envelope, ticket, subscribers))
    finally:
        set_tenant(session, tenant_id=envelope.tenant_id, user_id=None)
    return out, sorted(closing)


def _event(envelope: Envelope, ticket: Ticket) -> Any:
    from strawberry import ID

    from servicedesk.graphql.subscriptions import TicketEvent

    payload = envelope.payload
    comment = _uuid(payload.get("comment_id"))
    fields = payload.get("fields")
    return TicketEvent(
        type=envelope.type,
        event_id=ID(str(envelope.event_id)),
        occurred_at=envelope.created_at,
        ticket_id=ID(str(ticket.id)),
        comment_id=ID(str(comment)) if comment else None,
        fields=([f for f in fields if isinstance(f, str)] if isinstance(fields, list) else None),
    )


def _execute(
    ctx: RequestContext, envelope: Envelope, ticket: Ticket, subscribers: list[Subscriber]
) -> list[tuple[str, bytes]]:
    """Each distinct selection of one principal, executed once as them."""
    from servicedesk.graphql.context import GraphContext
    from servicedesk.graphql.errors import formatted
    from servicedesk.graphql.subscriptions import execute
    from servicedesk.platform.errors import ProblemError

    set_tenant(ctx.session, tenant_id=ctx.tenant_id, user_id=ctx.user_id)
    context = GraphContext(ctx)
    event = _event(envelope, ticket)
    selections = list(dict.fromkeys(s.selection for s in subscribers))

    async def run_all() -> list[Any]:
        # Concurrently, so that the DataLoaders batch across the principal's selections
        # (one thread: the session's statements never interleave).
        return list(
            await asyncio.gather(
                *(execute(context, event, doc, json.loads(v), name) for doc, v, name in selections)
            )
        )

    results = dict(zip(selections, asyncio.run(run_all()), strict=True))
    limit = get_settings().websocket_max_push_bytes
    out: list[tuple[str, bytes]] = []
    for subscriber in subscribers:
        result = results[subscriber.selection]
        errors = list(result.errors or [])
        defects = [
            e
            for e in errors
            if e.original_error is not None and not isinstance(e.original_error, ProblemError)
        ]
        if defects:
            get_logger().error(
                "graphql subscription failed",
                extra={"event_id": str(envelope.event_id), "error": str(defects[0])},
            )
            continue
        payload: dict[str, Any] = {"data": result.data}
        if errors:
            payload["errors"] = [formatted(e) for e in errors]
        out.append((subscriber.connection_id, _encode(subscriber.operation_id, payload, limit)))
    return out


def _encode(operation_id: str, payload: dict[str, Any], limit: int) -> bytes:
    """A ``next`` message; over the push limit, one saying so (an error, no data)."""
    body = json.dumps(
        {"id": operation_id, "type": "next", "payload": payload},
        separators=(",", ":"),
        default=str,
    ).encode()
    if len(body) <= limit:
        return body
    from servicedesk.graphql.errors import request_error

    error = request_error(
        f"the result exceeds {limit} bytes: select fewer fields", "RESULT_TOO_LARGE", 413
    )
    return json.dumps(
        {"id": operation_id, "type": "next", "payload": {"data": None, "errors": [error]}},
        separators=(",", ":"),
    ).encode()
