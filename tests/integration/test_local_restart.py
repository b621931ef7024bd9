"""`make dev` keeps what AWS would keep across a restart, a kill -9 included.

Real processes: the AWS half of the local runtime (tests/local_runtime.py: the emulator with
its state in a temporary data directory, the queues, and the queue pollers, wired by
local/dev.py's own functions) runs as a child process; the API runs in this process against
it over HTTP, and a webhook receiver listens on 127.0.0.1. With the consumers stopped, a
file is uploaded through the real presigned POST and tickets put messages on the queues;
the runtime is stopped (SIGTERM, or SIGKILL of the runtime alone: the emulator must die
with it), started again on the same data directory, and then the file downloads with its
bytes and every acknowledged message is delivered exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from local import aws
from servicedesk.platform.aws import reset as reset_aws_clients
from tests.conftest import make_tenant, reset_caches

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
TICKETS = 8  # per run


class Receiver:
    """Counts webhook deliveries by event id."""

    def __init__(self) -> None:
        self.deliveries: Counter[str] = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.deliveries[json.loads(body)["id"]] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Runtime:
    """One run of tests/local_runtime.py on ``data``."""

    def __init__(self, data: Path, *, consumers: bool, env: dict[str, str], log: Path) -> None:
        command = [sys.executable, "-m", "tests.local_runtime", str(data)]
        if consumers:
            command.append("--consumers")
        self.log = log
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(  # our own interpreter and module
                command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr
            )
        try:
            assert self.process.stdout is not None
            line = b""
            while not line.startswith(b"{"):  # dev's progress lines, then the ready line
                line = self.process.stdout.readline()
                if not line:
                    raise RuntimeError(self.log.read_text())
            ready = json.loads(line)
            self.endpoint: str = ready["endpoint"]
            self.queues: dict[str, str] = ready["queues"]
            self.emulator_pid = _emulator_pid(self.process.pid)
        except BaseException:
            self.process.kill()  # its emulator goes with it
            self.process.wait(timeout=10)
            raise

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        self.process.send_signal(how)
        self.process.wait(timeout=20)


def _emulator_pid(parent: int) -> int:
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    for pid in children:
        if b"local.emulator" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return int(pid)
    raise AssertionError("the runtime started no emulator")


def _gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True
        if "State:\tZ" in status:
            return True
        time.sleep(0.05)
    return False


def _use(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point this process (the API) at ``runtime``'s emulator and queues."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", runtime.endpoint)
    for channel, url in runtime.queues.items():
        monkeypatch.setenv(f"SERVICEDESK_{channel.upper()}_QUEUE_URL", url)
    reset_caches()
    reset_aws_clients()


def _depth(runtime: Runtime, channel: str, *, dlq: bool = False) -> int:
    sqs = boto3.client("sqs", endpoint_url=runtime.endpoint)
    url = runtime.queues[channel]
    if dlq:
        url = sqs.get_queue_url(QueueName=url.rsplit("/", 1)[1] + "-dlq")["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _published(database: Any, tenant_id: str) -> set[str]:
    """The tenant's ticket.created events, each checked to be marked published."""
    with database.connect("owner") as connection:
        rows = connection.execute(
            "SELECT id::text, published_at IS NOT NULL FROM outbox"
            " WHERE tenant_id = %s AND event_type = 'ticket.created'",
            (tenant_id,),
        ).fetchall()
    assert all(published for _, published in rows)
    return {event_id for event_id, _ in rows}


def _upload(client: Any, requester: Any, ticket_id: str) -> str:
    started = client.post(
        f"/v1/tickets/{ticket_id}/attachments",
        json={"filename": "proof.png", "content_type": "image/png", "size": len(PNG)},
        headers=requester.headers,
    )
    assert started.status_code == 201, started.text
    upload = started.json()["upload"]
    posted = httpx.post(
        upload["url"], data=upload["fields"], files={"file": ("proof.png", PNG, "image/png")}
    )
    assert posted.status_code == 204, posted.text  # S3 acknowledged the object
    attachment_id: str = started.json()["attachment"]["id"]
    done = client.post(f"/v1/attachments/{attachment_id}/complete", headers=requester.headers)
    assert done.status_code == 200, done.text
    return attachment_id


