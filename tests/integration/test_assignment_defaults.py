"""Assignment defaults (issue 20 point 6), in the ticket settings: the team of a new ticket
that names none (its assignment strategy then picks), and assignment on an agent's first
public reply."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import make_tenant

PATH = "/v1/settings/tickets"


def _put(client: Any, admin: Any, **change: Any) -> Any:
    read = client.get(PATH, headers=admin.headers)
    return client.put(
        PATH,
        headers={**admin.headers, "If-Match": read.headers["ETag"]},
        json={**read.json(), **change},
    )


def _team(client: Any, admin: Any, *members: Any, strategy: str = "round_robin") -> str:
    made = client.post(
        "/v1/teams",
        headers=admin.headers,
        json={"name": f"T {uuid.uuid4().hex[:6]}", "assignment_strategy": strategy},
    )
    assert made.status_code == 201, made.text
    for member in members:
        added = client.put(
            f"/v1/teams/{made.json()['id']}/members/{member.user_id}", headers=admin.headers
        )
        assert added.status_code == 200, added.text
    return str(made.json()["id"])


def _ticket(client: Any, actor: Any) -> dict[str, Any]:
    made = client.post("/v1/tickets", headers=actor.headers, json={"title": "Defaults"})
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_a_ticket_with_no_team_goes_to_the_default_team_and_its_strategy(client):
    org = make_tenant(client, roles=("agent", "requester"))
    agent, requester = org.members["agent"], org.members["requester"]
    before = _ticket(client, requester)
    assert (before["team_id"], before["assignee_id"]) == (None, None)
    team = _team(client, org.admin, agent)
    saved = _put(client, org.admin, default_team_id=team)
    assert saved.status_code == 200, saved.text
    after = _ticket(client, requester)
    assert after["team_id"] == team and after["assignee_id"] == agent.user_id
    # A team named on the ticket still wins.
    other = _team(client, org.admin, strategy="manual")
    named = client.post(
        "/v1/tickets", headers=agent.headers, json={"title": "Named", "team_id": other}
    ).json()
    assert (named["team_id"], named["assignee_id"]) == (other, None)
    # A default team archived since is skipped: the ticket has no team, as before.
    version = client.get(f"/v1/teams/{team}", headers=org.admin.headers).json()["version"]
    archived = client.patch(
        f"/v1/teams/{team}", headers=org.admin.headers, json={"active": False, "version": version}
    )
    assert archived.status_code == 200, archived.text
    assert _ticket(client, requester)["team_id"] is None


def test_the_first_public_reply_by_an_agent_assigns_the_ticket_when_asked(client):
    org = make_tenant(client, roles=("agent", "manager", "requester"))
    agent, manager, requester = (org.members[r] for r in ("agent", "manager", "requester"))
    off = _ticket(client, requester)
    reply = {"body": "On it", "visibility": "public"}
    client.post(f"/v1/tickets/{off['id']}/comments", headers=agent.headers, json=reply)
    assert (
        client.get(f"/v1/tickets/{off['id']}", headers=agent.headers).json()["assignee_id"] is None
    )

    assert _put(client, org.admin, assign_on_first_reply=True).status_code == 200
    ticket = _ticket(client, requester)
    note = {"body": "Looking", "visibility": "internal"}
    client.post(f"/v1/tickets/{ticket['id']}/comments", headers=manager.headers, json=note)
    assert (
        client.get(f"/v1/tickets/{ticket['id']}", headers=agent.headers).json()["assignee_id"]
        is None
    )
    # The requester's own reply assigns nobody.
    client.post(f"/v1/tickets/{ticket['id']}/comments", headers=requester.headers, json=reply)
    first = client.post(f"/v1/tickets/{ticket['id']}/comments", headers=agent.headers, json=reply)
    assert first.status_code == 201, first.text
    read = client.get(f"/v1/tickets/{ticket['id']}", headers=agent.headers).json()
    assert read["assignee_id"] == agent.user_id
    # Only the first reply: a later one by someone else changes nothing.
    client.post(f"/v1/tickets/{ticket['id']}/comments", headers=manager.headers, json=reply)
    read = client.get(f"/v1/tickets/{ticket['id']}", headers=agent.headers).json()
    assert read["assignee_id"] == agent.user_id
    events = client.get(f"/v1/tickets/{ticket['id']}/events", headers=agent.headers)
    assert events.status_code == 200, events.text
    kinds = [e["type"] for e in events.json()["items"]]
    assert kinds.count("assigned") == 1, kinds


def test_bad_defaults_name_the_field_and_stay_in_their_tenant(client):
    org = make_tenant(client, roles=("agent",))
    other = make_tenant(client, roles=())
    foreign = _team(client, other.admin)
    refused = _put(client, org.admin, default_team_id=foreign)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["default_team_id"]
    bad = _put(client, org.admin, assign_on_first_reply="sometimes")
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["assign_on_first_reply"]
    agent = org.members["agent"]
    read = client.get(PATH, headers=agent.headers)
    assert read.status_code == 200
    put = client.put(
        PATH, headers={**agent.headers, "If-Match": read.headers["ETag"]}, json=read.json()
    )
    assert put.status_code == 403
