"""Who hears what. The rules are the `RULES` table; `resolve` applies them to one event.

Two gates hold whatever an audience returns: only active members are notified (and the
invited address of `user.invited`, who is no member yet), never the actor of the event
(except by a rule that exists for them: the requester's acknowledgement `ticket.received`);
and a staff-only event (an internal note, SLA, triage) reaches active staff only — also
when the comment behind a `comment.*` event turns out to be internal.

"Assignee else team" never ends with nobody: a ticket with neither goes to the tenant's
triage audience (`_triage`), as Zendesk's "notify all agents of received request" does.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform.consumer import Envelope
from servicedesk.platform.roles import ROLES, STAFF_ROLES
from servicedesk.tickets.models import Comment, Ticket


class Audience(enum.StrEnum):
    REQUESTER = "requester"  # the ticket's requester
    PARTICIPANTS = "participants"  # participants and CCs (watchers), staff or not
    STAFF_PARTICIPANTS = "staff_participants"
    ASSIGNEE = "assignee"
    # The assignee; without one, the team; without either, the triage audience.
    ASSIGNEE_ELSE_TEAM = "assignee_else_team"
    NEW_ASSIGNEE_ELSE_TEAM = "new_assignee_else_team"  # as the event's payload names them
    ESCALATION = "escalation"  # sla.escalation: payload audience assignee|team|managers
    INVITEE = "invitee"  # payload user_id: the invited participant, or the member added
    ADDRESS = "address"  # payload "to": an e-mail address, no membership


@dataclass(frozen=True)
class Rule:
    always: tuple[Audience, ...] = ()
    by_staff: tuple[Audience, ...] = ()  # added when the actor is staff
    by_customer: tuple[Audience, ...] = ()  # added when the actor is not (requester, CC)
    staff_only: bool = False
    in_app: bool = True
    include_actor: bool = False  # the actor hears of it too (never in-app: they did it)


A = Audience
RULES: dict[str, Rule] = {
    # The requester's "we received your request", whoever opened it (they or an agent).
    "ticket.received": Rule(always=(A.REQUESTER,), include_actor=True),
    "ticket.created": Rule(always=(A.ASSIGNEE_ELSE_TEAM,), staff_only=True),
    "ticket.assigned": Rule(always=(A.NEW_ASSIGNEE_ELSE_TEAM,), staff_only=True),
    "ticket.status_changed": Rule(always=(A.REQUESTER, A.PARTICIPANTS), by_customer=(A.ASSIGNEE,)),
    "comment.public": Rule(
        always=(A.REQUESTER, A.PARTICIPANTS),
        by_staff=(A.ASSIGNEE,),
        by_customer=(A.ASSIGNEE_ELSE_TEAM,),
    ),
    "comment.internal": Rule(always=(A.ASSIGNEE, A.STAFF_PARTICIPANTS), staff_only=True),
    "ticket.invitation_created": Rule(always=(A.INVITEE,)),
    "sla.warning": Rule(always=(A.ASSIGNEE_ELSE_TEAM,), staff_only=True),
    "sla.breached": Rule(always=(A.ASSIGNEE_ELSE_TEAM,), staff_only=True),
    "sla.escalation": Rule(always=(A.ESCALATION,), staff_only=True),
    "user.invited": Rule(always=(A.ADDRESS,), in_app=False),
    # POST /v1/users: the person added (new or already known elsewhere), by mail only.
    "user.added": Rule(always=(A.INVITEE,), in_app=False),
    "signup.requested": Rule(always=(A.ADDRESS,), in_app=False),
}


@dataclass(frozen=True)
class Recipient:
    email: str
    user_id: uuid.UUID | None = None
    name: str = ""
    role: str | None = None

    @property
    def key(self) -> str:
        """The deliveries key: the member, or the bare address of a non-member."""
        return str(self.user_id) if self.user_id else self.email.lower()

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


@dataclass(frozen=True)
class Subject:
    """What the event is about, read once and shared by the audiences."""

    envelope: Envelope
    ticket: Ticket | None
    comment: Comment | None


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _ids(session: Session, sql: str, **params: Any) -> list[uuid.UUID]:
    return [uuid.UUID(str(v)) for v in session.execute(text(sql), params).scalars()]


def _team(session: Session, team_id: uuid.UUID | None) -> list[uuid.UUID]:
    if team_id is None:
        return []
    return _ids(
        session,
        "SELECT tm.user_id FROM team_members tm JOIN memberships m"
        " ON m.tenant_id = tm.tenant_id AND m.user_id = tm.user_id"
        " WHERE tm.team_id = :team AND tm.active AND m.active AND m.role = ANY(:staff)"
        " ORDER BY tm.created_at",
        team=team_id,
        staff=list(STAFF_ROLES),
    )


def _participants(session: Session, ticket: Ticket, *, staff_only: bool) -> list[uuid.UUID]:
    roles = list(STAFF_ROLES if staff_only else ROLES)
    return _ids(
        session,
        "SELECT p.user_id FROM ticket_participants p JOIN memberships m"
        " ON m.tenant_id = p.tenant_id AND m.user_id = p.user_id"
        " WHERE p.ticket_id = :ticket AND m.active AND m.role = ANY(:roles) ORDER BY p.created_at",
        ticket=ticket.id,
        roles=roles,
    )


def _first_with_members(
    session: Session, tenant_id: uuid.UUID, *role_sets: list[str]
) -> list[uuid.UUID]:
    """The active members of the first role set that has any, oldest first."""
    for roles in role_sets:
        found = _ids(
            session,
            "SELECT user_id FROM memberships WHERE tenant_id = :t AND active"
            " AND role = ANY(:roles) ORDER BY created_at",
            t=tenant_id,
            roles=roles,
        )
        if found:
            return found
    return []


def _managers(session: Session, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """The tenant's managers; its admins when it has none, so an escalation is not lost."""
    return _first_with_members(session, tenant_id, ["manager"], ["admin"])


