"""Attachments API: thin — parse, call a service, shape the response.

API Gateway routes by path, so the routers split by the function that serves them: ``router``
(``/v1/attachments``) and ``upload_router`` (``POST /v1/tickets/{id}/attachments``, routed to
the attachments function by its own API Gateway method) run in the attachments function, the
only one that may sign S3 URLs; ``ticket_router`` (the lists under ``/v1/tickets``) and
``settings_router`` run in the tickets function and never touch S3. Articles likewise:
``article_router`` (``POST /v1/kb/articles/{id}/attachments``) runs in the attachments
function by its own API Gateway method, ``article_list_router`` (the list on the same path)
in the knowledge base function. Tasks too: ``task_router`` (a task's upload start and
completion, under ``/v1/projects/{project_id}/tasks/{task_id}/attachments``) runs in the
attachments function, ``task_list_router`` (the list and the removal there, which touch
no S3) in the projects function.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from servicedesk.attachments import service, task_files
from servicedesk.attachments.schemas import (
    ArticleAttachmentCreate,
    AttachmentCreate,
    AttachmentPublic,
    AttachmentUpload,
    DownloadLink,
    TaskAttachmentCreate,
)
from servicedesk.platform.app import problem_response
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import Once, listing, operation, route
from servicedesk.platform.errors import PROBLEM_JSON
from servicedesk.platform.rbac import Permission
from servicedesk.platform.settings_routes import add_settings_routes
from servicedesk.platform.storage import UploadForm

router = APIRouter(prefix="/v1/attachments", tags=["attachments"])
upload_router = APIRouter(prefix="/v1/tickets", tags=["attachments"])
ticket_router = APIRouter(prefix="/v1/tickets", tags=["attachments"])
settings_router = APIRouter(prefix="/v1/settings", tags=["settings"])
article_router = APIRouter(prefix="/v1/kb", tags=["attachments"])
article_list_router = APIRouter(prefix="/v1/kb", tags=["attachments"])
task_router = APIRouter(prefix="/v1/projects", tags=["attachments"])
task_list_router = APIRouter(prefix="/v1/projects", tags=["attachments"])
TASK_FILES = "/{project_id}/tasks/{task_id}/attachments"


def _upload(row: Any, form: Any) -> AttachmentUpload:
    return AttachmentUpload(
        attachment=AttachmentPublic.model_validate(row),
        upload=UploadForm(url=form.url, fields=form.fields, expires_at=form.expires_at),
    )


def _completed(done: service.Completion, request: Request) -> AttachmentPublic | JSONResponse:
    if done.problem is not None:
        # Not raised: the rejection (row and audit) must commit with this answer.
        return problem_response(done.problem.status, done.problem.body(request.url.path))
    return AttachmentPublic.model_validate(done.attachment)


@route(
    upload_router.post,
    "/{ticket_id}/attachments",
    Permission.ATTACHMENT_USE,
    "Start an upload to a ticket or comment: a pending attachment and an S3 form",
    status_code=201,
    ticket_scope=True,
)
def create_attachment(
    ticket_id: uuid.UUID,
    body: AttachmentCreate,
    ctx: Ctx,
    once: Once,
) -> AttachmentUpload:
    def start() -> AttachmentUpload:
        return _upload(*service.create(ctx, ticket_id=ticket_id, data=body))

    return once(body, start)


@route(
    article_router.post,
    "/articles/{article_id}/attachments",
    Permission.KB_WRITE,
    "Start an upload to an article (staff): a pending attachment and an S3 form",
    status_code=201,
)
def create_article_attachment(
    article_id: uuid.UUID, body: ArticleAttachmentCreate, ctx: Ctx, once: Once
) -> AttachmentUpload:
    def start() -> AttachmentUpload:
        return _upload(*service.create_for_article(ctx, article_id=article_id, data=body))

    return once(body, start)


@route(
    router.post,
    "/{attachment_id}/complete",
    Permission.ATTACHMENT_USE,
    "Finish an upload: the file is checked (size, type, content) and hashed",
    ticket_scope=True,
    response_model=AttachmentPublic,
)
def complete_attachment(
    attachment_id: uuid.UUID, request: Request, ctx: Ctx, once: Once
) -> AttachmentPublic | JSONResponse:
    def finish() -> AttachmentPublic | JSONResponse:
        return _completed(service.complete(ctx, attachment_id=attachment_id), request)

    return once(None, finish, status=200)


@route(
    router.get,
    "/{attachment_id}/download",
    Permission.ATTACHMENT_USE,
    "A short-lived download link (404 unless the caller may read the ticket and comment)",
    ticket_scope=True,
    responses={
        410: {
            "description": "The file's stored object is gone",
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    },
)
def download_attachment(attachment_id: uuid.UUID, ctx: Ctx, response: Response) -> DownloadLink:
    url, expires_at = service.download(ctx, attachment_id=attachment_id)
    response.headers["Cache-Control"] = "no-store"
    return DownloadLink(url=url, expires_at=expires_at)


operation(
    router.delete,
    "/{attachment_id}",
    Permission.ATTACHMENT_USE,
    "Remove a file (uploader or staff); a tombstone remains, the object goes later",
    service.delete,
    public=AttachmentPublic,
    name="delete_attachment",
)


listing(
    ticket_router,
    "/{ticket_id}/attachments",
    Permission.TICKET_READ,
    "The ticket's files the caller may see (internal notes' files for staff only)",
    AttachmentPublic,
    service.list_for_ticket,
    name="list_ticket_attachments",
    ticket_scope=True,
)


listing(
    ticket_router,
    "/{ticket_id}/comments/{comment_id}/attachments",
    Permission.TICKET_READ,
    "A comment's files",
    AttachmentPublic,
    service.list_for_comment,
    name="list_comment_attachments",
    ticket_scope=True,
)


listing(
    article_list_router,
    "/articles/{article_id}/attachments",
    Permission.KB_READ,
    "The article's files (whoever may read the article)",
    AttachmentPublic,
    service.list_for_article,
    name="list_article_attachments",
)


@route(
    task_router.post,
    TASK_FILES,
    Permission.PROJECT_USE,
    "Start an upload to a task (project role member): a pending attachment and an S3 form",
    status_code=201,
)
def create_task_attachment(
    project_id: uuid.UUID, task_id: uuid.UUID, body: TaskAttachmentCreate, ctx: Ctx, once: Once
) -> AttachmentUpload:
    def start() -> AttachmentUpload:
        made = task_files.create(ctx, project_id=project_id, task_id=task_id, data=body)
        return _upload(*made)

    return once(body, start)


@route(
    task_router.post,
    TASK_FILES + "/{attachment_id}/complete",
    Permission.PROJECT_USE,
    "Finish an upload to a task: the file is checked (size, type, content) and hashed",
    response_model=AttachmentPublic,
)
def complete_task_attachment(
    project_id: uuid.UUID,
    task_id: uuid.UUID,
    attachment_id: uuid.UUID,
    request: Request,
    ctx: Ctx,
    once: Once,
) -> AttachmentPublic | JSONResponse:
    def finish() -> AttachmentPublic | JSONResponse:
        done = task_files.complete(
            ctx, project_id=project_id, task_id=task_id, attachment_id=attachment_id
        )
        return _completed(done, request)

    return once(None, finish, status=200)


listing(
    task_list_router,
    TASK_FILES,
    Permission.PROJECT_USE,
    "A task's files (whoever sees the project)",
    AttachmentPublic,
    task_files.list_for_task,
    name="list_task_attachments",
)
operation(
    task_list_router.delete,
    TASK_FILES + "/{attachment_id}",
    Permission.PROJECT_USE,
    "Remove a task's file (project role member); a tombstone remains, the object goes later",
    task_files.delete,
    public=AttachmentPublic,
    name="delete_task_attachment",
)


add_settings_routes(settings_router, service.SETTINGS)
