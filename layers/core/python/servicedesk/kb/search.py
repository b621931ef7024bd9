"""Knowledge base search: keyword, semantic, and both fused by reciprocal rank.

- keyword: ``websearch_to_tsquery`` in the 'simple' configuration (error codes and product
  names as typed: ``0x80070005``, ``ERR_SSL_PROTOCOL_ERROR``) OR the 'english' one (stems),
  ranked by ``ts_rank_cd`` over the generated ``kb_articles.search`` (0017);
- semantic: the query embedded by the configured provider, cosine distance to the
  articles' vectors of that model through the dimension's HNSW index;
- hybrid: reciprocal rank fusion (k = 60) of both candidate lists.

The candidates come from the owner's functions of migration 0019 (RLS keeps the indexes
from the app role; see ``ticket_search_candidates``); the articles are then read as the
app role under RLS and ``visible_articles``, so the one visibility rule decides what is
returned. When the embedding provider fails, semantic and hybrid fall back to keyword and
say so (``degraded``): a search never fails because a model is down.
"""

from __future__ import annotations

import dataclasses
import html
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.sql.elements import True_

from servicedesk.ai.embeddings import EmbeddingError, as_literal, get_embedder
from servicedesk.kb.models import KbArticle
from servicedesk.kb.visibility import visible_articles
from servicedesk.platform.config import get_settings
from servicedesk.platform.errors import TooManyRequests, ValidationProblem, field_error
from servicedesk.platform.logging import get_logger
from servicedesk.platform.tenancy import RequestContext

MODES = ("hybrid", "keyword", "semantic")
MAX_QUERY = 200
MAX_LIMIT = 50
RRF_K = 60
# Semantic candidates drawn for fusion (the functions cap at 200). The keyword list asks
# for the page only: past the title/summary matches it ranks a window of body matches,
# the costly part of a broad query (migration 0019), and deeper keyword ranks add little
# to the fused page. A single list needs only the page: its candidates are already the
# caller's visible articles.
FUSION_DEPTH = 30
# ts_headline reads this much of the body at most: its cost is linear in the text.
HEADLINE_CHARS = 4000
# Markers ts_headline puts around matches, replaced by <mark> after HTML escaping.
START, STOP = "\x02", "\x03"
_NO_MARKERS = str.maketrans("", "", START + STOP)
# The body's Markdown read for a snippet: its plain text is cut to HEADLINE_CHARS after.
MARKDOWN_CHARS = 2 * HEADLINE_CHARS
HEADLINE_OPTIONS = f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=12, MaxFragments=2"


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


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    mode: str
    # Semantic or hybrid was asked but the embedding provider failed: keyword only.
    degraded: bool = False


def _public_only(ctx: RequestContext) -> bool:
    # The one rule says whether the caller sees everything; the candidates repeat it.
    return not isinstance(visible_articles(ctx), True_)


_KEYWORD = text(
    "SELECT article_id, rank FROM kb_keyword_candidates("
    " websearch_to_tsquery('simple', :q) || websearch_to_tsquery('english', :q),"
    " :public_only, :category, :tags, :audience, :depth)"
).bindparams(bindparam("category", type_=UUID(as_uuid=True)), bindparam("tags", type_=ARRAY(Text)))
_SEMANTIC = text(
    "SELECT article_id, distance FROM kb_semantic_candidates("
    " :model, CAST(:vector AS vector), :public_only, :category, :tags, :audience, :depth)"
).bindparams(bindparam("category", type_=UUID(as_uuid=True)), bindparam("tags", type_=ARRAY(Text)))


def validate(*, q: str, mode: str, limit: int) -> str:
    query = q.strip()
    if not 1 <= len(query) <= MAX_QUERY:
        raise ValidationProblem(
            errors=[field_error("q", f"must be 1 to {MAX_QUERY} characters (not blank)")]
        )
    if "\x00" in query:
        raise ValidationProblem(errors=[field_error("q", "must not contain NUL")])
    if mode not in MODES:
        raise ValidationProblem(errors=[field_error("mode", f"must be one of {', '.join(MODES)}")])
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationProblem(errors=[field_error("limit", f"must be 1 to {MAX_LIMIT}")])
    return query