def _triage(session: Session, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """Who hears of a ticket that has no team and no assignee: the tenant's triage team
    (ticket settings `triage_team_id`) if it has active staff; otherwise every active agent
    and manager (Zendesk's "all agents"); its admins when it has neither."""
    from servicedesk.tickets.settings import SECTION

    team = _team(session, SECTION.load(session, tenant_id).triage_team_id)
    if team:
        return team
    return _first_with_members(session, tenant_id, ["agent", "manager"], ["admin"])


def _assignee_else_team(
    session: Session, tenant_id: uuid.UUID, assignee: uuid.UUID | None, team: uuid.UUID | None
) -> list[uuid.UUID]:
    if assignee:
        return [assignee]
    return _team(session, team) if team else _triage(session, tenant_id)


def _audience(session: Session, audience: Audience, subject: Subject) -> list[uuid.UUID]:
    payload, ticket = subject.envelope.payload, subject.ticket
    tenant = subject.envelope.tenant_id
    if audience is A.INVITEE:
        invitee = _uuid(payload.get("user_id"))
        return [invitee] if invitee else []
    if audience is A.NEW_ASSIGNEE_ELSE_TEAM:
        return _assignee_else_team(
            session, tenant, _uuid(payload.get("assignee_id")), _uuid(payload.get("team_id"))
        )
    if audience is A.ESCALATION:
        target = payload.get("audience")
        if target == "managers":
            return _managers(session, tenant)
        if target == "team" and ticket is not None and ticket.team_id is not None:
            return _team(session, ticket.team_id)
        audience = A.ASSIGNEE_ELSE_TEAM
    if ticket is None:
        return []
    by_ticket: dict[Audience, Callable[[], list[uuid.UUID]]] = {
        A.REQUESTER: lambda: [ticket.requester_id],
        A.ASSIGNEE: lambda: [ticket.assignee_id] if ticket.assignee_id else [],
        A.ASSIGNEE_ELSE_TEAM: lambda: _assignee_else_team(
            session, tenant, ticket.assignee_id, ticket.team_id
        ),
        A.PARTICIPANTS: lambda: _participants(session, ticket, staff_only=False),
        A.STAFF_PARTICIPANTS: lambda: _participants(session, ticket, staff_only=True),
    }
    return by_ticket[audience]() if audience in by_ticket else []


def _members(session: Session, tenant_id: uuid.UUID, ids: Iterable[uuid.UUID]) -> list[Recipient]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    rows = session.execute(
        text(
            "SELECT u.id, u.email, u.name, m.role FROM memberships m JOIN users u"
            " ON u.id = m.user_id WHERE m.tenant_id = :t AND m.user_id = ANY(:ids) AND m.active"
        ),
        {"t": tenant_id, "ids": wanted},
    ).all()
    found = {
        uuid.UUID(str(r.id)): Recipient(r.email, uuid.UUID(str(r.id)), r.name, r.role) for r in rows
    }
    return [found[i] for i in wanted if i in found]


def actor_role(session: Session, envelope: Envelope) -> str | None:
    actor = _uuid(envelope.payload.get("actor_id"))
    if actor is None:
        return None
    role = session.execute(
        text("SELECT role FROM memberships WHERE tenant_id = :t AND user_id = :u"),
        {"t": envelope.tenant_id, "u": actor},
    ).scalar()
    return str(role) if role is not None else None


def subject_of(session: Session, envelope: Envelope) -> Subject:
    ticket_id = _uuid(envelope.payload.get("ticket_id"))
    ticket = session.get(Ticket, ticket_id) if ticket_id else None
    comment_id = _uuid(envelope.payload.get("comment_id"))
    comment = session.get(Comment, comment_id) if comment_id else None
    if comment is not None and ticket is not None and comment.ticket_id != ticket.id:
        comment = None
    return Subject(envelope, ticket, comment)


def resolve(
    session: Session, envelope: Envelope, subject: Subject | None = None
) -> list[Recipient]:
    """The recipients of one event, in a stable order, each once."""
    rule = RULES.get(envelope.type)
    if rule is None:
        return []
    if Audience.ADDRESS in rule.always:
        address = str(envelope.payload.get("to") or "").strip()
        return [Recipient(address)] if "@" in address else []
    subject = subject or subject_of(session, envelope)
    if envelope.type.startswith("comment.") and (
        subject.comment is None or subject.comment.deleted_at is not None
    ):
        return []  # deleted before we got to it: nothing left to tell
    role = actor_role(session, envelope)
    audiences = rule.always
    if role is not None:
        audiences += rule.by_staff if role in STAFF_ROLES else rule.by_customer
    ids: list[uuid.UUID] = []
    for audience in audiences:
        ids.extend(_audience(session, audience, subject))
    # Defence in depth: whatever the event is called, an internal comment is for staff.
    internal = subject.comment is not None and subject.comment.visibility != "public"
    staff_only = rule.staff_only or internal
    actor = None if rule.include_actor else _uuid(envelope.payload.get("actor_id"))
    return [
        r
        for r in _members(session, envelope.tenant_id, ids)
        if r.user_id != actor and (r.is_staff or not staff_only)
    ]
