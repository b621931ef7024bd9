"""Knowledge base articles: create, read, list, edit, delete; what may publish.
No HTTP here, and no commit.

Every read and every action finds the article through ``visible_articles`` (hidden = 404);
every change leaves through the outbox as ``kb.article.*`` (the knowledge consumer
re-embeds on them) and publish, archive, restore and delete are audited.

The workflow's actions are in ``kb.workflow``. A published article's working copy is its
live text, so editing it is a re-publish (a new version), allowed to whoever may publish
(``may_publish``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, text

from servicedesk.kb import categories
from servicedesk.kb import settings as kb_settings
from servicedesk.kb.models import KbArticle, KbArticleTicket, KbArticleVersion
from servicedesk.kb.schemas import ArticleCreate, ArticleUpdate
from servicedesk.kb.settings import KbSettings
from servicedesk.kb.visibility import may_edit, visible_articles
from servicedesk.platform import audit, outbox
from servicedesk.platform.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.permissions import Permission
from servicedesk.platform.roles import STAFF_ROLES
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version

DRAFT, IN_REVIEW, PUBLISHED, ARCHIVED = "draft", "in_review", "published", "archived"
CONTENT = ("title", "summary", "body", "tags", "audience", "category_id")
NEWEST_FIRST = Keyset(
    [Key(KbArticle.updated_at, TIMESTAMP), Key(KbArticle.id, UUID)], descending=True
)


def load_settings(ctx: RequestContext) -> KbSettings:
    return kb_settings.SECTION.current(ctx)


# --- reading ------------------------------------------------------------------------------


def get_article(ctx: RequestContext, *, article_id: uuid.UUID, lock: bool = False) -> KbArticle:
    """The article if the caller may see it; 404 otherwise (the one rule)."""
    query = select(KbArticle).where(
        KbArticle.tenant_id == ctx.tenant_id, KbArticle.id == article_id, visible_articles(ctx)
    )
    if lock:
        query = query.with_for_update(of=KbArticle).execution_options(populate_existing=True)
    article = ctx.session.scalars(query).one_or_none()
    if article is None:
        raise NotFound("no such article")
    return article


def editable(ctx: RequestContext, *, article_id: uuid.UUID) -> KbArticle:
    """The article, locked, for a change by staff (a requester gets 404 for what they cannot
    see and 403 for a published article they can)."""
    article = get_article(ctx, article_id=article_id, lock=True)
    if not may_edit(ctx):
        raise Forbidden("only staff change articles")
    return article


@dataclass
class ArticleFilters:
    state: list[str] = field(default_factory=list)
    category_id: uuid.UUID | None = None
    tag: str | None = None
    audience: str | None = None
    owner_id: uuid.UUID | None = None
    ticket_id: uuid.UUID | None = None


def _filter_clauses(ctx: RequestContext, f: ArticleFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.state:
        where.append(KbArticle.state.in_(f.state))
    if f.category_id is not None:
        # The category and everything below it (a help centre section lists its subsections').
        where.append(KbArticle.category_id.in_(categories.subtree_ids(ctx, f.category_id)))
    if f.tag is not None:
        where.append(KbArticle.tags.contains([" ".join(f.tag.lower().split())]))
    if f.audience is not None:
        where.append(KbArticle.audience == f.audience)
    if f.owner_id is not None:
        where.append(KbArticle.owner_id == f.owner_id)
    if f.ticket_id is not None:
        from servicedesk.tickets import service as tickets

        tickets.get_visible(ctx, f.ticket_id)  # 404 for a ticket the caller cannot see
        where.append(
            exists().where(
                KbArticleTicket.tenant_id == ctx.tenant_id,
                KbArticleTicket.article_id == KbArticle.id,
                KbArticleTicket.ticket_id == f.ticket_id,
            )
        )
    return where


def list_articles(
    ctx: RequestContext, *, filters: ArticleFilters, limit: int, cursor: str | None
) -> tuple[list[KbArticle], str | None]:
    """Newest change first; ``state=in_review`` is the review queue."""
    query = select(KbArticle).where(
        KbArticle.tenant_id == ctx.tenant_id, visible_articles(ctx), *_filter_clauses(ctx, filters)
    )
    return paginate(ctx.session, query, NEWEST_FIRST, limit=limit, cursor=cursor)


# --- what the caller may do ------------------------------------------------------------------


def may_publish(ctx: RequestContext, settings: KbSettings) -> bool:
    """``kb:publish`` publishes; any writer too when the tenant does not require review."""
    if not may_edit(ctx):
        return False
    return ctx.can(Permission.KB_PUBLISH) or not settings.require_review


# --- writing ------------------------------------------------------------------------------


def emit(ctx: RequestContext, kind: str, article: KbArticle, **extra: Any) -> None:
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=f"kb.article.{kind}",
        aggregate_type="kb_article",
        aggregate_id=article.id,
        payload={
            "article_id": article.id,
            "state": article.state,
            "audience": article.audience,
            "published_version": article.published_version,
            "actor_id": ctx.user_id,
            **extra,
        },
    )


def _check_owner(ctx: RequestContext, owner_id: uuid.UUID) -> None:
    role = ctx.session.execute(
        text("SELECT role FROM memberships WHERE tenant_id = :t AND user_id = :u AND active"),
        {"t": ctx.tenant_id, "u": owner_id},
    ).scalar()
    if role not in STAFF_ROLES:
        raise ValidationProblem(
            errors=[field_error("owner_id", "not an active agent of this tenant")]
        )


def _check_refs(ctx: RequestContext, values: dict[str, Any]) -> None:
    if values.get("category_id") is not None:
        categories.check_exists(ctx, values["category_id"], "category_id")
    if values.get("owner_id") is not None:
        _check_owner(ctx, values["owner_id"])


def create_article(ctx: RequestContext, *, data: ArticleCreate) -> KbArticle:
    if not may_edit(ctx):
        raise Forbidden("only staff write articles")
    values = data.model_dump()
    _check_refs(ctx, values)
    article = KbArticle(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        **{name: values[name] for name in CONTENT},
        owner_id=data.owner_id or ctx.user_id,
        state=DRAFT,
        created_by=ctx.user_id,
        updated_by=ctx.user_id,
    )
    ctx.session.add(article)
    ctx.session.flush()
    ctx.session.refresh(article)
    audit.record(
        ctx,
        action="kb_article.created",
        entity_type="kb_article",
        entity_id=article.id,
        data={"after": {"title": article.title, "audience": article.audience}},
    )
    emit(ctx, "created", article)
    return article


def write(ctx: RequestContext, article: KbArticle, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(article, name, value)
    article.version += 1
    article.updated_by = ctx.user_id
    article.updated_at = func.now()


def publish_copy(ctx: RequestContext, article: KbArticle) -> None:
    """Keep the working copy as the next published version and make it live."""
    number = article.published_version + 1
    ctx.session.add(
        KbArticleVersion(
            tenant_id=ctx.tenant_id,
            article_id=article.id,
            number=number,
            title=article.title,
            summary=article.summary,
            body=article.body,
            tags=list(article.tags),
            audience=article.audience,
            category_id=article.category_id,
            published_by=ctx.user_id,
        )
    )
    article.published_version = number
    article.published_at = datetime.now(UTC)
    article.archived_at = None
    article.state = PUBLISHED


def change_content(
    ctx: RequestContext, article: KbArticle, values: dict[str, Any], *, action: str
) -> KbArticle:
    """Write new content onto a locked article (PATCH, or a version restored): in a draft or
    in review as it is; in a published article as a re-publish; never in an archived one."""
    if article.state == ARCHIVED:
        raise Conflict("the article is archived; restore it first", state=article.state)
    _check_refs(ctx, values)
    republish = article.state == PUBLISHED and any(
        getattr(article, name) != values[name] for name in CONTENT if name in values
    )
    if republish and not may_publish(ctx, load_settings(ctx)):
        raise Forbidden(
            "a published article is changed by a reviewer (a manager or an admin) while the"
            " tenant requires review",
            state=article.state,
        )
    write(ctx, article, values)
    if republish:
        publish_copy(ctx, article)
    ctx.session.flush()
    ctx.session.refresh(article)
    emit(ctx, "updated", article, action=action, fields=sorted(values))
    if republish:
        audit.record(
            ctx,
            action="kb_article.published",
            entity_type="kb_article",
            entity_id=article.id,
            data={"version": article.published_version, "via": action},
        )
        emit(ctx, "published", article)
    return article


def update_article(
    ctx: RequestContext, *, article_id: uuid.UUID, data: ArticleUpdate, if_match: int | None
) -> KbArticle:
    expected = expected_version(data.version, if_match)
    article = editable(ctx, article_id=article_id)
    check_version(article.version, expected, what="article")
    sent = data.model_dump(exclude_unset=True, exclude={"version"})
    values = {name: value for name, value in sent.items() if getattr(article, name) != value}
    if not values:
        return article
    return change_content(ctx, article, values, action="edit")


def audited(ctx: RequestContext, article: KbArticle, action: str, **data: Any) -> None:
    audit.record(
        ctx,
        action=f"kb_article.{action}",
        entity_type="kb_article",
        entity_id=article.id,
        data={"state": article.state, **data},
    )


def delete_article(ctx: RequestContext, *, article_id: uuid.UUID) -> None:
    """Drafts only: a published article is archived instead (history is kept)."""
    article = editable(ctx, article_id=article_id)
    if article.state != DRAFT:
        raise Conflict(
            "only drafts are deleted; archive a published article instead", state=article.state
        )
    if article.published_version > 0:
        raise Conflict("the article was published before: archive it to keep its history")
    has_files = ctx.session.execute(
        text("SELECT 1 FROM attachments WHERE tenant_id = :t AND article_id = :a LIMIT 1"),
        {"t": ctx.tenant_id, "a": article.id},
    ).first()
    if has_files is not None:
        raise Conflict("the article has files; archive it instead")
    audited(ctx, article, "deleted", title=article.title)
    emit(ctx, "deleted", article)
    ctx.session.delete(article)
    ctx.session.flush()
