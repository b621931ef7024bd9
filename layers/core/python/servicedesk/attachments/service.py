"""Attachment rules: upload forms, verification, gated download, tombstones (the scheduled
cleanup is servicedesk.attachments.cleanup).

No HTTP here, and no commit. The file itself never passes through us on the way in or
out: the browser posts it to S3 with a presigned form and fetches it with a presigned
link. What we hold is the row, and the decision who may have which link.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from servicedesk.attachments import avatars, magic
from servicedesk.attachments.models import Attachment
from servicedesk.attachments.schemas import (
    ArticleAttachmentCreate,
    AttachmentCreate,
    AttachmentSettings,
)
from servicedesk.kb import service as articles
from servicedesk.kb.models import KbArticle
from servicedesk.kb.visibility import may_edit, visible_articles
from servicedesk.platform import audit, outbox, storage
from servicedesk.platform.errors import (
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    ProblemError,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.tenant_settings import Section
from servicedesk.projects import access as projects
from servicedesk.projects import tasks as project_tasks
from servicedesk.projects.models import Project
from servicedesk.tickets import permissions, states, timeline
from servicedesk.tickets import service as tickets
from servicedesk.tickets.models import Comment, Ticket
from servicedesk.tickets.visibility import event_visibility_for, visible, visible_comments

# After its form expires, an upload may still be completed for this long; then the
# cleanup job removes it.


# --- settings ------------------------------------------------------------------------


# Requesters read the limits too: the web app checks a file before it asks for a form.
SETTINGS = Section(
    "attachments", AttachmentSettings, read=Permission.DESK_ACCESS, what="attachment limits"
)


# What a tenant's own file (``Attachment.purpose``: its logo) may be, whatever the tenant's
# attachment types (servicedesk.branding.service.LOGO_TYPES says the same).
PURPOSE_TYPES = ("image/png", "image/jpeg", "image/webp")


# --- visibility: one rule for lists, downloads and deletes (invariant 3) --------------


def _visible(ctx: RequestContext) -> Select[Attachment]:
    """Attachments on tickets the caller may see, and on comments the caller may read
    (internal notes: staff only; a deleted comment takes its files with it); an article's
    files follow the article (``kb.visibility``), a task's its project
    (``projects.access.visible``; a deleted task's tombstones are nobody's)."""
    return (
        select(Attachment)
        .outerjoin(
            Ticket,
            and_(Ticket.tenant_id == Attachment.tenant_id, Ticket.id == Attachment.ticket_id),
        )
        .outerjoin(
            Comment,
            and_(Comment.tenant_id == Attachment.tenant_id, Comment.id == Attachment.comment_id),
        )
        .outerjoin(
            KbArticle,
            and_(
                KbArticle.tenant_id == Attachment.tenant_id, KbArticle.id == Attachment.article_id
            ),
        )
        .outerjoin(
            Project,
            and_(Project.tenant_id == Attachment.tenant_id, Project.id == Attachment.project_id),
        )
        .where(
            Attachment.tenant_id == ctx.tenant_id,
            or_(
                and_(
                    Attachment.ticket_id.is_not(None),
                    visible(ctx, tickets.load_settings(ctx)),
                    or_(
                        Attachment.comment_id.is_(None),
                        and_(Comment.deleted_at.is_(None), visible_comments(ctx)),
                    ),
                ),
                and_(Attachment.article_id.is_not(None), visible_articles(ctx)),
                and_(Attachment.task_id.is_not(None), projects.visible(ctx)),
            ),
        )
    )


def _readable_comment(
    ctx: RequestContext, ticket_id: uuid.UUID, comment_id: uuid.UUID
) -> Comment | None:
    return ctx.session.scalars(
        select(Comment).where(
            Comment.tenant_id == ctx.tenant_id,
            Comment.ticket_id == ticket_id,
            Comment.id == comment_id,
            Comment.deleted_at.is_(None),
            visible_comments(ctx),
        )
    ).one_or_none()


def _event_visibility(ctx: RequestContext, row: Attachment) -> str:
    if row.comment_id is None:
        return "public"
    comment = ctx.session.get(Comment, row.comment_id)
    return event_visibility_for(comment.visibility if comment else "public")


def _ticket(ctx: RequestContext, ticket_id: uuid.UUID) -> Ticket:
    ticket = ctx.session.get(Ticket, ticket_id)
    assert ticket is not None  # the foreign key guarantees it
    return ticket


def _audited(ctx: RequestContext, row: Attachment, action: str, **data: Any) -> None:
    """The audit row of a change to a file: on its ticket's timeline, its article, or (a
    tenant's logo) on the file itself."""
    if row.ticket_id is not None:
        timeline.audited(ctx, _ticket(ctx, row.ticket_id), action, **data)
        return
    if row.article_id is not None:
        audit.record(
            ctx, action=action, entity_type="kb_article", entity_id=row.article_id, data=dict(data)
        )
        return
    if row.project_id is not None:
        audit.record(ctx, action=action, entity_type="task", entity_id=row.task_id,
                     data={"project_id": str(row.project_id), **data})  # fmt: skip
        return
    audit.record(  # a tenant's own file (its logo)
        ctx, action=action, entity_type="attachment", entity_id=row.id,
        data={"purpose": row.purpose, **data},
    )  # fmt: skip


