"""A project task's files: the ticket's pipeline (presigned form, completion checks, gated
download, tombstones, cleanup) with the task's project deciding who may do what. Seeing
the project (``projects.access``) reads and downloads the files; the right to edit the
task (project role ``member``, or ``project:manage_all``) uploads and removes them; the
rest is 404, or 403 naming ``project_id`` for who sees without that right."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update

from servicedesk.attachments import service
from servicedesk.attachments.models import Attachment
from servicedesk.attachments.schemas import TaskAttachmentCreate
from servicedesk.platform import storage
from servicedesk.platform.errors import Conflict, NotFound, field_error
from servicedesk.platform.tenancy import RequestContext
from servicedesk.projects import tasks
from servicedesk.projects.access import Level
from servicedesk.projects.models import Project, Task


def create(
    ctx: RequestContext, *, project_id: uuid.UUID, task_id: uuid.UUID, data: TaskAttachmentCreate
) -> tuple[Attachment, storage.PresignedPost]:
    # The task's row lock serialises concurrent uploads, so the count limit holds.
    project, task = tasks.find(ctx, project_id, task_id, Level.WORK, lock=True)
    service._check_file(ctx, data)
    limits = service.SETTINGS.current(ctx)
    if service._live_count(ctx, Attachment.task_id == task.id) >= limits.max_per_ticket:
        raise Conflict(
            f"a task may have at most {limits.max_per_ticket} attachments",
            errors=[field_error("task_id", "attachment limit reached")],
        )
    key = storage.object_key(ctx.tenant_id, f"tasks/{task.id}", secrets.token_hex(16))
    form = storage.presign_upload(key, content_type=data.content_type, size=data.size)
    row = service._pending(ctx, data, key, form, project_id=project.id, task_id=task.id)
    ctx.session.add(row)
    ctx.session.flush()
    service._audited(ctx, row, "attachment.created", attachment_id=row.id,
                     filename=data.filename, content_type=data.content_type,
                     size=data.size)  # fmt: skip
    ctx.session.refresh(row)
    return row, form


def _own(ctx: RequestContext, project: Project, task: Task, attachment_id: uuid.UUID) -> uuid.UUID:
    """``attachment_id`` if it is this task's file, else 404."""
    found = ctx.session.scalar(
        select(Attachment.id).where(
            Attachment.tenant_id == ctx.tenant_id,
            Attachment.id == attachment_id,
            Attachment.project_id == project.id,
            Attachment.task_id == task.id,
        )
    )
    if found is None:
        raise NotFound("no such attachment")
    return found


def complete(
    ctx: RequestContext, *, project_id: uuid.UUID, task_id: uuid.UUID, attachment_id: uuid.UUID
) -> service.Completion:
    project, task = tasks.find(ctx, project_id, task_id, Level.WORK)
    return service.complete(ctx, attachment_id=_own(ctx, project, task, attachment_id))


def delete(
    ctx: RequestContext, *, project_id: uuid.UUID, task_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment:
    project, task = tasks.find(ctx, project_id, task_id, Level.WORK)
    return service.delete(ctx, attachment_id=_own(ctx, project, task, attachment_id))


def list_for_task(
    ctx: RequestContext,
    *,
    project_id: uuid.UUID,
    task_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> tuple[list[Attachment], str | None]:
    _, task = tasks.find(ctx, project_id, task_id)
    query = service._visible(ctx).where(Attachment.task_id == task.id)
    return service._page(ctx, query, limit=limit, cursor=cursor)


def _task_deleted(ctx: RequestContext, task: Task) -> None:
    """A deleted task's files become tombstones (the cleanup job removes their objects);
    the foreign key then lets go of the task (migrations/0059)."""
    ctx.session.execute(
        update(Attachment)
        .where(
            Attachment.tenant_id == ctx.tenant_id,
            Attachment.task_id == task.id,
            Attachment.status.in_(("pending", "available")),
        )
        .values(status="deleted", deleted_at=datetime.now(UTC), deleted_by=ctx.user_id)
        .execution_options(synchronize_session=False)
    )


tasks.on_delete(_task_deleted)
