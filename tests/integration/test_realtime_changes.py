"""The change room over real sockets (the local gateway, the real database, the emulator's
realtime queue polled into the broadcaster): staff with ``change:read`` who join
``{"room": "changes"}`` hear their tenant's changes created, edited and moved; nobody else
does, and a member who loses ``change:read`` after joining hears nothing more.

Negative checks are followed by a positive control on the same socket (tests/integration/
test_realtime.py does the same)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from servicedesk.platform.permissions import BUILTIN, Permission
from servicedesk.platform.roles import Role
from tests.conftest import TenantFixture, make_tenant
from tests.integration.test_custom_roles import _assign, _role
from tests.integration.test_realtime import Runtime, events, quiet, runtime, send

__all__ = ["runtime"]  # the module-scoped fixture, shared with the realtime tests

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

JOIN = {"action": "subscribe", "room": "changes"}


@pytest.fixture
def org(runtime: Runtime) -> TenantFixture:
    return make_tenant(runtime.http, roles=("agent", "manager", "requester"))


def _join(ws: Any) -> None:
    assert send(ws, JOIN) == {"type": "ack", "action": "subscribe", "channel": "changes"}


def _change(rt: Runtime, org: TenantFixture, **body: Any) -> dict[str, Any]:
    made = rt.http.post(
        "/v1/changes",
        headers=org.members["agent"].headers,
        json={"title": f"Change {uuid.uuid4().hex[:6]}", **body},
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def _of(change: dict[str, Any], event: str) -> Any:
    return lambda f: f.get("event") == event and f.get("change_id") == change["id"]


def test_staff_in_the_change_room_hear_changes_created_edited_and_moved(
    runtime: Runtime, org
) -> None:
    agent = org.members["agent"]
    with runtime.socket(agent) as mine, runtime.socket(org.members["manager"]) as manager:
        _join(mine)
        _join(manager)
        _join(mine)  # joining twice is one subscription: one frame per event
        change = _change(runtime, org)
        runtime.deliver()
        created = events(mine, _of(change, "change.created"))
        assert created["channels"] == ["changes"]
        assert created["data"] == {
            "change_id": change["id"],
            "number": change["number"],
            "type": "normal",
            "state": "draft",
        }
        assert events(manager, _of(change, "change.created"))["data"]["number"] == change["number"]
        edited = runtime.http.patch(
            f"/v1/changes/{change['id']}",
            headers={**agent.headers, "If-Match": f'"{change["version"]}"'},
            json={"title": "A new title", "description": "Why"},
        )
        assert edited.status_code == 200, edited.text
        moved = runtime.http.post(
            f"/v1/changes/{change['id']}/transitions",
            headers=agent.headers,
            json={
                "state": "cancelled",
                "reason": "not needed",
                "version": edited.json()["version"],
            },
        )
        assert moved.status_code == 200, moved.text
        runtime.deliver()
        updated = events(mine, _of(change, "change.updated"))
        assert updated["data"]["changed"] == ["description", "title"]
        assert "title" not in updated["data"]  # ids and small scalars, never the text
        state = events(mine, _of(change, "change.state_changed"))["data"]
        assert (state["previous_state"], state["state"]) == ("draft", "cancelled")
        quiet(mine)  # no duplicate of any of them


def test_who_may_join_the_change_room(runtime: Runtime, org) -> None:
    with runtime.socket(org.members["requester"]) as requester:
        refused = send(requester, {**JOIN, "id": "r1"})
        assert refused == {
            "type": "error",
            "code": "forbidden",
            "detail": "the change room needs change:read",
            "field": "room",
            "action": "subscribe",
            "id": "r1",
        }
        bad = send(requester, {"action": "subscribe", "room": "cmdb"})
        assert (bad["code"], bad["field"]) == ("invalid_field", "room")
        two = send(requester, {"action": "subscribe", "room": "changes", "queue": "untriaged"})
        assert two["code"] == "invalid_field"
        # Control: the socket is alive and may join its ticket rooms.
        assert send(requester, {"action": "ping"}) == {"type": "pong"}


def test_tenant_b_hears_nothing_of_tenant_a_s_changes(runtime: Runtime, org) -> None:
    other = make_tenant(runtime.http, roles=("agent",))
    with runtime.socket(other.admin) as b_admin:
        _join(b_admin)
        _change(runtime, org)
        runtime.deliver()
        quiet(b_admin)
        own = _change(runtime, other)
        runtime.deliver()
        assert events(b_admin, _of(own, "change.created"))["data"]["number"] == own["number"]


def test_a_member_who_loses_change_read_after_joining_hears_nothing_more(
    runtime: Runtime, org
) -> None:
    """The broadcaster reads the member's access at every push, as the REST reads do."""
    agent = org.members["agent"]
    without = sorted(p.value for p in BUILTIN[Role.AGENT] - {Permission.CHANGE_READ})
    with runtime.socket(agent) as mine, runtime.socket(org.admin) as control:
        _join(mine)
        _join(control)
        role = _role(runtime.http, org, without)
        assigned = _assign(runtime.http, org, agent.user_id, role["id"])
        assert assigned.status_code == 200, assigned.text
        made = runtime.http.post(
            "/v1/changes", headers=org.admin.headers, json={"title": "After the demotion"}
        )
        assert made.status_code == 201, made.text
        runtime.deliver()
        assert events(control, _of(made.json(), "change.created"))
        quiet(mine)
        # Joining again is refused now; with change:read back it works and hears again.
        assert send(mine, {"action": "unsubscribe", "room": "changes"})["type"] == "ack"
        assert send(mine, JOIN)["code"] == "forbidden"
        assert _assign(runtime.http, org, agent.user_id, None).status_code == 200
        _join(mine)
        again = _change(runtime, org)
        runtime.deliver()
        assert events(mine, _of(again, "change.created"))
