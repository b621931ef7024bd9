"""SQS consumers: partial batch failures and idempotency by event id.

Each record is one outbox event (see platform.publisher.message). It is processed in its
own tenant transaction; `claim` records the side effect in `deliveries` under a unique
(event, channel, recipient) key in that same transaction, so a redelivered message finds
its side effects already done and does nothing twice. A record that raises is reported
as a batch item failure: only it is retried, and after maxReceiveCount it lands in the DLQ.

`sqs_batch_handler` hands a process each tenant's records of the batch at once, in one
transaction (the e-mail consumer: shared reads, one statement per kind of write).
`claim_each` claims many side effects in one statement before any is done; one that then
fails is marked so (`fail_claims`), and only its record is retried. A batch that fails
before any side effect is redone record by record, so a bad record fails alone.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform import metrics
from servicedesk.platform.db import jsonable, set_tenant, transaction
from servicedesk.platform.metric_names import CONSUMER_MESSAGE_AGE, CONSUMER_RECORDS


@dataclass(frozen=True)
class Envelope:
    event_id: uuid.UUID
    seq: int
    tenant_id: uuid.UUID
    type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    created_at: datetime
    receive_count: int = 1
    # The trace header of the request (or job) that wrote the event (platform.tracing).
    trace: str | None = None

    @classmethod
    def parse(cls, body: str, receive_count: int = 1, trace: str | None = None) -> Envelope:
        raw = json.loads(body)
        return cls(
            event_id=uuid.UUID(raw["event_id"]),
            seq=int(raw["seq"]),
            tenant_id=uuid.UUID(raw["tenant_id"]),
            type=str(raw["type"]),
            aggregate_type=str(raw["aggregate"]["type"]),
            aggregate_id=str(raw["aggregate"]["id"]),
            payload=dict(raw["payload"]),
            created_at=datetime.fromisoformat(raw["created_at"]),
            receive_count=receive_count,
            trace=str(raw.get("trace") or trace or "") or None,
        )

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Envelope:
        """An SQS record's envelope: its receive count, and its trace (the body's, else
        the AWSTraceHeader system attribute)."""
        attributes = record.get("attributes") or {}
        count = int(attributes.get("ApproximateReceiveCount") or 1)
        return cls.parse(record["body"], count, attributes.get("AWSTraceHeader"))

    @property
    def ticket_id(self) -> str | None:
        if self.aggregate_type == "ticket":
            return self.aggregate_id
        found = self.payload.get("ticket_id")
        return str(found) if found else None


@contextmanager
def handling(envelopes: list[Envelope]) -> Iterator[None]:
    """Log lines (and the events emitted) while handling these records carry their trace
    (when they share one), and the event and ticket of a single record."""
    from servicedesk.platform import tracing
    from servicedesk.platform.logging import labels

    traces = {e.trace for e in envelopes}  # none: no record could be read
    one = envelopes[0] if len(envelopes) == 1 else None
    with (
        tracing.bind(traces.pop() if len(traces) == 1 else None),
        labels(
            event_id=str(one.event_id) if one else None,
            event_type=one.type if one else None,
            ticket_id=one.ticket_id if one else None,
        ),
    ):
        yield


def claim(
    session: Session,
    envelope: Envelope,
    *,
    channel: str,
    recipient: str,
    detail: dict[str, Any] | None = None,
) -> bool:
    """True the first time this (event, channel, recipient) is claimed; False after."""
    row = session.execute(
        text(
            "INSERT INTO deliveries (tenant_id, event_id, channel, recipient, detail)"
            " VALUES (:t, :e, :c, :r, CAST(:d AS jsonb))"
            " ON CONFLICT (event_id, channel, recipient) DO NOTHING RETURNING id"
        ),
        {
            "t": envelope.tenant_id,
            "e": envelope.event_id,
            "c": channel,
            "r": recipient,
            "d": json.dumps(jsonable(detail or {})),
        },
    ).first()
    return row is not None


class Incomplete(Exception):
    """Some side effects of the record failed: what the record's transaction did commits,
    and the record is reported failed so that SQS delivers it again."""


def claim_each(
    session: Session, tenant_id: uuid.UUID, channel: str, keys: list[tuple[uuid.UUID, str]]
) -> set[tuple[uuid.UUID, str]]:
    """`claim` for many (event, recipient) keys in one statement: the keys claimed now,
    never before (a claim marked failed by `fail_claims` is claimed again). Sorted, so
    that two transactions claiming overlapping keys take their row locks in one order:
    the second waits for the first's commit, then finds its claims; neither deadlocks."""
    wanted = sorted(set(keys), key=lambda k: (str(k[0]), k[1]))
    if not wanted:
        return set()
    rows = session.execute(
        text(
            "INSERT INTO deliveries (tenant_id, event_id, channel, recipient)"
            " SELECT :t, k.e, :c, k.r FROM unnest(CAST(:events AS uuid[]),"
            " CAST(:recipients AS text[])) WITH ORDINALITY AS k(e, r, n) ORDER BY k.n"
            " ON CONFLICT (event_id, channel, recipient) DO UPDATE"
            " SET status = 'done', detail = '{}'::jsonb WHERE deliveries.status = 'failed'"
            " RETURNING event_id, recipient"
        ),
        {
            "t": tenant_id,
            "c": channel,
            "events": [e for e, _ in wanted],
            "recipients": [r for _, r in wanted],
        },
    ).all()
    return {(uuid.UUID(str(r.event_id)), str(r.recipient)) for r in rows}


