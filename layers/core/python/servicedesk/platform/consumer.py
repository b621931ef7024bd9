"""SQS consumers: partial batch failures and idempotency by event id.

Each record is one outbox event (see platform.publisher.message). It is processed in its
own tenant transaction; `claim` records the side effect in `deliveries` under a unique
(event, channel, recipient) key in that same transaction, so a redelivered message finds
its side effects already done and does nothing twice. A record that raises is reported
as a batch item failure: only it is retried, and after maxReceiveCount it lands in the DLQ.

An event with several recipients (one e-mail each) uses `deliver_once`: each side effect
is claimed and committed in a transaction of its own, so a failure for one recipient does
not undo — and a retry does not repeat — what was done for the others. The record then
raises `Incomplete`: the rest of its work commits and only the record is retried.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicedesk.platform.db import jsonable, set_tenant, transaction


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

    @classmethod
    def parse(cls, body: str, receive_count: int = 1) -> Envelope:
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
        )


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


def deliver_once(
    envelope: Envelope,
    *,
    channel: str,
    recipient: str,
    send: Callable[[], str | None],
    engine: Engine | None = None,
) -> bool:
    """Do one side effect at most once per (event, channel, recipient); False if it was
    done before.

    Claim, `send`, commit — in a transaction of its own: the claim exists only once the
    send has returned, so a send that raises leaves nothing claimed (the retry does it),
    and a send that returned is never repeated by a retry of the rest of the event. A
    concurrent delivery of the same message waits on the claim's row lock, then finds it.
    The one window left is a crash between the send and the commit (at least once).
    """
    with transaction(engine) as session:
        set_tenant(session, tenant_id=envelope.tenant_id, user_id=None)
        if not claim(session, envelope, channel=channel, recipient=recipient):
            return False
        reference = send()
        if reference:
            session.execute(
                text(
                    "UPDATE deliveries"
                    " SET detail = detail || jsonb_build_object('ref', CAST(:ref AS text))"
                    " WHERE event_id = :e AND channel = :c AND recipient = :r"
                ),
                {"ref": reference, "e": envelope.event_id, "c": channel, "r": recipient},
            )
    return True


Process = Callable[[Session, Envelope], None]


def sqs_handler(process: Process) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A Lambda handler for an SQS event source mapping with ReportBatchItemFailures.

    The partial-batch response is built here: Powertools' batch utility would be the
    heaviest import of a consumer (its event and parser models) for a loop and a list.
    """
    from servicedesk.platform.logging import get_logger, log_invocation

    def process_record(record: dict[str, Any]) -> None:
        count = int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
        envelope = Envelope.parse(record["body"], count)
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

    @log_invocation
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event.get("Records")
        if not records or not isinstance(records, list):
            raise ValueError("not an SQS batch event: no Records")
        failures: list[dict[str, str]] = []
        for record in records:
            try:
                process_record(record)
            except Exception:  # noqa: BLE001 - reported below: SQS retries only this record
                get_logger().warning(
                    "record failed; SQS delivers it again",
                    extra={"message_id": record.get("messageId")},
                    exc_info=True,
                )
                failures.append({"itemIdentifier": str(record.get("messageId"))})
        # A batch whose every record failed is reported as such (not raised): Lambda retries
        # exactly those records either way, and the response stays one shape.
        return {"batchItemFailures": failures}

    return handler
