"""Knowledge base API (``/v1/kb``): articles, categories, versions, votes and views, related
tickets. Thin: parse, call a service, shape the response. The tenant's knowledge base
settings (``/v1/settings/kb``) are in ``kb.settings_routes``, served by the tickets
function with the other settings."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from servicedesk.kb import activity, categories, render, service, versions, workflow
from servicedesk.kb.models import KbArticle
from servicedesk.kb.schemas import (
    ArticleCreate,
    ArticlePublic,
    ArticleSummary,
    ArticleTicketPublic,
    ArticleUpdate,
    Audience,
    FeedbackCreate,
    FeedbackEntry,
    FeedbackPublic,
    KbCategoryCreate,
    KbCategoryPublic,
    KbCategoryUpdate,
    RejectBody,
    State,
    TicketLinkCreate,
    TransitionBody,
    VersionDiff,
    VersionPublic,
    VersionSummary,
    ViewCount,
)
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import Once, Resource, listing, operation, route, tagged
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.rbac import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import parse_if_match

router = APIRouter(prefix="/v1/kb", tags=["knowledge base"])
VersionNumber = Annotated[int, Path(ge=1, le=1_000_000)]

# --- categories ---------------------------------------------------------------------------

kb_categories = Resource(
    router, "/categories", "category_id", "kb_category", KbCategoryPublic, Permission.KB_READ,
    Permission.KB_MANAGE,
)  # fmt: skip
kb_categories.list(
    "The category tree in (position, name) order, or one category's children",
    categories.list_categories,
    query={"parent_id": uuid.UUID | None},
    limit=100,
)
kb_categories.create(
    "Create a category (parent_id: under another one)", KbCategoryCreate, categories.create_category
)
kb_categories.get("Get a category", categories.get_category)
kb_categories.update(
    "Rename, reorder or move a category (never below itself; needs If-Match or version)",
    KbCategoryUpdate,
    categories.update_category,
)
kb_categories.delete(
    "Delete a category without sub-categories or articles", categories.delete_category
)


# --- articles -------------------------------------------------------------------------------


def _public(ctx: RequestContext, article: KbArticle) -> ArticlePublic:
    public = ArticlePublic.model_validate(article)
    public.html = render.to_html(article.body)
    public.my_vote = activity.my_vote(ctx, article.id)
    public.allowed_actions = workflow.allowed_actions(ctx, article)
    return public


def _shaped(ctx: RequestContext, article: KbArticle, response: Response) -> ArticlePublic:
    return tagged(response, _public(ctx, article))


@route(router.post, "/articles", Permission.KB_WRITE, "Write an article (a draft)", status_code=201)
def create_article(body: ArticleCreate, ctx: Ctx, once: Once) -> ArticlePublic:
    return once(body, lambda: _public(ctx, service.create_article(ctx, data=body)))


@route(
    router.get,
    "/articles",
    Permission.KB_READ,
    "List articles, newest change first (requesters: published public ones);"
    " state=in_review is the review queue",
)
def list_articles(
    ctx: Ctx,
    limit: Limit = 25,
    cursor: Cursor = None,
    state: Annotated[list[State] | None, Query(max_length=4)] = None,
    category_id: Annotated[
        uuid.UUID | None, Query(description="The category and its sub-categories")
    ] = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
    audience: Audience | None = None,
    owner_id: uuid.UUID | None = None,
    ticket_id: Annotated[
        uuid.UUID | None, Query(description="Articles linked to this ticket")
    ] = None,
) -> Page[ArticleSummary]:
    filters = service.ArticleFilters(
        state=list(state or []),
        category_id=category_id,
        tag=tag,
        audience=audience,
        owner_id=owner_id,
        ticket_id=ticket_id,
    )
    rows, nxt = service.list_articles(ctx, filters=filters, limit=limit, cursor=cursor)
    return Page(items=[ArticleSummary.model_validate(a) for a in rows], next_cursor=nxt)


@route(
    router.get,
    "/articles/{article_id}",
    Permission.KB_READ,
    "Get an article with its rendered HTML (a requester's read counts as a view)",
)
def get_article(article_id: uuid.UUID, ctx: Ctx, response: Response) -> ArticlePublic:
    article = service.get_article(ctx, article_id=article_id)
    if not ctx.is_staff:
        activity.count_view(ctx, article)
    return _shaped(ctx, article, response)


@route(
    router.patch,
    "/articles/{article_id}",
    Permission.KB_WRITE,
    "Edit an article (needs If-Match or version; a published one is re-published)",
)
def update_article(
    article_id: uuid.UUID,
    body: ArticleUpdate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> ArticlePublic:
    article = service.update_article(
        ctx, article_id=article_id, data=body, if_match=parse_if_match(if_match)
    )
    return _shaped(ctx, article, response)


operation(
    router.delete,
    "/articles/{article_id}",
    Permission.KB_WRITE,
    "Delete a draft that was never published (others are archived)",
    service.delete_article,
)


def _transition_route(action: str, summary: str, body: type[TransitionBody]) -> None:
    def endpoint(
        article_id: uuid.UUID,
        body: Any,
        ctx: Ctx,
        response: Response,
        once: Once,
        if_match: IfMatch = None,
    ) -> ArticlePublic:
        version = body.version if body.version is not None else parse_if_match(if_match)
        reason = getattr(body, "reason", None)

        def act() -> ArticlePublic:
            article = workflow.transition(
                ctx,
                article_id=article_id,
                action=action,
                version=version,
                reason=reason,
                note=body.note,
            )
            return _shaped(ctx, article, response)

        return once(body, act, status=200)

    endpoint.__annotations__["body"] = body
    endpoint.__name__ = f"{action}_article"
    route(router.post, f"/articles/{{article_id}}/{action}", Permission.KB_WRITE, summary)(endpoint)


_transition_route("submit", "Submit a draft for review", TransitionBody)
_transition_route(
    "publish",
    "Publish (from review; from a draft when the tenant does not require review)",
    TransitionBody,
)
_transition_route("reject", "Send an article in review back to draft, with a reason", RejectBody)
_transition_route("archive", "Archive an article (managers)", TransitionBody)
_transition_route("restore", "Bring an archived article back as a draft (managers)", TransitionBody)


# --- versions -------------------------------------------------------------------------------

listing(
    router,
    "/articles/{article_id}/versions",
    Permission.KB_READ,
    "The article's published versions, newest first",
    VersionSummary,
    versions.list_versions,
    name="list_article_versions",
)


@route(
    router.get,
    "/articles/{article_id}/versions/{number}",
    Permission.KB_READ,
    "One published version",
)
def get_article_version(article_id: uuid.UUID, number: VersionNumber, ctx: Ctx) -> VersionPublic:
    found = versions.get_version(ctx, article_id=article_id, number=number)
    public = VersionPublic.model_validate(found)
    public.html = render.to_html(found.body)
    return public


@route(
    router.get,
    "/articles/{article_id}/versions/{a}/diff/{b}",
    Permission.KB_READ,
    "Unified diff from version a to version b",
)
def diff_article_versions(
    article_id: uuid.UUID, a: VersionNumber, b: VersionNumber, ctx: Ctx
) -> VersionDiff:
    text, cut = versions.diff(ctx, article_id=article_id, a=a, b=b)
    return VersionDiff(from_version=a, to_version=b, diff=text, truncated=cut)


@route(
    router.post,
    "/articles/{article_id}/versions/{number}/restore",
    Permission.KB_WRITE,
    "Put a version back as the working copy (needs If-Match or version)",
)
def restore_article_version(
    article_id: uuid.UUID,
    number: VersionNumber,
    body: TransitionBody,
    ctx: Ctx,
    response: Response,
    once: Once,
    if_match: IfMatch = None,
) -> ArticlePublic:
    def act() -> ArticlePublic:
        article = versions.restore_version(
            ctx,
            article_id=article_id,
            number=number,
            version=body.version,
            if_match=parse_if_match(if_match),
        )
        return _shaped(ctx, article, response)

    return once(body, act, status=200)


# --- votes and views ----------------------------------------------------------------------


@route(
    router.post,
    "/articles/{article_id}/feedback",
    Permission.KB_READ,
    "Vote helpful or not (one vote per person, changeable)",
)
def article_feedback(article_id: uuid.UUID, body: FeedbackCreate, ctx: Ctx) -> FeedbackPublic:
    found = activity.vote(ctx, article_id=article_id, helpful=body.helpful, comment=body.comment)
    return FeedbackPublic.model_validate(found)


listing(
    router,
    "/articles/{article_id}/feedback",
    Permission.KB_INSIGHTS,
    "Everyone's votes and comments on the article, newest first",
    FeedbackEntry,
    activity.list_feedback,
    name="list_article_feedback",
    query={"helpful": bool | None},
)


@route(
    router.post,
    "/articles/{article_id}/views",
    Permission.KB_READ,
    "Count a view (once per reader and day; the help centre's page calls it)",
)
def article_view(article_id: uuid.UUID, ctx: Ctx) -> ViewCount:
    article, counted = activity.view(ctx, article_id=article_id)
    return ViewCount(article_id=article.id, view_count=article.view_count, counted=counted)


# --- related tickets ------------------------------------------------------------------------

listing(
    router,
    "/articles/{article_id}/tickets",
    Permission.KB_WRITE,
    "Tickets linked to the article (those the caller may see)",
    ArticleTicketPublic,
    activity.list_tickets,
    name="list_article_tickets",
)

operation(
    router.post,
    "/articles/{article_id}/tickets",
    Permission.KB_WRITE,
    "Link a ticket the caller may see to the article",
    activity.link_ticket,
    public=ArticleTicketPublic,
    body=TicketLinkCreate,
    name="link_article_ticket",
)

operation(
    router.delete,
    "/articles/{article_id}/tickets/{ticket_id}",
    Permission.KB_WRITE,
    "Unlink a ticket",
    activity.unlink_ticket,
    name="unlink_article_ticket",
)