def fail_claims(session: Session, channel: str, failed: list[tuple[uuid.UUID, str, str]]) -> None:
    """Mark claims of this transaction whose side effect raised (event, recipient, error):
    the retry of the record claims them again (the application role may not delete)."""
    if failed:
        session.execute(
            text(
                "UPDATE deliveries d SET status = 'failed',"
                " detail = jsonb_build_object('error', k.err)"
                " FROM unnest(CAST(:events AS uuid[]), CAST(:recipients AS text[]),"
                " CAST(:errors AS text[])) AS k(e, r, err)"
                " WHERE d.event_id = k.e AND d.channel = :c AND d.recipient = k.r"
            ),
            {
                "c": channel,
                "events": [e for e, _, _ in failed],
                "recipients": [r for _, r, _ in failed],
                "errors": [err for _, _, err in failed],
            },
        )


def record_references(
    session: Session, channel: str, references: list[tuple[uuid.UUID, str, str]]
) -> None:
    """Keep each side effect's reference (an SES message id, ...) on its claim."""
    if references:
        session.execute(
            text(
                "UPDATE deliveries d SET detail = d.detail || jsonb_build_object('ref', k.ref)"
                " FROM unnest(CAST(:events AS uuid[]), CAST(:recipients AS text[]),"
                " CAST(:refs AS text[])) AS k(e, r, ref)"
                " WHERE d.event_id = k.e AND d.channel = :c AND d.recipient = k.r"
            ),
            {
                "c": channel,
                "events": [e for e, _, _ in references],
                "recipients": [r for _, r, _ in references],
                "refs": [ref for _, _, ref in references],
            },
        )


Process = Callable[[Session, Envelope], None]


def consumer_name(process: Callable[..., Any]) -> str:
    """The metrics' name of a consumer: its domain (``servicedesk.webhooks.delivery`` →
    ``webhooks``)."""
    parts = (getattr(process, "__module__", None) or "").split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "servicedesk" else "consumer"


def record_batch_metrics(
    consumer: str, records: list[dict[str, Any]], failed: set[str], *, now: float | None = None
) -> None:
    """Records processed, failed and retried (received before), and the age of the batch's
    oldest record (SQS SentTimestamp → now: the queue lag this consumer saw)."""
    now_ms = (time.time() if now is None else now) * 1000
    outcomes = {"processed": 0, "failed": 0, "retried": 0}
    oldest: float | None = None
    for record in records:
        attributes = record.get("attributes") or {}
        outcomes["failed" if str(record.get("messageId")) in failed else "processed"] += 1
        if int(attributes.get("ApproximateReceiveCount") or 1) > 1:
            outcomes["retried"] += 1
        sent = str(attributes.get("SentTimestamp") or "")
        if sent.isdigit():
            age = max(0.0, now_ms - int(sent))
            oldest = age if oldest is None else max(oldest, age)
    for outcome, n in outcomes.items():
        if n:
            metrics.count(CONSUMER_RECORDS, n, Consumer=consumer, Outcome=outcome)
    if oldest is not None:
        metrics.count(CONSUMER_MESSAGE_AGE, oldest, Consumer=consumer)


