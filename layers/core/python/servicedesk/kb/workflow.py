"""The review workflow of an article: submit, publish, reject, archive, restore.

draft -> in_review (submit) -> published (publish) -> archived (archive) -> draft
(restore); in_review -> draft (reject, with a reason); archive from any state but archived.
Publishing needs review when the tenant's ``require_review`` is on: then only a manager or
admin publishes, and only from in_review. With it off, any staff member publishes, from a
draft too. No HTTP here, and no commit.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from servicedesk.kb import service
from servicedesk.kb.models import KbArticle
from servicedesk.kb.settings import KbSettings
from servicedesk.kb.visibility import may_edit
from servicedesk.platform.errors import Conflict, Forbidden, field_error
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version

# Workflow actions with an audit row (past tense: the audit action's name).
AUDITED = {
    "submit": "submitted",
    "publish": "published",
    "reject": "rejected",
    "archive": "archived",
    "restore": "restored",
}


def allowed_actions(ctx: RequestContext, article: KbArticle) -> list[str]:
    if not may_edit(ctx):
        return []
    settings = service.load_settings(ctx)
    publisher = service.may_publish(ctx, settings)
    manager = ctx.can(Permission.KB_PUBLISH)
    actions = {
        service.DRAFT: ["submit"]
        + (["delete"] if article.published_version == 0 else [])
        + (["publish"] if publisher and not settings.require_review else []),
        service.IN_REVIEW: (["publish", "reject"] if publisher else []),
        service.PUBLISHED: [],
        service.ARCHIVED: ["restore"] if manager else [],
    }[article.state]
    if article.state != service.ARCHIVED and manager:
        actions.append("archive")
    return sorted(actions)


def _illegal(article: KbArticle, action: str) -> Conflict:
    return Conflict(
        f"cannot {action} an article that is {article.state.replace('_', ' ')}",
        state=article.state,
    )


def transition(
    ctx: RequestContext,
    *,
    article_id: uuid.UUID,
    action: str,
    version: int | None,
    reason: str | None = None,
    note: str = "",
) -> KbArticle:
    """One workflow action (submit, publish, reject, archive, restore); 409 when the
    article's state does not allow it, 403 when the caller may not take it."""
    article = service.editable(ctx, article_id=article_id)
    if version is not None:
        check_version(article.version, version, what="article")
    before = article.state
    _apply(ctx, article, action)
    service.write(ctx, article, {})
    ctx.session.flush()
    ctx.session.refresh(article)
    extra = {"from": before, **({"reason": reason} if reason else {})}
    if note:
        extra["note"] = note
    if action in AUDITED:
        service.audited(ctx, article, AUDITED[action], **extra)
    kind = {"publish": "published", "archive": "archived"}.get(action, "updated")
    service.emit(ctx, kind, article, action=action, **extra)
    return article


def _apply(ctx: RequestContext, article: KbArticle, action: str) -> None:
    """Move the locked article's state for ``action``, or refuse (403/409)."""
    if action in ("publish", "reject"):
        _check_review(ctx, service.load_settings(ctx), article, action)
        if action == "reject":
            article.state = service.DRAFT
        else:
            service.publish_copy(ctx, article)
        return
    if action in ("archive", "restore") and not ctx.can(Permission.KB_PUBLISH):
        raise Forbidden(f"to {action} articles needs the kb:publish permission")
    allowed_from = {
        "submit": (service.DRAFT,),
        "archive": (service.DRAFT, service.IN_REVIEW, service.PUBLISHED),
        "restore": (service.ARCHIVED,),
    }
    if article.state not in allowed_from[action]:
        raise _illegal(article, action)
    article.state = {
        "submit": service.IN_REVIEW,
        "archive": service.ARCHIVED,
        "restore": service.DRAFT,
    }[action]
    article.archived_at = datetime.now(UTC) if action == "archive" else None


def _check_review(
    ctx: RequestContext, settings: KbSettings, article: KbArticle, action: str
) -> None:
    if not service.may_publish(ctx, settings):
        raise Forbidden(
            f"only a manager or an admin may {action} while the tenant requires review",
            errors=[field_error("state", "review required")],
        )
    if article.state == service.IN_REVIEW:
        return
    if action == "publish" and article.state == service.DRAFT:
        if settings.require_review:
            raise Conflict(
                "this tenant requires review: submit the article, then a manager publishes it",
                state=article.state,
                errors=[field_error("state", "submit for review first")],
            )
        return
    raise _illegal(article, action)
