"""Participants, invitations, links and merge."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import PASSWORD, Actor, login, make_tenant


def _ticket(client, actor, **body):
    response = client.post("/v1/tickets", json={"title": "Collab", **body}, headers=actor.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _requester(client, org) -> Actor:
    email = f"r-{uuid.uuid4().hex[:6]}@{org.slug}.example"
    created = client.post(
        "/v1/users",
        headers=org.admin.headers,
        json={"email": email, "name": "R", "role": "requester", "password": PASSWORD},
    )
    token = login(client, email).json()["access_token"]
    return Actor(email, created.json()["id"], org.tenant_id, org.slug, "requester", token)


@pytest.fixture
def org(client):
    return make_tenant(client, roles=("agent", "requester"))


def test_invitation_accept_makes_a_participant_who_can_see_and_comment(client, org):
    owner, friend = org.members["requester"], _requester(client, org)
    ticket = _ticket(client, owner)
    path = f"/v1/tickets/{ticket['id']}"
    assert client.get(path, headers=friend.headers).status_code == 404
    invited = client.post(
        f"{path}/invitations", json={"user_id": friend.user_id}, headers=owner.headers
    )
    assert invited.status_code == 201, invited.text
    mine = client.get("/v1/ticket-invitations", headers=friend.headers).json()
    assert [i["id"] for i in mine] == [invited.json()["id"]]
    again = client.post(
        f"{path}/invitations", json={"user_id": friend.user_id}, headers=owner.headers
    )
    assert again.status_code == 409
    # only the invitee accepts
    assert (
        client.post(
            f"{path}/invitations/{invited.json()['id']}/accept",
            headers=org.members["agent"].headers,
        ).status_code
        == 404
    )
    accepted = client.post(
        f"{path}/invitations/{invited.json()['id']}/accept", headers=friend.headers
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert client.get(path, headers=friend.headers).status_code == 200
    assert (
        client.post(f"{path}/comments", json={"body": "me too"}, headers=friend.headers).status_code
        == 201
    )
    roles = {
        p["user_id"]: p["role"]
        for p in client.get(f"{path}/participants", headers=friend.headers).json()
    }
    assert roles[friend.user_id] == "participant" and roles[owner.user_id] == "requester"
    # events about the invitation are personal to invitee and inviter
    events = client.get(f"{path}/events", headers=org.members["agent"].headers).json()["items"]
    assert "invitation_created" not in [e["type"] for e in events]
    mine_events = client.get(f"{path}/events", headers=friend.headers).json()["items"]
    assert "invitation_accepted" in [e["type"] for e in mine_events]


def test_declined_and_cancelled_invitations(client, org):
    owner, friend, other = (
        org.members["requester"],
        _requester(client, org),
        _requester(client, org),
    )
    ticket = _ticket(client, owner)
    path = f"/v1/tickets/{ticket['id']}"
    inv = client.post(
        f"{path}/invitations", json={"user_id": friend.user_id}, headers=owner.headers
    ).json()
    declined = client.post(f"{path}/invitations/{inv['id']}/decline", headers=friend.headers)
    assert declined.json()["status"] == "declined"
    assert client.get(path, headers=friend.headers).status_code == 404
    inv2 = client.post(
        f"{path}/invitations", json={"user_id": other.user_id}, headers=owner.headers
    ).json()
    cancelled = client.post(f"{path}/invitations/{inv2['id']}/cancel", headers=owner.headers)
    assert cancelled.json()["status"] == "cancelled"
    late = client.post(f"{path}/invitations/{inv2['id']}/accept", headers=other.headers)
    assert late.status_code == 409


def test_invitation_is_cancelled_when_staff_add_the_user_directly(client, org):
    owner, friend = org.members["requester"], _requester(client, org)
    ticket = _ticket(client, owner)
    path = f"/v1/tickets/{ticket['id']}"
    inv = client.post(
        f"{path}/invitations", json={"user_id": friend.user_id}, headers=owner.headers
    ).json()
    added = client.post(
        f"{path}/participants",
        json={"user_id": friend.user_id, "kind": "cc"},
        headers=org.members["agent"].headers,
    )
    assert added.status_code == 201, added.text
    listed = client.get(f"{path}/invitations", headers=org.members["agent"].headers).json()
    assert {i["id"]: i["status"] for i in listed}[inv["id"]] == "cancelled"
    assert (
        client.post(
            f"{path}/participants",
            json={"user_id": friend.user_id},
            headers=org.members["requester"].headers,
        ).status_code
        == 403
    )


def test_staff_acting_on_a_ticket_become_participants(client, org):
    ticket = _ticket(client, org.members["requester"])
    agent = org.members["agent"]
    client.post(
        f"/v1/tickets/{ticket['id']}/comments", json={"body": "looking"}, headers=agent.headers
    )
    roles = {
        p["user_id"]: p["role"]
        for p in client.get(
            f"/v1/tickets/{ticket['id']}/participants", headers=agent.headers
        ).json()
    }
    assert roles[agent.user_id] == "participant"


def test_links_and_no_parent_cycles(client, org):
    agent = org.members["agent"]
    a, b, c = (_ticket(client, org.members["requester"], title=t) for t in ("A", "B", "C"))
    assert (
        client.post(
            f"/v1/tickets/{a['id']}/links",
            json={"target_id": b["id"], "kind": "parent_of"},
            headers=agent.headers,
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/v1/tickets/{b['id']}/links",
            json={"target_id": c["id"], "kind": "parent_of"},
            headers=agent.headers,
        ).status_code
        == 201
    )
    cycle = client.post(
        f"/v1/tickets/{c['id']}/links",
        json={"target_id": a["id"], "kind": "parent_of"},
        headers=agent.headers,
    )
    assert cycle.status_code == 422 and cycle.json()["errors"][0]["field"] == "target_id"
    via_child = client.post(
        f"/v1/tickets/{a['id']}/links",
        json={"target_id": c["id"], "kind": "child_of"},
        headers=agent.headers,
    )
    assert via_child.status_code == 422
    self_link = client.post(
        f"/v1/tickets/{a['id']}/links",
        json={"target_id": a["id"], "kind": "relates_to"},
        headers=agent.headers,
    )
    assert self_link.status_code == 422
    related = client.post(
        f"/v1/tickets/{a['id']}/links",
        json={"target_id": c["id"], "kind": "relates_to"},
        headers=agent.headers,
    )
    assert related.status_code == 201
    listed = client.get(f"/v1/tickets/{c['id']}/links", headers=agent.headers).json()
    assert {x["kind"] for x in listed} == {"parent_of", "relates_to"}
    removed = client.delete(
        f"/v1/tickets/{c['id']}/links/{related.json()['id']}", headers=agent.headers
    )
    assert removed.status_code == 204
    types = [
        e["type"]
        for e in client.get(f"/v1/tickets/{a['id']}/events", headers=agent.headers).json()["items"]
    ]
    assert "linked" in types and "unlinked" in types


def test_merge_closes_source_and_keeps_the_conversation_reachable(client, org):
    agent = org.members["agent"]
    other_requester = _requester(client, org)
    target = _ticket(client, org.members["requester"], title="Wi-Fi down")
    source = _ticket(client, other_requester, title="No wireless")
    client.post(
        f"/v1/tickets/{source['id']}/comments",
        json={"body": "since 9am"},
        headers=other_requester.headers,
    )
    merged = client.post(
        f"/v1/tickets/{source['id']}/merge", json={"target_id": target["id"]}, headers=agent.headers
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "closed" and merged.json()["merged_into_id"] == target["id"]
    bodies = [
        c["body"]
        for c in client.get(f"/v1/tickets/{target['id']}/comments", headers=agent.headers).json()[
            "items"
        ]
    ]
    assert "since 9am" in bodies
    # the source's requester follows the target now
    assert (
        client.get(f"/v1/tickets/{target['id']}", headers=other_requester.headers).status_code
        == 200
    )
    for ticket_id in (source["id"], target["id"]):
        types = [
            e["type"]
            for e in client.get(f"/v1/tickets/{ticket_id}/events", headers=agent.headers).json()[
                "items"
            ]
        ]
        assert "merged" in types
    into_self = client.post(
        f"/v1/tickets/{target['id']}/merge", json={"target_id": target["id"]}, headers=agent.headers
    )
    assert into_self.status_code == 422 and into_self.json()["errors"][0]["field"] == "target_id"
    twice = client.post(
        f"/v1/tickets/{source['id']}/merge", json={"target_id": target["id"]}, headers=agent.headers
    )
    assert twice.status_code == 409


def test_cross_tenant_targets_are_unknown(client, org):
    other = make_tenant(client, roles=("requester",))
    foreign = _ticket(client, other.members["requester"])
    mine = _ticket(client, org.members["requester"])
    response = client.post(
        f"/v1/tickets/{mine['id']}/links",
        json={"target_id": foreign["id"], "kind": "relates_to"},
        headers=org.members["agent"].headers,
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "target_id"
