"""CMDB import jobs end to end: POST /v1/cis/imports → the presigned form posted over HTTP
to the moto server's S3 → start (the object's size and header checked) → outbox → SQS →
the export worker's Lambda handler streaming the object through the import's checks and
writes → the report on the job, ci.imported, and ci.import_finished as an in-app
notification and a mail. All or nothing, partial, bad input, isolation and roles."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from servicedesk.platform.aws import reset as reset_aws_clients
from tests.conftest import Actor, TenantFixture, current_database, make_tenant, reset_caches
from tests.integration.test_export_jobs import Exports, _fields, _owner_sql, _problem
from tests.integration.test_notifications import Wiring

LIMIT = 256 * 1024  # the import size limit of these tests
CHUNK = 4  # rows per chunk of the worker: several chunks, several progress steps


@pytest.fixture
def jobs(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    from local import aws
    from local.app import load_function
    from local.queues import ensure_queues
    from servicedesk.cmdb import imports

    queues = ensure_queues(prefix=f"sd-imp-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("SERVICEDESK_EMAIL_QUEUE_URL", queues["email"].url)
    monkeypatch.setenv("SERVICEDESK_EXPORTS_QUEUE_URL", queues["exports"].url)
    monkeypatch.setenv("SERVICEDESK_MAIL_CATCHER_DIR", str(tmp_path / "mail"))
    monkeypatch.setenv("SERVICEDESK_CMDB_IMPORT_MAX_BYTES", str(LIMIT))
    monkeypatch.setattr(imports, "CHUNK", CHUNK)
    bucket = f"sd-imports-{uuid.uuid4().hex[:8]}"
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


def _csv(rows: list[str], header: str = "external_id,name,class,state") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def _ask(client: Any, actor: Actor, data: bytes, **flags: Any) -> Any:
    body = {"size": len(data), "filename": "cis.csv", **flags}
    return client.post("/v1/cis/imports", json=body, headers=actor.headers)


def _upload(job: dict[str, Any], data: bytes) -> None:
    form = job["upload"]
    posted = httpx.post(
        form["url"], data=form["fields"], files={"file": ("cis.csv", data, "text/csv")}
    )
    assert posted.status_code in (200, 204), posted.text


def _start(client: Any, actor: Actor, job_id: str) -> Any:
    return client.post(f"/v1/cis/imports/{job_id}/start", headers=actor.headers)


def _submit(client: Any, actor: Actor, data: bytes, **flags: Any) -> dict[str, Any]:
    asked = _ask(client, actor, data, **flags)
    assert asked.status_code == 201, asked.text
    job = asked.json()
    _upload(job, data)
    started = _start(client, actor, job["id"])
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "queued"
    return dict(job)


def _job(client: Any, actor: Actor, job_id: str) -> dict[str, Any]:
    shown = client.get(f"/v1/cis/imports/{job_id}", headers=actor.headers)
    assert shown.status_code == 200, shown.text
    return dict(shown.json())


def _cis(tenant_id: str, prefix: str) -> dict[str, str]:
    rows = _owner_sql(
        "SELECT external_id, name FROM cis WHERE tenant_id = %s AND external_id LIKE %s",
        tenant_id,
        prefix + "%",
    )
    return {r[0]: r[1] for r in rows}


@pytest.fixture
def progress_log() -> Any:
    """Every committed change of an import job's rows_read (a trigger, as the owner)."""
    _owner_sql(
        "CREATE TABLE IF NOT EXISTS test_import_progress (job_id uuid, rows_read int,"
        " status text, at timestamptz DEFAULT clock_timestamp())"
    )
    _owner_sql(
        "CREATE OR REPLACE FUNCTION test_log_import_progress() RETURNS trigger"
        " LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN"
        " INSERT INTO test_import_progress (job_id, rows_read, status)"
        " VALUES (NEW.id, NEW.rows_read, NEW.status); RETURN NEW; END $$"
    )
    _owner_sql("DROP TRIGGER IF EXISTS test_import_progress ON ci_import_jobs")
    _owner_sql(
        "CREATE TRIGGER test_import_progress AFTER UPDATE ON ci_import_jobs"
        " FOR EACH ROW EXECUTE FUNCTION test_log_import_progress()"
    )

    def read(job_id: str) -> list[tuple[int, str]]:
        rows = _owner_sql(
            "SELECT rows_read, status FROM test_import_progress WHERE job_id = %s ORDER BY at",
            job_id,
        )
        return [(r[0], r[1]) for r in rows]

    yield read
    _owner_sql("DROP TRIGGER IF EXISTS test_import_progress ON ci_import_jobs")


