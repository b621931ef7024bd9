"""What the intake writes for a message besides its ticket or comment: its claim on the
tenant's log (the dedupe), and what goes with a ticket or comment made of it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from servicedesk.mail import files
from servicedesk.mail.addresses import Destination
from servicedesk.mail.inbox import Arrival
from servicedesk.mail.message import ParsedMail, Unparseable
from servicedesk.mail.models import InboundMail
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import timeline
from servicedesk.tickets.models import Ticket


def cut(value: str | None, limit: int) -> str:
    """At most ``limit`` characters (what a column's check allows); None as empty."""
    return (value or "")[:limit]


def record_received(
    ctx: RequestContext,
    ticket: Ticket,
    row: InboundMail,
    mail: ParsedMail | None,
    comment_id: uuid.UUID | None,
) -> list[Any]:
    """What goes with a ticket or comment made of a message: its attachments (the notes
    of those refused are returned), the timeline's "received by e-mail", its Message-ID
    for threading, and the links on its log row."""
    notes: list[Any] = files.store(ctx, ticket, comment_id, mail.attachments) if mail else []
    timeline.event(
        ctx,
        ticket,
        "received_by_email",
        # The message itself is for staff (the mail API); the timeline says only how it came.
        payload={"comment_id": comment_id} if comment_id else {},
    )
    if mail is not None and mail.message_id:
        ctx.session.execute(
            text(
                "INSERT INTO mail_message_ids (tenant_id, message_id, ticket_id, direction)"
                " VALUES (:t, :m, :ticket, 'in') ON CONFLICT DO NOTHING"
            ),
            {"t": ctx.tenant_id, "m": mail.message_id[:998], "ticket": ticket.id},
        )
    row.sender_id = ctx.user_id
    row.ticket_id = ticket.id
    row.comment_id = comment_id
    return notes


def claim(
    session: Session,
    destination: Destination,
    arrival: Arrival,
    size: int,
    parsed: ParsedMail | Unparseable,
) -> uuid.UUID | None:
    """The message's row in the tenant's log, or None when it was taken before (the same
    object, or the same Message-ID from the same sender): the unique constraints decide,
    and a concurrent copy waits for this transaction, then finds it."""
    mail = parsed if isinstance(parsed, ParsedMail) else None
    row_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": row_id,
        "tenant_id": destination.tenant_id,
        "door": arrival.door,
        "object_key": cut(arrival.key, 1024),
        "bucket": cut(arrival.bucket, 255),
        "ses_message_id": cut(arrival.message_id, 256),
        "message_id": cut(mail.message_id, 998) or None if mail else None,
        "mail_from": cut(arrival.mail_from, 320),
        "from_address": cut(mail.from_address, 320) or None if mail else None,
        "from_name": cut(mail.from_name, 200) if mail else "",
        "subject": cut(mail.subject, 998) if mail else "",
        "recipients": list(arrival.recipients),
        "size_bytes": size,
        "verdicts": arrival.verdicts,
        "auto": cut(mail.auto, 64) or None if mail else None,
        "alias_id": destination.alias_ids[0] if destination.alias_ids else None,
        "outcome": "ignored",
        "reason": "processing",
        "received_at": arrival.received_at,
    }
    found = session.execute(
        insert(InboundMail).values(values).on_conflict_do_nothing().returning(InboundMail.id)
    ).scalar()
    return row_id if found is not None else None