def search(
    ctx: RequestContext,
    *,
    q: str,
    mode: str = "hybrid",
    category_id: uuid.UUID | None = None,
    tags: Sequence[str] = (),
    audience: str | None = None,
    limit: int = 10,
    semantic_text: str | None = None,
    public_only: bool = False,
) -> SearchResult:
    """Ranked visible articles for ``q``; ``semantic_text`` embeds a longer text than the
    keyword query (a ticket's title and description), ``public_only`` narrows a staff
    caller to what a requester would see (the portal's suggestions)."""
    query = validate(q=q, mode=mode, limit=limit)
    params: dict[str, Any] = {
        "q": query,
        "public_only": public_only or _public_only(ctx),
        "category": category_id,
        "tags": list(tags),
        "audience": audience,
        "depth": limit,
    }
    lists: list[list[tuple[uuid.UUID, float]]] = []
    degraded = False
    if mode in ("keyword", "hybrid"):
        rows = ctx.session.execute(_KEYWORD, params).all()
        lists.append([(row.article_id, float(row.rank)) for row in rows])
    if mode in ("semantic", "hybrid"):
        try:
            semantic = _semantic(ctx, semantic_text or query, params, fused=mode == "hybrid")
        except EmbeddingError as exc:
            get_logger().warning("kb search degraded to keyword", extra={"reason": str(exc)})
            degraded = True
            if mode == "semantic":
                rows = ctx.session.execute(_KEYWORD, params).all()
                lists.append([(row.article_id, float(row.rank)) for row in rows])
        else:
            lists.append(semantic)
    ranked = _fuse(lists) if len(lists) > 1 else lists[0]
    hits = _hits(ctx, query, ranked[:limit], public_only=public_only)
    return SearchResult(hits=hits, mode=mode, degraded=degraded)


def search_articles(
    session: Any,
    ctx: RequestContext,
    *,
    q: str,
    mode: str = "hybrid",
    category_id: uuid.UUID | None = None,
    tags: Sequence[str] = (),
    audience: str | None = None,
    limit: int = 10,
) -> list[SearchHit]:
    """The contract other domains call (the assistant's tool, drafts' deduplication), in
    ``session``: a transaction scoped to ``ctx``'s tenant and user (usually ``ctx.session``)."""
    if session is not ctx.session:
        ctx = dataclasses.replace(ctx, session=session)
    return search(
        ctx, q=q, mode=mode, category_id=category_id, tags=tags, audience=audience, limit=limit
    ).hits


def _semantic(
    ctx: RequestContext, text_: str, params: dict[str, Any], *, fused: bool
) -> list[tuple[uuid.UUID, float]]:
    embedder = get_embedder()
    vector = embedder.embed([text_])[0]
    depth = max(FUSION_DEPTH, params["depth"]) if fused else params["depth"]
    rows = ctx.session.execute(
        _SEMANTIC,
        {**params, "model": embedder.model_id, "vector": as_literal(vector), "depth": depth},
    ).all()
    # Cosine distance 0..2 as a similarity score 1..-1.
    return [(row.article_id, 1.0 - float(row.distance)) for row in rows]


def _fuse(lists: list[list[tuple[uuid.UUID, float]]]) -> list[tuple[uuid.UUID, float]]:
    """Reciprocal rank fusion: each list adds 1 / (k + rank) for the ids it holds."""
    scores: dict[uuid.UUID, float] = {}
    for ranked in lists:
        for position, (article_id, _) in enumerate(ranked, start=1):
            scores[article_id] = scores.get(article_id, 0.0) + 1.0 / (RRF_K + position)
    return sorted(scores.items(), key=lambda item: (-item[1], str(item[0])))