def test_an_import_job_uploads_to_s3_and_reports_with_progress_and_notifies(
    client, org, jobs, progress_log
):
    manager = org.members["manager"]
    tag = uuid.uuid4().hex[:6]
    data = _csv([f"{tag}-{i},Server {i},hardware,deployed" for i in range(10)])
    job = _submit(client, manager, data)
    assert job["status"] == "awaiting_upload" and job["size_bytes"] == len(data)
    assert job["report"] is None and job["rows_read"] == 0
    assert _cis(org.tenant_id, tag) == {}  # nothing before the worker runs
    assert jobs.run() == 1

    # queued (the start), running (0), one step per chunk of 4, then done with the count.
    seen = progress_log(job["id"])
    assert seen[:2] == [(0, "queued"), (0, "running")]
    assert [n for n, status in seen if status == "running" and n] == [4, 8, 10]
    assert seen[-1] == (10, "done")

    done = _job(client, manager, job["id"])
    assert done["status"] == "done" and done["error"] is None and done["finished_at"]
    report = done["report"]
    assert (report["rows"], report["created"], report["failed"], report["written"]) == (
        10,
        10,
        0,
        True,
    )
    assert len(_cis(org.tenant_id, tag)) == 10

    # The same file again: an upsert, nothing changes.
    again = _submit(client, manager, data)
    jobs.run()
    second = _job(client, manager, again["id"])["report"]
    assert (second["created"], second["unchanged"]) == (0, 10)

    events = _owner_sql(
        "SELECT payload FROM outbox WHERE tenant_id = %s AND event_type = 'ci.imported'"
        " AND payload->>'job_id' = %s",
        org.tenant_id,
        job["id"],
    )
    assert len(events) == 1 and events[0][0]["created"] == 10

    # ci.import_finished: an in-app notification and a mail to who started it.
    jobs.mail.drain()
    mails = jobs.mail.mails(manager.email, "ci.import_finished")
    assert len(mails) == 2
    assert f"/cmdb/import?job={job['id']}" in mails[0].get_body(("plain",)).get_content()
    inbox = client.get("/v1/notifications", headers=manager.headers).json()["items"]
    assert any(n["event_type"] == "ci.import_finished" for n in inbox)

    listed = client.get("/v1/cis/imports", headers=manager.headers)
    assert listed.status_code == 200, listed.text
    assert [j["id"] for j in listed.json()["items"]] == [again["id"], job["id"]]


def test_the_worker_answers_the_sample_sqs_event_once(client, org, jobs):
    """events/sqs_exports_ci_import_requested.json, its body the real outbox row as the
    publisher encodes it, straight into the export worker's handler, twice."""
    from local.scheduler import LambdaContext
    from tests.events import outbox_rows, sqs_sample

    manager = org.members["manager"]
    tag = uuid.uuid4().hex[:6]
    job = _submit(client, manager, _csv([f"{tag}-a,A,software,", f"{tag}-b,B,software,"]))
    rows = outbox_rows(
        current_database(),
        "tenant_id = %s AND event_type = 'ci.import_requested' AND aggregate_id = %s",
        org.tenant_id,
        job["id"],
    )
    event = sqs_sample("sqs_exports_ci_import_requested", rows)
    for _ in range(2):  # delivered twice, imported once
        assert jobs.worker(event, LambdaContext("export_worker")) == {"batchItemFailures": []}
    shown = _job(client, manager, job["id"])
    assert (shown["status"], shown["report"]["created"]) == ("done", 2)
    first = shown["finished_at"]
    jobs.run()  # the published copy of the same event: already done
    assert _job(client, manager, job["id"])["finished_at"] == first
    assert len(_cis(org.tenant_id, tag)) == 2