def sqs_handler(
    process: Process, *, consumer: str | None = None
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A Lambda handler for an SQS event source mapping with ReportBatchItemFailures.

    The partial-batch response is built here: Powertools' batch utility would be the
    heaviest import of a consumer (its event and parser models) for a loop and a list.
    """
    from servicedesk.platform.logging import get_logger, log_invocation

    name = consumer or consumer_name(process)

    def process_record(envelope: Envelope) -> None:
        incomplete: Incomplete | None = None
        with transaction() as session:
            set_tenant(session, tenant_id=envelope.tenant_id, user_id=None)
            try:
                process(session, envelope)
            except Incomplete as exc:
                incomplete = exc  # commit what was done; the record is retried for the rest
        emitted = session.info.get("outbox_ids")
        if emitted:  # events the record emitted (webhook.disabled, ...): out now, not in a minute
            from servicedesk.platform.publisher import publish_committed

            publish_committed(envelope.tenant_id, list(emitted))
        if incomplete is not None:
            raise incomplete

    def handled(record: dict[str, Any]) -> bool:
        """Whether the record is done; a failure is logged with the record's trace, event
        and ticket (inside `handling`)."""
        envelope: Envelope | None = None
        try:
            envelope = Envelope.from_record(record)
            with handling([envelope]):
                process_record(envelope)
                get_logger().debug("record processed", extra={"consumer": name})
        except Exception:  # noqa: BLE001 - reported: SQS retries only this record
            with handling([envelope] if envelope else []):
                get_logger().warning(
                    "record failed; SQS delivers it again",
                    extra={"message_id": record.get("messageId")},
                    exc_info=True,
                )
            return False
        return True

    @log_invocation
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event.get("Records")
        if not records or not isinstance(records, list):
            raise ValueError("not an SQS batch event: no Records")
        failures = [
            {"itemIdentifier": str(record.get("messageId"))}
            for record in records
            if not handled(record)
        ]
        record_batch_metrics(name, records, {f["itemIdentifier"] for f in failures})
        # A batch whose every record failed is reported as such (not raised): Lambda retries
        # exactly those records either way, and the response stays one shape.
        return {"batchItemFailures": failures}

    return handler


# Session.info key: set by a batch process once it has begun a side effect that a rollback
# cannot undo (a mail sent); after that, a failing batch is not redone record by record.
SIDE_EFFECTS_BEGUN = "side_effects_begun"

# The events of one tenant in one transaction; the event ids to retry (their side effects
# partly failed; what the batch did commits).
BatchProcess = Callable[[Session, list[Envelope]], set[uuid.UUID]]


def _run_group(
    process: BatchProcess, tenant_id: uuid.UUID, items: list[tuple[str, Envelope]]
) -> list[str]:
    """One tenant's records in one transaction; the message ids to report failed.

    A batch that raises before any side effect is rolled back and its records redone one
    by one, so a bad record fails alone; one that raises after (a mail went out, the commit
    failed) is retried whole: at least once, never lost.
    """
    with handling([envelope for _, envelope in items]):
        return _run_group_traced(process, tenant_id, items)


def _run_group_traced(
    process: BatchProcess, tenant_id: uuid.UUID, items: list[tuple[str, Envelope]]
) -> list[str]:
    from servicedesk.platform.logging import get_logger

    sessions: list[Session] = []
    try:
        with transaction() as session:
            sessions.append(session)
            set_tenant(session, tenant_id=tenant_id, user_id=None)
            retry = process(session, [envelope for _, envelope in items])
    except Exception:  # noqa: BLE001 - reported as batch item failures, or redone alone
        begun = bool(sessions and sessions[0].info.get(SIDE_EFFECTS_BEGUN))
        get_logger().warning(
            "consumer batch failed",
            exc_info=True,
            extra={"records": len(items), "redone_alone": len(items) > 1 and not begun},
        )
        if len(items) == 1 or begun:
            return [message_id for message_id, _ in items]
        return [failed for item in items for failed in _run_group(process, tenant_id, [item])]
    emitted = session.info.get("outbox_ids")
    if emitted:
        from servicedesk.platform.publisher import publish_committed

        publish_committed(tenant_id, list(emitted))
    return [message_id for message_id, envelope in items if envelope.event_id in retry]


def sqs_batch_handler(
    process: BatchProcess, *, consumer: str | None = None
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A Lambda handler (ReportBatchItemFailures) that hands `process` each tenant's
    records of the SQS batch at once, in one transaction, in their order in the batch:
    the reads they share and their writes cost one round trip each instead of one per
    record. Failures are still per record (`_run_group`)."""
    from servicedesk.platform.logging import get_logger, log_invocation

    name = consumer or consumer_name(process)

    @log_invocation
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failures: list[str] = []
        groups: dict[uuid.UUID, list[tuple[str, Envelope]]] = {}
        for record in event.get("Records", []):
            try:
                envelope = Envelope.from_record(record)
            except (KeyError, TypeError, ValueError):
                get_logger().warning("unreadable consumer record", exc_info=True)
                failures.append(record["messageId"])
                continue
            groups.setdefault(envelope.tenant_id, []).append((record["messageId"], envelope))
        for tenant_id, items in groups.items():
            failures += _run_group(process, tenant_id, items)
        record_batch_metrics(name, list(event.get("Records", [])), set(failures))
        return {"batchItemFailures": [{"itemIdentifier": failed} for failed in failures]}

    return handler
