"""Published versions of an article: list, read, diff two of them, restore one as the
working copy. Versions are written by the publish path (kb.service) and never change."""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Iterator

from sqlalchemy import select

from servicedesk.kb import service
from servicedesk.kb.models import KbArticle, KbArticleVersion
from servicedesk.platform import audit
from servicedesk.platform.errors import NotFound
from servicedesk.platform.pagination import INTEGER, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version

NEWEST_FIRST = Keyset([Key(KbArticleVersion.number, INTEGER)], descending=True)
# A diff of two 100,000-character bodies can be large: the answer is cut at this size.
MAX_DIFF_CHARS = 200_000


def list_versions(
    ctx: RequestContext, *, article_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[KbArticleVersion], str | None]:
    service.get_article(ctx, article_id=article_id)
    query = select(KbArticleVersion).where(
        KbArticleVersion.tenant_id == ctx.tenant_id, KbArticleVersion.article_id == article_id
    )
    return paginate(ctx.session, query, NEWEST_FIRST, limit=limit, cursor=cursor)


def get_version(ctx: RequestContext, *, article_id: uuid.UUID, number: int) -> KbArticleVersion:
    service.get_article(ctx, article_id=article_id)
    found = ctx.session.get(KbArticleVersion, (ctx.tenant_id, article_id, number))
    if found is None:
        raise NotFound(f"the article has no version {number}")
    return found


def _lines(version: KbArticleVersion) -> list[str]:
    head = [
        f"title: {version.title}",
        f"summary: {version.summary}",
        f"tags: {', '.join(version.tags)}",
        f"audience: {version.audience}",
        "",
    ]
    return [line + "\n" for line in head] + version.body.splitlines(keepends=True)


def _bounded(lines: Iterator[str]) -> tuple[str, bool]:
    out: list[str] = []
    size = 0
    for line in lines:
        size += len(line)
        if size > MAX_DIFF_CHARS:
            return "".join(out), True
        out.append(line if line.endswith("\n") else line + "\n")
    return "".join(out), False


def diff(ctx: RequestContext, *, article_id: uuid.UUID, a: int, b: int) -> tuple[str, bool]:
    """Unified diff from version ``a`` to version ``b`` (and whether it was cut)."""
    old = get_version(ctx, article_id=article_id, number=a)
    new = get_version(ctx, article_id=article_id, number=b)
    lines = difflib.unified_diff(
        _lines(old), _lines(new), fromfile=f"version {a}", tofile=f"version {b}"
    )
    return _bounded(lines)


def restore_version(
    ctx: RequestContext,
    *,
    article_id: uuid.UUID,
    number: int,
    version: int | None,
    if_match: int | None,
) -> KbArticle:
    """Put version ``number``'s content back as the working copy: a draft stays a draft
    (an archived article becomes one), a published article is re-published with it."""
    expected = expected_version(version, if_match)
    article = service.editable(ctx, article_id=article_id)
    check_version(article.version, expected, what="article")
    old = get_version(ctx, article_id=article_id, number=number)
    values = {name: getattr(old, name) for name in service.CONTENT}
    if old.category_id is not None and not _category_exists(ctx, old.category_id):
        values["category_id"] = None  # the category was deleted since
    values = {k: v for k, v in values.items() if getattr(article, k) != v}
    if article.state == service.ARCHIVED:
        article.state, article.archived_at = service.DRAFT, None
        values["state"] = service.DRAFT
    if not values:
        return article
    restored = service.change_content(ctx, article, values, action=f"restore_version_{number}")
    audit.record(
        ctx,
        action="kb_article.version_restored",
        entity_type="kb_article",
        entity_id=article.id,
        data={"number": number, "state": restored.state, "fields": sorted(values)},
    )
    return restored


def _category_exists(ctx: RequestContext, category_id: uuid.UUID) -> bool:
    from servicedesk.kb.models import KbCategory

    return ctx.session.get(KbCategory, category_id) is not None