def test_a_failing_row_imports_nothing_unless_partial(client, org, jobs):
    manager = org.members["manager"]
    tag = uuid.uuid4().hex[:6]
    rows = [f"{tag}-{i},Box {i},hardware," for i in range(9)]
    rows.insert(6, f"{tag}-x,Broken,no-such-class,")  # in the second chunk
    rows.append(f"{tag}-1,Again,hardware,")  # a duplicate external id, in the third
    data = _csv(rows)

    job = _submit(client, manager, data)
    jobs.run()
    failed = _job(client, manager, job["id"])
    assert failed["status"] == "failed"
    assert failed["error"] == "2 of 11 rows fail: nothing was imported"
    report = failed["report"]
    assert (report["failed"], report["written"]) == (2, False)
    assert {(e["row"], e["field"]) for e in report["errors"]} == {
        (8, "class"),
        (12, "external_id"),
    }
    assert "duplicate of row 3" in {e["message"] for e in report["errors"]}
    assert _cis(org.tenant_id, tag) == {}  # the first chunk's rows were rolled back

    dry = _submit(client, manager, data, dry_run=True)
    jobs.run()
    checked = _job(client, manager, dry["id"])
    assert checked["status"] == "done" and checked["report"]["failed"] == 2
    assert checked["report"]["written"] is False and _cis(org.tenant_id, tag) == {}

    partial = _submit(client, manager, data, partial=True)
    jobs.run()
    written = _job(client, manager, partial["id"])
    assert written["status"] == "done" and written["report"]["created"] == 9
    assert len(_cis(org.tenant_id, tag)) == 9


def test_bad_uploads_are_refused_at_start_naming_the_field(client, org, jobs):
    manager = org.members["manager"]
    good = _csv(["a,A,hardware,"])

    too_big = _problem(_ask(client, manager, b"x" * (LIMIT + 1)), 413)
    assert _fields(too_big) == {"size"}
    assert "size" in _fields(_problem(_ask(client, manager, b""), 422))

    job = _ask(client, manager, good).json()
    nothing = _problem(_start(client, manager, job["id"]), 409)
    assert _fields(nothing) == {"file"}

    cases = [
        (b"external_id,name,colour\r\nx,y,z\r\n", {"header", "header.3"}),
        ("external_id,name,class\r\nbl\u00e5,B,hardware\r\n".encode("latin-1"), {"file"}),
        (b"\r\n\r\n", {"file"}),
        (b'"external_id,name\r\n', {"file"}),
    ]
    for data, fields in cases:
        job = _ask(client, manager, data).json()
        _upload(job, data)
        refused = _problem(_start(client, manager, job["id"]), 422)
        assert _fields(refused) == fields, (data, refused)
        assert _job(client, manager, job["id"])["status"] == "awaiting_upload"

    # Another size than declared (moto does not enforce the form's content-length-range).
    job = _ask(client, manager, good).json()
    _upload(job, good + b"b,B,hardware,\r\n")
    assert _fields(_problem(_start(client, manager, job["id"]), 422)) == {"file"}

    # Started twice: the second is 409 and queues nothing more.
    job = _submit(client, manager, good)
    twice = _problem(_start(client, manager, job["id"]), 409)
    assert twice["job_status"] == "queued" and _fields(twice) == {"id"}
    queued = _owner_sql(
        "SELECT count(*) FROM outbox WHERE event_type = 'ci.import_requested'"
        " AND aggregate_id = %s",
        job["id"],
    )
    assert queued[0][0] == 1


def test_bad_encoding_past_the_header_fails_the_job_naming_the_file(client, org, jobs):
    """The start reads the first 64 KiB; a bad byte after them fails the job as a whole,
    after chunks were written: they roll back."""
    manager = org.members["manager"]
    tag = uuid.uuid4().hex[:6]
    good = "".join(f"{tag}-{i},Name {i},hardware,\r\n" for i in range(4000)).encode()
    data = b"external_id,name,class,state\r\n" + good + b"bad,\xff\xfe,hardware,\r\n"
    assert 64 * 1024 < len(data) <= LIMIT
    job = _submit(client, manager, data)
    jobs.run()
    failed = _job(client, manager, job["id"])
    assert failed["status"] == "failed" and failed["error"] == "the file is not UTF-8"
    assert [e["field"] for e in failed["report"]["errors"]] == ["file"]
    assert f"byte {len(data) - 14}" in failed["report"]["errors"][0]["message"]
    assert _cis(org.tenant_id, tag) == {}


def test_another_tenants_job_is_404_and_only_cmdb_writers_use_jobs(client, org, jobs):
    manager = org.members["manager"]
    job = _ask(client, manager, _csv(["a,A,hardware,"])).json()
    other = make_tenant(client, roles=("manager",)).members["manager"]
    _problem(client.get(f"/v1/cis/imports/{job['id']}", headers=other.headers), 404)
    _problem(_start(client, other, job["id"]), 404)
    assert client.get("/v1/cis/imports", headers=other.headers).json()["items"] == []
    _problem(client.get(f"/v1/cis/imports/{uuid.uuid4()}", headers=manager.headers), 404)
    for role in ("agent", "requester"):
        actor = org.members[role]
        _problem(_ask(client, actor, b"x"), 403)
        _problem(client.get("/v1/cis/imports", headers=actor.headers), 403)
        _problem(client.get(f"/v1/cis/imports/{job['id']}", headers=actor.headers), 403)
        _problem(_start(client, actor, job["id"]), 403)
    assert _job(client, manager, job["id"])["status"] == "awaiting_upload"


