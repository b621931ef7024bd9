"""The outbox over the real SQS of the emulator: publish after commit, the sweeper,
partial batch failures, idempotent consumers, and the DLQ."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import boto3
import pytest

from local.queues import ensure_queues, poll_once
from servicedesk.platform import consumer, outbox, publisher
from servicedesk.platform.db import set_tenant, transaction
from tests.conftest import make_tenant, reset_caches


@pytest.fixture(scope="module")
def queues(aws_endpoint, database):
    made = ensure_queues(
        prefix=f"t{uuid.uuid4().hex[:8]}", max_receive_count=2, visibility_timeout=1
    )
    mp = pytest.MonkeyPatch()
    for channel, queue in made.items():
        mp.setenv(f"SERVICEDESK_{channel.upper()}_QUEUE_URL", queue.url)
    mp.setenv("SERVICEDESK_OUTBOX_GRACE_SECONDS", "1")
    reset_caches()
    yield made
    mp.undo()
    reset_caches()


def _drain(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for m in messages:
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def _published_at(database, event_id):
    with database.connect("owner") as conn:
        return conn.execute(
            "SELECT published_at FROM outbox WHERE id = %s", (event_id,)
        ).fetchone()[0]


def test_a_committed_request_publishes_its_events_to_each_channel(client, queues, database):
    for q in queues.values():
        _drain(q.url)
    org = make_tenant(client, roles=("requester",))
    ticket = client.post(
        "/v1/tickets", json={"title": "Publish me"}, headers=org.members["requester"].headers
    ).json()
    for channel in ("email", "webhook", "realtime"):
        events = [e for e in _drain(queues[channel].url) if e["type"] == "ticket.created"]
        assert [e["payload"]["ticket_id"] for e in events] == [ticket["id"]], channel
        assert events[0]["seq"] > 0 and events[0]["tenant_id"] == org.tenant_id
    assert _published_at(database, uuid.UUID(events[0]["event_id"])) is not None


def test_a_failed_commit_publishes_nothing(client, queues, database):
    for q in queues.values():
        _drain(q.url)
    org = make_tenant(client, roles=("requester",))
    with database.connect("owner") as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.payload->>'number' IS NOT NULL AND NEW.event_type = 'ticket.created'"
            " AND NEW.tenant_id = '" + org.tenant_id + "' THEN RAISE EXCEPTION 'commit refused';"
            " END IF; RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE CONSTRAINT TRIGGER fail_commit AFTER INSERT ON outbox"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_commit()"
        )
        conn.commit()
    try:
        response = client.post(
            "/v1/tickets", json={"title": "Never"}, headers=org.members["requester"].headers
        )
        assert response.status_code == 500
        assert _drain(queues["email"].url) == []
        with database.connect("owner") as conn:
            assert conn.execute(
                "SELECT count(*) FROM tickets WHERE tenant_id = %s", (org.tenant_id,)
            ).fetchone() == (0,)
    finally:
        with database.connect("owner") as conn:
            conn.execute("DROP TRIGGER fail_commit ON outbox")
            conn.commit()


def _crash_after_commit(tenant_id: str) -> uuid.UUID:
    """Commit an outbox row the way a request would, then 'die' before publishing."""
    with transaction() as session:
        set_tenant(session, tenant_id=uuid.UUID(tenant_id), user_id=None)
        return outbox.emit(
            session,
            tenant_id=uuid.UUID(tenant_id),
            event_type="ticket.created",
            aggregate_type="ticket",
            aggregate_id="crash",
            payload={"ticket_id": "crash", "number": "TCK-0"},
        )


def test_after_a_crash_the_sweeper_delivers_exactly_once(client, queues, database):
    for q in queues.values():
        _drain(q.url)
    org = make_tenant(client, roles=())
    event_id = _crash_after_commit(org.tenant_id)
    assert _published_at(database, event_id) is None
    assert publisher.sweep() == 0 or _published_at(database, event_id) is None  # within grace
    time.sleep(1.2)
    counts: list[int] = []
    sweepers = [threading.Thread(target=lambda: counts.append(publisher.sweep())) for _ in range(2)]
    for t in sweepers:
        t.start()
    for t in sweepers:
        t.join()
    assert _published_at(database, event_id) is not None
    delivered = [e for e in _drain(queues["email"].url) if e["event_id"] == str(event_id)]
    assert len(delivered) == 1  # two overlapping sweeps, one message
    assert publisher.sweep() == 0


def _recording_handler(effects: list[str], fail: set[str] | None = None):
    def process(session, envelope: consumer.Envelope) -> None:
        if fail and envelope.payload.get("key") in fail:
            raise RuntimeError("poison")
        if consumer.claim(session, envelope, channel="test", recipient="r"):
            effects.append(str(envelope.event_id))

    return consumer.sqs_handler(process)


def _send(url: str, tenant_id: str, key: str, event_id: uuid.UUID | None = None) -> str:
    event_id = event_id or uuid.uuid4()
    body = json.dumps(
        {
            "event_id": str(event_id),
            "seq": 1,
            "tenant_id": tenant_id,
            "type": "ticket.created",
            "aggregate": {"type": "ticket", "id": key},
            "payload": {"key": key},
            "created_at": "2026-11-25T12:00:00+00:00",
        }
    )
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody=body)
    return str(event_id)


def test_a_failed_record_is_retried_alone_and_redelivery_has_one_effect(client, queues):
    queue = queues["realtime"]
    _drain(queue.url)
    org = make_tenant(client, roles=())
    effects: list[str] = []
    failing = {"bad"}
    handler = _recording_handler(effects, failing)
    good = [_send(queue.url, org.tenant_id, f"ok{n}") for n in range(2)]
    bad = _send(queue.url, org.tenant_id, "bad")
    duplicate = uuid.UUID(good[0])
    _send(queue.url, org.tenant_id, "ok0", event_id=duplicate)  # the same event again
    processed, failed = 0, 0
    for _ in range(5):
        p, f = poll_once(queue, handler)
        processed, failed = processed + p, failed + f
    assert failed == 1 and processed == 3
    assert sorted(effects) == sorted(good)  # the duplicate caused no second effect
    failing.clear()  # the bug is fixed: the failed record alone comes back and succeeds
    time.sleep(1.2)
    assert poll_once(queue, handler) == (1, 0)
    assert bad in effects


def test_a_poison_message_reaches_the_dlq_without_blocking_others(client, queues):
    queue = queues["webhook"]
    _drain(queue.url)
    _drain(queue.dlq_url)
    org = make_tenant(client, roles=())
    effects: list[str] = []
    handler = _recording_handler(effects, {"poison"})
    poison = _send(queue.url, org.tenant_id, "poison")
    fine = _send(queue.url, org.tenant_id, "fine")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        poll_once(queue, handler)
        dead = boto3.client("sqs").get_queue_attributes(
            QueueUrl=queue.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        if dead == "1":
            break
        time.sleep(0.3)
    assert fine in effects and poison not in effects
    assert dead == "1"
    from scripts.redrive_dlq import redrive

    assert redrive(queue.url, queue.dlq_url) == 1
    assert [e["event_id"] for e in _drain(queue.url)] == [poison]
