"""Asynchronous exports end to end: POST /v1/exports → outbox → the moto server's SQS → the
export worker (the Lambda handler) → a multipart upload to S3 with progress per page →
export.ready → the e-mail consumer's mail and in-app notification; the presigned download
fetched over HTTP from the emulator and read back with the csv module. Isolation, roles,
bad input, expiry."""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from servicedesk.platform.aws import reset as reset_aws_clients
from tests.conftest import (
    PASSWORD,
    Actor,
    TenantFixture,
    current_database,
    login,
    make_tenant,
    reset_caches,
)
from tests.integration.test_notifications import Wiring

PAGE = 7  # tickets per keyset page of the worker: several pages, several progress steps


@dataclass
class Exports:
    queue: Any
    worker: Any
    mail: Wiring

    def run(self) -> int:
        from local.queues import poll_once

        total = 0
        for _ in range(20):
            done, failed = poll_once(self.queue, self.worker)
            assert failed == 0, "an export record failed"
            if done == 0:
                return total
            total += done
        raise AssertionError("the exports queue does not drain")


@pytest.fixture
def exports(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    from local import aws
    from local.app import load_function
    from local.queues import ensure_queues

    queues = ensure_queues(prefix=f"sd-exp-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("SERVICEDESK_EMAIL_QUEUE_URL", queues["email"].url)
    monkeypatch.setenv("SERVICEDESK_EXPORTS_QUEUE_URL", queues["exports"].url)
    monkeypatch.setenv("SERVICEDESK_MAIL_CATCHER_DIR", str(tmp_path / "mail"))
    monkeypatch.setenv("SERVICEDESK_EXPORT_PAGE_SIZE", str(PAGE))
    bucket = f"sd-exports-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("SERVICEDESK_EXPORTS_BUCKET", bucket)
    reset_caches()
    reset_aws_clients()
    aws.ensure_bucket(bucket, cors_origin="http://127.0.0.1:8000")
    mail = Wiring(
        queues["email"], load_function("email_consumer").lambda_handler, tmp_path / "mail"
    )
    yield Exports(queues["exports"], load_function("export_worker").lambda_handler, mail)
    reset_caches()
    reset_aws_clients()


@pytest.fixture
def org(client: Any) -> TenantFixture:
    return make_tenant(client, roles=("agent", "manager", "requester"))


def _tickets(client: Any, actor: Actor, n: int, prefix: str = "Export") -> list[dict[str, Any]]:
    made = []
    for i in range(n):
        title = f"{prefix} {i}" if i % 5 else f"=cmd|' /C calc'!A0 {prefix} {i}"
        response = client.post("/v1/tickets", json={"title": title}, headers=actor.headers)
        assert response.status_code == 201, response.text
        made.append(response.json())
    return made


def _ask(client: Any, actor: Actor, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {**actor.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post("/v1/exports", json=body, headers=headers)


def _owner_sql(sql: str, *args: Any) -> list[Any]:
    with current_database().connect("owner") as conn:
        cursor = conn.execute(sql, args)
        rows = cursor.fetchall() if cursor.description else []
        conn.commit()
        return rows


@pytest.fixture
def progress_log() -> Any:
    """Every committed change of an export job's rows_done, in order (a trigger, as the
    owner): what a member polling GET /v1/exports/{id} could have seen."""
    _owner_sql(
        "CREATE TABLE IF NOT EXISTS test_export_progress (job_id uuid, rows_done int,"
        " rows_total int, status text, at timestamptz DEFAULT clock_timestamp())"
    )
    _owner_sql(
        "CREATE OR REPLACE FUNCTION test_log_export_progress() RETURNS trigger"
        " LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN"
        " INSERT INTO test_export_progress (job_id, rows_done, rows_total, status)"
        " VALUES (NEW.id, NEW.rows_done, NEW.rows_total, NEW.status); RETURN NEW; END $$"
    )
    _owner_sql("DROP TRIGGER IF EXISTS test_export_progress ON export_jobs")
    _owner_sql(
        "CREATE TRIGGER test_export_progress AFTER UPDATE ON export_jobs"
        " FOR EACH ROW EXECUTE FUNCTION test_log_export_progress()"
    )

    def read(job_id: str) -> list[tuple[int, int | None, str]]:
        return [
            (r[0], r[1], r[2])
            for r in _owner_sql(
                "SELECT rows_done, rows_total, status FROM test_export_progress"
                " WHERE job_id = %s ORDER BY at",
                job_id,
            )
        ]

    yield read
    _owner_sql("DROP TRIGGER IF EXISTS test_export_progress ON export_jobs")


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return dict(response.json())


def _fields(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem.get("errors", [])}


def test_ticket_export_runs_in_the_background_with_progress_and_downloads(
    client, org, exports, progress_log
):
    requester, agent = org.members["requester"], org.members["agent"]
    made = _tickets(client, requester, 23)
    asked = _ask(
        client, agent, {"kind": "tickets", "format": "csv", "params": {}}, key="export-key-1"
    )
    assert asked.status_code == 202, asked.text
    job = asked.json()
    assert job["status"] == "queued" and job["rows_done"] == 0
    # A retry with the same key is the same job (and no second event).
    again = _ask(
        client, agent, {"kind": "tickets", "format": "csv", "params": {}}, key="export-key-1"
    )
    assert again.status_code == 202 and again.json()["id"] == job["id"]
    assert exports.run() == 1

    seen = progress_log(job["id"])
    # queued → running (0 of 23), then one step per page of 7, then done.
    assert seen[0] == (0, None, "running")
    assert (0, 23, "running") in seen
    steps = [done for done, _, status in seen if status == "running" and done]
    assert steps == [7, 14, 21, 23]
    assert seen[-1] == (23, 23, "done")

    shown = client.get(f"/v1/exports/{job['id']}", headers=agent.headers)
    assert shown.status_code == 200, shown.text
    done = shown.json()
    assert (done["status"], done["rows_done"], done["rows_total"]) == ("done", 23, 23)
    assert done["size_bytes"] > 0 and done["expires_at"] and done["finished_at"]

    link = client.get(f"/v1/exports/{job['id']}/download", headers=agent.headers)
    assert link.status_code == 200, link.text
    assert link.headers["cache-control"] == "no-store"
    fetched = httpx.get(link.json()["url"])  # the presigned GET, over HTTP, at the emulator
    assert fetched.status_code == 200
    assert fetched.headers["content-disposition"].startswith("attachment;")
    assert link.json()["filename"] in fetched.headers["content-disposition"]
    assert len(fetched.content) == done["size_bytes"]
    rows = list(csv.reader(io.StringIO(fetched.content.decode())))
    assert rows[0][0] == "number" and len(rows) == 24
    assert {r[0] for r in rows[1:]} == {t["number"] for t in made}
    titles = {r[1] for r in rows[1:]}
    assert "'=cmd|' /C calc'!A0 Export 0" in titles  # neutralised formula

    # export.ready: a mail with the link to the job, and an in-app notification.
    exports.mail.drain()
    mails = exports.mail.mails(agent.email, "export.ready")
    assert len(mails) == 1
    body = mails[0].get_body(("plain",)).get_content()
    assert f"/exports/{job['id']}" in body
    inbox = client.get("/v1/notifications", headers=agent.headers).json()["items"]
    assert any(n["event_type"] == "export.ready" for n in inbox)

    mine = client.get("/v1/exports", headers=agent.headers)
    assert mine.status_code == 200, mine.text
    assert [j["id"] for j in mine.json()["items"]] == [job["id"]]


def test_the_worker_answers_the_sample_sqs_event_once(client, org, exports):
    """events/sqs_exports_export_requested.json, its body the real outbox row as the
    publisher encodes it, straight into the handler (as Lambda's event source mapping)."""
    from local.scheduler import LambdaContext
    from tests.events import outbox_rows, sqs_sample

    agent = org.members["agent"]
    _tickets(client, org.members["requester"], 3, prefix="Sample")
    asked = _ask(client, agent, {"kind": "tickets", "format": "csv", "params": {}})
    assert asked.status_code == 202, asked.text
    job = asked.json()
    rows = outbox_rows(
        current_database(),
        "tenant_id = %s AND event_type = 'export.requested' AND aggregate_id = %s",
        org.tenant_id,
        job["id"],
    )
    event = sqs_sample("sqs_exports_export_requested", rows)
    for _ in range(2):  # delivered twice, exported once
        assert exports.worker(event, LambdaContext("export_worker")) == {"batchItemFailures": []}
    shown = client.get(f"/v1/exports/{job['id']}", headers=agent.headers).json()
    assert (shown["status"], shown["rows_done"]) == ("done", 3)
    first = shown["finished_at"]
    exports.run()  # the published copy of the same event: already done
    again = client.get(f"/v1/exports/{job['id']}", headers=agent.headers).json()
    assert (again["status"], again["finished_at"]) == ("done", first)


def test_json_export_with_filters_counts_only_matching_visible_tickets(client, org, exports):
    requester, agent = org.members["requester"], org.members["agent"]
    _tickets(client, requester, 3, prefix="Plain")
    urgent = client.post(
        "/v1/tickets", json={"title": "Server down", "priority": "critical"}, headers=agent.headers
    )
    assert urgent.status_code == 201, urgent.text
    asked = _ask(
        client,
        agent,
        {
            "kind": "tickets",
            "format": "json",
            "params": {"priority": ["critical"], "sort": "created_at"},
        },
    )
    assert asked.status_code == 202, asked.text
    assert asked.json()["params"] == {"priority": ["critical"], "sort": "created_at"}
    exports.run()
    link = client.get(f"/v1/exports/{asked.json()['id']}/download", headers=agent.headers)
    items = json.loads(httpx.get(link.json()["url"]).content)["items"]
    assert [i["title"] for i in items] == ["Server down"]


def test_another_members_or_tenants_export_is_404(client, org, exports):
    agent, manager = org.members["agent"], org.members["manager"]
    job = _ask(client, agent, {"kind": "tickets", "format": "csv"}).json()
    exports.run()
    other = make_tenant(client, roles=("agent",))
    for actor in (manager, org.admin, other.members["agent"]):
        _problem(client.get(f"/v1/exports/{job['id']}", headers=actor.headers), 404)
        _problem(client.get(f"/v1/exports/{job['id']}/download", headers=actor.headers), 404)
        assert client.get("/v1/exports", headers=actor.headers).json()["items"] == []


def test_requesters_cannot_export_and_agents_cannot_export_reports(client, org, exports):
    requester, agent = org.members["requester"], org.members["agent"]
    _problem(_ask(client, requester, {"kind": "tickets"}), 403)
    _problem(client.get("/v1/exports", headers=requester.headers), 403)
    _problem(_ask(client, agent, {"kind": "report", "report": "volume", "format": "pdf"}), 403)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "tickets", "format": "pdf"}, "format"),
        ({"kind": "tickets", "params": {"status": ["bogus"]}}, "params.status.0"),
        ({"kind": "tickets", "params": {"nope": 1}}, "params.nope"),
        ({"kind": "tickets", "params": {"q": ""}}, "params.q"),
        ({"kind": "tickets", "params": {"created_after": "yesterday"}}, "params.created_after"),
        ({"kind": "tickets", "report": "volume"}, "report"),
        ({"kind": "everything"}, "kind"),
        ({"kind": "tickets", "format": "xlsx"}, "format"),
    ],
)
def test_bad_export_requests_are_422_naming_the_field(client, org, exports, body, field):
    problem = _problem(_ask(client, org.members["manager"], body), 422)
    assert field in _fields(problem), problem
    assert (
        _owner_sql("SELECT count(*) FROM export_jobs WHERE tenant_id = %s", org.tenant_id)[0][0]
        == 0
    )


