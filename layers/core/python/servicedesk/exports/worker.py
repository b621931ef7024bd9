"""The export worker (functions/export_worker): ``export.requested`` → the file in S3.

Each step has its own short transaction, so the member watching the job sees it move:
the claim (queued → running), the row count, the progress after every keyset page, and
the end (done + ``export.ready``, in the record's own transaction, published after its
commit). The rows are read as the job's owner (their role and visibility now, re-checked:
a member demoted or deactivated since asking gets a failed job, not the file), in keyset
pages, and streamed to a multipart upload: memory holds one page and one part.

Idempotent: a job already done, failed or expired is left alone; one found running (a
crash, a redelivery) is made again from the start under the same key.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.exports import params as checks
from servicedesk.exports import render, service, storage
from servicedesk.platform import db, outbox
from servicedesk.platform.config import get_settings
from servicedesk.platform.consumer import Envelope
from servicedesk.platform.csvexport import csv_chunks, json_chunks
from servicedesk.platform.logging import get_logger
from servicedesk.platform.tenancy import RequestContext, member_context
from servicedesk.tickets import export as ticket_export
from servicedesk.tickets import queries

# Deliveries of one request before the job is failed for good (SQS's redrive then has
# nothing left to do: the record succeeds).
MAX_ATTEMPTS = 3


class NotAllowed(Exception):
    """The owner may no longer make this export."""


def process(session: Session, envelope: Envelope) -> None:
    """One ``export.requested`` record (platform.consumer.sqs_handler's transaction)."""
    if envelope.type != service.REQUESTED:
        return
    job_id = uuid.UUID(str(envelope.payload["job_id"]))
    job = _claim(envelope.tenant_id, job_id)
    if job is None:
        return
    try:
        key = f"exports/{envelope.tenant_id}/{job_id}.{job['format']}"
        size = _make(envelope.tenant_id, job, key)
    except NotAllowed as exc:
        _fail(envelope.tenant_id, job_id, str(exc))
        return
    except Exception as exc:
        final = job["attempts"] >= MAX_ATTEMPTS
        _fail(envelope.tenant_id, job_id, type(exc).__name__, final=final)
        if final:
            get_logger().exception("export failed for good", extra={"job_id": str(job_id)})
            return
        raise  # SQS delivers the record again
    _finish(session, envelope.tenant_id, job, key, size)


def _system(tenant_id: uuid.UUID) -> Any:
    """A short transaction of the tenant with no user (system work)."""
    return db.system_transaction(tenant_id)


def _claim(tenant_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any] | None:
    with _system(tenant_id) as session:
        row = session.execute(
            text(
                "UPDATE export_jobs SET status = 'running', started_at = now(),"
                " attempts = attempts + 1, rows_done = 0, error = NULL"
                " WHERE id = :id AND status IN ('queued', 'running')"
                " RETURNING id, owner_id, kind, report, params, format, attempts"
            ),
            {"id": job_id},
        ).one_or_none()
    return dict(row._mapping) if row is not None else None


def _progress(tenant_id: uuid.UUID, job_id: uuid.UUID, **values: int) -> None:
    sets = ", ".join(f"{name} = :{name}" for name in values)
    with _system(tenant_id) as session:
        session.execute(
            text(f"UPDATE export_jobs SET {sets} WHERE id = :id AND status = 'running'"),
            {"id": job_id, **values},
        )


def _fail(tenant_id: uuid.UUID, job_id: uuid.UUID, error: str, *, final: bool = True) -> None:
    status = "failed" if final else "queued"
    with _system(tenant_id) as session:
        session.execute(
            text(
                "UPDATE export_jobs SET status = :s, error = :e,"
                " finished_at = CASE WHEN :s = 'failed' THEN now() END"
                " WHERE id = :id AND status = 'running'"
            ),
            {"id": job_id, "s": status, "e": error[:500]},
        )


def _finish(
    session: Session, tenant_id: uuid.UUID, job: dict[str, Any], key: str, size: int
) -> None:
    """Done, and ``export.ready`` to the owner, in the record's transaction."""
    expires = datetime.now(UTC) + timedelta(days=get_settings().export_retention_days)
    done = session.execute(
        text(
            "UPDATE export_jobs SET status = 'done', s3_key = :k, size_bytes = :n,"
            " finished_at = now(), expires_at = :x, rows_done = coalesce(rows_total, rows_done)"
            " WHERE id = :id AND status = 'running' RETURNING id"
        ),
        {"id": job["id"], "k": key, "n": size, "x": expires},
    ).one_or_none()
    if done is None:
        return
    outbox.emit(
        session,
        tenant_id=tenant_id,
        event_type=service.READY,
        aggregate_type="export_job",
        aggregate_id=job["id"],
        payload={
            "job_id": str(job["id"]),
            "user_id": str(job["owner_id"]),
            "kind": job["kind"],
            "report": job["report"],
            "format": job["format"],
            "size_bytes": size,
            "expires_at": expires.isoformat(),
        },
    )


def owner_context(session: Session, tenant_id: uuid.UUID, owner_id: uuid.UUID) -> RequestContext:
    """The owner's context as a request would make it (their role read now); NotAllowed
    when they are no longer an active member."""
    ctx = member_context(session, tenant_id, owner_id)
    if ctx is None:
        raise NotAllowed("the owner is no longer an active member")
    return ctx


def _make(tenant_id: uuid.UUID, job: dict[str, Any], key: str) -> int:
    with db.transaction() as session:
        ctx = owner_context(session, tenant_id, job["owner_id"])
        if not ctx.can(service.NEEDS[job["kind"]]):
            raise NotAllowed(f"the owner's role ({ctx.role.value}) may no longer export this")
        content_type = storage.MEDIA_TYPES[job["format"]]
        if job["kind"] == "report":
            from servicedesk.reports import registry

            params = checks.report_params(job["report"], job["params"])
            result = registry.run_report(ctx, job["report"], params)
            _progress(tenant_id, job["id"], rows_total=len(result.rows))
            return storage.upload(
                key, render.report_chunks(result, job["format"]), content_type=content_type
            )
        return _tickets(ctx, job, key, content_type)


def _tickets(ctx: RequestContext, job: dict[str, Any], key: str, content_type: str) -> int:
    checked = checks.ticket_params(job["params"])
    filters = checked.filters()
    limit = get_settings().export_job_max_rows
    total = queries.count_tickets(ctx, filters=filters, cap=limit)
    _progress(ctx.tenant_id, job["id"], rows_total=min(total, limit))

    def on_page(done: int) -> None:
        _progress(ctx.tenant_id, job["id"], rows_done=done)

    rows = ticket_rows(ctx, filters, checked.sort, limit=limit, on_page=on_page)
    if job["format"] == "csv":
        chunks = csv_chunks(ticket_export.COLUMNS, rows)
    else:
        chunks = json_chunks(dict(zip(ticket_export.COLUMNS, row, strict=True)) for row in rows)
    return storage.upload(key, chunks, content_type=content_type)


def ticket_rows(
    ctx: RequestContext,
    filters: queries.TicketFilters,
    sort: str,
    *,
    limit: int,
    on_page: Callable[[int], None],
) -> Iterator[tuple[Any, ...]]:
    """The owner's visible tickets in keyset pages (the list's own query), one page in
    memory; ``on_page`` hears the rows done after each page."""
    page_size = get_settings().export_page_size
    reader = dataclasses.replace(ctx)
    cursor: str | None = None
    done = 0
    while done < limit:
        page, cursor = queries.list_tickets(
            reader, filters=filters, sort=sort, limit=min(page_size, limit - done), cursor=cursor
        )
        for ticket in page:
            yield tuple(getattr(ticket, name) for name in ticket_export.COLUMNS)
        done += len(page)
        ctx.session.expunge_all()
        on_page(done)
        if cursor is None:
            break
