"""What keeps `make dev` steady under load (issue 16), checked for correctness, not speed:

- publish-after-commit in the background (SERVICEDESK_PUBLISH_IN_BACKGROUND, on in the
  local runtime) delivers every event to every channel exactly once, as the inline publish
  does, and marks the rows published;
- the realtime consumer, for a tenant nobody listens to, takes its messages off the queue
  without doing the fan-out work (nothing claimed), and still does it once someone listens;
- the emulator's SQS (local/moto_sqs.py) keeps SQS's semantics: redelivery after the
  visibility timeout, old receipt handles, the dead-letter queue;
- the queue pollers run as processes of their own that stop with the runtime, cleanly on
  SIGTERM and by the kernel on SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import psutil
import pytest

from local import dev
from local.app import load_function
from local.queues import ensure_queues, poll_once
from servicedesk.platform import publisher
from tests.conftest import make_tenant, reset_caches

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queues(aws_endpoint: str, database: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    made = ensure_queues(
        prefix=f"l{uuid.uuid4().hex[:8]}", max_receive_count=2, visibility_timeout=1
    )
    for channel, queue in made.items():
        monkeypatch.setenv(f"SERVICEDESK_{channel.upper()}_QUEUE_URL", queue.url)
    reset_caches()
    yield made
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


def _create_tickets(client: Any, headers: dict[str, str], n: int) -> set[str]:
    def create(i: int) -> str:
        response = client.post("/v1/tickets", json={"title": f"Load {i}"}, headers=headers)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        return set(pool.map(create, range(n)))


def _delivered(queues: Any) -> dict[str, Counter[tuple[str, str]]]:
    """Per channel: how many times each (event type, ticket) arrived."""
    return {
        channel: Counter((e["type"], e["payload"]["ticket_id"]) for e in _drain(queue.url))
        for channel, queue in queues.items()
    }


def _unpublished(database: Any, tenant_id: str) -> int:
    with database.connect("owner") as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM outbox WHERE tenant_id = %s AND published_at IS NULL",
                (tenant_id,),
            ).fetchone()[0]
        )


@pytest.mark.parametrize("background", [False, True], ids=["inline", "background"])
def test_every_event_reaches_every_channel_once_in_both_publish_modes(
    client: Any, queues: Any, database: Any, monkeypatch: pytest.MonkeyPatch, background: bool
) -> None:
    monkeypatch.setenv("SERVICEDESK_PUBLISH_IN_BACKGROUND", "1" if background else "0")
    reset_caches()
    org = make_tenant(client, roles=("requester",))
    publisher.wait_for_background()
    for queue in queues.values():
        _drain(queue.url)
    tickets = _create_tickets(client, org.members["requester"].headers, 12)
    if background:
        publisher.wait_for_background()
    delivered = _delivered(queues)
    created = {("ticket.created", t): 1 for t in tickets}
    received = {("ticket.received", t): 1 for t in tickets}
    assert delivered["email"] == Counter({**created, **received})
    assert delivered["webhook"] == Counter(created)
    assert delivered["realtime"] == Counter(created)
    assert _unpublished(database, org.tenant_id) == 0


def test_a_full_background_queue_leaves_the_events_to_the_sweeper(
    client: Any, queues: Any, database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = make_tenant(client, roles=("requester",))
    for queue in queues.values():
        _drain(queue.url)
    monkeypatch.setenv("SERVICEDESK_PUBLISH_IN_BACKGROUND", "1")
    monkeypatch.setenv("SERVICEDESK_OUTBOX_GRACE_SECONDS", "1")
    reset_caches()
    full = publisher._Background(capacity=1)
    full.pending.put_nowait((uuid.uuid4(), []))  # occupied, and no worker takes it
    full.thread = type("Busy", (), {"is_alive": staticmethod(lambda: True)})()  # type: ignore[assignment]
    monkeypatch.setattr(publisher, "_background", lambda: full)
    tickets = _create_tickets(client, org.members["requester"].headers, 2)
    assert full.dropped == 2
    assert _unpublished(database, org.tenant_id) == 4  # created + received, per ticket
    time.sleep(1.1)
    assert publisher.sweep() >= 4
    delivered = _delivered(queues)
    assert {t for _, t in delivered["webhook"]} == tickets
    assert _unpublished(database, org.tenant_id) == 0


def _deliveries(database: Any, tenant_id: str) -> int:
    with database.connect("owner") as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM deliveries WHERE tenant_id = %s AND channel = 'realtime'",
                (tenant_id,),
            ).fetchone()[0]
        )


def test_with_nobody_listening_the_broadcaster_only_takes_its_messages_off_the_queue(
    client: Any, queues: Any, database: Any
) -> None:
    org = make_tenant(client, roles=("requester",))
    realtime = queues["realtime"]
    _drain(realtime.url)
    _create_tickets(client, org.members["requester"].headers, 3)
    handler = load_function("realtime_consumer").lambda_handler
    done = failed = 0
    for _ in range(5):
        d, f = poll_once(realtime, handler)
        done, failed = done + d, failed + f
    assert (done, failed) == (3, 0)
    assert _drain(realtime.url) == []  # deleted, not back after the visibility timeout
    assert _deliveries(database, org.tenant_id) == 0  # no fan-out work: nothing claimed

    # Someone listening: the event is worked on (claimed once) as before.
    connection = f"c-{uuid.uuid4().hex[:12]}"
    with database.connect("owner") as conn:
        user = org.members["requester"].user_id
        conn.execute(
            "INSERT INTO realtime_connections (connection_id, tenant_id, user_id, expires_at)"
            " VALUES (%s, %s, %s, now() + interval '1 hour')",
            (connection, org.tenant_id, user),
        )
        conn.execute(
            "INSERT INTO realtime_subscriptions (connection_id, channel, tenant_id)"
            " VALUES (%s, %s, %s)",
            (connection, f"user:{user}", org.tenant_id),
        )
    _create_tickets(client, org.members["requester"].headers, 1)
    assert poll_once(realtime, handler) == (1, 0)
    assert _deliveries(database, org.tenant_id) == 1


def test_the_emulators_sqs_keeps_redelivery_old_handles_and_the_dlq(queues: Any) -> None:
    """local/moto_sqs.py's receive and delete (the tests' emulator runs it too)."""
    sqs = boto3.client("sqs")
    url = queues["webhook"].url  # visibility 1 s, maxReceiveCount 2
    _drain(url)
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": f"m{n}"} for n in range(3)]
    )
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in first) == ["m0", "m1", "m2"]
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
    time.sleep(1.2)
    again = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"]
    )["Messages"]
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in again} == {"2"}
    by_body = {m["Body"]: m for m in first}
    # A handle from the first receive still deletes; deleting twice is harmless.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=by_body["m0"]["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=by_body["m0"]["ReceiptHandle"])
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    time.sleep(1.2)
    # m1 and m2 were received twice: the next receive moves them to the DLQ.
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
    moved = sqs.receive_message(QueueUrl=queues["webhook"].dlq_url, MaxNumberOfMessages=10)
    assert sorted(m["Body"] for m in moved["Messages"]) == ["m1", "m2"]
    depth = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert depth == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }


def _pollers(pid: int) -> list[psutil.Process]:
    return [
        p
        for p in psutil.Process(pid).children(recursive=True)
        if "local.queues" in " ".join(p.cmdline())
    ]


def _gone(procs: list[psutil.Process], timeout: float = 15.0) -> bool:
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return all(p.status() == psutil.STATUS_ZOMBIE for p in alive)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_the_pollers_run_in_processes_that_stop_with_the_runtime(
    tmp_path: Path, database: Any, how: signal.Signals
) -> None:
    env = {**os.environ, "SERVICEDESK_MAIL_CATCHER_DIR": str(tmp_path / "mail")}
    env.pop("AWS_ENDPOINT_URL", None)  # the runtime starts its own emulator, as `make dev`
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers/core/python"), str(ROOT)])
    command = [sys.executable, "-m", "tests.local_runtime", str(tmp_path / "data"), "--consumers"]
    with (tmp_path / "runtime.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log)
    try:
        assert process.stdout is not None
        line = b""
        while not line.startswith(b"{"):
            line = process.stdout.readline()
            assert line, (tmp_path / "runtime.log").read_text()
        pollers = _pollers(process.pid)
        channels = Counter(p.cmdline()[p.cmdline().index("--channel") + 1] for p in pollers)
        assert channels == Counter(dev.POLLERS)
        process.send_signal(how)
        process.wait(timeout=30)
        if how is signal.SIGTERM:
            assert process.returncode == 0
        assert _gone(pollers), [p.pid for p in pollers if p.is_running()]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