def _live_count(ctx: RequestContext, owner: ColumnElement[bool]) -> int:
    # Abandoned uploads do not count once their form has expired.
    live = or_(
        Attachment.status == "available",
        and_(Attachment.status == "pending", Attachment.expires_at > func.now()),
    )
    found = ctx.session.scalar(
        select(func.count()).where(Attachment.tenant_id == ctx.tenant_id, owner, live)
    )
    return found or 0


# --- create: a pending row and an upload form -----------------------------------------


def _check_file(ctx: RequestContext, data: AttachmentCreate | ArticleAttachmentCreate) -> None:
    limits = SETTINGS.current(ctx)
    if data.content_type not in limits.allowed_types:
        raise ValidationProblem(
            f"{data.content_type} files are not accepted",
            errors=[field_error("content_type", "not an accepted type")],
            allowed_types=list(limits.allowed_types),
        )
    if data.size > limits.max_size_bytes:
        raise ValidationProblem(
            f"files may be at most {limits.max_size_bytes} bytes",
            errors=[field_error("size", f"exceeds the limit of {limits.max_size_bytes} bytes")],
        )


def _check_limits(ctx: RequestContext, ticket: Ticket, data: AttachmentCreate) -> None:
    _check_file(ctx, data)
    limits = SETTINGS.current(ctx)
    if _live_count(ctx, Attachment.ticket_id == ticket.id) >= limits.max_per_ticket:
        raise Conflict(
            f"a ticket may have at most {limits.max_per_ticket} attachments",
            errors=[field_error("ticket_id", "attachment limit reached")],
        )


def create(
    ctx: RequestContext, *, ticket_id: uuid.UUID, data: AttachmentCreate
) -> tuple[Attachment, storage.PresignedPost]:
    # The ticket row lock serializes concurrent uploads, so the count limit holds.
    ticket = tickets.get_visible(ctx, ticket_id, for_update=True)
    if not permissions.may_comment(ctx, ticket):
        raise Forbidden("you may not add files to this ticket")
    if ticket.status == states.Status.CANCELLED.value:
        raise Conflict("the ticket was cancelled")
    if data.comment_id is not None:
        comment = _readable_comment(ctx, ticket.id, data.comment_id)
        if comment is None:
            raise ValidationProblem(
                errors=[field_error("comment_id", "no such comment on this ticket")]
            )
        if comment.author_id != ctx.user_id:
            raise Forbidden(
                errors=[field_error("comment_id", "only its author adds files to a comment")]
            )
    _check_limits(ctx, ticket, data)
    key = storage.object_key(ctx.tenant_id, ticket.id, secrets.token_hex(16))
    form = storage.presign_upload(key, content_type=data.content_type, size=data.size)
    row = _pending(ctx, data, key, form, ticket_id=ticket.id, comment_id=data.comment_id)
    ctx.session.add(row)
    timeline.audited(
        ctx,
        ticket,
        "attachment.created",
        attachment_id=row.id,
        comment_id=data.comment_id,
        filename=data.filename,
        content_type=data.content_type,
        size=data.size,
    )
    ctx.session.flush()
    ctx.session.refresh(row)
    return row, form


