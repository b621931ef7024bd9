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

from sqlalchemy import select, text
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
    TRIAGE = "triage"  # the triage audience, whatever the ticket (held mail: mail.held)
    NAMED = "named"  # payload user_ids: the people an automation rule's notify named


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
    # An admin reset the person's two-step verification (identity/mfa_routes.py).
    "user.mfa_reset": Rule(always=(A.INVITEE,), in_app=False),
    "signup.requested": Rule(always=(A.ADDRESS,), in_app=False),
    # Nobody when the address has no account (payload "to" is null): the request did the
    # same work either way, and an address without an account is not mailed.
    "account.password_reset": Rule(always=(A.ADDRESS,), in_app=False),
    "account.email_verification": Rule(always=(A.ADDRESS,), in_app=False),
    # Self-registration's confirmation link (identity.registration), in the organisation.
    "account.registration": Rule(always=(A.ADDRESS,), in_app=False),
    # The intake held a message for an agent (servicedesk.mail; once per window for a
    # sender over the rate limit).
    "mail.held": Rule(always=(A.TRIAGE,), staff_only=True),
    # An asynchronous export is ready (servicedesk.exports): its owner (payload user_id),
    # in-app, by mail and on their realtime channel.
    "export.ready": Rule(always=(A.INVITEE,), staff_only=True),
    # A CMDB import job ended (servicedesk.cmdb.import_worker): its requester, likewise.
    "ci.import_finished": Rule(always=(A.INVITEE,), staff_only=True),
    # An automation rule's notify action (servicedesk.automation): the people it named,
    # resolved when it fired (requester, assignee, team, participants, user ids).
    "automation.notify": Rule(always=(A.NAMED,)),
    # An approval stage waits for these approvers (servicedesk/approvals): started,
    # reminded at its due time (the undecided ones), escalated (the approvers added). The
    # mail carries each approver's signed approve / reject links.
    "approval.requested": Rule(always=(A.NAMED,)),
    "approval.escalated": Rule(always=(A.NAMED,)),
    # A task's assignee and watchers (payload user_ids, named when the event was written:
    # servicedesk.projects.tasks.emit), never the actor.
    "task.created": Rule(always=(A.NAMED,), staff_only=True),
    "task.updated": Rule(always=(A.NAMED,), staff_only=True),
    "task.moved": Rule(always=(A.NAMED,), staff_only=True),
    "task.commented": Rule(always=(A.NAMED,), staff_only=True),
}


@dataclass(frozen=True)
class Recipient:
    email: str
    user_id: uuid.UUID | None = None
    name: str = ""
    role: str | None = None
    # A requester who has no other way to sign in (no password, no identity provider):
    # their link generation, signed into the magic link their ticket mail carries.
    link_generation: int | None = None
    # Internal notes: ``comment:internal`` held (a custom role's permissions, else the
    # built-in role's), on ``internal_team``'s tickets only for a team-scoped custom role.
    internal_notes: bool = False
    internal_team: uuid.UUID | None = None

    def reads_internal(self, ticket: Ticket | None) -> bool:
        if not (self.is_staff and self.internal_notes):
            return False
        return self.internal_team is None or (
            ticket is not None and ticket.team_id == self.internal_team
        )

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