def _hits(
    ctx: RequestContext, q: str, ranked: list[tuple[uuid.UUID, float]], *, public_only: bool
) -> list[SearchHit]:
    if not ranked:
        return []
    # The snippet's text is the body's Markdown as plain text (no **, link targets or code
    # fences), made here and highlighted by ts_headline in one statement for the page.
    query = select(
        KbArticle.id,
        KbArticle.title,
        KbArticle.summary,
        func.left(KbArticle.body, MARKDOWN_CHARS).label("body"),
        KbArticle.category_id,
        KbArticle.audience,
        KbArticle.state,
    ).where(
        KbArticle.tenant_id == ctx.tenant_id,
        KbArticle.id.in_([article_id for article_id, _ in ranked]),
        KbArticle.state != "archived",
        visible_articles(ctx),
    )
    if public_only:
        query = query.where(KbArticle.state == "published", KbArticle.audience == "public")
    found = {row.id: row for row in ctx.session.execute(query)}
    snippets = headlines(
        ctx, q, [found[a].body or found[a].summary for a, _ in ranked if a in found]
    )
    hits: list[SearchHit] = []
    for article_id, score in ranked:
        if article_id not in found:
            continue
        article, snippet = found[article_id], snippets.pop(0)
        hits.append(
            SearchHit(
                article_id=article.id,
                title=article.title,
                summary=article.summary,
                snippet=highlight(snippet or ""),
                score=round(score, 6),
                category_id=article.category_id,
                audience=article.audience,
                state=article.state,
            )
        )
    return hits


_HEADLINES = text(
    "SELECT ts_headline('english'::regconfig, x.t, websearch_to_tsquery('simple', :q)"
    " || websearch_to_tsquery('english', :q), :options) AS snippet"
    " FROM unnest(CAST(:texts AS text[])) WITH ORDINALITY AS x(t, i) ORDER BY x.i"
)


def headlines(ctx: RequestContext, q: str, markdowns: list[str]) -> list[str]:
    """ts_headline over each Markdown's plain text, in order, in one statement (raw:
    ``highlight`` escapes them)."""
    if not markdowns:
        return []
    from servicedesk.kb.plaintext import markdown_to_text

    texts = [markdown_to_text(m).translate(_NO_MARKERS)[:HEADLINE_CHARS] for m in markdowns]
    rows = ctx.session.execute(
        _HEADLINES, {"q": q, "options": HEADLINE_OPTIONS, "texts": texts}
    ).scalars()
    return [row or "" for row in rows]


def highlight(raw: str) -> str:
    """ts_headline's text HTML-escaped, its markers turned into <mark> elements."""
    return html.escape(raw).replace(START, "<mark>").replace(STOP, "</mark>")


_RECENT = text(
    "SELECT count(*) AS n, min(created_at) AS oldest FROM kb_search_log"
    " WHERE tenant_id = :tenant AND user_id = :user AND created_at > now() - interval '1 minute'"
)


def throttle(ctx: RequestContext) -> None:
    """At most ``kb_search_per_minute`` searches and suggestions per user (429 beyond)."""
    limit = get_settings().kb_search_per_minute
    row = ctx.session.execute(_RECENT, {"tenant": ctx.tenant_id, "user": ctx.user_id}).one()
    if row.n >= limit:
        wait = 60 - (datetime.now(UTC) - row.oldest).total_seconds() if row.oldest else 60
        raise TooManyRequests("too many searches; try again shortly", retry_after=int(wait) + 1)


_LOG = text(
    "INSERT INTO kb_search_log (tenant_id, user_id, kind, mode, query, results, degraded)"
    " VALUES (:tenant, :user, :kind, :mode, :query, :results, :degraded)"
)


def record(ctx: RequestContext, *, kind: str, query: str, result: SearchResult) -> None:
    ctx.session.execute(
        _LOG,
        {
            "tenant": ctx.tenant_id,
            "user": ctx.user_id,
            "kind": kind,
            "mode": result.mode,
            "query": query[:400],
            "results": len(result.hits),
            "degraded": result.degraded,
        },
    )