def _pending(
    ctx: RequestContext,
    data: AttachmentCreate | ArticleAttachmentCreate,
    key: str,
    form: storage.PresignedPost,
    **owner: uuid.UUID | None,
) -> Attachment:
    """The row of an upload just signed (a ticket's or an article's: ``owner``), pending
    until its completion checks the object."""
    return Attachment(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        uploader_id=ctx.user_id,
        filename=data.filename,
        content_type=data.content_type,
        size_bytes=data.size,
        object_key=key,
        status="pending",
        expires_at=form.expires_at,
        **owner,
    )


def create_for_article(
    ctx: RequestContext, *, article_id: uuid.UUID, data: ArticleAttachmentCreate
) -> tuple[Attachment, storage.PresignedPost]:
    """An article's file (staff): same form, checks and cleanup as a ticket's."""
    article = articles.get_article(ctx, article_id=article_id, lock=True)
    if not may_edit(ctx):
        raise Forbidden("only staff add files to articles")
    if article.state == articles.ARCHIVED:
        raise Conflict("the article is archived; restore it first")
    _check_file(ctx, data)
    limits = SETTINGS.current(ctx)
    if _live_count(ctx, Attachment.article_id == article.id) >= limits.max_per_ticket:
        raise Conflict(
            f"an article may have at most {limits.max_per_ticket} attachments",
            errors=[field_error("article_id", "attachment limit reached")],
        )
    key = storage.object_key(ctx.tenant_id, f"kb/{article.id}", secrets.token_hex(16))
    form = storage.presign_upload(key, content_type=data.content_type, size=data.size)
    row = _pending(ctx, data, key, form, article_id=article.id)
    ctx.session.add(row)
    ctx.session.flush()
    _audited(ctx, row, "attachment.created", attachment_id=row.id, filename=data.filename,
             content_type=data.content_type, size=data.size)  # fmt: skip
    ctx.session.refresh(row)
    return row, form


# --- complete: check what arrived ------------------------------------------------------


@dataclass
class Completion:
    attachment: Attachment
    # Set when the file was refused: the row is committed as rejected, the answer is 422.
    problem: ProblemError | None = None


def _check_head(
    row: Attachment, found: storage.ObjectHead, allowed: list[str]
) -> tuple[str, str] | None:
    """What S3's policy should already have refused, and what the first bytes say."""
    if found.size != row.size_bytes:
        return "size", f"the uploaded file has {found.size} bytes, not {row.size_bytes}"
    if found.content_type != row.content_type:
        return "content_type", f"uploaded as {found.content_type or 'no type'}"
    if row.content_type not in allowed:
        return "content_type", f"{row.content_type} files are no longer accepted"
    why = magic.mismatch(
        row.content_type, storage.first_bytes(row.object_key, found, magic.SNIFF_BYTES)
    )
    return ("content_type", why) if why is not None else None


def _hash(row: Attachment, found: storage.ObjectHead) -> tuple[str, str] | str:
    """The sha256 of the whole object, streamed; text is checked all the way through."""
    digest, total = hashlib.sha256(), 0
    text_check = magic.TextCheck() if row.content_type in magic.TEXT_TYPES else None
    # An avatar's header is read for its dimensions (it is small: AVATAR_MAX_BYTES).
    header = bytearray() if row.purpose == avatars.AVATAR else None
    for chunk in storage.stream(row.object_key, found):
        digest.update(chunk)
        total += len(chunk)
        if text_check is not None:
            text_check.feed(chunk, final=False)
        if header is not None and len(header) < avatars.AVATAR_MAX_BYTES:
            header += chunk
    if text_check is not None:
        text_check.feed(b"", final=True)
        if text_check.problem:
            return "content_type", text_check.problem
    if total != row.size_bytes:
        return "size", f"the uploaded file has {total} bytes, not {row.size_bytes}"
    if header is not None:
        why = avatars.check_dimensions(row.content_type, bytes(header))
        if why is not None:
            return "file", why
    return digest.hexdigest()


def _verify(
    row: Attachment, found: storage.ObjectHead, allowed: list[str]
) -> tuple[str, str] | str:
    """The sha256 of an acceptable object, or (field, reason) for a refused one."""
    return _check_head(row, found, allowed) or _hash(row, found)


