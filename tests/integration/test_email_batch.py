"""The e-mail consumer takes each tenant's records of an SQS batch at once, in one
transaction (platform.consumer.sqs_batch_handler, notifications.service.process_batch).
What batching must not change: every recipient mailed once, in the order of the events; a
failure reported for its own record only; a duplicate, a redelivery or a concurrent copy of
the batch mailing nobody twice. And what it is for: a batch costs a few statements, not a
dozen per record."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from typing import Any

import boto3
import pytest
from sqlalchemy import event, text

from local.queues import sqs_event
from local.scheduler import LambdaContext
from servicedesk.platform import consumer
from servicedesk.platform.db import get_engine
from tests.conftest import make_tenant
from tests.integration import test_notifications as notifications
from tests.integration.test_notifications import (
    Wiring,
    _comment,
    _inbox,
    _mailed,
    _refuse_recipient,
    _ses_sent,
    _ticket,
)

# The e-mail consumer's fixtures: a tenant with staff, and a queue with the mail catcher.
org = notifications.org
wiring = notifications.wiring


def _take(wired: Wiring) -> list[dict[str, Any]]:
    """Every message waiting on the e-mail queue, in the order the events were written."""
    sqs = boto3.client("sqs")
    taken: dict[str, dict[str, Any]] = {}
    for _ in range(20):
        batch = sqs.receive_message(
            QueueUrl=wired.queue.url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            break
        taken.update({m["MessageId"]: m for m in batch})
    return sorted(taken.values(), key=lambda m: json.loads(m["Body"])["seq"])


def _invoke(wired: Wiring, messages: list[dict[str, Any]]) -> list[str]:
    """One Lambda invocation with these records; the message ids it reports failed."""
    result = wired.handler(sqs_event(messages, wired.queue.arn), LambdaContext("email_consumer"))
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


def _event(message: dict[str, Any]) -> tuple[str, str]:
    body = json.loads(message["Body"])
    return body["type"], body["payload"].get("ticket_id", "")


def _caught(wired: Wiring) -> list[tuple[str, str, str]]:
    """(event type, ticket number in the subject, recipient) of each caught mail, in the
    order they were written."""
    found = []
    for mail in wired.mails():
        number = str(mail["Subject"]).split("]")[0].lstrip("[")
        found.append((str(mail["X-Servicedesk-Event"]), number, str(mail["To"])))
    return found


def test_one_batch_of_two_tenants_mails_everyone_once_in_event_order(client, org, wiring):
    other = make_tenant(client, roles=("agent", "manager", "requester"))
    wiring.drain()  # the other tenant's sign-up mail
    before = len(wiring.mails())
    tickets = []
    for n in range(2):
        for tenant in (org, other):
            tickets.append(_ticket(client, tenant.members["requester"], f"Batch {n}"))
    _comment(client, org.members["agent"], tickets[0], "On it")
    messages = _take(wiring)
    assert len(messages) == 9  # per ticket created + received; the reply

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        assert _invoke(wiring, messages) == []
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
    # One transaction per tenant, a statement per kind of read or write (the thread's
    # origin Message-IDs and the sent Message-IDs included): 16 records' worth of
    # per-record work (~16 statements each) would be ~140.
    assert len(statements) <= 2 * 15, statements

    caught = _caught(wiring)[before:]
    assert len(caught) == len(set(caught))  # nobody twice
    numbers = {t["id"]: t["number"] for t in tickets}
    for tenant in (org, other):
        staff = {tenant.members["agent"].email, tenant.members["manager"].email}
        requester = tenant.members["requester"].email
        expected: list[tuple[str, str]] = []
        for message in messages:
            kind, ticket_id = _event(message)
            if json.loads(message["Body"])["tenant_id"] != tenant.tenant_id:
                continue
            if kind == "ticket.received" or kind == "comment.public":
                expected.append((kind, numbers[ticket_id]))
            else:
                expected += [(kind, numbers[ticket_id])] * len(staff)
        mine = [(k, n) for k, n, to in caught if to in staff | {requester}]
        assert mine == expected  # the events' order, each recipient of each event once
    # In-app: the requester's reply notice and the staff's new-ticket notices.
    assert [n["event_type"] for n in _inbox(client, org.members["requester"])] == ["comment.public"]
    assert len(_inbox(client, other.members["agent"])) == 2


def test_a_duplicate_and_a_concurrent_copy_of_the_batch_mail_nobody_twice(
    client, org, wiring, database
):
    ticket = _ticket(client, org.members["requester"])
    messages = _take(wiring)
    assert len(messages) == 2
    duplicate = {**messages[0], "MessageId": str(uuid.uuid4())}  # the event published twice
    batch = [*messages, duplicate]
    results: list[list[str]] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        results.append(_invoke(wiring, batch))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [[], []]
    assert _invoke(wiring, batch) == []  # and a late redelivery of it all
    mailed = Counter(to for _, number, to in _caught(wiring) if number == ticket["number"])
    assert mailed == Counter({org.members[r].email: 1 for r in ("agent", "manager", "requester")})
    with database.connect("owner") as conn:
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT (event_id, recipient)) FROM deliveries"
            " WHERE channel = 'email' AND tenant_id = %s",
            (org.tenant_id,),
        ).fetchone()
    assert rows[0] == rows[1] == 3


def test_a_refused_recipient_fails_only_its_own_record_of_the_batch(
    client, org, wiring, monkeypatch, aws_endpoint
):
    from servicedesk.platform import aws
    from tests.conftest import reset_caches

    monkeypatch.delenv("SERVICEDESK_MAIL_CATCHER_DIR")
    reset_caches()
    boto3.client("sesv2").create_email_identity(EmailIdentity="no-reply@servicedesk.local")
    agent, manager = org.members["agent"].email, org.members["manager"].email
    requester = org.members["requester"].email
    refusing = _refuse_recipient(aws.ses(), agent)
    try:
        for n in range(2):
            _ticket(client, org.members["requester"], f"Refused {n}")
        messages = _take(wiring)
        created = [m["MessageId"] for m in messages if _event(m)[0] == "ticket.created"]
        for _ in range(2):  # the first delivery and a redelivery of the whole batch
            assert sorted(_invoke(wiring, messages)) == sorted(created)
            sent = _ses_sent(aws_endpoint)
            assert [_mailed(sent, a) for a in (manager, requester, agent)] == [2, 2, 0]
        refusing.stop()
        retried = [m for m in messages if m["MessageId"] in created]
        assert _invoke(wiring, retried) == []
        assert _invoke(wiring, messages) == []
        sent = _ses_sent(aws_endpoint)
    finally:
        refusing.stop()
        aws.reset()
    assert [_mailed(sent, a) for a in (manager, requester, agent)] == [2, 2, 2]


# --- the platform piece, with a batch process of the test's own over the real database ---


def _record(tenant_id: str, key: str) -> dict[str, Any]:
    body = {
        "event_id": str(uuid.uuid4()),
        "seq": 1,
        "tenant_id": tenant_id,
        "type": "ticket.created",
        "aggregate": {"type": "ticket", "id": key},
        "payload": {"key": key},
        "created_at": "2026-12-05T08:00:00+00:00",
    }
    return {"MessageId": key, "ReceiptHandle": key, "Body": json.dumps(body)}


def _claiming(*, poison: str, after_side_effects: bool) -> Any:
    """Claims (event, "batch-test", key) for each record; the poison record makes the
    database refuse the transaction, before or after the batch says a side effect began."""

    def process(session: Any, envelopes: list[consumer.Envelope]) -> set[uuid.UUID]:
        keys = [(e.event_id, str(e.payload["key"])) for e in envelopes]
        consumer.claim_each(session, envelopes[0].tenant_id, "batch-test", keys)
        if after_side_effects:
            session.info[consumer.SIDE_EFFECTS_BEGUN] = True
        if any(e.payload["key"] == poison for e in envelopes):
            session.execute(text("SELECT 1 / 0"))  # division_by_zero: the transaction fails
        return set()

    return consumer.sqs_batch_handler(process)


def _claimed(database: Any) -> list[str]:
    with database.connect("owner") as conn:
        rows = conn.execute(
            "SELECT recipient FROM deliveries WHERE channel = 'batch-test' ORDER BY recipient"
        ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize("after_side_effects", [False, True], ids=["before", "after"])
def test_a_record_that_breaks_its_batch(client, database, after_side_effects):
    """Before any side effect, the batch is redone record by record: only the poison record
    fails. After one, its whole tenant group is retried (at least once, never lost); the
    other tenant's group commits either way, and an unreadable record fails alone."""
    first, second = make_tenant(client, roles=()), make_tenant(client, roles=())
    tag = uuid.uuid4().hex[:6]
    records = [
        _record(first.tenant_id, f"{tag}-a1"),
        _record(second.tenant_id, f"{tag}-b1"),
        _record(first.tenant_id, f"{tag}-poison"),
        {"MessageId": f"{tag}-unreadable", "ReceiptHandle": "x", "Body": "{not json"},
        _record(first.tenant_id, f"{tag}-a2"),
    ]
    handler = _claiming(poison=f"{tag}-poison", after_side_effects=after_side_effects)
    result = handler(sqs_event(records, "arn:aws:sqs:us-east-1:0:q"), LambdaContext("t"))
    failed = sorted(f["itemIdentifier"] for f in result["batchItemFailures"])
    mine = [c for c in _claimed(database) if c.startswith(tag)]
    if after_side_effects:
        assert failed == sorted([f"{tag}-a1", f"{tag}-poison", f"{tag}-unreadable", f"{tag}-a2"])
        assert mine == [f"{tag}-b1"]
    else:
        assert failed == sorted([f"{tag}-poison", f"{tag}-unreadable"])
        assert mine == [f"{tag}-a1", f"{tag}-a2", f"{tag}-b1"]
