"""A project task's files through the attachments pipeline (presigned S3 form over real
HTTP to the AWS emulator, completion checks, gated download, tombstones, cleanup): who
sees the project reads them, who may edit the task uploads and removes them; another
tenant, a non-member and a requester get nothing; deleting the task leaves tombstones
whose objects the cleanup removes."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from servicedesk.attachments.cleanup import run_cleanup
from servicedesk.platform.config import get_settings
from tests.conftest import make_tenant

# The bucket (autouse, per module) is test_attachments' own fixture.
from tests.integration.test_attachments import EXE, PNG, _post_form, bucket  # noqa: F401
from tests.integration.test_projects_access import _person

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent", "manager", "requester"))


@pytest.fixture(scope="module")
def world(client, org) -> dict[str, Any]:
    owner = org.members["agent"]
    viewer, outsider = _person(client, org, "agent"), _person(client, org, "agent")
    key = "F" + uuid.uuid4().hex[:5].upper()
    project = client.post(
        "/v1/projects", headers=owner.headers, json={"name": "Files", "key": key}
    ).json()
    put = client.put(
        f"/v1/projects/{project['id']}/members/{viewer.user_id}",
        headers=owner.headers,
        json={"role": "viewer"},
    )
    assert put.status_code == 200, put.text
    return {"owner": owner, "viewer": viewer, "outsider": outsider, "project": project}


def _task(client, world) -> str:
    made = client.post(
        f"/v1/projects/{world['project']['id']}/tasks",
        headers=world["owner"].headers,
        json={"title": "Rollout " + uuid.uuid4().hex[:4]},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _base(world, task_id: str) -> str:
    return f"/v1/projects/{world['project']['id']}/tasks/{task_id}/attachments"


def _start(client, actor, base: str, content: bytes = PNG, **extra: Any) -> httpx.Response:
    body = {"filename": "plan.png", "content_type": "image/png", "size": len(content), **extra}
    return client.post(base, json=body, headers=actor.headers)


def _attach(client, actor, base: str, content: bytes = PNG) -> dict[str, Any]:
    started = _start(client, actor, base, content)
    assert started.status_code == 201, started.text
    assert _post_form(started.json()["upload"], content).status_code == 204
    done = client.post(
        f"{base}/{started.json()['attachment']['id']}/complete", headers=actor.headers
    )
    assert done.status_code == 200, done.text
    return dict(done.json())


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return dict(response.json())


def _outbox(database, task_id: str) -> list[dict[str, Any]]:
    with database.connect("owner") as conn:
        rows = conn.execute(
            "SELECT event_type, payload FROM outbox WHERE aggregate_id = %s ORDER BY created_at",
            (task_id,),
        ).fetchall()
    return [{"type": r[0], **r[1]} for r in rows]


def test_a_task_file_round_trip_upload_complete_list_download_remove(client, world, database):
    owner, viewer = world["owner"], world["viewer"]
    task_id = _task(client, world)
    base = _base(world, task_id)
    started = _start(client, owner, base)
    assert started.status_code == 201, started.text
    attachment, upload = started.json()["attachment"], started.json()["upload"]
    assert attachment["task_id"] == task_id
    assert attachment["project_id"] == world["project"]["id"]
    assert attachment["ticket_id"] is None and attachment["status"] == "pending"
    assert upload["fields"]["key"].startswith(f"t/{owner.tenant_id}/tasks/{task_id}/")
    assert _post_form(upload, PNG).status_code == 204
    done = client.post(f"{base}/{attachment['id']}/complete", headers=owner.headers)
    assert done.status_code == 200, done.text
    assert done.json()["sha256"] == hashlib.sha256(PNG).hexdigest()

    listed = client.get(base, headers=viewer.headers)
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["items"]] == [attachment["id"]]
    link = client.get(f"/v1/attachments/{attachment['id']}/download", headers=viewer.headers)
    assert link.status_code == 200, link.text
    assert httpx.get(link.json()["url"]).content == PNG

    removed = client.delete(f"{base}/{attachment['id']}", headers=owner.headers)
    assert removed.status_code == 200 and removed.json()["status"] == "deleted"
    assert client.get(base, headers=owner.headers).json()["items"] == []
    _problem(client.get(f"/v1/attachments/{attachment['id']}/download", headers=owner.headers), 404)

    news = [e for e in _outbox(database, task_id) if e["type"] == "task.updated"]
    assert [(e["changed"], e["attachment"]) for e in news] == [
        (["attachments"], "added"),
        (["attachments"], "removed"),
    ]
    assert all(e["attachment_id"] == attachment["id"] for e in news)
    with database.connect("owner") as conn:
        actions = [
            r[0]
            for r in conn.execute(
                "SELECT action FROM audit_log WHERE entity_type = 'task' AND entity_id = %s"
                " AND action LIKE 'attachment.%%' ORDER BY created_at, id",
                (task_id,),
            )
        ]
    assert actions == ["attachment.created", "attachment.completed", "attachment.deleted"]


def test_who_sees_the_project_reads_who_may_edit_the_task_writes(client, world, org):
    owner, viewer, outsider = world["owner"], world["viewer"], world["outsider"]
    task_id = _task(client, world)
    base = _base(world, task_id)
    attachment = _attach(client, owner, base)
    pending = _start(client, owner, base).json()["attachment"]
    download = f"/v1/attachments/{attachment['id']}/download"

    # A viewer reads and downloads, but neither uploads, completes nor removes: 403 naming
    # project_id, on the task's routes and on the generic removal alike.
    for refused in (
        _start(client, viewer, base),
        client.post(f"{base}/{pending['id']}/complete", headers=viewer.headers),
        client.delete(f"{base}/{attachment['id']}", headers=viewer.headers),
        client.delete(f"/v1/attachments/{attachment['id']}", headers=viewer.headers),
    ):
        assert _problem(refused, 403)["errors"][0]["field"] == "project_id"
    assert client.get(download, headers=viewer.headers).status_code == 200

    # Staff who are not members, and another tenant's admin: 404 everywhere.
    other = make_tenant(client, roles=("agent",)).admin
    for stranger in (outsider, other):
        for response in (
            client.get(base, headers=stranger.headers),
            _start(client, stranger, base),
            client.post(f"{base}/{pending['id']}/complete", headers=stranger.headers),
            client.delete(f"{base}/{attachment['id']}", headers=stranger.headers),
            client.get(download, headers=stranger.headers),
            client.delete(f"/v1/attachments/{attachment['id']}", headers=stranger.headers),
        ):
            _problem(response, 404)
    # Requesters are refused at the gate.
    requester = org.members["requester"]
    _problem(client.get(base, headers=requester.headers), 403)
    _problem(_start(client, requester, base), 403)

    # project:read_all (a manager who is not a member) reads but does not write.
    manager = org.members["manager"]
    assert client.get(download, headers=manager.headers).status_code == 200
    assert [a["id"] for a in client.get(base, headers=manager.headers).json()["items"]] == [
        attachment["id"]
    ]
    _problem(_start(client, manager, base), 403)
    # project:manage_all (an admin) writes anywhere.
    assert client.delete(f"{base}/{attachment['id']}", headers=org.admin.headers).status_code == 200


def test_a_file_of_another_task_or_project_is_not_found_under_this_one(client, world, org):
    owner = world["owner"]
    first, second = _task(client, world), _task(client, world)
    attachment = _attach(client, owner, _base(world, first))
    wrong = _base(world, second)
    _problem(client.delete(f"{wrong}/{attachment['id']}", headers=owner.headers), 404)
    _problem(client.post(f"{wrong}/{attachment['id']}/complete", headers=owner.headers), 404)
    other = client.post(
        "/v1/projects",
        headers=owner.headers,
        json={"name": "Other", "key": "O" + uuid.uuid4().hex[:5].upper()},
    ).json()
    crossed = f"/v1/projects/{other['id']}/tasks/{first}/attachments"
    _problem(_start(client, owner, crossed), 404)
    _problem(client.get(crossed, headers=owner.headers), 404)


def test_bad_files_are_refused_naming_the_field_and_nothing_is_half_written(
    client, world, database
):
    owner = world["owner"]
    task_id = _task(client, world)
    base = _base(world, task_id)
    bad_type = _start(client, owner, base, content_type="application/x-msdownload")
    assert "content_type" in {e["field"] for e in _problem(bad_type, 422)["errors"]}
    too_big = _start(client, owner, base, size=10**12)
    assert "size" in {e["field"] for e in _problem(too_big, 422)["errors"]}
    slash = _start(client, owner, base, filename="../etc/passwd")
    assert "filename" in {e["field"] for e in _problem(slash, 422)["errors"]}
    extra = _start(client, owner, base, comment_id=str(uuid.uuid4()))
    assert "comment_id" in {e["field"] for e in _problem(extra, 422)["errors"]}
    with database.connect("owner") as conn:
        count = conn.execute("SELECT count(*) FROM attachments WHERE task_id = %s", (task_id,))
        assert count.fetchone()[0] == 0

    # A program posted as a PNG: refused at completion, the row kept as rejected.
    started = _start(client, owner, base, EXE)
    assert _post_form(started.json()["upload"], EXE).status_code == 204
    done = client.post(
        f"{base}/{started.json()['attachment']['id']}/complete", headers=owner.headers
    )
    assert "content_type" in {e["field"] for e in _problem(done, 422)["errors"]}
    assert client.get(base, headers=owner.headers).json()["items"] == []


def test_deleting_the_task_tombstones_its_files_and_the_cleanup_removes_them(
    client, world, database
):
    owner = world["owner"]
    task_id = _task(client, world)
    base = _base(world, task_id)
    kept = _attach(client, owner, base)
    started = _start(client, owner, base).json()["attachment"]  # still pending
    task = client.get(
        f"/v1/projects/{world['project']['id']}/tasks/{task_id}", headers=owner.headers
    )
    gone = client.delete(
        f"/v1/projects/{world['project']['id']}/tasks/{task_id}",
        headers={**owner.headers, "If-Match": f'"{task.json()["version"]}"'},
    )
    assert gone.status_code == 204, gone.text
    with database.connect("owner") as conn:
        rows = conn.execute(
            "SELECT id::text, status, task_id, project_id::text, object_key FROM attachments"
            " WHERE id IN (%s, %s)",
            (kept["id"], started["id"]),
        ).fetchall()
    assert {(r[1], r[2], r[3]) for r in rows} == {("deleted", None, world["project"]["id"])}
    _problem(client.get(f"/v1/attachments/{kept['id']}/download", headers=owner.headers), 404)

    report = run_cleanup(datetime.now(UTC) + timedelta(minutes=1))
    assert report.removed >= 1
    from servicedesk.platform.aws import client as aws_client

    s3, name = aws_client("s3"), get_settings().attachments_bucket
    key = next(r[4] for r in rows if r[0] == kept["id"])
    assert s3.list_objects_v2(Bucket=name, Prefix=key).get("KeyCount", 0) == 0


def test_a_task_may_hold_at_most_the_tenants_attachment_limit(client, world, org):
    owner, admin = world["owner"], org.admin
    task_id = _task(client, world)
    base = _base(world, task_id)
    current = client.get("/v1/settings/attachments", headers=admin.headers)
    limits = {**current.json(), "max_per_ticket": 1}
    saved = client.put(
        "/v1/settings/attachments",
        json=limits,
        headers={**admin.headers, "If-Match": current.headers["etag"]},
    )
    assert saved.status_code == 200, saved.text
    try:
        assert _start(client, owner, base).status_code == 201
        assert _problem(_start(client, owner, base), 409)["errors"][0]["field"] == "task_id"
    finally:
        restored = client.put(
            "/v1/settings/attachments",
            json=current.json(),
            headers={**admin.headers, "If-Match": saved.headers["etag"]},
        )
        assert restored.status_code == 200, restored.text
