"""Knowledge base search (``/v1/kb/search``), the portal's deflection suggestions and their
outcomes, and the agent panel's suggestions for a ticket."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from servicedesk.kb import deflections
from servicedesk.kb import search as kb_search
from servicedesk.kb import settings as kb_settings
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import route
from servicedesk.platform.errors import Forbidden, ValidationProblem, field_error
from servicedesk.platform.rbac import Permission
from servicedesk.tickets.service import get_visible

router = APIRouter(prefix="/v1/kb", tags=["knowledge base"])

Mode = Literal["hybrid", "keyword", "semantic"]
Audience = Literal["public", "internal"]


class SearchHitPublic(BaseModel):
    article_id: uuid.UUID
    title: str
    summary: str
    snippet: str = Field(description="HTML-escaped text; matches wrapped in <mark>")
    score: float
    category_id: uuid.UUID | None
    audience: str
    state: str


class SearchPage(BaseModel):
    items: list[SearchHitPublic]
    mode: Mode
    degraded: bool = Field(
        description="Semantic search was asked but the embedding provider failed: keyword only"
    )


class DeflectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    article_ids: list[uuid.UUID] = Field(min_length=1, max_length=10)
    outcome: Literal["shown", "opened", "solved"]
    query: str = Field(default="", max_length=200)


class DeflectionRecorded(BaseModel):
    recorded: int


class SearchReport(BaseModel):
    since: datetime
    searches: int
    searches_without_result: int
    top_queries_without_result: list[deflections.QueryCount]
    shown: int
    opened: int
    solved: int
    deflection_rate: float = Field(
        description="Requests not submitted because an article solved them, per request"
        " form that showed suggestions"
    )


def _page(result: kb_search.SearchResult) -> SearchPage:
    return SearchPage(
        items=[SearchHitPublic.model_validate(hit, from_attributes=True) for hit in result.hits],
        mode=result.mode,
        degraded=result.degraded,
    )


@route(
    router.get,
    "/search",
    Permission.KB_READ,
    "Search the articles the caller may see (keyword, semantic or both)",
    response_model=SearchPage,
)
def search_kb(
    ctx: Ctx,
    q: Annotated[str, Query(description="What to search for (1-200 characters)")],
    mode: Mode = "hybrid",
    category_id: uuid.UUID | None = None,
    tag: Annotated[list[str] | None, Query(max_length=10)] = None,
    audience: Audience | None = None,
    limit: Annotated[int, Query(ge=1, le=kb_search.MAX_LIMIT)] = 10,
) -> SearchPage:
    query = kb_search.validate(q=q, mode=mode, limit=limit)
    if tag and any(not 1 <= len(t) <= 50 for t in tag):
        raise ValidationProblem(errors=[field_error("tag", "each tag is 1 to 50 characters")])
    kb_search.throttle(ctx)
    result = kb_search.search(
        ctx,
        q=query,
        mode=mode,
        category_id=category_id,
        tags=tag or (),
        audience=audience,
        limit=limit,
    )
    kb_search.record(ctx, kind="search", query=query, result=result)
    return _page(result)


@route(
    router.get,
    "/suggestions",
    Permission.KB_READ,
    "Articles for a new request's title (portal), or for a ticket (agent side panel)",
    response_model=SearchPage,
)
def suggest(
    ctx: Ctx,
    title: Annotated[str | None, Query(description="The request's title as typed")] = None,
    ticket_id: Annotated[uuid.UUID | None, Query(description="A ticket (staff only)")] = None,
) -> SearchPage:
    if (title is None) == (ticket_id is None):
        raise ValidationProblem(errors=[field_error("title", "give either title or ticket_id")])
    settings = kb_settings.SECTION.current(ctx)
    if ticket_id is not None:
        if not ctx.is_staff:
            raise Forbidden("suggestions for a ticket are for staff")
        ticket = get_visible(ctx, ticket_id)
        kb_search.throttle(ctx)
        result = kb_search.search(
            ctx,
            q=ticket.title[: kb_search.MAX_QUERY],
            semantic_text=f"{ticket.title}\n{ticket.description[:2000]}",
            limit=settings.suggestions,
        )
        kb_search.record(ctx, kind="ticket", query=ticket.title, result=result)
        return _page(result)
    assert title is not None
    query = kb_search.validate(q=title, mode="hybrid", limit=settings.suggestions)
    if not settings.deflection_enabled:
        return SearchPage(items=[], mode="hybrid", degraded=False)
    kb_search.throttle(ctx)
    # What a requester would see, whoever asks: this is the requester's form.
    result = kb_search.search(ctx, q=query, limit=settings.suggestions, public_only=True)
    kb_search.record(ctx, kind="suggest", query=query, result=result)
    return _page(result)


@route(
    router.post,
    "/deflections",
    Permission.KB_READ,
    "Record what the portal's suggestions did (shown, opened, solved my problem)",
    status_code=201,
    response_model=DeflectionRecorded,
)
def record_deflection(ctx: Ctx, body: DeflectionCreate) -> DeflectionRecorded:
    count = deflections.record(
        ctx, article_ids=body.article_ids, outcome=body.outcome, query=body.query
    )
    return DeflectionRecorded(recorded=count)


@route(
    router.get,
    "/search/report",
    Permission.KB_INSIGHTS,
    "Searches without result and the deflection rate since a date (default 30 days)",
    response_model=SearchReport,
)
def search_report(ctx: Ctx, since: datetime | None = None) -> SearchReport:
    return SearchReport.model_validate(deflections.report(ctx, since=since))
