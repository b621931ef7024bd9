"""The knowledge base search the assistant's tool calls: ``kb.search.search_articles``
(hybrid, through the one visibility rule ``kb.visibility.visible_articles``), as the caller."""

from __future__ import annotations

from collections.abc import Sequence

from servicedesk.kb.search import SearchHit, search_articles
from servicedesk.platform.tenancy import RequestContext


def search(ctx: RequestContext, *, q: str, limit: int) -> Sequence[SearchHit]:
    """Hits visible to ``ctx`` only; degrades to keyword search when embedding fails."""
    return search_articles(ctx.session, ctx, q=q, mode="hybrid", limit=limit)
