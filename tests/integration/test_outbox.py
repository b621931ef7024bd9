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
from sqlalchemy import text

from local.queues import ensure_queues, poll_once
from servicedesk.platform import consumer, outbox, publisher
from servicedesk.platform.db import set_tenant, transaction
from tests.conftest import make_tenant, reset_caches
from tests.events import TimedLambdaContext


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
        bodies.extend(json.loads(m["Body"]) for m in messages)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
            ],
        )


def _published_at(database, event_id):
    with database.connect("owner") as conn:
        return conn.execute(
            "SELECT published_at FROM outbox WHERE id = %s", (event_id,)
        ).fetchone()[0]


def test_a_committed_request_publishes_its_events_to_each_channel(client, queues, database):
    org = make_tenant(client, roles=("requester",))
    for q in queues.values():
        _drain(q.url)
    ticket = client.post(
        "/v1/tickets", json={"title": "Publish me"}, headers=org.members["requester"].headers
    ).json()
    for channel in ("email", "webhook", "realtime"):
        events = [e for e in _drain(queues[channel].url) if e["type"] == "ticket.created"]
        assert [e["payload"]["ticket_id"] for e in events] == [ticket["id"]], channel
        assert events[0]["seq"] > 0 and events[0]["tenant_id"] == org.tenant_id
    assert _published_at(database, uuid.UUID(events[0]["event_id"])) is not None


def test_a_failed_commit_publishes_nothing(client, queues, database):
    org = make_tenant(client, roles=("requester",))
    for q in queues.values():
        _drain(q.url)
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


def _crash_after_commit(
    tenant_id: str, *, event_type: str = "ticket.created", payload: dict[str, Any] | None = None
) -> uuid.UUID:
    """Commit an outbox row the way a request would, then 'die' before publishing."""
    with transaction() as session:
        set_tenant(session, tenant_id=uuid.UUID(tenant_id), user_id=None)
        return outbox.emit(
            session,
            tenant_id=uuid.UUID(tenant_id),
            event_type=event_type,
            aggregate_type="ticket",
            aggregate_id="crash",
            payload=payload or {"ticket_id": "crash", "number": "TCK-0"},
        )


def _rows(database, tenant_id: str) -> dict[uuid.UUID, tuple[bool, int]]:
    """Each outbox row of the tenant: (published, attempts)."""
    with database.connect("owner") as conn:
        found = conn.execute(
            "SELECT id, published_at IS NOT NULL, attempts FROM outbox WHERE tenant_id = %s",
            (tenant_id,),
        ).fetchall()
    return {row[0]: (row[1], row[2]) for row in found}


@pytest.fixture
def sweep_batch(monkeypatch: pytest.MonkeyPatch):
    """Set the sweeper's batch size for one test."""
    from servicedesk.platform.config import get_settings

    def set_batch(size: int) -> None:
        monkeypatch.setenv("SERVICEDESK_OUTBOX_SWEEP_BATCH", str(size))
        get_settings.cache_clear()

    yield set_batch
    monkeypatch.delenv("SERVICEDESK_OUTBOX_SWEEP_BATCH", raising=False)
    get_settings.cache_clear()


def test_after_a_crash_the_sweeper_delivers_exactly_once(client, queues, database):
    org = make_tenant(client, roles=())
    for q in queues.values():
        _drain(q.url)
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


def test_the_sweeper_republishes_an_event_in_the_trace_that_wrote_it(client, queues, database):
    """outbox.trace (migration 0053): the row keeps the trace of its transaction (set_tenant
    names it), and the sweep, running under its own, sends the row's on the message."""
    from servicedesk.platform import tracing

    org = make_tenant(client, roles=())
    for q in queues.values():
        _drain(q.url)
    header = f"Root={tracing.new_root()};Parent=53995c3f42cd8ad8;Sampled=1"
    with tracing.bind(header):
        event_id = _crash_after_commit(org.tenant_id)
    with database.connect("owner") as conn:
        stored = conn.execute("SELECT trace FROM outbox WHERE id = %s", (event_id,)).fetchone()
    assert stored == (header,)
    untraced = _crash_after_commit(org.tenant_id)  # no trace in force: NULL, not ""
    with database.connect("owner") as conn:
        assert conn.execute("SELECT trace FROM outbox WHERE id = %s", (untraced,)).fetchone() == (
            None,
        )
    time.sleep(1.2)
    sweeper_trace = f"Root={tracing.new_root()}"
    with tracing.bind(sweeper_trace):
        assert publisher.sweep() >= 2
    sent = {e["event_id"]: e.get("trace") for e in _drain(queues["email"].url)}
    assert sent[str(event_id)] == header  # its request's trace, not the sweep's
    assert sent[str(untraced)] == sweeper_trace  # none of its own: the one in force


def test_a_failed_record_is_retried_alone_and_redelivery_has_one_effect(client, queues):
    queue = queues["realtime"]
    org = make_tenant(client, roles=())
    _drain(queue.url)
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
    org = make_tenant(client, roles=())
    _drain(queue.url)
    _drain(queue.dlq_url)
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


