"""Attachments API: thin — parse, call a service, shape the response.

API Gateway routes by path, so the routers split by the function that serves them: ``router``
(``/v1/attachments``) and ``upload_router`` (``POST /v1/tickets/{id}/attachments``, routed to
the attachments function by its own API Gateway method) run in the attachments function, the
only one that may sign S3 URLs; ``ticket_router`` (the lists under ``/v1/tickets``) and
``settings_router`` run in the tickets function and never touch S3.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from servicedesk.attachments import service
from servicedesk.attachments.schemas import (
    AttachmentCreate,
    AttachmentPublic,
    AttachmentUpload,
    DownloadLink,
    UploadForm,
)
from servicedesk.platform import idempotency
from servicedesk.platform.app import problem_response
from servicedesk.platform.context import Ctx
from servicedesk.platform.errors import PROBLEM_JSON
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, Limit
from servicedesk.platform.rbac import Role, requires
from servicedesk.platform.settings_routes import add_settings_routes

router = APIRouter(prefix="/v1/attachments", tags=["attachments"])
upload_router = APIRouter(prefix="/v1/tickets", tags=["attachments"])
ticket_router = APIRouter(prefix="/v1/tickets", tags=["attachments"])
settings_router = APIRouter(prefix="/v1/settings", tags=["settings"])


@upload_router.post(
    "/{ticket_id}/attachments",
    status_code=201,
    dependencies=[requires(Role.REQUESTER, ticket_scope=True)],
    summary="Start an upload to a ticket or comment: a pending attachment and an S3 form",
    response_model=AttachmentUpload,
)
def create_attachment(
    ticket_id: uuid.UUID,
    body: AttachmentCreate,
    request: Request,
    ctx: Ctx,
    key: idempotency.IdempotencyKey = None,
) -> AttachmentUpload:
    def start() -> AttachmentUpload:
        row, form = service.create(ctx, ticket_id=ticket_id, data=body)
        return AttachmentUpload(
            attachment=AttachmentPublic.model_validate(row),
            upload=UploadForm(url=form.url, fields=form.fields, expires_at=form.expires_at),
        )

    return idempotency.once(ctx, request.url.path, key, body, start)


@router.post(
    "/{attachment_id}/complete",
    dependencies=[requires(Role.REQUESTER, ticket_scope=True)],
    summary="Finish an upload: the file is checked (size, type, content) and hashed",
    response_model=AttachmentPublic,
)
def complete_attachment(
    attachment_id: uuid.UUID, request: Request, ctx: Ctx, key: idempotency.IdempotencyKey = None
) -> AttachmentPublic | JSONResponse:
    def finish() -> AttachmentPublic | JSONResponse:
        done = service.complete(ctx, attachment_id=attachment_id)
        if done.problem is not None:
            # Not raised: the rejection (row and audit) must commit with this answer.
            return problem_response(done.problem.status, done.problem.body(request.url.path))
        return AttachmentPublic.model_validate(done.attachment)

    return idempotency.once(ctx, request.url.path, key, None, finish, status=200)


@router.get(
    "/{attachment_id}/download",
    dependencies=[requires(Role.REQUESTER, ticket_scope=True)],
    summary="A short-lived download link (404 unless the caller may read the ticket and comment)",
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


@router.delete(
    "/{attachment_id}",
    dependencies=[requires(Role.REQUESTER)],
    summary="Remove a file (uploader or staff); a tombstone remains, the object goes later",
)
def delete_attachment(attachment_id: uuid.UUID, ctx: Ctx) -> AttachmentPublic:
    return AttachmentPublic.model_validate(service.delete(ctx, attachment_id=attachment_id))


@ticket_router.get(
    "/{ticket_id}/attachments",
    dependencies=[requires(Role.REQUESTER, ticket_scope=True)],
    summary="The ticket's files the caller may see (internal notes' files for staff only)",
)
def list_ticket_attachments(
    ticket_id: uuid.UUID, ctx: Ctx, limit: Limit = 50, cursor: Cursor = None
) -> Page[AttachmentPublic]:
    rows, nxt = service.list_for_ticket(ctx, ticket_id=ticket_id, limit=limit, cursor=cursor)
    return Page(items=[AttachmentPublic.model_validate(r) for r in rows], next_cursor=nxt)


@ticket_router.get(
    "/{ticket_id}/comments/{comment_id}/attachments",
    dependencies=[requires(Role.REQUESTER, ticket_scope=True)],
    summary="A comment's files",
)
def list_comment_attachments(
    ticket_id: uuid.UUID, comment_id: uuid.UUID, ctx: Ctx, limit: Limit = 50, cursor: Cursor = None
) -> Page[AttachmentPublic]:
    rows, nxt = service.list_for_comment(
        ctx, ticket_id=ticket_id, comment_id=comment_id, limit=limit, cursor=cursor
    )
    return Page(items=[AttachmentPublic.model_validate(r) for r in rows], next_cursor=nxt)


add_settings_routes(settings_router, service.SETTINGS)
