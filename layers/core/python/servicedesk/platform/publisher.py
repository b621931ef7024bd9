"""Publishing outbox rows to SQS: right after the domain commit, and by the sweeper.

Order: queues are standard, not FIFO — webhook retries need per-message delays, which
FIFO queues do not allow. Each message carries the outbox row's `seq` (a global,
increasing sequence) and `created_at`; consumers that care about per-ticket order
compare sequence numbers (the realtime client refetches on every event anyway).
Delivery is at least once; consumers are idempotent by event id (the deliveries table).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.db import set_tenant, transaction
from servicedesk.platform.logging import get_logger

# Which channels hear which events (by prefix of the event type).
ROUTES: dict[str, tuple[str, ...]] = {
    "ticket.": ("email", "webhook", "realtime"),
    "comment.": ("email", "webhook", "realtime"),
    "sla.": ("email", "webhook", "realtime"),
    "user.invited": ("email",),
    "webhook.disabled": ("email",),
    "email.bounced": ("webhook",),
    "email.complained": ("webhook",),
}

_SELECT = text(
    "SELECT id, tenant_id, seq, event_type, aggregate_type, aggregate_id, payload, created_at"
    " FROM outbox WHERE id = ANY(:ids) AND published_at IS NULL"
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
    }
    return {channel: url for channel, url in urls.items() if url}


@functools.cache
def _sqs() -> Any:
    import boto3

    return boto3.client("sqs")


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


def send(rows: Iterable[Any], urls: dict[str, str]) -> list[uuid.UUID]:
    """Send each row to its channels; the ids whose every message was accepted."""
    by_queue: dict[str, list[tuple[Any, str]]] = defaultdict(list)
    rows = list(rows)
    for row in rows:
        body = json.dumps(message(row), default=str)
        for channel in channels_for(row.event_type):
            if channel in urls:
                by_queue[urls[channel]].append((row, body))
    failed: set[uuid.UUID] = set()
    for url, items in by_queue.items():
        for start in range(0, len(items), 10):
            chunk = items[start : start + 10]
            entries = [
                {
                    "Id": str(n),
                    "MessageBody": body,
                    "MessageAttributes": {
                        "type": {"DataType": "String", "StringValue": row.event_type}
                    },
                }
                for n, (row, body) in enumerate(chunk)
            ]
            result = _sqs().send_message_batch(QueueUrl=url, Entries=entries)
            for failure in result.get("Failed", []):
                failed.add(chunk[int(failure["Id"])][0].id)
    return [row.id for row in rows if row.id not in failed]


def _mark(session: Session, ids: list[uuid.UUID]) -> None:
    session.execute(
        text(
            "UPDATE outbox SET published_at = now(), attempts = attempts + 1"
            " WHERE id = ANY(:ids) AND published_at IS NULL"
        ),
        {"ids": ids},
    )


def publish_committed(
    tenant_id: uuid.UUID | None, ids: list[uuid.UUID], *, engine: Engine | None = None
) -> None:
    """After the domain commit: publish what it wrote. A failure here loses nothing —
    the rows stay unpublished and the sweeper sends them after the grace period."""
    urls = queue_urls(get_settings())
    if not ids or not urls or tenant_id is None:
        return
    try:
        with transaction(engine) as session:
            set_tenant(session, tenant_id=tenant_id, user_id=None)
            rows = session.execute(_SELECT, {"ids": ids}).all()
            sent = send(rows, urls)
            if sent:
                _mark(session, sent)
    except Exception:  # noqa: BLE001 - the sweeper is the safety net; the request succeeded
        get_logger().exception(
            "outbox publish failed; the sweeper will retry",
            extra={"tenant_id": str(tenant_id), "count": len(ids)},
        )


def sweep(now: datetime | None = None, *, engine: Engine | None = None) -> int:
    """Publish rows left unpublished past the grace period (a crash between commit and
    publish, or SQS unavailable). Per tenant, in its own transaction, rows locked with
    SKIP LOCKED so overlapping sweeps do not send the same row twice."""
    settings = get_settings()
    urls = queue_urls(settings)
    if not urls:
        return 0
    before = (now or datetime.now(UTC)) - timedelta(seconds=settings.outbox_grace_seconds)
    with transaction(engine) as session:
        tenants = list(
            session.execute(text("SELECT outbox_tenants_pending(:b)"), {"b": before}).scalars()
        )
    total = 0
    for tenant_id in tenants:
        try:
            with transaction(engine) as session:
                set_tenant(session, tenant_id=tenant_id, user_id=None)
                rows = session.execute(
                    text(
                        "SELECT id, tenant_id, seq, event_type, aggregate_type, aggregate_id,"
                        " payload, created_at FROM outbox"
                        " WHERE published_at IS NULL AND created_at < :b"
                        " ORDER BY seq LIMIT :n FOR UPDATE SKIP LOCKED"
                    ),
                    {"b": before, "n": settings.outbox_sweep_batch},
                ).all()
                sent = send(rows, urls)
                if sent:
                    _mark(session, sent)
                total += len(sent)
        except Exception:  # noqa: BLE001 - one tenant's failure must not stop the sweep
            get_logger().exception("outbox sweep failed", extra={"tenant_id": str(tenant_id)})
    return total
