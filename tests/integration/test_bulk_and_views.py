"""Bulk actions on the queue (POST /v1/tickets/bulk) and saved views (/v1/views): limits,
per-row results, each row whole, visibility like the single routes, sharing rules and
isolation between tenants."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from servicedesk.tickets.bulk import MAX_TICKETS
from tests.conftest import Actor, TenantFixture, make_tenant


@pytest.fixture
def org(client: Any) -> TenantFixture:
    return make_tenant(client, roles=("agent", "manager", "requester"))


def _ticket(client: Any, actor: Actor, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/tickets", json={"title": "Bulk", **body}, headers=actor.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _team(client: Any, org: TenantFixture, *members: Actor) -> str:
    made = client.post(
        "/v1/teams", json={"name": f"T {uuid.uuid4().hex[:6]}"}, headers=org.admin.headers
    )
    assert made.status_code == 201, made.text
    team_id = str(made.json()["id"])
    for member in members:
        added = client.put(
            f"/v1/teams/{team_id}/members/{member.user_id}", headers=org.admin.headers
        )
        assert added.is_success, added.text
    return team_id


def _bulk(client: Any, actor: Actor, **body: Any) -> Any:
    return client.post("/v1/tickets/bulk", json=body, headers=actor.headers)


# --- bulk -------------------------------------------------------------------------------


def test_bulk_over_the_limit_is_422_naming_ticket_ids(client, org):
    ids = [str(uuid.uuid4()) for _ in range(MAX_TICKETS + 1)]
    response = _bulk(client, org.admin, ticket_ids=ids, action="status", status="pending")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["ticket_ids"]
    empty = _bulk(client, org.admin, ticket_ids=[], action="status", status="pending")
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "ticket_ids"
    one = str(uuid.uuid4())
    twice = _bulk(client, org.admin, ticket_ids=[one, one], action="status", status="pending")
    assert twice.status_code == 422 and twice.json()["errors"][0]["field"] == "ticket_ids"


def test_bulk_options_are_checked_per_action(client, org):
    ticket = _ticket(client, org.admin)
    missing = _bulk(client, org.admin, ticket_ids=[ticket["id"]], action="status")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "status"
    stray = _bulk(
        client, org.admin, ticket_ids=[ticket["id"]], action="add_tags", tags=["a"], status="open"
    )
    assert stray.status_code == 422 and stray.json()["errors"][0]["field"] == "status"
    nothing = _bulk(client, org.admin, ticket_ids=[ticket["id"]], action="assign")
    assert nothing.status_code == 422 and nothing.json()["errors"][0]["field"] == "assignee_id"
    bad_tag = _bulk(client, org.admin, ticket_ids=[ticket["id"]], action="add_tags", tags=["a b"])
    assert bad_tag.status_code == 422 and bad_tag.json()["errors"][0]["field"].startswith("tags")


def test_bulk_is_for_staff(client, org):
    ticket = _ticket(client, org.members["requester"])
    response = _bulk(
        client, org.members["requester"], ticket_ids=[ticket["id"]], action="add_tags", tags=["x"]
    )
    assert response.status_code == 403


def test_a_failing_row_leaves_the_others_done_and_itself_untouched(client, org, database):
    admin = org.admin
    first, second = _ticket(client, admin), _ticket(client, admin)
    full = _ticket(client, admin, tags=[f"t{i}" for i in range(20)])
    unknown = str(uuid.uuid4())
    response = _bulk(
        client,
        admin,
        ticket_ids=[first["id"], full["id"], unknown, second["id"]],
        action="add_tags",
        tags=["vip", "Network"],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["succeeded"], body["failed"]) == (2, 2)
    rows = {r["ticket_id"]: r for r in body["results"]}
    assert [r["ticket_id"] for r in body["results"]] == [
        first["id"],
        full["id"],
        unknown,
        second["id"],
    ]
    assert rows[first["id"]]["ok"] and rows[first["id"]]["version"] == first["version"] + 1
    assert rows[full["id"]]["status"] == 422
    assert rows[full["id"]]["problem"]["errors"][0]["field"] == "tags"
    assert rows[unknown]["status"] == 404 and rows[unknown]["problem"]["status"] == 404
    for done in (first, second):
        got = client.get(f"/v1/tickets/{done['id']}", headers=admin.headers).json()
        assert got["tags"] == ["vip", "network"]
    untouched = client.get(f"/v1/tickets/{full['id']}", headers=admin.headers).json()
    assert untouched["version"] == full["version"] and len(untouched["tags"]) == 20
    # Nothing of the failed row stays: no timeline entry, no outbox row for it.
    with database.connect("owner") as conn:
        events = conn.execute(
            "SELECT count(*) FROM ticket_events WHERE ticket_id = %s AND type = 'tags_changed'",
            (full["id"],),
        ).fetchone()
        outbox = conn.execute(
            "SELECT count(*) FROM outbox WHERE aggregate_id = %s AND event_type = 'ticket.updated'",
            (full["id"],),
        ).fetchone()
    assert events[0] == 0 and outbox[0] == 0
    removed = _bulk(
        client, admin, ticket_ids=[first["id"]], action="remove_tags", tags=["VIP"]
    ).json()
    assert removed["succeeded"] == 1
    got = client.get(f"/v1/tickets/{first['id']}", headers=admin.headers).json()
    assert got["tags"] == ["network"]


def test_rows_the_caller_cannot_see_answer_404_like_the_single_route(client, org):
    agent, admin = org.members["agent"], org.admin
    team = _team(client, org)  # the agent is not in it
    hidden = _ticket(client, admin, team_id=team)
    mine = _ticket(client, org.members["requester"])  # no team: the triage queue
    other = make_tenant(client, roles=())
    foreign = _ticket(client, other.admin)
    response = _bulk(
        client,
        agent,
        ticket_ids=[hidden["id"], mine["id"], foreign["id"]],
        action="status",
        status="pending",
    )
    assert response.status_code == 200, response.text
    statuses = [r["status"] for r in response.json()["results"]]
    assert statuses == [404, 200, 404]
    assert client.get(f"/v1/tickets/{hidden['id']}", headers=agent.headers).status_code == 404
    still = client.get(f"/v1/tickets/{foreign['id']}", headers=other.admin.headers).json()
    assert still["status"] == "new"


def test_bulk_assign_status_and_merge(client, org):
    admin, agent = org.admin, org.members["agent"]
    a, b, target = _ticket(client, admin), _ticket(client, admin), _ticket(client, admin)
    assigned = _bulk(
        client, admin, ticket_ids=[a["id"], b["id"]], action="assign", assignee_id=agent.user_id
    ).json()
    assert assigned["succeeded"] == 2
    # Reassigning needs no version per row: choosing the rows is the decision.
    again = _bulk(
        client, admin, ticket_ids=[a["id"]], action="assign", assignee_id=admin.user_id
    ).json()
    assert again["succeeded"] == 1
    assert client.get(f"/v1/tickets/{a['id']}", headers=admin.headers).json()["assignee_id"] == (
        admin.user_id
    )
    moved = _bulk(
        client, admin, ticket_ids=[a["id"], b["id"]], action="status", status="resolved"
    ).json()
    assert moved["succeeded"] == 2
    # A transition that is not allowed fails that row with the single route's 409.
    wrong = _bulk(client, admin, ticket_ids=[a["id"]], action="status", status="pending").json()
    assert wrong["results"][0]["status"] == 409
    merged = _bulk(
        client,
        admin,
        ticket_ids=[a["id"], target["id"]],
        action="merge",
        target_id=target["id"],
    ).json()
    assert [r["status"] for r in merged["results"]] == [200, 422]
    source = client.get(f"/v1/tickets/{a['id']}", headers=admin.headers).json()
    assert source["merged_into_id"] == target["id"] and source["status"] == "closed"


# --- saved views ------------------------------------------------------------------------


def _view(client: Any, actor: Actor, **body: Any) -> Any:
    return client.post(
        "/v1/views", json={"name": f"V {uuid.uuid4().hex[:6]}", **body}, headers=actor.headers
    )


def test_view_filters_are_checked_by_the_ticket_lists_model(client, org):
    agent = org.members["agent"]
    bad = _view(client, agent, filters={"status": ["nope"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("filters.status")
    unknown = _view(client, agent, filters={"colour": "red"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "filters.colour"
    made = _view(
        client,
        agent,
        filters={"status": ["open", "pending"], "assignee": "me", "sort": "-priority"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["filters"] == {
        "status": ["open", "pending"],
        "assignee": "me",
        "sort": "-priority",
    }
    # The stored filters are accepted by GET /v1/tickets as they are.
    params = made.json()["filters"]
    listed = client.get("/v1/tickets", params=params, headers=agent.headers)
    assert listed.status_code == 200, listed.text


def test_personal_views_are_their_owners_only(client, org):
    agent, manager = org.members["agent"], org.members["manager"]
    mine = _view(client, agent).json()
    assert client.get(f"/v1/views/{mine['id']}", headers=manager.headers).status_code == 404
    assert client.get(f"/v1/views/{mine['id']}", headers=org.admin.headers).status_code == 404
    assert mine["id"] not in [
        v["id"] for v in client.get("/v1/views", headers=manager.headers).json()["items"]
    ]
    assert mine["id"] in [
        v["id"] for v in client.get("/v1/views", headers=agent.headers).json()["items"]
    ]
    dup = client.post("/v1/views", json={"name": mine["name"].upper()}, headers=agent.headers)
    assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "name"
    # A requester keeps personal views too (the My requests list), never shared ones.
    requester = org.members["requester"]
    assert _view(client, requester).status_code == 201
    shared = _view(client, requester, scope="tenant")
    assert shared.status_code == 403 and shared.json()["errors"][0]["field"] == "scope"


def test_team_and_tenant_views_follow_the_sharing_rules(client, org):
    agent, manager, requester = (org.members[r] for r in ("agent", "manager", "requester"))
    team = _team(client, org, agent)
    not_mine = _team(client, org)
    missing = _view(client, agent, scope="team")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "team_id"
    refused = _view(client, agent, scope="team", team_id=not_mine)
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "team_id"
    no_team = _view(client, agent, scope="team", team_id=str(uuid.uuid4()))
    assert no_team.status_code == 422 and no_team.json()["errors"][0]["field"] == "team_id"
    team_view = _view(client, agent, scope="team", team_id=team)
    assert team_view.status_code == 201, team_view.text
    tenant_refused = _view(client, manager, scope="tenant")
    assert tenant_refused.status_code == 403
    tenant_view = _view(client, org.admin, scope="tenant").json()
    path = f"/v1/views/{team_view.json()['id']}"
    # The team's view: its members and admins; not a manager outside it, nor a requester.
    assert client.get(path, headers=org.admin.headers).status_code == 200
    assert client.get(path, headers=manager.headers).status_code == 404
    assert client.get(path, headers=requester.headers).status_code == 404
    # The tenant's: all staff, never requesters.
    assert client.get(f"/v1/views/{tenant_view['id']}", headers=manager.headers).status_code == 200
    assert (
        client.get(f"/v1/views/{tenant_view['id']}", headers=requester.headers).status_code == 404
    )
    # Only its owner or an admin changes a shared view.
    other_agent_team = _team(client, org, manager)
    del other_agent_team
    version = client.get(path, headers=agent.headers).json()["version"]
    no_version = client.patch(path, json={"name": "Renamed"}, headers=agent.headers)
    assert no_version.status_code == 428
    renamed = client.patch(
        path, json={"name": "Renamed", "version": version}, headers=agent.headers
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    tenant_path = f"/v1/views/{tenant_view['id']}"
    forbidden = client.patch(
        tenant_path, json={"name": "x", "version": tenant_view["version"]}, headers=manager.headers
    )
    assert forbidden.status_code == 403
    assert client.delete(tenant_path, headers=manager.headers).status_code == 403
    # Back to personal: the team no longer sees it.
    personal = client.patch(
        path,
        json={"scope": "personal", "version": renamed.json()["version"]},
        headers=agent.headers,
    )
    assert personal.status_code == 200 and personal.json()["team_id"] is None
    assert client.get(path, headers=org.admin.headers).status_code == 404
    assert client.delete(path, headers=agent.headers).status_code == 204
    assert client.get(path, headers=agent.headers).status_code == 404


def test_views_are_isolated_between_tenants(client, org):
    other = make_tenant(client, roles=())
    shared = _view(client, org.admin, scope="tenant").json()
    assert client.get(f"/v1/views/{shared['id']}", headers=other.admin.headers).status_code == 404
    assert (
        client.delete(f"/v1/views/{shared['id']}", headers=other.admin.headers).status_code == 404
    )
    listed = client.get("/v1/views", headers=other.admin.headers).json()["items"]
    assert shared["id"] not in [v["id"] for v in listed]