def test_a_demoted_requester_gets_a_failed_job_and_nothing_written(client, org, jobs):
    manager = org.members["manager"]
    tag = uuid.uuid4().hex[:6]
    job = _submit(client, manager, _csv([f"{tag}-a,A,hardware,"]))
    _owner_sql(
        "UPDATE memberships SET role = 'agent' WHERE tenant_id = %s AND user_id = %s",
        org.tenant_id,
        manager.user_id,
    )
    jobs.run()
    failed = _job(client, org.admin, job["id"])
    assert failed["status"] == "failed" and "may not import" in failed["error"]
    assert _cis(org.tenant_id, tag) == {}


def test_the_synchronous_import_over_its_limit_points_to_the_job(client, org):
    from servicedesk.cmdb import imports

    manager = org.members["manager"]
    body = b"external_id,name,class\r\n" + b"x" * imports.MAX_BODY_BYTES
    refused = client.post(
        "/v1/cis/import",
        content=body,
        headers={**manager.headers, "Content-Type": "text/csv"},
    )
    problem = _problem(refused, 413)
    assert _fields(problem) == {"file"}
    assert "/v1/cis/imports" in problem["detail"]


def _import_dry(client: Any, actor: Actor, job_id: str, key: str = "", **body: Any) -> Any:
    headers = {**actor.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/v1/cis/imports/{job_id}/import", json=body, headers=headers)


def test_a_finished_dry_run_is_imported_without_a_second_upload(client, org, jobs):
    manager = org.members["manager"]
    tag = uuid.uuid4().hex[:6]
    rows = [f"{tag}-{i},Box {i},hardware," for i in range(5)]
    rows.insert(2, f"{tag}-x,Broken,no-such-class,")
    data = _csv(rows)
    dry = _submit(client, manager, data, dry_run=True)

    # Not finished yet: 409 naming id.
    early = _import_dry(client, manager, dry["id"], partial=True)
    assert _problem(early, 409)["errors"][0]["field"] == "id"
    jobs.run()
    assert _job(client, manager, dry["id"])["report"]["failed"] == 1

    # The dry run found a failing row: partial must be asked.
    refused = _import_dry(client, manager, dry["id"])
    assert _problem(refused, 409)["errors"][0]["field"] == "partial"
    # Not ours: another tenant's manager gets 404; a requester may not.
    other = make_tenant(client, roles=("manager",))
    assert _import_dry(client, other.members["manager"], dry["id"], partial=True).status_code == 404
    requester = org.members["requester"]
    assert _import_dry(client, requester, dry["id"], partial=True).status_code in (403, 404)

    key = uuid.uuid4().hex
    made = _import_dry(client, manager, dry["id"], key=key, partial=True)
    assert made.status_code == 202, made.text
    job = made.json()
    assert (job["status"], job["dry_run"], job["partial"]) == ("queued", False, True)
    again = _import_dry(client, manager, dry["id"], key=key, partial=True)
    assert again.status_code == 202 and again.json()["id"] == job["id"]
    jobs.run()
    done = _job(client, manager, job["id"])
    assert done["status"] == "done" and done["report"]["created"] == 5
    assert len(_cis(org.tenant_id, tag)) == 5

    # An import job is not a dry run: it cannot be imported again.
    twice = _import_dry(client, manager, job["id"], partial=True)
    assert _problem(twice, 409)["errors"][0]["field"] == "id"


def test_a_dry_run_whose_file_is_gone_is_409_naming_file(client, org, jobs):
    from servicedesk.cmdb import import_jobs
    from servicedesk.platform import storage

    manager = org.members["manager"]
    data = _csv([f"{uuid.uuid4().hex[:6]}-1,Box,hardware,"])
    dry = _submit(client, manager, data, dry_run=True)
    jobs.run()
    key = import_jobs.object_key(uuid.UUID(org.tenant_id), uuid.UUID(dry["id"]))
    storage.client().delete_object(Bucket=import_jobs.bucket(), Key=key)
    gone = _import_dry(client, manager, dry["id"])
    assert _problem(gone, 409)["errors"][0]["field"] == "file"
