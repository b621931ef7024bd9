"""What a caller may do with a ticket, one rule per verb, for every path that asks.

Reading is the visibility predicate (``tickets.visibility``, invariant 3) applied to one
ticket. Editing and commenting are for staff, the requester, and the participants granted
that right. Kept light (no service imports): the WebSocket handler loads it at cold start.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import settings as ticket_settings
from servicedesk.tickets.models import Participant, Ticket
from servicedesk.tickets.visibility import visible


def may_read(ctx: RequestContext, ticket_id: uuid.UUID) -> bool:
    """Whether the ticket exists in the tenant and the caller may see it."""
    settings = ticket_settings.SECTION.load(ctx.session, ctx.tenant_id)
    found = ctx.session.execute(
        select(Ticket.id).where(
            Ticket.tenant_id == ctx.tenant_id, Ticket.id == ticket_id, visible(ctx, settings)
        )
    ).first()
    return found is not None


def may_edit(ctx: RequestContext, ticket: Ticket) -> bool:
    """Change the ticket's fields, invite people to it."""
    if ctx.can_on(Permission.TICKET_WORK, ticket.team_id) or ticket.requester_id == ctx.user_id:
        return True
    part = _participation(ctx, ticket)
    return bool(part and part.can_edit)


def may_comment(ctx: RequestContext, ticket: Ticket) -> bool:
    """Reply on the ticket, attach files to it."""
    if ctx.can_on(Permission.TICKET_WORK, ticket.team_id) or ticket.requester_id == ctx.user_id:
        return True
    part = _participation(ctx, ticket)
    return bool(part and part.can_comment)


def _participation(ctx: RequestContext, ticket: Ticket) -> Participant | None:
    return ctx.session.get(Participant, (ticket.id, ctx.user_id))
