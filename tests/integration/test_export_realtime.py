"""export.ready reaches its owner's WebSocket (their own channel) and nobody else's: the
real local gateway, the export worker and the realtime consumer (Lambda handlers)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from local.app import load_function
from local.queues import ensure_queues, poll_once
from servicedesk.platform.aws import reset as reset_aws_clients
from tests.conftest import reset_caches
from tests.integration import test_realtime as realtime

runtime = realtime.runtime
org = realtime.org
pytestmark = realtime.pytestmark


@pytest.fixture
def worker(runtime: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from local import aws

    queue = ensure_queues(prefix=f"rtx{uuid.uuid4().hex[:8]}", channels=("exports",))["exports"]
    bucket = f"sd-rt-exports-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("SERVICEDESK_EXPORTS_QUEUE_URL", queue.url)
    monkeypatch.setenv("SERVICEDESK_EXPORTS_BUCKET", bucket)
    reset_caches()
    reset_aws_clients()
    aws.ensure_bucket(bucket, cors_origin="http://127.0.0.1:8000")
    handler = load_function("export_worker").lambda_handler

    def run() -> None:
        while True:
            done, failed = poll_once(queue, handler)
            assert failed == 0
            if not done:
                return

    yield run
    monkeypatch.undo()
    reset_caches()
    reset_aws_clients()


def test_export_ready_reaches_its_owner_only(runtime, org, worker) -> None:
    agent = org.members["agent"]
    admin = org.admin
    with runtime.socket(agent) as mine, runtime.socket(admin) as theirs:
        asked = runtime.http.post(
            "/v1/exports", json={"kind": "tickets", "format": "csv"}, headers=agent.headers
        )
        assert asked.status_code == 202, asked.text
        worker()
        runtime.deliver()
        frame = realtime.events(mine, lambda f: f.get("event") == "export.ready")
        assert frame["channels"] == [f"user:{agent.user_id}"]
        assert frame["notification"] is True
        assert frame["data"] == {"job_id": asked.json()["id"], "kind": "tickets", "format": "csv"}
        realtime.quiet(theirs)