def test_a_rejected_message_leaves_exactly_its_row_unpublished(client, queues, database):
    """SQS refuses one message (the realtime queue takes at most 1 KiB): that row stays
    unpublished, every other row of the sweep is published once, and the next sweep sends
    the refused row again once the queue accepts it."""
    org = make_tenant(client, roles=())
    for q in queues.values():
        _drain(q.url)
    small = [_crash_after_commit(org.tenant_id) for _ in range(5)]
    # Big enough to travel alone (with any other entry a call would pass 256 KiB), small
    # enough for the email and webhook queues.
    filler = "x" * (publisher.BATCH_BYTES - 450)
    big = _crash_after_commit(org.tenant_id, payload={"ticket_id": "big", "filler": filler})
    small += [_crash_after_commit(org.tenant_id) for _ in range(6)]
    with transaction() as session:
        set_tenant(session, tenant_id=uuid.UUID(org.tenant_id), user_id=None)
        sizes = {
            row.id: len(json.dumps(publisher.message(row), default=str))
            for row in session.execute(
                text("SELECT * FROM outbox WHERE id = ANY(:ids)"), {"ids": [big, small[0]]}
            )
        }
    assert publisher.BATCH_BYTES - sizes[small[0]] < sizes[big] < publisher.BATCH_BYTES - 64
    sqs = boto3.client("sqs")
    realtime = queues["realtime"].url
    sqs.set_queue_attributes(QueueUrl=realtime, Attributes={"MaximumMessageSize": "1024"})
    time.sleep(1.2)  # past the grace period
    try:
        publisher.sweep()
    finally:
        sqs.set_queue_attributes(QueueUrl=realtime, Attributes={"MaximumMessageSize": "262144"})

    rows = _rows(database, org.tenant_id)
    assert rows[big] == (False, 1)  # attempted once, left for the next sweep
    assert {rows[i] for i in small} == {(True, 1)}
    sent = {c: [e["event_id"] for e in _drain(q.url)] for c, q in queues.items()}
    assert sorted(sent["realtime"]) == sorted(str(i) for i in small)
    for channel in ("email", "webhook"):  # accepted there: consumers dedupe the resend
        assert sorted(sent[channel]) == sorted(str(i) for i in [*small, big])

    publisher.sweep()
    assert _rows(database, org.tenant_id)[big] == (True, 2)
    again = {c: [e["event_id"] for e in _drain(q.url)] for c, q in queues.items()}
    heard = publisher.channels_for("ticket.created")  # not the knowledge queue
    assert again == {channel: [str(big)] if channel in heard else [] for channel in queues}


def test_overlapping_sweeps_send_each_row_once(client, queues, database, sweep_batch):
    orgs = [make_tenant(client, roles=()) for _ in range(2)]
    for q in queues.values():  # after the tenants: their sign-up e-mails are published
        _drain(q.url)
    sweep_batch(15)
    for org in orgs:
        with transaction() as session:
            set_tenant(session, tenant_id=uuid.UUID(org.tenant_id), user_id=None)
            for n in range(60):
                outbox.emit(
                    session,
                    tenant_id=uuid.UUID(org.tenant_id),
                    event_type="user.invited",  # the email queue only
                    aggregate_type="user",
                    aggregate_id=str(n),
                    payload={"n": n},
                )
    time.sleep(1.2)
    counts: list[int] = []
    start = threading.Barrier(3)

    def run() -> None:
        start.wait()
        counts.append(publisher.sweep())

    sweepers = [threading.Thread(target=run) for _ in range(3)]
    for t in sweepers:
        t.start()
    for t in sweepers:
        t.join()

    ours = {i for org in orgs for i in _rows(database, org.tenant_id)}
    assert len(ours) == 120
    sent = [e["event_id"] for e in _drain(queues["email"].url)]
    assert sorted(sent) == sorted(str(i) for i in ours)  # every row, none twice
    assert sum(counts) == 120
    for org in orgs:
        assert set(_rows(database, org.tenant_id).values()) == {(True, 1)}


def test_a_sweep_stops_taking_batches_when_its_budget_is_spent(
    client, queues, database, sweep_batch
):
    org = make_tenant(client, roles=())
    for q in queues.values():  # after the tenant: its sign-up e-mail is published
        _drain(q.url)
    sweep_batch(5)
    made = [_crash_after_commit(org.tenant_id, event_type="user.invited") for _ in range(12)]
    time.sleep(1.2)
    assert publisher.sweep(budget_seconds=0) == 5  # one batch, then out of time
    assert sorted(v[0] for v in _rows(database, org.tenant_id).values()) == [False] * 7 + [True] * 5
    assert publisher.sweep() == 7  # the next run goes on where the backlog is
    assert {e["event_id"] for e in _drain(queues["email"].url)} == {str(i) for i in made}


def test_the_sweeper_lambda_publishes_within_its_remaining_time(
    client, queues, database, sweep_batch
):
    from local.app import load_function
    from local.scheduler import scheduled_event

    org = make_tenant(client, roles=())
    for q in queues.values():  # after the tenant: its sign-up e-mail is published
        _drain(q.url)
    sweep_batch(5)
    made = [_crash_after_commit(org.tenant_id, event_type="user.invited") for _ in range(7)]
    time.sleep(1.2)
    handler = load_function("outbox_sweeper").lambda_handler
    event = scheduled_event("eventbridge_scheduled_outbox_sweeper")
    # 10 s left is the safety margin: one batch, then the function returns.
    assert handler(event, TimedLambdaContext(10_000)) == {"published": 5}
    assert handler(event, TimedLambdaContext(55_000)) == {"published": 2}
    assert {e["event_id"] for e in _drain(queues["email"].url)} == {str(i) for i in made}