def _check_owner(ctx: RequestContext, row: Attachment) -> None:
    """The uploader still reaches what the file belongs to (a task's: may edit it)."""
    try:
        if row.ticket_id is not None:
            tickets.get_visible(ctx, row.ticket_id)
        elif row.article_id is not None:
            articles.get_article(ctx, article_id=row.article_id)
        elif row.project_id is not None:
            if row.task_id is None:  # its task was deleted
                raise NotFound("no such attachment")
            project_tasks.find(ctx, row.project_id, row.task_id, projects.Level.WORK)
        elif row.purpose == "logo" and not ctx.can(Permission.ADMIN_SETTINGS):  # migrations/0035
            raise NotFound("no such attachment")
    except NotFound:
        raise NotFound("no such attachment") from None


def complete(ctx: RequestContext, *, attachment_id: uuid.UUID) -> Completion:
    row = ctx.session.scalars(
        select(Attachment)
        .where(
            Attachment.tenant_id == ctx.tenant_id,
            Attachment.id == attachment_id,
            # Someone else's upload is not there at all.
            Attachment.uploader_id == ctx.user_id,
        )
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise NotFound("no such attachment")
    _check_owner(ctx, row)
    if row.status != "pending":
        raise Conflict(f"the attachment is already {row.status}")
    found = storage.head(row.object_key)
    if found is None:
        raise Conflict(
            "nothing was uploaded yet: post the file with the upload form first",
            errors=[field_error("file", "not uploaded")],
        )
    # A logo or an avatar is an image whatever the tenant's attachment types.
    allowed: list[str] = [*PURPOSE_TYPES] if row.purpose else [*SETTINGS.current(ctx).allowed_types]
    verdict = _verify(row, found, allowed)
    now = datetime.now(UTC)
    if isinstance(verdict, tuple):
        return Completion(row, _reject(ctx, row, verdict, now))
    row.status, row.sha256, row.completed_at = "available", verdict, now
    row.version_id, row.etag = found.version_id, found.etag
    if row.ticket_id is not None:
        _added_to_timeline(ctx, row)
    if row.task_id is not None:
        _task_news(ctx, row, "added")
    _audited(ctx, row, "attachment.completed", attachment_id=row.id, sha256=verdict)
    ctx.session.flush()
    return Completion(row)


def _added_to_timeline(ctx: RequestContext, row: Attachment) -> None:
    assert row.ticket_id is not None
    timeline.event(
        ctx,
        _ticket(ctx, row.ticket_id),
        "attachment_added",
        visibility=_event_visibility(ctx, row),
        payload={
            "attachment_id": row.id,
            "comment_id": row.comment_id,
            "filename": row.filename,
            "content_type": row.content_type,
            "size": row.size_bytes,
        },
    )


def _task_news(ctx: RequestContext, row: Attachment, what: str) -> None:
    """A task's files changed: ``task.updated`` (``changed: ["attachments"]``), as its ticket
    links do, to the project's room, webhooks and the task's assignee and watchers."""
    assert row.project_id is not None and row.task_id is not None
    project, task = project_tasks.find(ctx, row.project_id, row.task_id)
    project_tasks.emit(ctx, "updated", project, task, changed=["attachments"],
                       attachment=what, attachment_id=row.id, filename=row.filename)  # fmt: skip


def _reject(
    ctx: RequestContext, row: Attachment, reason: tuple[str, str], now: datetime
) -> ProblemError:
    """Delete the object, keep the row as rejected; the cleanup job retries a failed delete."""
    removed = storage.delete([row.object_key])
    row.status = "rejected"
    row.object_removed_at = now if row.object_key in removed else None
    name, why = reason
    _audited(ctx, row, "attachment.rejected", attachment_id=row.id, field=name, reason=why)
    ctx.session.flush()
    return ValidationProblem(
        f"the uploaded file was refused: {why}", errors=[field_error(name, why)]
    )


# --- read ------------------------------------------------------------------------------


def download(ctx: RequestContext, *, attachment_id: uuid.UUID) -> tuple[str, datetime]:
    row = ctx.session.scalars(
        _visible(ctx).where(Attachment.id == attachment_id, Attachment.status == "available")
    ).one_or_none()
    if row is None:
        raise NotFound("no such attachment")
    # The link is only handed out for bytes that are there: a file whose object is gone
    # (removed behind our back, or an emulator that lost its state) is a clean 410, not
    # a link to S3's own error. One HEAD of the pinned version.
    current = storage.head(row.object_key, version_id=row.version_id)
    if current is None:
        raise Gone("the stored file is no longer available", attachment_id=str(row.id))
    if row.version_id is None and current.etag != row.etag:
        # An unversioned bucket (some emulators): make sure the object is the one checked.
        raise Conflict("the stored file changed after it was checked")
    return storage.presign_download(
        row.object_key,
        filename=row.filename,
        content_type=row.content_type,
        version_id=row.version_id,
    )


OLDEST_FIRST = Keyset([Key(Attachment.created_at, TIMESTAMP), Key(Attachment.id, UUID)])


def _page(
    ctx: RequestContext, query: Select[Attachment], *, limit: int, cursor: str | None
) -> tuple[list[Attachment], str | None]:
    query = query.where(Attachment.status == "available")
    return paginate(ctx.session, query, OLDEST_FIRST, limit=limit, cursor=cursor)


def list_for_ticket(
    ctx: RequestContext, *, ticket_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[Attachment], str | None]:
    tickets.get_visible(ctx, ticket_id)
    return _page(
        ctx, _visible(ctx).where(Attachment.ticket_id == ticket_id), limit=limit, cursor=cursor
    )


def list_for_comment(
    ctx: RequestContext,
    *,
    ticket_id: uuid.UUID,
    comment_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> tuple[list[Attachment], str | None]:
    tickets.get_visible(ctx, ticket_id)
    if _readable_comment(ctx, ticket_id, comment_id) is None:
        raise NotFound("no such comment")
    query = _visible(ctx).where(
        Attachment.ticket_id == ticket_id, Attachment.comment_id == comment_id
    )
    return _page(ctx, query, limit=limit, cursor=cursor)


def list_for_article(
    ctx: RequestContext, *, article_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[Attachment], str | None]:
    articles.get_article(ctx, article_id=article_id)
    query = _visible(ctx).where(Attachment.article_id == article_id)
    return _page(ctx, query, limit=limit, cursor=cursor)


# --- delete: a tombstone now, the object later ------------------------------------------


def delete(ctx: RequestContext, *, attachment_id: uuid.UUID) -> Attachment:
    row = ctx.session.scalars(
        _visible(ctx)
        .where(
            Attachment.id == attachment_id,
            or_(
                Attachment.status == "available",
                and_(Attachment.status == "pending", Attachment.uploader_id == ctx.user_id),
            ),
        )
        .with_for_update(of=Attachment)
    ).one_or_none()
    if row is None:
        raise NotFound("no such attachment")
    if row.uploader_id != ctx.user_id and not ctx.is_staff:
        raise Forbidden("only the uploader or staff remove a file")
    if row.article_id is not None and not may_edit(ctx):
        raise Forbidden("only staff remove an article's files")
    if row.task_id is not None:  # the right to edit the task (403 naming project_id)
        assert row.project_id is not None  # attachments_task_link (migrations/0059)
        project_tasks.find(ctx, row.project_id, row.task_id, projects.Level.WORK)
    was_available = row.status == "available"
    row.status, row.deleted_at, row.deleted_by = "deleted", datetime.now(UTC), ctx.user_id
    if was_available and row.ticket_id is not None:
        timeline.event(
            ctx,
            _ticket(ctx, row.ticket_id),
            "attachment_removed",
            visibility=_event_visibility(ctx, row),
            payload={
                "attachment_id": row.id,
                "comment_id": row.comment_id,
                "filename": row.filename,
            },
        )
    if was_available and row.task_id is not None:
        _task_news(ctx, row, "removed")
    _audited(ctx, row, "attachment.deleted", attachment_id=row.id, filename=row.filename)
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type="attachment.deleted",
        aggregate_type="attachment",
        aggregate_id=row.id,
        payload={
            "attachment_id": row.id,
            "ticket_id": row.ticket_id,
            "article_id": row.article_id,
            "task_id": row.task_id,
            "object_key": row.object_key,
            "actor_id": ctx.user_id,
        },
    )
    ctx.session.flush()
    return row
