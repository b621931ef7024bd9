"""The outbox against LocalStack's SQS: what our publisher encodes and sends (after a
request's commit, and by the sweeper, in batches with the type attribute) is what our
consumer handler receives and parses, byte for byte, each event once."""

from __future__ import annotations

import time
import uuid
from typing import Any

import boto3
from sqlalchemy import text

from local.queues import poll_once
from servicedesk.platform import consumer, publisher
from servicedesk.platform.db import set_tenant, transaction
from tests.conftest import make_tenant
from tests.integration.test_outbox import (  # the queues fixture serves this module too
    _crash_after_commit,
    _drain,
    queues,
)

__all__ = ["queues"]


def _outbox_rows(tenant_id: str) -> dict[str, Any]:
    """The tenant's outbox rows by event id, as the publisher reads them."""
    with transaction() as session:
        set_tenant(session, tenant_id=uuid.UUID(tenant_id), user_id=None)
        rows = session.execute(
            text(
                "SELECT id, tenant_id, seq, event_type, aggregate_type, aggregate_id, payload,"
                " created_at, published_at, trace FROM outbox"
            )
        ).all()
    return {str(row.id): row for row in rows}


def _consume_all(queue: Any) -> tuple[list[str], list[consumer.Envelope]]:
    """Poll ``queue`` through our consumer handler until empty: (bodies, envelopes)."""
    bodies: list[str] = []
    envelopes: list[consumer.Envelope] = []
    handle = consumer.sqs_handler(lambda _session, envelope: envelopes.append(envelope))

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        bodies.extend(record["body"] for record in event["Records"])
        return handle(event, context)

    while poll_once(queue, handler) != (0, 0):
        pass
    return bodies, envelopes


def test_a_request_s_events_reach_the_consumer_as_the_publisher_encoded_them(client, queues):
    org = make_tenant(client, roles=("requester",))
    for queue in queues.values():
        _drain(queue.url)
    before = set(_outbox_rows(org.tenant_id))
    title = "Écran qui scintille ✓ — 显示器 🖥"

    created = client.post(
        "/v1/tickets", json={"title": title}, headers=org.members["requester"].headers
    )

    assert created.status_code == 201, created.text
    rows = {e: row for e, row in _outbox_rows(org.tenant_id).items() if e not in before}
    for channel, queue in queues.items():
        bodies, envelopes = _consume_all(queue)
        expected = {
            event_id: row
            for event_id, row in rows.items()
            if channel in publisher.channels_for(row.event_type)
        }
        assert sorted(str(e.event_id) for e in envelopes) == sorted(expected), channel
        # Each body is its row as the publisher encodes it, with the trace the row was
        # written under (outbox.trace: the request's).
        assert all(row.trace for row in expected.values())
        assert sorted(bodies) == sorted(
            publisher.encode(row, row.trace) for row in expected.values()
        )
        for envelope in envelopes:
            row = expected[str(envelope.event_id)]
            assert row.published_at is not None  # marked only once SQS accepted it
            assert (envelope.seq, str(envelope.tenant_id), envelope.type) == (
                row.seq,
                org.tenant_id,
                row.event_type,
            )
            assert (envelope.aggregate_type, envelope.aggregate_id) == (
                row.aggregate_type,
                row.aggregate_id,
            )
            assert envelope.payload == row.payload and envelope.created_at == row.created_at
    created_events = [r for r in rows.values() if r.event_type == "ticket.created"]
    assert [r.payload["ticket_id"] for r in created_events] == [created.json()["id"]]


def test_the_sweeper_sends_a_backlog_once_in_batches_with_its_type_attribute(
    client, queues, database
):
    org = make_tenant(client, roles=())
    for queue in queues.values():
        _drain(queue.url)
    crashed = {str(_crash_after_commit(org.tenant_id)) for _ in range(25)}  # 3 batches a queue
    time.sleep(1.2)  # the grace period

    assert publisher.sweep() >= len(crashed)

    assert all(_outbox_rows(org.tenant_id)[e].published_at is not None for e in crashed)
    sqs = boto3.client("sqs")
    hearing = publisher.channels_for("ticket.created")
    for channel, queue in queues.items():
        received: list[str] = []
        while messages := sqs.receive_message(
            QueueUrl=queue.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            for message in messages:
                assert message["MessageAttributes"]["type"]["StringValue"] == "ticket.created"
                received.append(consumer.Envelope.parse(message["Body"]).event_id.hex)
                sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
        expected = crashed if channel in hearing else set()  # e.g. not the knowledge queue
        assert sorted(received) == sorted(uuid.UUID(e).hex for e in expected), channel
