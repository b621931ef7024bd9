"""The one visibility rule for tickets (DESIGN invariant 3).

List, get, search, comments, events and every mutation filter through ``visible``;
what it excludes answers 404.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    any_,
    column,
    exists,
    false,
    literal,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.dialects.postgresql import UUID

from servicedesk.platform.permissions import TEAM_SCOPED, Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets.models import Comment, Participant, Ticket, TicketEvent
from servicedesk.tickets.settings import TicketSettings

_team_members = table(
    "team_members",
    column("team_id", UUID(as_uuid=True)),
    column("user_id", UUID(as_uuid=True)),
    column("active"),
)


def is_participant(ctx: RequestContext) -> ColumnElement[bool]:
    return exists().where(Participant.ticket_id == Ticket.id, Participant.user_id == ctx.user_id)


def visible(ctx: RequestContext, settings: TicketSettings) -> ColumnElement[bool]:
    """Requesters: their own and those they take part in. Agents: their teams', the
    untriaged (no team), their own assignments and participations (or all, by tenant
    setting). Managers and admins: all. A magic-link session: that one ticket, if the rest
    of the rule still lets its requester see it."""
    if ctx.ticket_scope is not None:
        return and_(Ticket.id == ctx.ticket_scope, _visible(ctx, settings))
    return _visible(ctx, settings)


def _visible(ctx: RequestContext, settings: TicketSettings) -> ColumnElement[bool]:
    """By permission: ``ticket:read_all`` all; ``ticket:read_team`` the teams', untriaged,
    assigned and participating ones (or all, by the tenant's ``agents_see_all``);
    otherwise one's own and those one takes part in. A team-scoped custom role: its
    team's tickets instead of the first two."""
    team_reader = ctx.can(Permission.TICKET_READ_TEAM)
    if ctx.team_scope is not None and (team_reader or ctx.can(Permission.TICKET_READ_ALL)):
        # A team-scoped role reads its team's tickets (and, as anyone, one's own and those
        # one takes part in).
        return or_(
            Ticket.team_id == ctx.team_scope,
            Ticket.requester_id == ctx.user_id,
            Ticket.assignee_id == ctx.user_id,
            is_participant(ctx),
        )
    if ctx.can(Permission.TICKET_READ_ALL) or (team_reader and settings.agents_see_all):
        return true()
    if team_reader:
        my_teams = select(_team_members.c.team_id).where(
            _team_members.c.user_id == ctx.user_id, _team_members.c.active.is_(True)
        )
        return or_(
            Ticket.team_id.in_(my_teams),
            Ticket.team_id.is_(None),
            Ticket.assignee_id == ctx.user_id,
            is_participant(ctx),
        )
    return or_(Ticket.requester_id == ctx.user_id, is_participant(ctx))


def _internal_on(ctx: RequestContext, ticket_id: Any) -> ColumnElement[bool]:
    """Where the caller reads internal notes: everywhere with ``comment:internal``, only on
    the team's tickets for a team-scoped custom role (``RequestContext.can_on``), nowhere
    without it."""
    if not ctx.can(Permission.COMMENT_INTERNAL):
        return false()
    if ctx.team_scope is None or Permission.COMMENT_INTERNAL not in TEAM_SCOPED:
        return true()
    on_team: ColumnElement[bool] = ticket_id.in_(
        select(Ticket.id).where(Ticket.tenant_id == ctx.tenant_id, Ticket.team_id == ctx.team_scope)
    )
    return on_team


def visible_comments(ctx: RequestContext) -> ColumnElement[bool]:
    """Internal notes are for ``comment:internal`` only (on its team's tickets for a
    team-scoped role), through every path."""
    return or_(Comment.visibility == "public", _internal_on(ctx, Comment.ticket_id))


def visible_events(ctx: RequestContext) -> ColumnElement[bool]:
    personal = literal(ctx.user_id, UUID(as_uuid=True)) == any_(TicketEvent.audience)
    internal = and_(TicketEvent.visibility == "internal", _internal_on(ctx, TicketEvent.ticket_id))
    return or_(TicketEvent.visibility == "public", internal, personal)


def event_visibility_for(comment_visibility: str) -> str:
    return "internal" if comment_visibility == "internal" else "public"
