"""The project room over real sockets (the runtime of tests/integration/test_realtime.py):
a member hears the project's task events on ``project:<id>``; a staff member who is not a
member cannot join (404), and a member removed meanwhile hears nothing more."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import PASSWORD, Actor, TenantFixture, login, make_tenant
from tests.integration.test_realtime import Runtime, events, quiet, runtime, send

__all__ = ["runtime"]  # the module-scoped runtime fixture, shared

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


@pytest.fixture
def org(runtime: Runtime) -> TenantFixture:
    return make_tenant(runtime.http, roles=("agent",))


def _agent(rt: Runtime, org: TenantFixture) -> Actor:
    email = f"a-{uuid.uuid4().hex[:6]}@{org.slug}.example"
    made = rt.http.post(
        "/v1/users",
        headers=org.admin.headers,
        json={"email": email, "name": "Other", "role": "agent", "password": PASSWORD},
    )
    assert made.status_code == 201, made.text
    token = login(rt.http, email).json()["access_token"]
    return Actor(email, made.json()["id"], org.tenant_id, org.slug, "agent", token)


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_members_hear_task_events_in_the_project_room(runtime: Runtime, org) -> None:
    owner, member, outsider = org.members["agent"], _agent(runtime, org), _agent(runtime, org)
    project = _ok(
        runtime.http.post(
            "/v1/projects", headers=owner.headers, json={"name": "Live", "key": "LIVE"}
        )
    )
    pid = project["id"]
    _ok(
        runtime.http.put(
            f"/v1/projects/{pid}/members/{member.user_id}",
            headers=owner.headers,
            json={"role": "member"},
        ),
        200,
    )
    runtime.deliver()
    with runtime.socket(member) as ws, runtime.socket(outsider) as other:
        joined = send(ws, {"action": "subscribe", "project_id": pid})
        assert joined == {"type": "ack", "action": "subscribe", "channel": f"project:{pid}"}
        refused = send(other, {"action": "subscribe", "project_id": pid})
        assert (refused["code"], refused["field"]) == ("not_found", "project_id")
        task = _ok(
            runtime.http.post(
                f"/v1/projects/{pid}/tasks", headers=owner.headers, json={"title": "Go"}
            )
        )
        runtime.deliver()
        frame = events(ws, lambda f: f.get("event") == "task.created")
        assert frame["channels"] == [f"project:{pid}"]
        assert frame["data"]["task_id"] == task["id"] and frame["data"]["key"] == "LIVE-1"
        assert "title" not in frame["data"]  # ids and small scalars only
        quiet(other)
        # Removed from the project: the room stays subscribed but hears nothing more.
        gone = runtime.http.delete(
            f"/v1/projects/{pid}/members/{member.user_id}", headers=owner.headers
        )
        assert gone.status_code == 204
        runtime.deliver()
        _ok(
            runtime.http.post(
                f"/v1/projects/{pid}/tasks", headers=owner.headers, json={"title": "B"}
            )
        )
        runtime.deliver()
        quiet(ws)
        assert send(ws, {"action": "ping"}) == {"type": "pong"}
