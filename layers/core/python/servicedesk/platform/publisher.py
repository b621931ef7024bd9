"""Publishing outbox rows to SQS: right after the domain commit, and by the sweeper.

Order: queues are standard, not FIFO — webhook retries need per-message delays, which
FIFO queues do not allow. Each message carries the outbox row's `seq` (a global,
increasing sequence) and `created_at`; consumers that care about per-ticket order
compare sequence numbers (the realtime client refetches on every event anyway).
Delivery is at least once; consumers are idempotent by event id (the deliveries table).

Sending: SendMessageBatch (at most 10 entries and 256 KiB a call), the calls of one
publish spread over a small thread pool (boto3 clients are thread-safe). A row is marked
published only when every one of its channels accepted it; a row with any failed entry
stays unpublished and is sent again, to every channel, by a later sweep (the consumers
dedupe what was already delivered).

The sweeper claims bounded batches per tenant, oldest first, with FOR UPDATE SKIP LOCKED
(an overlapping sweep, or a request still publishing, holds its rows: they are skipped, not
sent twice), and keeps two batches in flight so that one's database work overlaps the
other's sends. Throughput measurements: bench/outbox.py, docs/benchmarks.md.
"""

from __future__ import annotations

import contextvars
import functools
import json
import queue
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicedesk.platform import aws, jobs, tracing
from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.db import set_tenant, transaction
from servicedesk.platform.logging import get_logger

# Which channels hear which events (by prefix of the event type).
ROUTES: dict[str, tuple[str, ...]] = {
    # What open screens show and nobody is mailed about: participants, links, merges and
    # a ticket's files (docs/realtime.md). A field edit also refreshes the report facts.
    "ticket.participant_": ("realtime",),
    "ticket.linked": ("realtime",),
    "ticket.unlinked": ("realtime",),
    "ticket.merged": ("realtime",),
    "ticket.updated": ("realtime", "reports"),
    "attachment.added": ("realtime",),
    "attachment.removed": ("realtime",),
    "ticket.received": ("email",),  # the requester's acknowledgement: mail only
    # A resolved ticket may become a knowledge article draft (servicedesk.kb, the consumer).
    # The integrations consumer posts the ticket events a Slack channel hears (created,
    # assigned, status changed, comment added: servicedesk.integrations.slack); it drops
    # them at once for a tenant without Slack.
    "ticket.status_changed": (
        "email",
        "webhook",
        "realtime",
        "knowledge",
        "reports",
        "integrations",
    ),
    "ticket.created": ("email", "webhook", "realtime", "reports", "integrations"),
    "ticket.assigned": ("email", "webhook", "realtime", "reports", "integrations"),
    # Ticket events also refresh the ticket's report facts (servicedesk.reports.consumer).
    "ticket.": ("email", "webhook", "realtime", "reports"),
    "comment.added": ("email", "webhook", "realtime", "reports", "integrations"),
    "comment.": ("email", "webhook", "realtime", "reports"),
    # SLA crossings also run the event rules they trigger (servicedesk.automation.consumer).
    "sla.warning": ("email", "webhook", "realtime", "reports", "automation"),
    "sla.breached": ("email", "webhook", "realtime", "reports", "automation"),
    "sla.": ("email", "webhook", "realtime", "reports"),
    "user.invited": ("email",),
    "user.added": ("email",),  # "you were added to <organisation>": account mail
    "user.mfa_reset": ("email",),  # an admin turned your two-step verification off
    "signup.requested": ("email",),
    "account.": ("email",),  # password reset and e-mail verification links: account mail
    "webhook.disabled": ("email",),
    "email.bounced": ("webhook",),
    "email.complained": ("webhook",),
    # The e-mail intake's outcomes (servicedesk.mail): received, held, rejected; staff hear
    # of held mail.
    "mail.held": ("email", "webhook"),
    "mail.": ("webhook",),
    # Knowledge articles: (re-)embedding on publish and edit.
    "kb.": ("knowledge",),
    # A requester's satisfaction rating (servicedesk.csat): for webhook subscribers.
    "csat.rated": ("webhook", "reports"),
    # A survey mailed: the csat report counts surveys by sending time.
    "csat.sent": ("reports",),
    # Identity administration (sign-in providers, SCIM provisioning): webhook subscribers.
    "identity_provider.": ("webhook",),
    "scim.": ("webhook",),
    # Custom roles created, changed or deleted (servicedesk.identity.roles).
    "role.": ("webhook",),
    # The CMDB (servicedesk.cmdb): an import job to the export worker's queue; its end to
    # the requester (mail + in-app, and their realtime channel); CIs, their relationships
    # and imports for subscribers.
    "ci.import_requested": ("exports",),
    "ci.import_finished": ("email", "realtime"),
    "ci.": ("webhook",),
    # Asynchronous exports (servicedesk.exports): the job to the export worker; the file
    # ready to its owner (mail + in-app, and their realtime channel); a scheduled report
    # to its recipients by mail.
    "export.requested": ("exports",),
    "export.ready": ("email", "realtime"),
    # A revoked sign-in (servicedesk.identity.sessions): the broadcaster closes the
    # WebSocket connections it had opened (the API already forgot them).
    "session.revoked": ("realtime",),
    "report.delivered": ("email",),
    # A delayed survey is due (servicedesk.csat.sender): the e-mail consumer mails it.
    "csat.survey_due": ("email",),
    # Automation rules (servicedesk.automation): a rule's notify (in-app and mail, by the
    # recipients' preferences) and its webhook (one endpoint); SLA crossings also reach
    # the automation consumer, which runs the rules triggered by them.
    "automation.notify": ("email",),
    # Approvals (servicedesk/approvals): the approvers are mailed when a stage waits for
    # them, is reminded or escalates; every approval event reaches the webhooks.
    "approval.requested": ("email", "webhook"),
    "approval.escalated": ("email", "webhook"),
    "approval.": ("webhook",),
    # Change management (servicedesk/changes): created, edited, moved between states;
    # for webhook subscribers (approvers hear of a change through approval.requested) and
    # the change room of the realtime broadcaster (staff with change:read).
    "change.": ("webhook", "realtime"),
    # Projects and tasks (servicedesk/projects): for webhook subscribers and the project's
    # realtime room.
    "project.": ("webhook", "realtime"),
    "task.dependency_": ("webhook", "realtime"),
    "task.deleted": ("webhook", "realtime"),
    # The others also reach the notifications (the assignee and watchers: in-app, mail).
    "task.": ("email", "webhook", "realtime"),
    "automation.webhook": ("webhook",),
    # GitHub and Slack (servicedesk.integrations): the outbound calls (create an issue,
    # post a message, open a modal, unfurl) go to the integrations consumer, which retries
    # them (SQS redelivery, then the DLQ); connections, changes and links are news for
    # webhook subscribers.
    "integration.github.": ("integrations",),
    "integration.slack.": ("integrations",),
    "integration.": ("webhook",),
}

