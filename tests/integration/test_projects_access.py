"""Who reaches what under /v1/projects, for every route: another tenant's admin gets 404
(isolation), a requester 403 at the route gate, a staff member who is not a member 404,
a viewer reads but edits nothing (403), a manager with project:read_all sees every project
but does not edit one he is not a member of (403), an admin (project:manage_all) does."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from servicedesk.platform.app import api_routes
from tests.conftest import PASSWORD, Actor, login, make_tenant

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent", "manager", "requester"))


@pytest.fixture(scope="module")
def other(client):
    return make_tenant(client, roles=("agent",))


def _person(client, org, role: str) -> Actor:
    email = f"{role}-{uuid.uuid4().hex[:6]}@{org.slug}.example"
    made = client.post(
        "/v1/users",
        headers=org.admin.headers,
        json={"email": email, "name": f"Extra {role}", "role": role, "password": PASSWORD},
    )
    assert made.status_code == 201, made.text
    token = login(client, email).json()["access_token"]
    return Actor(email, made.json()["id"], org.tenant_id, org.slug, role, token)


@pytest.fixture(scope="module")
def world(client, org) -> dict[str, Any]:
    """A project owned by the agent, with a viewer, two tasks linked by a dependency, a
    comment and a ticket link; and an agent who is not a member."""
    owner = org.members["agent"]
    viewer = _person(client, org, "agent")
    outsider = _person(client, org, "agent")
    project = client.post(
        "/v1/projects", headers=owner.headers, json={"name": "Secret", "key": "SEC"}
    ).json()
    pid = project["id"]
    assert (
        client.put(
            f"/v1/projects/{pid}/members/{viewer.user_id}",
            headers=owner.headers,
            json={"role": "viewer"},
        ).status_code
        == 200
    )
    one = client.post(
        f"/v1/projects/{pid}/tasks", headers=owner.headers, json={"title": "One"}
    ).json()
    two = client.post(
        f"/v1/projects/{pid}/tasks", headers=owner.headers, json={"title": "Two"}
    ).json()
    edge = client.post(
        f"/v1/projects/{pid}/dependencies",
        headers=owner.headers,
        json={"predecessor_id": one["id"], "successor_id": two["id"]},
    ).json()
    upload = client.post(
        f"/v1/projects/{pid}/tasks/{one['id']}/attachments",
        headers=owner.headers,
        json={"filename": "a.png", "content_type": "image/png", "size": 10},
    )
    assert upload.status_code == 201, upload.text
    ticket = client.post(
        "/v1/tickets",
        headers=org.members["requester"].headers,
        json={"title": "T", "description": "d"},
    ).json()
    return {
        "owner": owner,
        "viewer": viewer,
        "outsider": outsider,
        "project": project,
        "one": one,
        "two": two,
        "edge": edge,
        "ticket": ticket,
        "attachment": upload.json()["attachment"],
    }


def _calls(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None, bool]]:
    """(method, path, body, writes) for every route under /v1/projects."""
    p, one, two = w["project"]["id"], w["one"]["id"], w["two"]["id"]
    done = w["project"]["columns"][-1]["id"]
    base = f"/v1/projects/{p}"
    task = f"{base}/tasks/{one}"
    return [
        ("GET", "/v1/projects/tasks", None, False),
        ("GET", "/v1/projects", None, False),
        ("POST", "/v1/projects", {"name": "N", "key": "NEW" + uuid.uuid4().hex[:4].upper()}, True),
        ("GET", base, None, False),
        ("PATCH", base, {"name": "Renamed", "version": 1}, True),
        (
            "PUT",
            f"{base}/columns",
            {"columns": [{"name": "D", "category": "done"}], "version": 1},
            True,
        ),
        ("GET", f"{base}/members", None, False),
        ("PUT", f"{base}/members/{w['outsider'].user_id}", {"role": "member"}, True),
        ("DELETE", f"{base}/members/{w['owner'].user_id}", None, True),
        ("GET", f"{base}/tasks", None, False),
        ("POST", f"{base}/tasks/from-change", {"change_id": str(uuid.uuid4())}, True),
        ("POST", f"{base}/tasks", {"title": "New"}, True),
        ("GET", task, None, False),
        ("PATCH", task, {"title": "Changed", "version": 1}, True),
        ("DELETE", f"{base}/tasks/{two}", None, True),
        ("POST", f"{task}/move", {"column_id": done, "version": 1}, True),
        ("POST", f"{task}/reschedule", {"start_date": "2031-01-01", "apply": False}, False),
        ("POST", f"{task}/ticket-links", {"ticket_id": w["ticket"]["id"]}, True),
        ("DELETE", f"{task}/ticket-links/{w['ticket']['id']}", None, True),
        ("GET", f"{task}/comments", None, False),
        ("POST", f"{task}/comments", {"body": "hi"}, True),
        ("PUT", f"{task}/watchers/me", None, False),
        ("DELETE", f"{task}/watchers/me", None, False),
        ("GET", f"{base}/dependencies", None, False),
        ("POST", f"{base}/dependencies", {"predecessor_id": two, "successor_id": one}, True),
        ("DELETE", f"{base}/dependencies/{w['edge']['id']}", None, True),
        ("GET", f"{base}/schedule", None, False),
        ("GET", f"{task}/attachments", None, False),
        (
            "POST",
            f"{task}/attachments",
            {"filename": "b.png", "content_type": "image/png", "size": 10},
            True,
        ),
        ("POST", f"{task}/attachments/{w['attachment']['id']}/complete", None, True),
        ("DELETE", f"{task}/attachments/{w['attachment']['id']}", None, True),
    ]


def _send(client, actor: Actor, method: str, path: str, body: Any) -> Any:
    headers = {**actor.headers, "If-Match": '"1"'}
    return client.request(method, path, headers=headers, json=body)


def test_the_walk_covers_every_projects_route(app, world):
    walked = {(m, p) for m, p, _, _ in _calls(world)}
    routes = {
        (method, route.path)
        for route in api_routes(app)
        if route.path.startswith("/v1/projects")
        for method in route.methods
    }
    ids = world["project"]["id"], world["one"]["id"], world["two"]["id"]
    shaped = set()
    for method, sent in walked:
        path = sent
        for value, name in zip(ids, ("{project_id}", "{task_id}", "{task_id}"), strict=True):
            path = path.replace(value, name)
        path = path.replace(world["edge"]["id"], "{dependency_id}")
        path = path.replace(world["ticket"]["id"], "{ticket_id}")
        path = path.replace(world["attachment"]["id"], "{attachment_id}")
        for user in (world["outsider"], world["owner"]):
            path = path.replace(user.user_id, "{user_id}")
        shaped.add((method, path))
    assert shaped == routes


def test_another_tenant_gets_404_on_every_project_route(client, world, other):
    for method, path, body, _ in _calls(world):
        if path in ("/v1/projects", "/v1/projects/tasks"):
            continue
        response = _send(client, other.admin, method, path, body)
        assert response.status_code == 404, (method, path, response.text)
    listed = client.get("/v1/projects", headers=other.admin.headers).json()
    assert listed["items"] == []
    mine = client.get("/v1/projects/tasks", headers=other.admin.headers).json()
    assert mine["items"] == []


def test_a_requester_is_refused_at_the_gate_on_every_route(client, world, org):
    for method, path, body, _ in _calls(world):
        response = _send(client, org.members["requester"], method, path, body)
        assert response.status_code == 403, (method, path, response.text)


def test_a_staff_member_who_is_not_a_member_gets_404(client, world):
    outsider = world["outsider"]
    for method, path, body, _ in _calls(world):
        if path in ("/v1/projects", "/v1/projects/tasks"):
            continue
        response = _send(client, outsider, method, path, body)
        assert response.status_code == 404, (method, path, response.text)
    names = [
        p["name"] for p in client.get("/v1/projects", headers=outsider.headers).json()["items"]
    ]
    assert "Secret" not in names


def test_a_viewer_reads_but_edits_nothing(client, world):
    viewer = world["viewer"]
    for method, path, body, writes in _calls(world):
        if path in ("/v1/projects", "/v1/projects/tasks"):
            continue
        response = _send(client, viewer, method, path, body)
        if writes:
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["errors"][0]["field"] == "project_id"
        else:
            assert response.status_code in (200, 204), (method, path, response.text)


def test_read_all_sees_every_project_but_manage_all_is_needed_to_edit(client, world, org):
    manager, admin = org.members["manager"], org.admin
    url = f"/v1/projects/{world['project']['id']}"
    seen = client.get(url, headers=manager.headers)
    assert seen.status_code == 200 and seen.json()["my_role"] is None
    refused = client.patch(
        url,
        headers={**manager.headers, "If-Match": f'"{seen.json()["version"]}"'},
        json={"description": "x"},
    )
    assert refused.status_code == 403
    edited = client.patch(
        url,
        headers={**admin.headers, "If-Match": f'"{seen.json()["version"]}"'},
        json={"description": "by admin"},
    )
    assert edited.status_code == 200, edited.text


def test_the_last_owner_cannot_leave(client, org):
    owner = org.members["agent"]
    project = client.post(
        "/v1/projects", headers=owner.headers, json={"name": "Solo", "key": "SOLO"}
    ).json()
    left = client.delete(
        f"/v1/projects/{project['id']}/members/{owner.user_id}", headers=owner.headers
    )
    assert left.status_code == 409 and left.json()["errors"][0]["field"] == "user_id"
    demoted = client.put(
        f"/v1/projects/{project['id']}/members/{owner.user_id}",
        headers=owner.headers,
        json={"role": "member"},
    )
    assert demoted.status_code == 409
    requester = client.put(
        f"/v1/projects/{project['id']}/members/{org.members['requester'].user_id}",
        headers=owner.headers,
        json={"role": "member"},
    )
    assert requester.status_code == 404
