"""CMDB import jobs (docs/cmdb.md, "Import jobs"): a CSV too large for one request is
uploaded to S3 through a presigned form, then checked and written by the export worker
(``import_worker``) with the synchronous import's rules (``imports.check_and_write``).

No HTTP here and no commit. A job is the tenant's (every ``cmdb:write`` member sees the
tenant's jobs, as they see its CIs); another tenant's is 404 (RLS and the same predicate).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from servicedesk.cmdb import imports
from servicedesk.cmdb.models import CIImportJob
from servicedesk.cmdb.schemas import ImportJobCreate, ImportJobFromDryRun
from servicedesk.platform import outbox, storage
from servicedesk.platform.config import get_settings
from servicedesk.platform.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.storage import PresignedPost
from servicedesk.platform.tenancy import RequestContext

REQUESTED = "ci.import_requested"  # to the export worker (publisher: the exports queue)
FINISHED = "ci.import_finished"  # to the requester: in-app, mail, their realtime channel
CONTENT_TYPE = "text/csv"
# The header is checked when the job starts, from this many first bytes.
HEAD_BYTES = 64 * 1024


def bucket() -> str:
    """The uploads live in the exports bucket (private, gone after its retention)."""
    return get_settings().exports_bucket


def object_key(tenant_id: uuid.UUID, job_id: uuid.UUID) -> str:
    return f"imports/{tenant_id}/{job_id}.csv"


def _too_large(field: str, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"an import file may have at most {limit} bytes",
        errors=[field_error(field, f"at most {limit} bytes")],
    )


def create(ctx: RequestContext, data: ImportJobCreate) -> tuple[CIImportJob, PresignedPost]:
    """A job awaiting its upload, and the form that uploads exactly ``size`` bytes."""
    settings = get_settings()
    if data.size > settings.cmdb_import_max_bytes:
        raise _too_large("size", settings.cmdb_import_max_bytes)
    job_id = uuid.uuid4()
    ttl = settings.cmdb_import_upload_seconds
    job = CIImportJob(
        id=job_id,
        tenant_id=ctx.tenant_id,
        owner_id=ctx.user_id,
        dry_run=data.dry_run,
        partial=data.partial,
        filename=data.filename,
        size_bytes=data.size,
        s3_key=object_key(ctx.tenant_id, job_id),
        upload_expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
    )
    ctx.session.add(job)
    ctx.session.flush()
    form = storage.presign_upload(
        job.s3_key, content_type=CONTENT_TYPE, size=data.size, ttl=ttl, bucket_name=bucket()
    )
    ctx.session.refresh(job)
    return job, form


NEWEST_FIRST = Keyset([Key(CIImportJob.created_at, TIMESTAMP), Key(CIImportJob.id, UUID)], True)


def list_jobs(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[CIImportJob], str | None]:
    query = select(CIImportJob).where(CIImportJob.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, NEWEST_FIRST, limit=limit, cursor=cursor)


def get(ctx: RequestContext, *, job_id: uuid.UUID, lock: bool = False) -> CIImportJob:
    query = select(CIImportJob).where(
        CIImportJob.id == job_id, CIImportJob.tenant_id == ctx.tenant_id
    )
    job = ctx.session.scalars(query.with_for_update() if lock else query).one_or_none()
    if job is None:
        raise NotFound("no such import")
    return job


def import_checked(
    ctx: RequestContext, *, job_id: uuid.UUID, data: ImportJobFromDryRun
) -> CIImportJob:
    """A new queued import of a finished dry run's uploaded file, without a second upload:
    409 naming ``id`` (not a dry run, not done), ``file`` (the object is gone) or
    ``partial`` (the dry run found failing rows and ``partial`` was not asked)."""
    checked = get(ctx, job_id=job_id)
    if not checked.dry_run or checked.status != "done":
        raise Conflict(
            "only a finished dry run can be imported",
            errors=[field_error("id", f"not a finished dry run ({checked.status})")],
        )
    failed = int((checked.report or {}).get("failed", 0))
    if failed and not data.partial:
        raise Conflict(
            f"the dry run found {failed} failing rows: import with partial to write the others",
            errors=[field_error("partial", "required: the dry run found failing rows")],
        )
    if storage.head(checked.s3_key, bucket_name=bucket()) is None:
        raise Conflict(
            "the dry run's file is gone: upload it again",
            errors=[field_error("file", "no longer stored")],
        )
    job = CIImportJob(
        tenant_id=ctx.tenant_id,
        owner_id=ctx.user_id,
        dry_run=False,
        partial=data.partial,
        filename=checked.filename,
        size_bytes=checked.size_bytes,
        s3_key=checked.s3_key,
        upload_expires_at=datetime.now(UTC),
        status="queued",
    )
    ctx.session.add(job)
    ctx.session.flush()
    _request(ctx, job)
    ctx.session.refresh(job)
    return job


def _request(ctx: RequestContext, job: CIImportJob) -> None:
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=REQUESTED,
        aggregate_type="ci_import_job",
        aggregate_id=job.id,
        payload={"job_id": str(job.id), "owner_id": str(job.owner_id)},
    )


def start(ctx: RequestContext, *, job_id: uuid.UUID) -> CIImportJob:
    """Queue the job once its file is in S3 with the declared size and an import header:
    409 when started already or nothing is uploaded, 413 over the limit, 422 naming
    ``file`` (another size, empty, not UTF-8) or ``header.<n>``. A refused start leaves
    the job awaiting its upload (upload the right file and start again)."""
    job = get(ctx, job_id=job_id, lock=True)  # two starts at once: one queues, one is 409
    if job.status != "awaiting_upload":
        raise Conflict(
            f"this import was started already ({job.status})",
            errors=[field_error("id", "started already")],
            job_status=job.status,
        )
    found = storage.head(job.s3_key, bucket_name=bucket())
    if found is None:
        raise Conflict(
            "nothing was uploaded for this import yet",
            errors=[field_error("file", "not uploaded (or the upload form expired)")],
        )
    limit = get_settings().cmdb_import_max_bytes
    if found.size > limit:
        raise _too_large("file", limit)
    if found.size != job.size_bytes:
        raise ValidationProblem(
            f"the uploaded file has {found.size} bytes, not the {job.size_bytes} declared",
            errors=[field_error("file", "not the declared size")],
        )
    head = storage.first_bytes(job.s3_key, found, min(HEAD_BYTES, found.size), bucket_name=bucket())
    imports.check_header(head)
    job.status = "queued"
    ctx.session.flush()
    _request(ctx, job)
    return job
