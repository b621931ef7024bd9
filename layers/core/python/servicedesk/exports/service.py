"""Export jobs: asking for one, reading one's progress, its download link, expiry.

No HTTP here and no commit (the request's transaction commits). A member sees only their
own jobs (RLS's restrictive policy, and the same predicate here): another's is 404.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from servicedesk.exports import params as checks
from servicedesk.exports import storage
from servicedesk.exports.models import ExportJob
from servicedesk.exports.schemas import ExportCreate, ExportDownload
from servicedesk.platform import outbox
from servicedesk.platform.errors import (
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext

REQUESTED = "export.requested"
READY = "export.ready"
# Who may export what: the ticket list as its synchronous export; reports as the reports API.
NEEDS = {"tickets": Permission.TICKET_EXPORT, "report": Permission.REPORT_READ}
FORMATS = {"tickets": ("csv", "json"), "report": ("csv", "json", "pdf")}


def validated(ctx: RequestContext, data: ExportCreate) -> dict[str, Any]:
    """The job's parameters as stored (JSON), checked as the synchronous routes check them."""
    if not ctx.can(NEEDS[data.kind]):
        raise Forbidden(f"exporting {data.kind} needs the {NEEDS[data.kind].value} permission")
    if data.format not in FORMATS[data.kind]:
        allowed = ", ".join(FORMATS[data.kind])
        raise ValidationProblem(errors=[field_error("format", f"must be one of {allowed}")])
    if data.kind == "tickets":
        if data.report is not None:
            raise ValidationProblem(errors=[field_error("report", "only for kind report")])
        return checks.ticket_params(data.params).model_dump(mode="json", exclude_defaults=True)
    checked = checks.report_params(data.report, data.params)
    dumped: dict[str, Any] = checked.model_dump(mode="json", exclude_none=True)
    return dumped


def create(ctx: RequestContext, data: ExportCreate) -> ExportJob:
    """A queued job and its ``export.requested`` event, in the request's transaction."""
    stored = validated(ctx, data)
    job = ExportJob(
        tenant_id=ctx.tenant_id,
        owner_id=ctx.user_id,
        kind=data.kind,
        report=data.report if data.kind == "report" else None,
        params=stored,
        format=data.format,
    )
    ctx.session.add(job)
    ctx.session.flush()
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=REQUESTED,
        aggregate_type="export_job",
        aggregate_id=job.id,
        payload={"job_id": str(job.id), "owner_id": str(ctx.user_id), "kind": data.kind},
    )
    ctx.session.refresh(job)
    return job


NEWEST_FIRST = Keyset([Key(ExportJob.created_at, TIMESTAMP), Key(ExportJob.id, UUID)], True)


def list_jobs(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[ExportJob], str | None]:
    query = select(ExportJob).where(
        ExportJob.tenant_id == ctx.tenant_id, ExportJob.owner_id == ctx.user_id
    )
    rows, nxt = paginate(ctx.session, query, NEWEST_FIRST, limit=limit, cursor=cursor)
    return [_current(ctx, job) for job in rows], nxt


def get(ctx: RequestContext, *, job_id: uuid.UUID) -> ExportJob:
    job = ctx.session.get(ExportJob, job_id)
    if job is None or job.tenant_id != ctx.tenant_id or job.owner_id != ctx.user_id:
        raise NotFound("no such export")
    return _current(ctx, job)


def _current(ctx: RequestContext, job: ExportJob) -> ExportJob:
    """A finished file past its expiry reads as expired before the sweep marks it so (on
    a copy out of the session: a read writes nothing)."""
    if job.status == "done" and job.expires_at is not None and job.expires_at <= _now():
        ctx.session.expunge(job)
        job.status = "expired"
    return job


def _now() -> datetime:
    return datetime.now(UTC)


def filename(job: ExportJob) -> str:
    stamp = job.created_at.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    name = job.report if job.kind == "report" and job.report else "tickets"
    return f"{name}-{stamp}.{job.format}"


def download(ctx: RequestContext, *, job_id: uuid.UUID) -> ExportDownload:
    """A short-lived presigned GET of the finished file: 409 before it is done (or when it
    failed), 410 once it expired."""
    job = get(ctx, job_id=job_id)
    if job.status == "expired":
        raise Gone("this export has expired; ask for it again")
    if job.status != "done" or job.s3_key is None:
        raise Conflict(f"this export is {job.status}, not done", job_status=job.status)
    name = filename(job)
    url, expires_at = storage.presign(job.s3_key, name, job.format)
    return ExportDownload(url=url, expires_at=expires_at, filename=name)


_EXPIRE = text(
    "UPDATE export_jobs SET status = 'expired' WHERE status = 'done' AND expires_at <= now()"
)


def expire(session: Any) -> int:
    """Mark finished files past their retention expired (the bucket's lifecycle rule
    deletes the objects); the number marked. System work: no user in the transaction."""
    return int(session.execute(_EXPIRE).rowcount or 0)