# SQS limits of one SendMessageBatch call.
BATCH_ENTRIES = 10
BATCH_BYTES = 256 * 1024
# Concurrent SendMessageBatch calls of one publish (below botocore's 10 pooled connections).
SEND_WORKERS = 8
# Sweep batches in flight at once (each holds a database connection while it sends).
SWEEP_PIPELINE = 2

_COLUMNS = (
    "id, tenant_id, seq, event_type, aggregate_type, aggregate_id, payload, created_at, trace"
)
# Locked like the sweeper's claim: a sweep running meanwhile skips these rows.
_SELECT_COMMITTED = text(
    f"SELECT {_COLUMNS} FROM outbox WHERE id = ANY(:ids) AND published_at IS NULL"
    " FOR UPDATE SKIP LOCKED"
)
# The sweeper's claim: a bounded batch, oldest first, after the cursor (created_at, seq) so
# that one sweep visits a row at most once (a row whose send failed waits for the next
# sweep instead of being retried in a loop). The redundant `created_at >= :after_at` lets
# the partial index on pending rows (tenant_id, created_at) bound the scan.
_CLAIM = text(
    f"SELECT {_COLUMNS} FROM outbox"
    " WHERE tenant_id = :tenant AND published_at IS NULL AND created_at < :before"
    " AND created_at >= :after_at AND (created_at, seq) > (:after_at, :after_seq)"
    " ORDER BY created_at, seq LIMIT :n FOR UPDATE SKIP LOCKED"
)
_MARK = text(
    "UPDATE outbox SET attempts = attempts + 1,"
    " published_at = CASE WHEN id = ANY(:sent) THEN now() END"
    " WHERE id = ANY(:claimed) AND published_at IS NULL"
)


def channels_for(event_type: str) -> tuple[str, ...]:
    for prefix, channels in ROUTES.items():
        if event_type.startswith(prefix):
            return channels
    return ()


