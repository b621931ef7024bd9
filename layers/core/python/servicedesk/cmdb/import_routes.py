"""CMDB import jobs API (/v1/cis/imports): ask for a job and its upload form, start it once
the file is uploaded, follow its progress and report. Thin: parse, call, shape. Mounted
before ``cmdb.routes`` so that ``/v1/cis/imports`` is not read as a CI id."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from servicedesk.cmdb import import_jobs
from servicedesk.cmdb.schemas import (
    ImportJobCreate,
    ImportJobCreated,
    ImportJobFromDryRun,
    ImportJobPublic,
)
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import Once, listing, route
from servicedesk.platform.errors import PROBLEM_JSON
from servicedesk.platform.rbac import Permission

router = APIRouter(prefix="/v1/cis/imports", tags=["cmdb"])

_PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


@route(
    router.post,
    "",
    Permission.CMDB_WRITE,
    "Ask for an import job of a large CSV: the job (awaiting its upload) and a presigned"
    " form that uploads exactly `size` bytes to S3; then start it",
    status_code=201,
    responses={413: {"description": "Over the import size limit", "content": _PROBLEM}},
)
def create_import_job(body: ImportJobCreate, ctx: Ctx, once: Once) -> ImportJobCreated:
    def make() -> ImportJobCreated:
        job, form = import_jobs.create(ctx, body)
        public = ImportJobPublic.model_validate(job)
        return ImportJobCreated(**public.model_dump(), upload=form.__dict__)

    return once(body, make)


listing(
    router,
    "",
    Permission.CMDB_WRITE,
    "The tenant's import jobs, newest first",
    ImportJobPublic,
    import_jobs.list_jobs,
)


@route(router.get, "/{job_id}", Permission.CMDB_WRITE, "An import job: its progress and report")
def get_import_job(job_id: uuid.UUID, ctx: Ctx) -> ImportJobPublic:
    return ImportJobPublic.model_validate(import_jobs.get(ctx, job_id=job_id))


@route(
    router.post,
    "/{job_id}/start",
    Permission.CMDB_WRITE,
    "Start an import job once its file is uploaded (checks the object, its size and its"
    " header; 409 when started already or nothing is uploaded)",
    status_code=202,
    responses={
        409: {"description": "Started already, or nothing uploaded", "content": _PROBLEM},
        413: {"description": "Over the import size limit", "content": _PROBLEM},
    },
)
def start_import_job(job_id: uuid.UUID, ctx: Ctx) -> ImportJobPublic:
    return ImportJobPublic.model_validate(import_jobs.start(ctx, job_id=job_id))


@route(
    router.post,
    "/{job_id}/import",
    Permission.CMDB_WRITE,
    "Import the file a finished dry run checked, without uploading it again: a new queued"
    " job (409 naming `id`, `file` when the object is gone, or `partial` when the dry run"
    " found failing rows and partial was not asked)",
    status_code=202,
    responses={
        409: {"description": "Not a finished dry run, or its file is gone", "content": _PROBLEM}
    },
)
def import_dry_run(
    job_id: uuid.UUID, body: ImportJobFromDryRun, ctx: Ctx, once: Once
) -> ImportJobPublic:
    def make() -> ImportJobPublic:
        job = import_jobs.import_checked(ctx, job_id=job_id, data=body)
        return ImportJobPublic.model_validate(job)

    return once(body, make, status=202)
