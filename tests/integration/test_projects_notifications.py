"""A task's assignee and watchers hear of its news through the notifications pipeline
(the outbox, the e-mail queue, the consumer): in-app and by mail, never the actor, never
someone who only sees the project."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_tenant
from tests.integration.test_notifications import Wiring, _inbox, wiring

__all__ = ["Wiring", "wiring"]  # the fixture, shared

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture
def org(client: Any):
    return make_tenant(client, roles=("agent", "manager"))


def test_the_assignee_and_watchers_hear_of_a_task_not_the_actor(client, org, wiring):
    owner, manager = org.members["agent"], org.members["manager"]
    project = client.post(
        "/v1/projects", headers=owner.headers, json={"name": "Notify", "key": "NOTE"}
    ).json()
    pid = project["id"]
    added = client.put(
        f"/v1/projects/{pid}/members/{manager.user_id}",
        headers=owner.headers,
        json={"role": "member"},
    )
    assert added.status_code == 200, added.text
    task = client.post(
        f"/v1/projects/{pid}/tasks",
        headers=owner.headers,
        json={"title": "Patch the core", "assignee_id": manager.user_id},
    ).json()
    wiring.drain()
    created = [n for n in _inbox(client, manager) if n["event_type"] == "task.created"]
    assert len(created) == 1 and "NOTE-1" in created[0]["title"]
    # It names the task, so the bell opens it; a ticket's notification names no task.
    assert (created[0]["project_id"], created[0]["task_id"]) == (pid, task["id"])
    assert created[0]["ticket_id"] is None
    # The admin sees every project (read_all) but neither works on nor watches the task.
    assert [n for n in _inbox(client, org.admin) if n["event_type"].startswith("task.")] == []
    # The assignee comments: the owner, who watches nothing yet, hears nothing; then
    # watches, and hears the next comment, in-app and by mail.
    base = f"/v1/projects/{pid}/tasks/{task['id']}"
    assert (
        client.post(f"{base}/comments", headers=manager.headers, json={"body": "On it"}).status_code
        == 201
    )
    wiring.drain()
    assert [n for n in _inbox(client, owner) if n["event_type"] == "task.commented"] == []
    assert client.put(f"{base}/watchers/me", headers=owner.headers).status_code == 200
    assert (
        client.post(f"{base}/comments", headers=manager.headers, json={"body": "Done"}).status_code
        == 201
    )
    wiring.drain()
    heard = [n for n in _inbox(client, owner) if n["event_type"] == "task.commented"]
    assert len(heard) == 1 and heard[0]["ticket_id"] is None
    (mail,) = wiring.mails(owner.email, "task.commented")
    assert mail["Subject"] == "NOTE-1: Patch the core"
    # The actor never hears of their own comment.
    assert [n for n in _inbox(client, manager) if n["event_type"] == "task.commented"] == []
