"""Exports API: ask for a file (202: the job), list mine, follow one's progress, and fetch
its download link once done. Thin: parse, call, shape."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from servicedesk.exports import service
from servicedesk.exports.schemas import ExportCreate, ExportDownload, ExportJobPublic
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import Once, listing, route
from servicedesk.platform.errors import PROBLEM_JSON
from servicedesk.platform.rbac import Permission

router = APIRouter(prefix="/v1/exports", tags=["exports"])

_PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


@route(
    router.post,
    "",
    Permission.TICKET_EXPORT,
    "Ask for an export (a report, or the ticket list under its filters) made in the"
    " background; the job answers at once and its file is e-mailed as a link when ready",
    status_code=202,
)
def create_export(body: ExportCreate, ctx: Ctx, once: Once) -> ExportJobPublic:
    return once(
        body,
        lambda: ExportJobPublic.model_validate(service.create(ctx, body)),
        status=202,
    )


listing(
    router,
    "",
    Permission.TICKET_EXPORT,
    "My exports, newest first",
    ExportJobPublic,
    service.list_jobs,
)


@route(router.get, "/{job_id}", Permission.TICKET_EXPORT, "One of my exports and its progress")
def get_export(job_id: uuid.UUID, ctx: Ctx) -> ExportJobPublic:
    return ExportJobPublic.model_validate(service.get(ctx, job_id=job_id))


@route(
    router.get,
    "/{job_id}/download",
    Permission.TICKET_EXPORT,
    "A short-lived download link of a finished export (409 before it is done, 410 expired)",
    responses={
        409: {"description": "Not done", "content": _PROBLEM},
        410: {"description": "Expired", "content": _PROBLEM},
    },
)
def download_export(job_id: uuid.UUID, ctx: Ctx, response: Response) -> ExportDownload:
    response.headers["Cache-Control"] = "no-store"
    return service.download(ctx, job_id=job_id)
