"""Which ticket a message answers, in this order (issue 17 item 5):

1. a signed reply address (``reply+<number>.<hmac>@<reply domain>``) among the envelope
   recipients (checked when routing) or the To/Cc headers (a forwarded copy); the HMAC
   covers the ticket id and is compared with ``hmac.compare_digest``;
2. ``In-Reply-To``/``References`` against the Message-IDs we sent and received for the
   tenant's tickets (``mail_message_ids``), and the per-ticket thread id our mail carries;
3. the ticket number in the subject (``[TCK-…]``), only when the sender takes part in it;
4. else none: a new ticket.

Everything is looked up inside the tenant's transaction (RLS), and each ticket found is
checked to be the tenant's: a token or header naming another tenant's ticket finds
nothing. A merged ticket is followed to the ticket it was merged into.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from servicedesk.mail import addresses
from servicedesk.mail.message import ParsedMail
from servicedesk.notifications import templates
from servicedesk.platform.config import Settings
from servicedesk.tickets.models import Participant, Ticket

SUBJECT_NUMBER = re.compile(r"\[([A-Z]{2,8}-[0-9]{4}-[0-9]{6,})\]")
THREAD_ID = re.compile(r"^<ticket-([0-9a-f-]{36})@(.+)>$")
MAX_MERGE_HOPS = 10
MAX_HEADER_IDS = 50


@dataclass
class Thread:
    ticket: Ticket | None = None
    how: str = ""  # "token" | "in_reply_to" (or References) | "subject" | ""
    notes: list[str] = field(default_factory=list)


def _ticket(session: Session, tenant_id: uuid.UUID, ticket_id: uuid.UUID) -> Ticket | None:
    found = session.scalars(
        select(Ticket).where(Ticket.tenant_id == tenant_id, Ticket.id == ticket_id)
    ).one_or_none()
    # RLS already hides other tenants' rows; the explicit check stays on purpose.
    return found if found is not None and found.tenant_id == tenant_id else None


def _by_number(session: Session, tenant_id: uuid.UUID, number: str) -> Ticket | None:
    return session.scalars(
        select(Ticket).where(Ticket.tenant_id == tenant_id, Ticket.number == number)
    ).one_or_none()


def follow_merges(session: Session, ticket: Ticket) -> Ticket:
    hops = 0
    while ticket.merged_into_id is not None and hops < MAX_MERGE_HOPS:
        target = _ticket(session, ticket.tenant_id, ticket.merged_into_id)
        if target is None:
            break
        ticket, hops = target, hops + 1
    return ticket


def _by_token(
    session: Session,
    tenant_id: uuid.UUID,
    envelope: list[uuid.UUID],
    mail: ParsedMail,
    settings: Settings,
    thread: Thread,
) -> Ticket | None:
    for ticket_id in envelope:  # verified when routing
        found = _ticket(session, tenant_id, ticket_id)
        if found is not None:
            return found
    for address in (*mail.to, *mail.cc):
        token = addresses.reply_token_of(address, settings)
        if token is None:
            continue
        number, signature = token
        candidate = _by_number(session, tenant_id, number)
        if candidate is not None and addresses.token_matches(candidate.id, signature, settings):
            return candidate
        thread.notes.append("forged_or_foreign_reply_token")
    return None


def _by_headers(
    session: Session, tenant_id: uuid.UUID, mail: ParsedMail, settings: Settings
) -> Ticket | None:
    ids = list(dict.fromkeys((*reversed(mail.references), *mail.in_reply_to)))[-MAX_HEADER_IDS:]
    if not ids:
        return None
    row = session.execute(
        text(
            "SELECT ticket_id FROM mail_message_ids WHERE tenant_id = :t"
            " AND message_id = ANY(CAST(:ids AS text[])) ORDER BY created_at DESC LIMIT 1"
        ),
        {"t": tenant_id, "ids": ids},
    ).first()
    if row is not None:
        return _ticket(session, tenant_id, row.ticket_id)
    domain = templates.reply_domain(settings).lower()
    for message_id in ids:
        found = THREAD_ID.fullmatch(message_id.lower())
        if found is not None and found.group(2) == domain:
            try:
                ticket = _ticket(session, tenant_id, uuid.UUID(found.group(1)))
            except ValueError:
                continue
            if ticket is not None:
                return ticket
    return None


def takes_part(session: Session, ticket: Ticket, user_id: uuid.UUID | None, staff: bool) -> bool:
    """The requester, a participant (CC), or a staff member of the tenant."""
    if user_id is None:
        return False
    if staff or ticket.requester_id == user_id:
        return True
    return session.get(Participant, (ticket.id, user_id)) is not None


def find(
    session: Session,
    tenant_id: uuid.UUID,
    mail: ParsedMail,
    settings: Settings,
    *,
    envelope_tickets: list[uuid.UUID],
    sender_id: uuid.UUID | None,
    sender_is_staff: bool,
) -> Thread:
    thread = Thread()
    found = _by_token(session, tenant_id, envelope_tickets, mail, settings, thread)
    if found is not None:
        thread.ticket, thread.how = follow_merges(session, found), "token"
        return thread
    found = _by_headers(session, tenant_id, mail, settings)
    if found is not None:
        thread.ticket, thread.how = follow_merges(session, found), "in_reply_to"
        return thread
    number = SUBJECT_NUMBER.search(mail.subject.upper())
    if number is not None:
        candidate = _by_number(session, tenant_id, number.group(1))
        if candidate is not None:
            candidate = follow_merges(session, candidate)
            if takes_part(session, candidate, sender_id, sender_is_staff):
                thread.ticket, thread.how = candidate, "subject"
            else:
                thread.notes.append("subject_number_from_non_participant")
    return thread