def queue_urls(settings: Settings) -> dict[str, str]:
    urls = {
        "email": settings.email_queue_url,
        "webhook": settings.webhook_queue_url,
        "realtime": settings.realtime_queue_url,
        "knowledge": settings.knowledge_queue_url,
        "exports": settings.exports_queue_url,
        "automation": settings.automation_queue_url,
        "reports": settings.reports_queue_url,
        "integrations": settings.integrations_queue_url,
    }
    return {channel: url for channel, url in urls.items() if url}


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=SEND_WORKERS, thread_name_prefix="outbox-send")


def message(row: Any) -> dict[str, Any]:
    return {
        "event_id": str(row.id),
        "seq": row.seq,
        "tenant_id": str(row.tenant_id),
        "type": row.event_type,
        "aggregate": {"type": row.aggregate_type, "id": row.aggregate_id},
        "payload": row.payload,
        "created_at": row.created_at.isoformat(),
    }


def encode(row: Any, trace: str | None = None) -> str:
    """The SQS message body of an outbox row, as every consumer receives it
    (`platform.consumer.Envelope.parse` reads it back), with the trace that wrote it."""
    return json.dumps({**message(row), **({"trace": trace} if trace else {})}, default=str)


@dataclass(frozen=True)
class _Entry:
    row_id: uuid.UUID
    event_type: str
    body: str
    trace: str | None = None

    @property
    def size(self) -> int:
        # What SQS counts against the batch limit: the body and the attribute (name,
        # type and value); the trace header too, to be safe.
        size = len(self.body.encode()) + len("type") + len("String") + len(self.event_type)
        return size + len(self.trace or "")

    def request(self, n: int) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "Id": str(n),
            "MessageBody": self.body,
            "MessageAttributes": {"type": {"DataType": "String", "StringValue": self.event_type}},
        }
        if self.trace:  # X-Ray links the consumer's invocation to this trace
            entry["MessageSystemAttributes"] = {
                "AWSTraceHeader": {"DataType": "String", "StringValue": self.trace}
            }
        return entry


