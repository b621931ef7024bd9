"""The knowledge base search the assistant's tool calls: ``kb.search.search_articles`` when
it is there (the search helper's contract), else a keyword search of the same signature
through the one visibility rule (``kb.visibility.visible_articles``)."""

from __future__ import annotations

import html
import importlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicedesk.kb.models import KbArticle
from servicedesk.kb.visibility import visible_articles
from servicedesk.platform.tenancy import RequestContext

SEARCH = KbArticle.__table__.c.search


@dataclass(frozen=True)
class SearchHit:
    article_id: uuid.UUID
    title: str
    summary: str
    snippet: str
    score: float
    category_id: uuid.UUID | None
    audience: str
    state: str


def keyword_search(
    session: Session,
    ctx: RequestContext,
    *,
    q: str,
    mode: str = "hybrid",
    category_id: uuid.UUID | None = None,
    tags: Sequence[str] = (),
    audience: str | None = None,
    limit: int = 10,
) -> list[SearchHit]:
    """Full text only (``mode`` is accepted and ignored): websearch syntax over the
    article's keyword index, ranked by ts_rank_cd, highlighted by ts_headline."""
    query = func.websearch_to_tsquery("english", q).op("||")(func.websearch_to_tsquery("simple", q))
    rank = func.ts_rank_cd(SEARCH, query)
    snippet = func.ts_headline(
        "english",
        KbArticle.body,
        query,
        "StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=30, MinWords=10",
    )
    statement = (
        select(KbArticle, rank.label("rank"), snippet.label("snippet"))
        .where(
            KbArticle.tenant_id == ctx.tenant_id,
            visible_articles(ctx),
            SEARCH.op("@@")(query),
        )
        .order_by(rank.desc(), KbArticle.id)
        .limit(limit)
    )
    if category_id is not None:
        statement = statement.where(KbArticle.category_id == category_id)
    if tags:
        statement = statement.where(KbArticle.tags.contains(list(tags)))
    if audience is not None:
        statement = statement.where(KbArticle.audience == audience)
    hits = []
    for article, score, raw_snippet in session.execute(statement).all():
        # Escape everything, then let only the highlight marks through (as the contract's).
        marked = html.escape(raw_snippet or "").replace("&lt;mark&gt;", "<mark>")
        hits.append(
            SearchHit(
                article_id=article.id,
                title=article.title,
                summary=article.summary,
                snippet=marked.replace("&lt;/mark&gt;", "</mark>"),
                score=float(score),
                category_id=article.category_id,
                audience=article.audience,
                state=article.state,
            )
        )
    return hits


def _search_function() -> Callable[..., Sequence[Any]]:
    try:
        module = importlib.import_module("servicedesk.kb.search")
    except ModuleNotFoundError:
        return keyword_search
    found: Callable[..., Sequence[Any]] = getattr(module, "search_articles", keyword_search)
    return found


def search(ctx: RequestContext, *, q: str, limit: int) -> Sequence[Any]:
    """Hits with the contract's fields (``SearchHit``), visible to ``ctx`` only."""
    return _search_function()(ctx.session, ctx, q=q, mode="hybrid", limit=limit)