@pytest.fixture
def runtime_env(tmp_path: Path, database: Any) -> dict[str, str]:
    env = {**os.environ, "SERVICEDESK_MAIL_CATCHER_DIR": str(tmp_path / "mail")}
    env.pop("AWS_ENDPOINT_URL", None)  # the runtime starts its own emulator, as `make dev`
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers/core/python"), str(ROOT)])
    return env


def test_a_restart_keeps_files_and_queued_messages(
    client: Any,
    database: Any,
    tmp_path: Path,
    runtime_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two stops in a row on one data directory, a SIGTERM then a SIGKILL, each with a
    file and queued messages acknowledged since the last start; then a start with the
    consumers running finds all of it."""
    data = tmp_path / "data"
    receiver = Receiver()
    bucket = f"restart-{os.getpid()}-{time.monotonic_ns()}"
    monkeypatch.setenv("SERVICEDESK_ATTACHMENTS_BUCKET", bucket)
    org = None
    files: list[str] = []
    for n, how in enumerate((signal.SIGTERM, signal.SIGKILL)):
        runtime = Runtime(data, consumers=False, env=runtime_env, log=tmp_path / f"{n}.log")
        try:
            _use(runtime, monkeypatch)
            if org is None:
                aws.ensure_bucket(bucket, cors_origin="http://127.0.0.1")
                org = make_tenant(client, roles=("requester",))
                hook = client.post(
                    "/v1/webhooks",
                    json={"url": receiver.url, "event_types": ["ticket.created"]},
                    headers=org.admin.headers,
                )
                assert hook.status_code == 201, hook.text
            requester = org.members["requester"]
            for t in range(TICKETS):
                created = client.post(
                    "/v1/tickets", json={"title": f"Ticket {n}.{t}"}, headers=requester.headers
                )
                assert created.status_code == 201, created.text
            files.append(_upload(client, requester, created.json()["id"]))
            # Every event so far was acknowledged by SQS (its outbox row is published) and
            # waits on the queue, the ones from before the last stop included.
            expected = _published(database, org.tenant_id)
            assert len(expected) == TICKETS * (n + 1)
            assert _depth(runtime, "webhook") == len(expected)
            assert receiver.deliveries == Counter()
        finally:
            runtime.stop(how)
        # A killed runtime takes its emulator with it (no orphan holding the data directory).
        assert _gone(runtime.emulator_pid), f"the emulator outlived the runtime ({how.name})"

    assert org is not None
    final = Runtime(data, consumers=True, env=runtime_env, log=tmp_path / "final.log")
    try:
        _use(final, monkeypatch)
        # Generous: the loop ends as soon as all is delivered; on a loaded machine (CI
        # shares its cores) the consumers' first polls alone took most of 30 s.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (
            set(receiver.deliveries) != expected
            or any(_depth(final, channel) for channel in final.queues)
        ):
            time.sleep(0.2)
        time.sleep(1.0)  # room for a duplicate to show up
        assert set(receiver.deliveries) == expected, "acknowledged messages were lost"
        assert set(receiver.deliveries.values()) == {1}, f"duplicates: {receiver.deliveries}"
        for channel in final.queues:  # every queue drained, nothing dead-lettered
            assert _depth(final, channel) == 0, channel
            assert _depth(final, channel, dlq=True) == 0, f"{channel} DLQ"

        requester = org.members["requester"]
        for attachment_id in files:
            link = client.get(
                f"/v1/attachments/{attachment_id}/download", headers=requester.headers
            )
            assert link.status_code == 200, link.text
            fetched = httpx.get(link.json()["url"])
            assert fetched.status_code == 200 and fetched.content == PNG
    finally:
        final.stop()
        receiver.server.shutdown()
        receiver.server.server_close()