def test_download_before_done_is_409_and_after_expiry_410(client, org, exports):
    agent = org.members["agent"]
    job = _ask(client, agent, {"kind": "tickets", "format": "csv"}).json()
    _problem(client.get(f"/v1/exports/{job['id']}/download", headers=agent.headers), 409)
    exports.run()
    assert client.get(f"/v1/exports/{job['id']}/download", headers=agent.headers).status_code == 200
    _owner_sql(
        "UPDATE export_jobs SET expires_at = now() - interval '1 minute' WHERE id = %s", job["id"]
    )
    assert (
        client.get(f"/v1/exports/{job['id']}", headers=agent.headers).json()["status"] == "expired"
    )
    _problem(client.get(f"/v1/exports/{job['id']}/download", headers=agent.headers), 410)
    # The scheduler marks it so in the table.
    from local.app import load_function
    from local.scheduler import LambdaContext, scheduled_event

    result = load_function("report_scheduler").lambda_handler(
        scheduled_event("eventbridge_scheduled_report_scheduler"), LambdaContext("report_scheduler")
    )
    assert result["expired"] >= 1
    status = _owner_sql("SELECT status FROM export_jobs WHERE id = %s", job["id"])[0][0]
    assert status == "expired"


def test_a_demoted_owner_gets_a_failed_job_not_the_file(client, org, exports):
    email = f"agent2-{uuid.uuid4().hex[:6]}@{org.slug}.example"
    created = client.post(
        "/v1/users",
        headers=org.admin.headers,
        json={"email": email, "name": "Agent Two", "role": "agent", "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    agent = Actor(
        email,
        created.json()["id"],
        org.tenant_id,
        org.slug,
        "agent",
        login(client, email).json()["access_token"],
    )
    job = _ask(client, agent, {"kind": "tickets", "format": "csv"}).json()
    _owner_sql(
        "UPDATE memberships SET role = 'requester' WHERE tenant_id = %s AND user_id = %s",
        org.tenant_id,
        agent.user_id,
    )
    exports.run()
    row = _owner_sql("SELECT status, error, s3_key FROM export_jobs WHERE id = %s", job["id"])[0]
    assert row[0] == "failed" and "role" in row[1] and row[2] is None


def test_sync_export_over_the_limit_points_to_the_job(client, org, monkeypatch):
    agent = org.members["agent"]
    _tickets(client, org.members["requester"], 3)
    monkeypatch.setenv("SERVICEDESK_EXPORT_MAX_ROWS", "2")
    reset_caches()
    try:
        problem = _problem(client.get("/v1/tickets/export", headers=agent.headers), 422)
    finally:
        monkeypatch.undo()
        reset_caches()
    assert "POST /v1/exports" in problem["detail"]
    assert problem["async_export"] == "/v1/exports"
