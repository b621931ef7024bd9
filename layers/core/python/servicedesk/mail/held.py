"""Staff's side of the intake: held mail (list, show with the original, accept as a
comment or a ticket, discard; agents and up), the log of ignored and rejected mail
(managers and up), and the original of any message that made a ticket or comment (staff
who may see that ticket). No HTTP here, and no commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select

from servicedesk.mail import decide, inbox, people, records
from servicedesk.mail.intake import parse_raw, read_raw
from servicedesk.mail.message import ParsedMail
from servicedesk.mail.models import InboundMail
from servicedesk.platform import audit, aws
from servicedesk.platform.config import get_settings
from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import Conflict, Forbidden, NotFound, field_error
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version
from servicedesk.tickets import comments, permissions
from servicedesk.tickets import service as tickets
from servicedesk.tickets.models import Ticket
from servicedesk.tickets.schemas import CommentCreate, TicketCreate

NEWEST_FIRST = Keyset(
    [Key(InboundMail.created_at, TIMESTAMP), Key(InboundMail.id, UUID)], descending=True
)
RAW_URL_SECONDS = 300
LOGGED = ("ignored", "rejected")


def _held(ctx: RequestContext) -> Select[Any]:
    return select(InboundMail).where(
        InboundMail.tenant_id == ctx.tenant_id,
        InboundMail.outcome == "held",
        InboundMail.resolved_at.is_(None),
    )


def list_held(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[InboundMail], str | None]:
    return paginate(ctx.session, _held(ctx), NEWEST_FIRST, limit=limit, cursor=cursor)


def list_log(
    ctx: RequestContext, *, outcome: str | None, limit: int, cursor: str | None
) -> tuple[list[InboundMail], str | None]:
    """Every message the intake took for the tenant, newest first (managers: the ignored
    and rejected ones are only here)."""
    query = select(InboundMail).where(InboundMail.tenant_id == ctx.tenant_id)
    if outcome is not None:
        query = query.where(InboundMail.outcome == outcome)
    return paginate(ctx.session, query, NEWEST_FIRST, limit=limit, cursor=cursor)


def list_for_ticket(ctx: RequestContext, *, ticket_id: uuid.UUID) -> list[InboundMail]:
    """The messages that made the ticket or its comments (a ticket the caller may see)."""
    tickets.get_visible(ctx, ticket_id)
    return list(
        ctx.session.scalars(
            select(InboundMail)
            .where(
                InboundMail.tenant_id == ctx.tenant_id,
                InboundMail.ticket_id == ticket_id,
                InboundMail.comment_id.is_not(None)
                | (InboundMail.outcome == "ticket")
                | (InboundMail.resolution == "ticket"),
            )
            .order_by(InboundMail.created_at, InboundMail.id)
            .limit(200)
        )
    )


def get_message(ctx: RequestContext, mail_id: uuid.UUID, *, lock: bool = False) -> InboundMail:
    """One message, for staff: held mail for agents; ignored and rejected mail for
    managers; a message that made a ticket or comment for whoever may see that ticket."""
    query = select(InboundMail).where(
        InboundMail.tenant_id == ctx.tenant_id, InboundMail.id == mail_id
    )
    row = ctx.session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is None or not ctx.can(Permission.MAIL_TRIAGE):
        raise NotFound("no such message")
    if row.outcome in LOGGED and not ctx.can(Permission.MAIL_LOG):
        raise NotFound("no such message")
    if row.outcome in ("ticket", "comment") and row.ticket_id is not None:
        try:
            tickets.get_visible(ctx, row.ticket_id)
        except NotFound:
            raise NotFound("no such message") from None
    return row


@dataclass(frozen=True)
class OriginalView:
    mail: InboundMail
    headers: list[tuple[str, str]]
    text: str
    reply_text: str
    attachments: list[dict[str, Any]]
    defects: list[str]
    raw_url: str | None


def _arrival(row: InboundMail) -> inbox.Arrival:
    return inbox.Arrival(
        bucket=row.bucket,
        key=row.object_key,
        message_id=row.ses_message_id,
        door=row.door,
        mail_from=row.mail_from,
        recipients=tuple(row.recipients),
        received_at=row.received_at,
        verdicts={k: str(v) for k, v in row.verdicts.items()},
    )


def _parsed(row: InboundMail) -> ParsedMail | None:
    raw = read_raw(_arrival(row))
    if raw is None:
        return None
    parsed = parse_raw(raw, get_settings())
    return parsed if isinstance(parsed, ParsedMail) else None


def original(ctx: RequestContext, mail_id: uuid.UUID) -> OriginalView:
    row = get_message(ctx, mail_id)
    parsed = _parsed(row)
    url = aws.s3().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": row.bucket,
            "Key": row.object_key,
            "ResponseContentType": "message/rfc822",
            "ResponseContentDisposition": 'attachment; filename="message.eml"',
        },
        ExpiresIn=RAW_URL_SECONDS,
    )
    return OriginalView(
        mail=row,
        headers=list(parsed.headers) if parsed else [],
        text=parsed.text if parsed else row.body,
        reply_text=parsed.reply_text if parsed else row.reply_text,
        attachments=[
            {"filename": a.filename, "content_type": a.content_type, "size": len(a.content)}
            for a in (parsed.attachments if parsed else ())
        ],
        defects=list(parsed.defects) if parsed else ["the raw message is no longer stored"],
        raw_url=url,
    )


def _unresolved_held(ctx: RequestContext, mail_id: uuid.UUID, version: int | None) -> InboundMail:
    row = get_message(ctx, mail_id, lock=True)
    if row.outcome != "held":
        raise NotFound("no such held message")
    if version is not None:
        check_version(row.version, version, what="held message")
    if row.resolved_at is not None:
        raise Conflict(f"the message was already {row.resolution}")
    return row


def _sender(ctx: RequestContext, row: InboundMail) -> people.Sender:
    """Who the accepted message is by: its sender, made a requester if unknown (an agent
    vouched for it)."""
    address = row.from_address or ""
    found = people.member(ctx.session, ctx.tenant_id, address) if address else None
    if found is None:
        from servicedesk.notifications.mailer import sendable

        if not sendable(address):
            raise Conflict("the sender's address cannot become a member; discard the message")
        found = people.make_requester(ctx.session, ctx.tenant_id, address, row.from_name)
    if not found.active:
        raise Conflict("the sender is not an active member")
    return found


def _as_sender(ctx: RequestContext, sender: people.Sender) -> RequestContext:
    set_tenant(ctx.session, tenant_id=ctx.tenant_id, user_id=sender.user_id)
    return RequestContext(
        session=ctx.session,
        tenant_id=ctx.tenant_id,
        user_id=sender.user_id,
        role=sender.role,
        request_id=ctx.request_id,
    )


def _resolved(ctx: RequestContext, row: InboundMail, resolution: str, **data: Any) -> InboundMail:
    set_tenant(ctx.session, tenant_id=ctx.tenant_id, user_id=ctx.user_id)
    row.resolution = resolution
    row.resolved_by = ctx.user_id
    row.resolved_at = datetime.now(UTC)
    row.version += 1
    ctx.session.flush()
    audit.record(
        ctx,
        action=f"mail.held_{resolution}",
        entity_type="inbound_mail",
        entity_id=row.id,
        data=data,
    )
    return row


def accept_as_comment(
    ctx: RequestContext, *, mail_id: uuid.UUID, ticket_id: uuid.UUID, version: int | None
) -> InboundMail:
    """A public comment by the sender on a ticket the caller may edit; the sender takes
    part in it from now on."""
    row = _unresolved_held(ctx, mail_id, version)
    ticket = tickets.get_visible(ctx, ticket_id, for_update=True)
    if not permissions.may_edit(ctx, ticket):
        raise Forbidden(errors=[field_error("ticket_id", "you may not edit this ticket")])
    sender = _sender(ctx, row)
    if not sender.role.is_staff and ticket.requester_id != sender.user_id:
        tickets.enroll(ctx, ticket, sender.user_id)
    parsed = _parsed(row)
    body = (row.reply_text.strip() or row.body.strip())[: decide.COMMENT_CHARS] or decide.EMPTY_BODY
    author = _as_sender(ctx, sender)
    comment = comments.add(author, ticket_id=ticket.id, data=CommentCreate(body=body))
    row.notes = [*row.notes, *records.record_received(author, ticket, row, parsed, comment.id)]
    return _resolved(ctx, row, "comment", ticket_id=ticket.id, comment_id=comment.id)


def accept_as_ticket(
    ctx: RequestContext, *, mail_id: uuid.UUID, version: int | None, title: str | None = None
) -> Ticket:
    """A new ticket by the sender, as if the intake had opened it."""
    row = _unresolved_held(ctx, mail_id, version)
    sender = _sender(ctx, row)
    parsed = _parsed(row)
    author = _as_sender(ctx, sender)
    ticket = tickets.create(
        author,
        data=TicketCreate(
            title=title
            or (" ".join(row.subject.split())[: decide.TITLE_CHARS] or decide.NO_SUBJECT),
            description=(row.body.strip() or row.reply_text.strip())[: decide.DESCRIPTION_CHARS],
        ),
        channel="email",
    )
    row.notes = [*row.notes, *records.record_received(author, ticket, row, parsed, None)]
    _resolved(ctx, row, "ticket", ticket_id=ticket.id)
    return ticket


def discard(
    ctx: RequestContext, *, mail_id: uuid.UUID, version: int | None, note: str = ""
) -> InboundMail:
    row = _unresolved_held(ctx, mail_id, version)
    return _resolved(ctx, row, "discarded", note=note)
