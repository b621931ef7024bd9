"""Deflection outcomes (what the portal's suggestions did) and the search report."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, text

from servicedesk.kb.models import KbArticle
from servicedesk.kb.visibility import visible_articles
from servicedesk.platform.errors import NotFound
from servicedesk.platform.tenancy import RequestContext

REPORT_DAYS = 30


class QueryCount(BaseModel):
    query: str
    count: int


_INSERT = text(
    "INSERT INTO kb_deflections (tenant_id, user_id, article_id, outcome, query)"
    " SELECT :tenant, :user, unnest(CAST(:articles AS uuid[])), :outcome, :query"
)


def record(
    ctx: RequestContext, *, article_ids: Sequence[uuid.UUID], outcome: str, query: str
) -> int:
    """One row per article; every article must be one the caller may see (404 otherwise)."""
    wanted = set(article_ids)
    seen = set(
        ctx.session.scalars(
            select(KbArticle.id).where(
                KbArticle.tenant_id == ctx.tenant_id,
                KbArticle.id.in_(wanted),
                visible_articles(ctx),
            )
        )
    )
    if seen != wanted:
        raise NotFound("no such article")
    ctx.session.execute(
        _INSERT,
        {
            "tenant": ctx.tenant_id,
            "user": ctx.user_id,
            "articles": [str(a) for a in sorted(wanted, key=str)],
            "outcome": outcome,
            "query": query.strip(),
        },
    )
    return len(wanted)


_SEARCHES = text(
    "SELECT count(*) AS searches, count(*) FILTER (WHERE results = 0) AS empty"
    " FROM kb_search_log WHERE tenant_id = :tenant AND created_at >= :since"
)
_EMPTY_QUERIES = text(
    "SELECT lower(query) AS query, count(*) AS count FROM kb_search_log"
    " WHERE tenant_id = :tenant AND created_at >= :since AND results = 0"
    " GROUP BY lower(query) ORDER BY count(*) DESC, lower(query) LIMIT 20"
)
# A request form that showed suggestions is one (user, query) with a 'shown' row.
_OUTCOMES = text(
    "SELECT count(DISTINCT (user_id, query)) FILTER (WHERE outcome = 'shown') AS forms,"
    " count(*) FILTER (WHERE outcome = 'shown') AS shown,"
    " count(*) FILTER (WHERE outcome = 'opened') AS opened,"
    " count(*) FILTER (WHERE outcome = 'solved') AS solved"
    " FROM kb_deflections WHERE tenant_id = :tenant AND created_at >= :since"
)


def report(ctx: RequestContext, *, since: datetime | None) -> dict[str, Any]:
    start = since or datetime.now(UTC) - timedelta(days=REPORT_DAYS)
    params = {"tenant": ctx.tenant_id, "since": start}
    searches = ctx.session.execute(_SEARCHES, params).one()
    outcomes = ctx.session.execute(_OUTCOMES, params).one()
    top = [
        QueryCount(query=row.query, count=row.count)
        for row in ctx.session.execute(_EMPTY_QUERIES, params)
    ]
    forms = int(outcomes.forms)
    return {
        "since": start,
        "searches": int(searches.searches),
        "searches_without_result": int(searches.empty),
        "top_queries_without_result": top,
        "shown": int(outcomes.shown),
        "opened": int(outcomes.opened),
        "solved": int(outcomes.solved),
        "deflection_rate": round(min(int(outcomes.solved), forms) / forms, 4) if forms else 0.0,
    }