def batches(entries: Iterable[_Entry]) -> Iterator[list[_Entry]]:
    """Consecutive entries in SendMessageBatch-sized groups: ≤ 10 entries, ≤ 256 KiB."""
    batch: list[_Entry] = []
    size = 0
    for entry in entries:
        if batch and (len(batch) == BATCH_ENTRIES or size + entry.size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += entry.size
    if batch:
        yield batch


def _send_batch(url: str, batch: list[_Entry]) -> set[uuid.UUID]:
    """One SendMessageBatch call; the rows of the entries SQS did not accept."""
    result = aws.sqs().send_message_batch(
        QueueUrl=url, Entries=[entry.request(n) for n, entry in enumerate(batch)]
    )
    return {batch[int(failure["Id"])].row_id for failure in result.get("Failed", [])}


def send(
    rows: Iterable[Any], urls: dict[str, str], traces: dict[uuid.UUID, str] | None = None
) -> list[uuid.UUID]:
    """Send each row to its channels; the ids whose every message was accepted. Each
    message carries its row's trace: ``traces``, else the one the row was written under
    (``outbox.trace``: a sweep republishes an event in its request's trace), else the one
    in force (platform.tracing)."""
    rows = list(rows)
    in_force = tracing.current()
    by_queue: dict[str, list[_Entry]] = defaultdict(list)
    for row in rows:
        trace = (traces or {}).get(row.id) or getattr(row, "trace", None) or in_force
        body = encode(row, trace)
        for channel in channels_for(row.event_type):
            if channel in urls:
                by_queue[urls[channel]].append(_Entry(row.id, row.event_type, body, trace))
    calls = [(url, batch) for url, entries in by_queue.items() for batch in batches(entries)]
    failed: set[uuid.UUID] = set()
    if len(calls) == 1:  # the common request: one event, one channel — no thread hop
        url, batch = calls[0]
        failed |= _outcome(batch, lambda: _send_batch(url, batch))
    elif calls:
        aws.sqs()  # created once, here, before the worker threads share it
        futures: list[tuple[list[_Entry], Future[set[uuid.UUID]]]] = [
            (batch, _pool().submit(_send_batch, url, batch)) for url, batch in calls
        ]
        for batch, future in futures:
            failed |= _outcome(batch, future.result)
    return [row.id for row in rows if row.id not in failed]


def _outcome(batch: list[_Entry], result: Callable[[], set[uuid.UUID]]) -> set[uuid.UUID]:
    """The failed rows of one call; a call that raised failed for each of its entries."""
    try:
        failed = result()
    except Exception:  # noqa: BLE001 - left unpublished; the next sweep sends it again
        get_logger().warning("SendMessageBatch failed", exc_info=True)
        return {entry.row_id for entry in batch}
    if failed:
        get_logger().warning("SendMessageBatch rejected entries", extra={"count": len(failed)})
    return failed


def _mark(session: Session, claimed: list[uuid.UUID], sent: list[uuid.UUID]) -> None:
    """One statement for the batch: every claimed row counts an attempt, sent rows are
    published."""
    session.execute(_MARK, {"claimed": claimed, "sent": sent})


def publish_committed(
    tenant_id: uuid.UUID | None,
    ids: list[uuid.UUID],
    *,
    engine: Engine | None = None,
    traces: dict[uuid.UUID, str] | None = None,
) -> None:
    """After the domain commit: publish what it wrote. A failure here loses nothing —
    the rows stay unpublished and the sweeper sends them after the grace period."""
    urls = queue_urls(get_settings())
    if not ids or not urls or tenant_id is None:
        return
    try:
        with transaction(engine) as session:
            set_tenant(session, tenant_id=tenant_id, user_id=None)
            rows = session.execute(_SELECT_COMMITTED, {"ids": ids}).all()
            if rows:
                sent = send(rows, urls, traces)
                _mark(session, [row.id for row in rows], sent)
    except Exception:  # noqa: BLE001 - the sweeper is the safety net; the request succeeded
        get_logger().exception(
            "outbox publish failed; the sweeper will retry",
            extra={"tenant_id": str(tenant_id), "count": len(ids)},
        )


@dataclass
class _Cursor:
    """How far one sweep has gone through one tenant's pending rows. Claims of one tenant
    take turns (the lock); their sends and marks may overlap."""

    tenant_id: uuid.UUID
    after_at: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    after_seq: int = 0
    done: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def _sweep_batch(
    cursor: _Cursor, *, before: datetime, limit: int, urls: dict[str, str], engine: Engine | None
) -> int:
    """Claim up to `limit` of the tenant's stale rows (SKIP LOCKED: an overlapping sweep
    takes other rows or none), send them, mark them, commit; the number published. A
    failure ends this sweep's turns for the tenant."""

    def claim_send_mark(session: Session, tenant_id: uuid.UUID) -> int:
        with cursor.lock:
            if cursor.done:
                return 0
            rows = session.execute(
                _CLAIM,
                {
                    "tenant": tenant_id,
                    "before": before,
                    "after_at": cursor.after_at,
                    "after_seq": cursor.after_seq,
                    "n": limit,
                },
            ).all()
            cursor.done = len(rows) < limit
            if not rows:
                return 0
            cursor.after_at, cursor.after_seq = rows[-1].created_at, rows[-1].seq
        sent = send(rows, urls)
        _mark(session, [row.id for row in rows], sent)
        return len(sent)

    done = jobs.in_tenant(cursor.tenant_id, claim_send_mark, what="outbox sweep", engine=engine)
    if done.failed or done.result is None:
        cursor.done = True
        return 0
    return done.result


def sweep(
    now: datetime | None = None,
    *,
    engine: Engine | None = None,
    budget_seconds: float | None = None,
) -> int:
    """Publish rows left unpublished past the grace period (a crash between commit and
    publish, or SQS unavailable); the number published.

    Each tenant in its own transactions, one bounded batch at a time, round robin so that
    one tenant's backlog does not starve the others. `SWEEP_PIPELINE` batches are in flight
    at once, so that one batch's claim and mark overlap another's sends. It stops taking
    batches once every tenant is through or `budget_seconds` (the Lambda's remaining time)
    is spent; the next run goes on.
    """
    settings = get_settings()
    urls = queue_urls(settings)
    if not urls:
        return 0
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    before = (now or datetime.now(UTC)) - timedelta(seconds=settings.outbox_grace_seconds)
    with transaction(engine) as session:
        cursors = [
            _Cursor(tenant_id)
            for tenant_id in session.execute(
                text("SELECT outbox_tenants_pending(:b)"), {"b": before}
            ).scalars()
        ]
    batch = functools.partial(
        _sweep_batch, before=before, limit=settings.outbox_sweep_batch, urls=urls, engine=engine
    )
    total = 0
    in_flight: set[Future[int]] = set()

    def settle(block_until: str) -> None:
        nonlocal total, in_flight
        finished, in_flight = wait(in_flight, return_when=block_until)
        total += sum(future.result() for future in finished)

    started = False
    with ThreadPoolExecutor(SWEEP_PIPELINE, thread_name_prefix="outbox-sweep") as workers:
        while active := [cursor for cursor in cursors if not cursor.done]:
            for cursor in active:  # one turn of the round robin
                if len(in_flight) >= SWEEP_PIPELINE:
                    settle(FIRST_COMPLETED)
                if started and deadline is not None and time.monotonic() >= deadline:
                    settle(ALL_COMPLETED)
                    return total
                # In the sweep's context: its trace is in force for rows that have none.
                in_flight.add(workers.submit(contextvars.copy_context().run, batch, cursor))
                started = True
            if in_flight:  # let the turn's batches move the cursors before the next turn
                settle(FIRST_COMPLETED)
        settle(ALL_COMPLETED)
    return total


# --- publish-after-commit in the background (SERVICEDESK_PUBLISH_IN_BACKGROUND) --------

# Requests whose events may wait for the worker; past that a request's events are left to
# the sweeper (after the grace period) rather than held in memory or in the request.
BACKGROUND_CAPACITY = 5000
# Requests' events one background round publishes together (fewer, fuller SendMessageBatch
# calls under load).
BACKGROUND_ROUND = 200


class _Background:
    """One daemon thread publishing what requests committed, in arrival order, the events
    of many requests per round (grouped by tenant). What it has not published when the
    process ends stays unpublished in the outbox: the sweeper sends it."""

    def __init__(self, capacity: int) -> None:
        self.pending: queue.Queue[tuple[uuid.UUID, list[uuid.UUID], str | None]] = queue.Queue(
            capacity
        )
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.dropped = 0

    def submit(self, tenant_id: uuid.UUID, ids: list[uuid.UUID], trace: str | None) -> bool:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._run, name="outbox-background", daemon=True
                )
                self.thread.start()
        try:
            self.pending.put_nowait((tenant_id, ids, trace))
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def _run(self) -> None:
        while True:
            taken = [self.pending.get()]
            while len(taken) < BACKGROUND_ROUND:
                try:
                    taken.append(self.pending.get_nowait())
                except queue.Empty:
                    break
            by_tenant: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
            traces: dict[uuid.UUID, str] = {}  # each request's events keep its trace
            for tenant_id, ids, trace in taken:
                by_tenant[tenant_id] += ids
                traces.update(dict.fromkeys(ids, trace) if trace else {})
            for tenant_id, ids in by_tenant.items():
                # Never raises: the sweeper is the net.
                publish_committed(tenant_id, ids, traces=traces)
            for _ in taken:
                self.pending.task_done()

    def wait(self) -> None:
        """Until everything submitted so far has been published (or left to the sweeper)."""
        self.pending.join()


