"""The CMDB import worker, run by the export worker's Lambda (functions/export_worker):
``ci.import_requested`` → the uploaded CSV streamed from S3 through the import's checks and
set-based writes (``imports.check_and_write``) → the job's report.

Transactions: the claim (queued → running) and the progress after every chunk of rows
each commit on their own, so who polls the job sees ``rows_read`` move. The import itself
runs as the job's owner (their role read now: a member demoted or gone gets a failed job)
in the SQS record's one transaction, inside a savepoint: all or nothing unless ``partial``
(a failing row without it rolls the savepoint back), and the job's end (done or failed,
the report, ``ci.imported`` and ``ci.import_finished``) commits with the rows it wrote.

Idempotent: a job done or failed is left alone; one found running (a crash, a redelivery)
is read again from the start (its writes had rolled back with its record).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.cmdb import import_jobs, imports
from servicedesk.platform import db, outbox, storage
from servicedesk.platform.consumer import Envelope
from servicedesk.platform.errors import ProblemError
from servicedesk.platform.logging import get_logger
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import member_context

REQUESTED = import_jobs.REQUESTED
# Deliveries of one job before it is failed for good (as the export worker's).
MAX_ATTEMPTS = 3


class _Refused(Exception):
    """A failing row without ``partial``: the savepoint rolls back, the report stays."""

    def __init__(self, report: imports.Report) -> None:
        super().__init__("rows fail")
        self.report = report


def process(session: Session, envelope: Envelope) -> None:
    """One ``ci.import_requested`` record (platform.consumer.sqs_handler's transaction)."""
    if envelope.type != import_jobs.REQUESTED:
        return
    tenant_id = envelope.tenant_id
    job = _claim(tenant_id, uuid.UUID(str(envelope.payload["job_id"])))
    if job is None:
        return
    try:
        report, error = _import(session, tenant_id, job)
    except Exception as exc:
        final = job["attempts"] >= MAX_ATTEMPTS
        _give_up(tenant_id, job["id"], type(exc).__name__, final=final)
        if final:
            get_logger().exception("CMDB import failed for good", extra={"job_id": str(job["id"])})
            return
        raise  # SQS delivers the record again
    _finish(session, tenant_id, job, report, error)


def _claim(tenant_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any] | None:
    with db.system_transaction(tenant_id) as session:
        row = session.execute(
            text(
                "UPDATE ci_import_jobs SET status = 'running', started_at = now(),"
                " attempts = attempts + 1, rows_read = 0, error = NULL"
                " WHERE id = :id AND status IN ('queued', 'running')"
                " RETURNING id, owner_id, dry_run, partial, s3_key, size_bytes, attempts"
            ),
            {"id": job_id},
        ).one_or_none()
    return dict(row._mapping) if row is not None else None


def _progress(tenant_id: uuid.UUID, job_id: uuid.UUID, rows: int) -> None:
    with db.system_transaction(tenant_id) as session:
        session.execute(
            text("UPDATE ci_import_jobs SET rows_read = :n WHERE id = :id AND status = 'running'"),
            {"id": job_id, "n": rows},
        )


def _give_up(tenant_id: uuid.UUID, job_id: uuid.UUID, error: str, *, final: bool) -> None:
    with db.system_transaction(tenant_id) as session:
        session.execute(
            text(
                "UPDATE ci_import_jobs SET status = :s, error = :e,"
                " finished_at = CASE WHEN :s = 'failed' THEN now() END"
                " WHERE id = :id AND status = 'running'"
            ),
            {"id": job_id, "s": "failed" if final else "queued", "e": error[:500]},
        )


def _import(
    session: Session, tenant_id: uuid.UUID, job: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """The report, and why the job failed as a whole (None when it did not)."""
    ctx = member_context(session, tenant_id, job["owner_id"])
    if ctx is None:
        return _problem_report([], "the requester is no longer an active member")
    if not ctx.can(Permission.CMDB_WRITE):
        return _problem_report([], f"the requester's role ({ctx.role.value}) may not import")
    bucket = import_jobs.bucket()
    found = storage.head(job["s3_key"], bucket_name=bucket)
    if found is None:
        return _problem_report([], "the uploaded file is gone")

    def on_chunk(report: imports.Report) -> None:
        _progress(tenant_id, job["id"], report.rows)

    try:
        with session.begin_nested():
            report = imports.check_and_write(
                ctx,
                imports.lines(storage.stream(job["s3_key"], found, bucket_name=bucket)),
                dry_run=job["dry_run"],
                partial=job["partial"],
                on_chunk=on_chunk,
            )
            if not report.written and not job["dry_run"]:
                raise _Refused(report)
    except _Refused as refused:
        return refused.report.as_dict(), str(imports.refusal(refused.report).detail)
    except ProblemError as problem:  # the file as a whole: encoding, CSV, header
        return _problem_report(problem.errors or [], problem.detail or problem.title)
    if report.written:
        imports.announce(ctx, report.as_dict(), job_id=str(job["id"]))
    return report.as_dict(), None


def _problem_report(errors: list[dict[str, Any]], detail: str) -> tuple[dict[str, Any], str]:
    """A job refused as a whole: an empty report whose errors name the field (row 1: the
    header, row 0: the file)."""
    report = imports.Report()
    for error in errors:
        name = str(error.get("field", "file"))
        report.error(1 if name.startswith("header") else 0, name, str(error.get("detail", "")))
    return report.as_dict(), detail[:500]


def _finish(
    session: Session,
    tenant_id: uuid.UUID,
    job: dict[str, Any],
    report: dict[str, Any],
    error: str | None,
) -> None:
    """Done or failed, with the report, and ``ci.import_finished`` to the requester, in the
    record's transaction (with the rows written)."""
    status = "failed" if error else "done"
    db.set_tenant(session, tenant_id=tenant_id, user_id=None)
    ended = session.execute(
        text(
            "UPDATE ci_import_jobs SET status = :s, report = CAST(:r AS jsonb), error = :e,"
            " rows_read = :n, finished_at = now() WHERE id = :id AND status = 'running'"
            " RETURNING id"
        ),
        {
            "id": job["id"],
            "s": status,
            "r": json.dumps(report, default=str),
            "e": error,
            "n": report["rows"],
        },
    ).one_or_none()
    if ended is None:
        return
    outbox.emit(
        session,
        tenant_id=tenant_id,
        event_type=import_jobs.FINISHED,
        aggregate_type="ci_import_job",
        aggregate_id=job["id"],
        payload={
            "job_id": str(job["id"]),
            "user_id": str(job["owner_id"]),
            "status": status,
            "dry_run": job["dry_run"],
            **{k: report[k] for k in ("rows", "created", "updated", "unchanged", "failed")},
            "written": report["written"],
        },
    )