class Lookup:
    """The reads that resolving recipients needs, each made once per transaction and tenant:
    the events of one SQS batch share them (the triage audience, a team, members, actors,
    tickets). The consumers write none of what is read here."""

    def __init__(self, session: Session, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self._lists: dict[tuple[Any, ...], list[uuid.UUID]] = {}
        self._members: dict[uuid.UUID, Recipient | None] = {}
        self._actors: dict[uuid.UUID, tuple[str | None, str | None]] = {}
        self._tenant: Any = None
        self._loaded: list[Any] = []

    def ids(self, sql: str, **params: Any) -> list[uuid.UUID]:
        key = (sql, *sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
        if key not in self._lists:
            rows = self.session.execute(text(sql), params).scalars()
            self._lists[key] = [uuid.UUID(str(v)) for v in rows]
        return self._lists[key]

    def tenant(self) -> Any:
        """The tenant's name, slug and settings (branding, ticket settings)."""
        if self._tenant is None:
            self._tenant = self.session.execute(
                text("SELECT name, slug, settings FROM tenants WHERE id = :t"),
                {"t": self.tenant_id},
            ).one()
        return self._tenant

    def prefetch(self, envelopes: Iterable[Envelope]) -> None:
        """The tickets, comments and actors the events name, one statement each; the
        tickets and comments land in the session, where `subject_of` finds them."""
        events = list(envelopes)
        for model, field in ((Ticket, "ticket_id"), (Comment, "comment_id")):
            wanted = {i for e in events if (i := _uuid(e.payload.get(field))) is not None}
            if wanted:  # held here: the session's identity map keeps only weak references
                self._loaded += self.session.scalars(select(model).where(model.id.in_(wanted)))
        self._read_actors({i for e in events if (i := _uuid(e.payload.get("actor_id")))})

    def _read_actors(self, ids: set[uuid.UUID]) -> None:
        missing = [i for i in ids if i not in self._actors]
        if not missing:
            return
        rows = self.session.execute(
            text(
                "SELECT u.id, u.name, m.role FROM users u LEFT JOIN memberships m"
                " ON m.user_id = u.id AND m.tenant_id = :t WHERE u.id = ANY(:ids)"
            ),
            {"t": self.tenant_id, "ids": missing},
        ).all()
        found = {uuid.UUID(str(r.id)): (r.role, r.name) for r in rows}
        for actor in missing:
            self._actors[actor] = found.get(actor, (None, None))

    def actor(self, actor_id: uuid.UUID) -> tuple[str | None, str | None]:
        """(role in the tenant, name) of an event's actor; None for what is not there."""
        self._read_actors({actor_id})
        role, name = self._actors[actor_id]
        return (str(role) if role is not None else None, str(name) if name else None)

    def members(self, ids: Iterable[uuid.UUID]) -> list[Recipient]:
        """The active members among `ids`, in that order, each once."""
        wanted = list(dict.fromkeys(ids))
        missing = [i for i in wanted if i not in self._members]
        if missing:
            rows = self.session.execute(
                text(
                    "SELECT u.id, u.email, u.name, m.role, CASE WHEN u.password_hash IS NULL"
                    " AND u.idp_subject IS NULL THEN u.link_generation END AS link_generation,"
                    " CASE WHEN r.id IS NULL THEN m.role <> 'requester'"
                    " ELSE 'comment:internal' = ANY(r.permissions) END AS internal_notes,"
                    " r.team_id AS internal_team"
                    " FROM memberships m JOIN users u ON u.id = m.user_id"
                    " LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.custom_role_id"
                    " WHERE m.tenant_id = :t AND m.user_id = ANY(:ids) AND m.active"
                ),
                {"t": self.tenant_id, "ids": missing},
            ).all()
            found = {
                uuid.UUID(str(r.id)): Recipient(
                    r.email,
                    uuid.UUID(str(r.id)),
                    r.name,
                    r.role,
                    r.link_generation,
                    bool(r.internal_notes),
                    r.internal_team,
                )
                for r in rows
            }
            for member in missing:
                self._members[member] = found.get(member)
        return [r for i in wanted if (r := self._members[i]) is not None]


def _team(lookup: Lookup, team_id: uuid.UUID | None) -> list[uuid.UUID]:
    if team_id is None:
        return []
    return lookup.ids(
        "SELECT tm.user_id FROM team_members tm JOIN memberships m"
        " ON m.tenant_id = tm.tenant_id AND m.user_id = tm.user_id"
        " WHERE tm.team_id = :team AND tm.active AND m.active AND m.role = ANY(:staff)"
        " ORDER BY tm.created_at",
        team=team_id,
        staff=list(STAFF_ROLES),
    )


def _participants(lookup: Lookup, ticket: Ticket, *, staff_only: bool) -> list[uuid.UUID]:
    roles = list(STAFF_ROLES if staff_only else ROLES)
    return lookup.ids(
        "SELECT p.user_id FROM ticket_participants p JOIN memberships m"
        " ON m.tenant_id = p.tenant_id AND m.user_id = p.user_id"
        " WHERE p.ticket_id = :ticket AND m.active AND m.role = ANY(:roles) ORDER BY p.created_at",
        ticket=ticket.id,
        roles=roles,
    )


def _first_with_members(lookup: Lookup, *role_sets: list[str]) -> list[uuid.UUID]:
    """The active members of the first role set that has any, oldest first."""
    for roles in role_sets:
        found = lookup.ids(
            "SELECT user_id FROM memberships WHERE tenant_id = :t AND active"
            " AND role = ANY(:roles) ORDER BY created_at",
            t=lookup.tenant_id,
            roles=roles,
        )
        if found:
            return found
    return []


def _managers(lookup: Lookup) -> list[uuid.UUID]:
    """The tenant's managers; its admins when it has none, so an escalation is not lost."""
    return _first_with_members(lookup, ["manager"], ["admin"])


def _triage(lookup: Lookup) -> list[uuid.UUID]:
    """Who hears of a ticket that has no team and no assignee: the tenant's triage team
    (ticket settings `triage_team_id`) if it has active staff; otherwise every active agent
    and manager (Zendesk's "all agents"); its admins when it has neither."""
    from servicedesk.tickets.settings import SECTION

    settings = lookup.tenant().settings  # read once for the batch, not per event
    raw = settings.get(SECTION.name) if isinstance(settings, dict) else None
    team = _team(lookup, SECTION.model.model_validate(raw or {}).triage_team_id)
    if team:
        return team
    return _first_with_members(lookup, ["agent", "manager"], ["admin"])


def _assignee_else_team(
    lookup: Lookup, assignee: uuid.UUID | None, team: uuid.UUID | None
) -> list[uuid.UUID]:
    if assignee:
        return [assignee]
    return _team(lookup, team) if team else _triage(lookup)


def _audience(  # noqa: PLR0911 - one branch per audience
    lookup: Lookup, audience: Audience, subject: Subject
) -> list[uuid.UUID]:
    payload, ticket = subject.envelope.payload, subject.ticket
    if audience is A.TRIAGE:  # nobody named: the assignee-else-team rule's last resort
        audience, payload = A.NEW_ASSIGNEE_ELSE_TEAM, {}
    if audience is A.INVITEE:
        invitee = _uuid(payload.get("user_id"))
        return [invitee] if invitee else []
    if audience is A.NAMED:
        named = payload.get("user_ids")
        return [u for u in (_uuid(v) for v in named or []) if u] if isinstance(named, list) else []
    if audience is A.NEW_ASSIGNEE_ELSE_TEAM:
        return _assignee_else_team(
            lookup, _uuid(payload.get("assignee_id")), _uuid(payload.get("team_id"))
        )
    if audience is A.ESCALATION:
        target = payload.get("audience")
        if target == "managers":
            return _managers(lookup)
        if target == "team" and ticket is not None and ticket.team_id is not None:
            return _team(lookup, ticket.team_id)
        audience = A.ASSIGNEE_ELSE_TEAM
    if ticket is None:
        return []
    by_ticket: dict[Audience, Callable[[], list[uuid.UUID]]] = {
        A.REQUESTER: lambda: [ticket.requester_id],
        A.ASSIGNEE: lambda: [ticket.assignee_id] if ticket.assignee_id else [],
        A.ASSIGNEE_ELSE_TEAM: lambda: _assignee_else_team(
            lookup, ticket.assignee_id, ticket.team_id
        ),
        A.PARTICIPANTS: lambda: _participants(lookup, ticket, staff_only=False),
        A.STAFF_PARTICIPANTS: lambda: _participants(lookup, ticket, staff_only=True),
    }
    return by_ticket[audience]() if audience in by_ticket else []


def subject_of(session: Session, envelope: Envelope) -> Subject:
    ticket_id = _uuid(envelope.payload.get("ticket_id"))
    ticket = session.get(Ticket, ticket_id) if ticket_id else None
    comment_id = _uuid(envelope.payload.get("comment_id"))
    comment = session.get(Comment, comment_id) if comment_id else None
    if comment is not None and ticket is not None and comment.ticket_id != ticket.id:
        comment = None
    return Subject(envelope, ticket, comment)


def resolve(
    session: Session,
    envelope: Envelope,
    subject: Subject | None = None,
    *,
    lookup: Lookup | None = None,
) -> list[Recipient]:
    """The recipients of one event, in a stable order, each once."""
    rule = RULES.get(envelope.type)
    if rule is None:
        return []
    if Audience.ADDRESS in rule.always:
        address = str(envelope.payload.get("to") or "").strip()
        return [Recipient(address)] if "@" in address else []
    lookup = lookup or Lookup(session, envelope.tenant_id)
    subject = subject or subject_of(session, envelope)
    if envelope.type.startswith("comment.") and (
        subject.comment is None or subject.comment.deleted_at is not None
    ):
        return []  # deleted before we got to it: nothing left to tell
    actor = _uuid(envelope.payload.get("actor_id"))
    role = lookup.actor(actor)[0] if actor is not None else None
    audiences = rule.always
    if role is not None:
        audiences += rule.by_staff if role in STAFF_ROLES else rule.by_customer
    ids: list[uuid.UUID] = []
    for audience in audiences:
        ids.extend(_audience(lookup, audience, subject))
    # Defence in depth: whatever the event is called, an internal comment is for staff.
    internal = subject.comment is not None and subject.comment.visibility != "public"
    staff_only = rule.staff_only or internal
    excluded = None if rule.include_actor else actor
    return [
        r
        for r in lookup.members(ids)
        if r.user_id != excluded
        and (r.is_staff or not staff_only)
        and (not internal or r.reads_internal(subject.ticket))
    ]