@functools.cache
def _background() -> _Background:
    return _Background(BACKGROUND_CAPACITY)


def publish_after_commit(tenant_id: uuid.UUID | None, ids: list[uuid.UUID]) -> None:
    """A request's publish once its transaction committed: `publish_committed` now, or,
    with `publish_in_background`, by the background worker so that the response does not
    wait for SQS (a slow or backed-up queue then slows nobody's request). A full worker
    queue leaves the events to the sweeper."""
    if not ids or tenant_id is None:
        return
    if not get_settings().publish_in_background:
        publish_committed(tenant_id, ids)
        return
    if not _background().submit(tenant_id, ids, tracing.current()):
        get_logger().warning(
            "background publish queue full; the sweeper will publish",
            extra={"tenant_id": str(tenant_id), "count": len(ids)},
        )


def wait_for_background() -> None:
    """Block until the background worker has handled every submitted publish (tests,
    benchmarks)."""
    _background().wait()


def for_each_due_tenant(
    due: Callable[[Session], list[uuid.UUID]],
    work: jobs.Work[jobs.R],
    events: Callable[[jobs.R], list[uuid.UUID]],
    *,
    what: str,
    engine: Engine | None = None,
) -> jobs.TenantRun[jobs.R]:
    """A scheduled pass: the tenants ``due`` names (read before any tenant is known), each
    worked in its own transaction (``jobs.for_each_tenant``), the ``events`` its work wrote
    published once it has committed (a failed publish leaves them to the sweeper)."""
    from servicedesk.platform.db import get_engine

    engine = engine or get_engine()

    def publish(tenant_id: uuid.UUID, result: jobs.R) -> None:
        written = events(result)
        if written:
            publish_committed(tenant_id, written, engine=engine)

    with transaction(engine) as session:
        tenants = due(session)
    return jobs.for_each_tenant(tenants, work, what=what, engine=engine, after_commit=publish)
