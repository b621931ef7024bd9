"""Typed ticket events, the audit rows that go with every mutation, and what a viewer may
read of an event.

An event may name other objects: another ticket (links, merges), a comment (internal notes
included), an attachment. A viewer reads the event only as far as they may see what it
names, by the same rules as a direct read (``tickets.visibility``): a reference they may
not see is cut from the payload with the keys that describe it (id, number, link ids),
and the payload says ``"redacted": true``. Users and teams an event names are the ticket's
own people (assignee, team, participants, invitees), which the ticket shows to whoever may
see it, so they pass with the ticket. Every event type is declared in ``EVENT_TYPES``:
``event()`` refuses an undeclared one, so a new type cannot skip the rule.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicedesk.platform import audit, outbox
from servicedesk.platform.db import jsonable
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets.models import Comment, Ticket, TicketEvent
from servicedesk.tickets.settings import TicketSettings
from servicedesk.tickets.visibility import visible, visible_comments


@dataclass(frozen=True)
class Ref:
    """A payload key naming another object, and the keys cut along with it."""

    kind: Literal["ticket", "comment", "project"]
    key: str
    with_keys: tuple[str, ...] = ()


# A task names its project: staff who may not see the project (not a member, no
# project:read_all) read that a task was linked, not which one.
_TASK = Ref("project", "project_id", ("task_id", "task_key", "task_title"))
_OTHER_TICKET = Ref("ticket", "other", ("link_id", "source_id", "target_id"))
_COMMENT = Ref("comment", "comment_id")
# An attachment is visible exactly when the comment it belongs to is (or it has none).
_ATTACHMENT = Ref("comment", "comment_id", ("attachment_id", "filename", "content_type", "size"))

EVENT_TYPES: dict[str, tuple[Ref, ...]] = {
    "created": (),
    "assigned": (),
    "status_changed": (),
    "reopened": (),
    "priority_changed": (),
    "category_changed": (),
    "type_changed": (),
    "custom_field_changed": (),
    "title_changed": (),
    "description_changed": (),
    "impact_changed": (),
    "urgency_changed": (),
    "tags_changed": (),
    "locked": (),
    "unlocked": (),
    "participant_added": (),
    "participant_removed": (),
    "invitation_created": (),
    "invitation_accepted": (),
    "invitation_declined": (),
    "invitation_cancelled": (),
    "comment_added": (_COMMENT,),
    "comment_edited": (_COMMENT,),
    "comment_deleted": (_COMMENT,),
    "attachment_added": (_ATTACHMENT,),
    "attachment_removed": (_ATTACHMENT,),
    "linked": (_OTHER_TICKET,),
    "unlinked": (_OTHER_TICKET,),
    "merged": (Ref("ticket", "into", ("number",)), Ref("ticket", "from", ("number",))),
    # The ticket or a comment came in by e-mail (servicedesk.mail.intake); the message
    # itself is shown to staff only, by the mail API.
    "received_by_email": (_COMMENT,),
    # Written by the SLA evaluator in SQL (internal; they name only this ticket and ids of
    # policies and teams, which staff see).
    "sla_warning": (),
    "sla_breached": (),
    "escalated": (),
    # The knowledge consumer proposed an article draft from the resolved ticket, or did
    # not (a similar article exists, no public reply to learn from); internal, for staff,
    # who see every article of their tenant (servicedesk.kb.drafts).
    "kb_draft_proposed": (),
    "kb_draft_skipped": (),
    # The requester answered the satisfaction survey (servicedesk.csat); internal: staff
    # read the rating, the requester knows their own answer.
    "csat_rated": (),
    # GitHub and Slack (servicedesk.integrations), internal: a GitHub issue or PR mentioned
    # the ticket, an issue was created from it, its Slack thread was started.
    "github_referenced": (),
    "github_issue_created": (),
    "slack_thread_started": (),
    # Projects (servicedesk.projects), internal: a task was linked to the ticket or
    # unlinked, the ticket waits on a task (put on hold) and the task it waited on is done.
    "task_linked": (_TASK,),
    "task_unlinked": (_TASK,),
    "waiting_on_task": (_TASK,),
    "task_done": (_TASK,),
}


# Timeline events that open screens hear about (docs/realtime.md, "Event catalogue"): the
# outbox event each one sends to the realtime queue, in the same transaction. The other
# changes a viewer sees have their own outbox events already (ticket.created,
# ticket.status_changed, ticket.assigned, ticket.updated, comment.*).
# A session's info key: set while writing history (local/demo.py), when nobody is watching.
HISTORY = "writing_history"
LIVE_EVENTS: dict[str, str] = {
    "participant_added": "ticket.participant_added",
    "participant_removed": "ticket.participant_removed",
    "linked": "ticket.linked",
    "unlinked": "ticket.unlinked",
    "merged": "ticket.merged",
    "attachment_added": "attachment.added",
    "attachment_removed": "attachment.removed",
}


def event(
    ctx: RequestContext,
    ticket: Ticket,
    type_: str,
    *,
    payload: dict[str, Any] | None = None,
    visibility: str = "public",
    audience: list[uuid.UUID] | None = None,
    push: bool = True,
) -> None:
    """A timeline entry; for the types in LIVE_EVENTS also the push that tells open
    screens (``push=False``: the change travels with another event already)."""
    ctx.session.add(
        new_event(ctx, ticket.id, type_, payload=payload, visibility=visibility, audience=audience)
    )
    if push and type_ in LIVE_EVENTS:
        comment_id = (payload or {}).get("comment_id")
        live(ctx, ticket, LIVE_EVENTS[type_], visibility=visibility, comment_id=comment_id)


def live(
    ctx: RequestContext,
    ticket: Ticket,
    event_type: str,
    *,
    visibility: str = "public",
    comment_id: object = None,
) -> None:
    """Tell the ticket's open screens that something they show changed (realtime only).

    The frame carries no other object's id (a linked or merged ticket may be one the
    viewer cannot see); the broadcaster lets ``visibility`` other than public reach staff
    only, and for an attachment asks its comment (``comment_id``) again. A session marked
    ``HISTORY`` (the demo seed writing the past) pushes nothing: history is not news."""
    if ctx.session.info.get(HISTORY):
        return
    body: dict[str, Any] = {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "actor_id": ctx.user_id,
        "visibility": visibility,
    }
    if comment_id is not None:
        body["comment_id"] = comment_id
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=event_type,
        aggregate_type="ticket",
        aggregate_id=ticket.id,
        payload=body,
    )


def new_event(
    ctx: RequestContext,
    ticket_id: uuid.UUID,
    type_: str,
    *,
    payload: dict[str, Any] | None = None,
    visibility: str = "public",
    audience: list[uuid.UUID] | None = None,
) -> TicketEvent:
    """The event row, not yet added (a new ticket's are written with it)."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"undeclared ticket event type {type_!r}: add it to EVENT_TYPES")
    return TicketEvent(
        tenant_id=ctx.tenant_id,
        ticket_id=ticket_id,
        type=type_,
        actor_id=ctx.user_id,
        visibility=visibility,
        audience=audience or [],
        payload=jsonable(payload or {}),
    )


def system_event(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    ticket_id: uuid.UUID,
    type_: str,
    payload: dict[str, Any],
    visibility: str = "internal",
) -> None:
    """An event no user caused (a consumer's): no actor."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"undeclared ticket event type {type_!r}: add it to EVENT_TYPES")
    session.add(
        TicketEvent(
            tenant_id=tenant_id,
            ticket_id=ticket_id,
            type=type_,
            actor_id=None,
            visibility=visibility,
            audience=[],
            payload=jsonable(payload),
        )
    )


@dataclass(frozen=True)
class EventView:
    """An event as one viewer may read it (never the ORM row: that would be flushed)."""

    id: int
    type: str
    actor_id: uuid.UUID | None
    visibility: str
    payload: dict[str, Any]
    created_at: datetime


def _referenced(rows: Sequence[TicketEvent], kind: str) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for row in rows:
        for ref in EVENT_TYPES.get(row.type, ()):
            value = row.payload.get(ref.key)
            if ref.kind == kind and value is not None:
                try:
                    found.add(uuid.UUID(str(value)))
                except ValueError:
                    continue
    return found


def _visible_ids(
    ctx: RequestContext, rows: Sequence[TicketEvent], settings: TicketSettings
) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {"ticket": set(), "comment": set(), "project": set()}
    tickets = _referenced(rows, "ticket")
    if tickets:
        query = select(Ticket.id).where(
            Ticket.tenant_id == ctx.tenant_id,
            Ticket.id.in_(tickets),
            visible(ctx, settings),
        )
        seen["ticket"] = {str(i) for i in ctx.session.scalars(query)}
    comments = _referenced(rows, "comment")
    if comments:
        query = select(Comment.id).where(
            Comment.tenant_id == ctx.tenant_id, Comment.id.in_(comments), visible_comments(ctx)
        )
        seen["comment"] = {str(i) for i in ctx.session.scalars(query)}
    projects = _referenced(rows, "project")
    if projects:
        importlib.import_module(REF_MODULES["project"])  # registers the projects' rule
        resolver = _REF_RESOLVERS.get("project")
        seen["project"] = resolver(ctx, projects) if resolver is not None else set()
    return seen


# Which of the named objects of another domain the viewer may see, by that domain's own
# rule: registered by the module of REF_MODULES when imported (tickets cannot import
# projects at module level: projects imports tickets). Without one nothing is seen (the
# payload is redacted): deny by default.
RefResolver = Callable[[RequestContext, set[uuid.UUID]], set[str]]
_REF_RESOLVERS: dict[str, RefResolver] = {}
REF_MODULES = {"project": "servicedesk.projects.access"}


def resolves(kind: str, resolver: RefResolver) -> None:
    _REF_RESOLVERS[kind] = resolver


def viewable(
    ctx: RequestContext, rows: Sequence[TicketEvent], settings: TicketSettings
) -> list[EventView]:
    """The events (already filtered by ``visible_events``) with what they name redacted
    where the viewer may not see it. An undeclared type shows no payload at all."""
    seen = _visible_ids(ctx, rows, settings)
    views = []
    for row in rows:
        refs = EVENT_TYPES.get(row.type)
        payload = dict(row.payload) if refs is not None else {"redacted": True}
        for ref in refs or ():
            value = payload.get(ref.key)
            if value is not None and str(value) not in seen[ref.kind]:
                for key in (ref.key, *ref.with_keys):
                    payload.pop(key, None)
                payload["redacted"] = True
        views.append(
            EventView(row.id, row.type, row.actor_id, row.visibility, payload, row.created_at)
        )
    return views


def audited(
    ctx: RequestContext,
    ticket: Ticket,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    **data: Any,
) -> None:
    body: dict[str, Any] = {"number": ticket.number, **data}
    if before is not None:
        body["before"] = before
    if after is not None:
        body["after"] = after
    audit.record(ctx, action=action, entity_type="ticket", entity_id=ticket.id, data=body)
    changed(ctx, ticket, action, body)


ChangeHook = Callable[[RequestContext, Ticket, str, dict[str, Any]], None]
# Installed by servicedesk.automation.engine when imported. tickets cannot import it at
# module level (a cycle), so the first change imports it (``_install``): whichever function
# changes a ticket (tickets, macros, mail, ...), its rules run; no handler can forget them.
_CHANGE_HOOKS: list[ChangeHook] = []
HOOK_MODULES = ("servicedesk.automation.engine",)
_installed: list[bool] = []


def _install() -> None:
    if not _installed:
        for name in HOOK_MODULES:
            importlib.import_module(name)
        _installed.append(True)


def on_change(hook: ChangeHook) -> None:
    if hook not in _CHANGE_HOOKS:
        _CHANGE_HOOKS.append(hook)


def changed(
    ctx: RequestContext, ticket: Ticket, action: str, data: dict[str, Any] | None = None
) -> None:
    """The one hook of automation rules (servicedesk.automation.engine): every audited
    ticket change passes here, last in the service that made it, and a creation once its
    number is drawn. Event rules run now, in the same transaction, before it commits."""
    _install()
    for hook in _CHANGE_HOOKS:
        hook(ctx, ticket, action, data or {})
