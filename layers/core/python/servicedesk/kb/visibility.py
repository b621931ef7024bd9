"""The one visibility rule for knowledge base articles (DESIGN invariant 3, as for tickets).

List, get, search, suggestions, the assistant's tool and every mutation filter through
``visible_articles``; what it excludes answers 404. Requesters (and a magic-link session)
see published public articles only; staff see every article of their tenant, internal ones
and drafts included. RLS keeps tenants apart underneath.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, true

from servicedesk.kb.models import KbArticle
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext

PUBLIC = "public"
PUBLISHED = "published"


def visible_articles(ctx: RequestContext) -> ColumnElement[bool]:
    """The articles ``ctx`` may see at all (to read, search or act on)."""
    if ctx.can(Permission.KB_WRITE) and ctx.ticket_scope is None:
        return true()
    return and_(KbArticle.state == PUBLISHED, KbArticle.audience == PUBLIC)


def may_edit(ctx: RequestContext) -> bool:
    """``kb:write`` writes articles; the review and publish rules are the service's."""
    return ctx.can(Permission.KB_WRITE) and ctx.ticket_scope is None
