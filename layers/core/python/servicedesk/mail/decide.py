"""What becomes of one message in one tenant, decided and written in the tenant's
transaction (``intake.take`` opens it and commits once).

The order: claim (dedupe) -> refuse what cannot be taken (unparseable, virus) -> ignore
machine and junk mail (spam verdict, null sender, auto-replies and bounces, our own mail
coming back) -> hold a sender over the rate limit -> thread (``mail.thread``) -> a
comment by a participant, a held message for anyone else -> else a new ticket by a member,
or by an unknown sender made a requester when the tenant allows it. Tickets and comments
are written as their sender through the tickets domain (its permissions, SLA clock,
timeline, audit and outbox); a write it refuses is rolled back to its savepoint and the
message is held with the reason, never half-written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from servicedesk.mail import people, records, thread
from servicedesk.mail.addresses import Destination
from servicedesk.mail.inbox import Arrival
from servicedesk.mail.message import ParsedMail, Unparseable
from servicedesk.mail.models import InboundMail, MailAddress
from servicedesk.mail.settings import SECTION, MailSettings
from servicedesk.notifications import mailer, templates
from servicedesk.platform import outbox
from servicedesk.platform.config import Settings
from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import ProblemError
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import comments, links, states
from servicedesk.tickets import service as tickets
from servicedesk.tickets.models import Ticket
from servicedesk.tickets.schemas import CommentCreate, TicketCreate

NO_SUBJECT = "(no subject)"
EMPTY_BODY = "(no text: see the attachments)"
TITLE_CHARS, DESCRIPTION_CHARS, COMMENT_CHARS = 200, 20_000, 50_000


@dataclass(frozen=True)
class Decision:
    tenant_id: uuid.UUID
    outcome: str  # ticket | comment | held | ignored | rejected ("" for a duplicate)
    reason: str
    duplicate: bool = False
    inbound_id: uuid.UUID | None = None
    ticket_id: uuid.UUID | None = None
    comment_id: uuid.UUID | None = None


def decide(
    session: Session,
    destination: Destination,
    arrival: Arrival,
    size: int,
    parsed: ParsedMail | Unparseable,
    settings: Settings,
) -> Decision:
    row_id = records.claim(session, destination, arrival, size, parsed)
    if row_id is None:
        return Decision(destination.tenant_id, "", "duplicate", duplicate=True)
    row = session.get(InboundMail, row_id)
    assert row is not None
    work = _Work(session, destination, arrival, settings, row)
    if isinstance(parsed, Unparseable):
        work.finish("rejected", parsed.reason, parsed.detail)
    else:
        work.run(parsed)
    return work.decision()


class _Work:
    def __init__(
        self,
        session: Session,
        destination: Destination,
        arrival: Arrival,
        settings: Settings,
        row: InboundMail,
    ) -> None:
        self.session = session
        self.tenant_id = destination.tenant_id
        self.destination = destination
        self.arrival = arrival
        self.settings = settings
        self.row = row
        self.notes: list[Any] = []
        self.quiet = False  # a held message staff were already told of (rate limit)
        self._headers_to: tuple[str, ...] = ()  # To and Cc, for forwarded aliases

    # --- outcomes -------------------------------------------------------------------

    def finish(self, outcome: str, reason: str, detail: str = "") -> None:
        row = self.row
        row.outcome, row.reason, row.detail = outcome, reason[:64], detail[:1000]
        row.notes = self.notes
        self.session.flush()
        event = {"ticket": "mail.received", "comment": "mail.received"}.get(outcome)
        if outcome == "held" and not self.quiet:
            event = "mail.held"
        elif outcome == "rejected":
            event = "mail.rejected"
        if event:
            outbox.emit(
                self.session,
                tenant_id=self.tenant_id,
                event_type=event,
                aggregate_type="inbound_mail",
                aggregate_id=row.id,
                payload={
                    "inbound_mail_id": row.id,
                    "outcome": outcome,
                    "reason": row.reason,
                    "ticket_id": row.ticket_id,
                    "comment_id": row.comment_id,
                },
            )

    def decision(self) -> Decision:
        row = self.row
        return Decision(
            self.tenant_id,
            row.outcome,
            row.reason,
            inbound_id=row.id,
            ticket_id=row.ticket_id,
            comment_id=row.comment_id,
        )

    def hold(self, reason: str, detail: str = "", ticket: Ticket | None = None) -> None:
        if ticket is not None:
            self.row.ticket_id = ticket.id  # the ticket it seems to answer, for the agent
        self.finish("held", reason, detail)

    # --- the decision ---------------------------------------------------------------

    def _junk(self, mail: ParsedMail) -> tuple[str, str] | None:  # noqa: PLR0911 - one per rule
        """(outcome, reason) for mail that is refused or ignored before anything else."""
        verdicts = self.arrival.verdicts
        if verdicts.get("virus") == "FAIL":
            return "rejected", "virus"
        if verdicts.get("spam") == "FAIL":
            return "ignored", "spam"
        if mail.auto:  # before the null sender: a bounce says what it is
            return "ignored", mail.auto
        if not self.arrival.mail_from or self.arrival.mail_from == "<>":
            return "ignored", "null_sender"
        if not mail.from_address:
            return "rejected", "no_sender"
        if self._our_own(mail):
            return "ignored", "own_message"
        return None

    def run(self, mail: ParsedMail) -> None:
        self.row.body = mail.text[:200_000]
        self.row.reply_text = mail.reply_text[:200_000]
        junk = self._junk(mail)
        if junk is not None:
            return self.finish(*junk)
        assert mail.from_address is not None
        config = SECTION.load(self.session, self.tenant_id)
        if self._over_rate(mail.from_address, config):
            return self.hold("rate_limited", f"more than {config.sender_max_messages} messages")
        sender = people.member(self.session, self.tenant_id, mail.from_address)
        threaded = thread.find(
            self.session,
            self.tenant_id,
            mail,
            self.settings,
            envelope_tickets=self.destination.reply_tickets,
            sender_id=sender.user_id if sender and sender.active else None,
            sender_is_staff=bool(sender and sender.active and sender.role.is_staff),
        )
        self.notes.extend(threaded.notes)
        if threaded.ticket is not None:
            return self._reply(mail, threaded.ticket, sender, config, threaded.how)
        return self._open(mail, sender, config)

    def _our_own(self, mail: ParsedMail) -> bool:
        """A mail we sent coming back: its Message-ID is one of ours, or it is from us."""
        domain = templates.reply_domain(self.settings).lower()
        ours = {parseaddr(self.settings.email_sender)[1].lower()}
        if mail.from_address in ours or (mail.from_address or "").endswith(f"@{domain}"):
            return True
        if not mail.message_id:
            return False
        if mail.message_id.lower().endswith(f"@{domain}>"):
            return True
        found = self.session.execute(
            text(
                "SELECT 1 FROM mail_message_ids WHERE tenant_id = :t AND message_id = :m"
                " AND direction = 'out'"
            ),
            {"t": self.tenant_id, "m": mail.message_id},
        ).first()
        return found is not None

    def _over_rate(self, sender: str, config: MailSettings) -> bool:
        since = datetime.now(UTC) - timedelta(minutes=config.sender_window_minutes)
        counts = self.session.execute(
            select(
                func.count(),
                func.count().filter(InboundMail.reason == "rate_limited"),
            ).where(
                InboundMail.tenant_id == self.tenant_id,
                InboundMail.from_address == sender,
                InboundMail.created_at > since,
                InboundMail.id != self.row.id,
            )
        ).one()
        over = int(counts[0]) >= config.sender_max_messages
        self.quiet = over and int(counts[1]) > 0  # staff hear once per window
        return over

    # --- writing as the sender --------------------------------------------------------

    def _as(self, sender: people.Sender, *, elevated: bool = False) -> RequestContext:
        set_tenant(self.session, tenant_id=self.tenant_id, user_id=sender.user_id)
        role = sender.role
        if elevated and not role.is_staff:
            role = Role.AGENT  # only to apply the alias's team, which staff set (see _open)
        return RequestContext(
            session=self.session,
            tenant_id=self.tenant_id,
            user_id=sender.user_id,
            role=role,
            request_id=f"mail:{self.row.id}",
        )

    def _attempt(self, write: Any) -> bool:
        """Run ``write`` in a savepoint; a refusal of the tickets domain rolls it back and
        holds the message with the reason."""
        try:
            with self.session.begin_nested():
                write()
                self.session.flush()
        except ProblemError as exc:
            self.row = self.session.get(InboundMail, self.row.id) or self.row
            self.hold("refused", str(exc))
            return False
        return True

    def _reply(
        self,
        mail: ParsedMail,
        ticket: Ticket,
        sender: people.Sender | None,
        config: MailSettings,
        how: str,
    ) -> None:
        self.notes.append(f"threaded_by_{how}")
        if sender is None or not sender.active:
            return self.hold("not_participant", ticket=ticket)
        ctx = self._as(sender)
        if not thread.takes_part(self.session, ticket, sender.user_id, sender.role.is_staff):
            return self.hold("not_participant", ticket=ticket)
        if ticket.status in states.FINISHED_STATUSES:
            finished = ticket.resolved_at if ticket.status == "resolved" else ticket.closed_at
            window = tickets.load_settings(ctx).reopen_window_days
            reopen = config.closed_ticket_reply == "reopen" and (
                ctx.is_staff
                or states.reopen_allowed(
                    states.Status(ticket.status),
                    finished,
                    now=datetime.now(UTC),
                    window_days=window,
                )
            )
            if config.closed_ticket_reply == "hold":
                return self.hold("ticket_closed", ticket=ticket)
            if not reopen:
                return self._open(mail, sender, config, follows=ticket)
        body = (
            records.cut(mail.reply_text.strip() or mail.text.strip(), COMMENT_CHARS) or EMPTY_BODY
        )
        made: dict[str, Any] = {}

        def write() -> None:
            current = tickets.get_visible(ctx, ticket.id, for_update=True)
            if current.status in states.FINISHED_STATUSES:
                tickets.apply_status(ctx, current, states.Status.OPEN)
            comment = comments.add(ctx, ticket_id=current.id, data=CommentCreate(body=body))
            self.notes.extend(records.record_received(ctx, current, self.row, mail, comment.id))
            made["comment"] = comment

        if self._attempt(write):
            self.finish("comment", how)

    def _alias(self) -> MailAddress | None:
        found = None
        for alias_id in self.destination.alias_ids:
            found = self.session.get(MailAddress, alias_id)
            if found is not None:
                break
        if found is None:
            found = self._alias_in_headers()
        if found is not None:
            self.row.alias_id = found.id
        return found

    def _alias_in_headers(self) -> MailAddress | None:
        """A forwarded alias (the tenant's own support@…): the envelope names the default
        address, the alias is in To/Cc."""
        named = [a.lower() for a in self._headers_to]
        if not named:
            return None
        return self.session.scalars(
            select(MailAddress)
            .where(MailAddress.tenant_id == self.tenant_id, MailAddress.address.in_(named))
            .order_by(MailAddress.address)
            .limit(1)
        ).first()

    def _open(
        self,
        mail: ParsedMail,
        sender: people.Sender | None,
        config: MailSettings,
        *,
        follows: Ticket | None = None,
    ) -> None:
        """A new ticket by the sender (made a requester if unknown and allowed)."""
        address = mail.from_address or ""
        if sender is None:
            if not config.unknown_senders_may_open:
                return self.hold("unknown_sender")
            if not mailer.sendable(address):
                return self.hold("unusable_sender")
            sender = people.make_requester(self.session, self.tenant_id, address, mail.from_name)
        if not sender.active:
            return self.hold("inactive_sender")
        self._headers_to = (*mail.to, *mail.cc)
        alias = self._alias()
        fields: dict[str, Any] = {
            "title": records.cut(" ".join(mail.subject.split()), TITLE_CHARS) or NO_SUBJECT,
            "description": records.cut(
                mail.text.strip() or mail.reply_text.strip(), DESCRIPTION_CHARS
            ),
        }
        if alias is not None and alias.category_id is not None:
            fields["category_id"] = alias.category_id
        if alias is not None and alias.team_id is not None:
            fields["team_id"] = alias.team_id
        # The alias's team is the tenant's routing (set by an admin), applied for whoever
        # writes in: the create runs with an agent's right to set a team, nothing more.
        ctx = self._as(sender, elevated="team_id" in fields)

        def write() -> None:
            ticket = tickets.create(ctx, data=TicketCreate(**fields), channel="email")
            if follows is not None:
                links.link(ctx, ticket_id=ticket.id, target_id=follows.id, kind="relates_to")
            self.notes.extend(records.record_received(ctx, ticket, self.row, mail, None))

        if self._attempt(write):
            self.finish("ticket", "follow_up" if follows is not None else "new")
