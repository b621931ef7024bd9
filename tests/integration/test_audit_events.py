"""The audit log through the API (REST and GraphQL's auditEvents) on the real database: what an audited action wrote shows
up with its actor, newest first; filters (actor, action exact and prefix, entity, time
range) and keyset pages; tenants never see each other's rows; only admins read it; bad
input is a 422 naming the field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import make_tenant
from tests.integration.test_graphql import gql, ok

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent", "manager", "requester"))


@pytest.fixture(scope="module")
def other(client):
    return make_tenant(client, roles=())


def _team(client, actor, name: str | None = None) -> dict[str, Any]:
    made = client.post(
        "/v1/teams", headers=actor.headers, json={"name": name or f"T {uuid.uuid4().hex[:8]}"}
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def _events(client, actor, **params: Any) -> Any:
    return client.get("/v1/audit-events", headers=actor.headers, params=params)


def test_an_audited_action_shows_up_with_its_actor(client, org):
    admin, manager = org.members["admin"], org.members["manager"]
    team = _team(client, manager)
    got = _events(client, admin, entity_type="team", entity_id=team["id"])
    assert got.status_code == 200, got.text
    [event] = got.json()["items"]
    assert event["action"] == "team.created"
    assert event["entity_type"] == "team" and event["entity_id"] == team["id"]
    assert event["actor"] == {"id": manager.user_id, "name": "Manager"}
    assert event["data"]["after"]["name"] == team["name"]
    assert event["request_id"]
    one = client.get(f"/v1/audit-events/{event['id']}", headers=admin.headers)
    assert one.status_code == 200, one.text
    assert one.json() == event


def test_filters_and_pages_newest_first(client):
    fresh = make_tenant(client, roles=("manager",))  # no other team.* rows
    admin, manager = fresh.members["admin"], fresh.members["manager"]
    start = datetime.now(UTC) - timedelta(seconds=1)
    made = [_team(client, manager)["id"] for _ in range(3)]
    by_manager = _events(client, admin, actor_id=manager.user_id, action="team.created")
    assert by_manager.status_code == 200, by_manager.text
    ids = [e["entity_id"] for e in by_manager.json()["items"]]
    assert ids[:3] == made[::-1]
    assert all(e["actor"]["id"] == manager.user_id for e in by_manager.json()["items"])
    # A prefix ending in '.' matches every action under it; without the dot it is exact.
    prefixed = _events(client, admin, action="team.", **{"from": start.isoformat()})
    assert {e["entity_id"] for e in prefixed.json()["items"]} == set(made)
    assert _events(client, admin, action="team").json()["items"] == []
    # LIKE's wildcards are only characters in a prefix.
    assert _events(client, admin, action="%.").json()["items"] == []
    # Pages of two over the three, then the end: no row twice, none left out.
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"action": "team.created", "from": start.isoformat(), "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = _events(client, admin, **params)
        assert page.status_code == 200, page.text
        seen += [e["entity_id"] for e in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == made[::-1]
    # A range that ended before they were made holds none of them.
    before = _events(
        client,
        admin,
        **{"from": (start - timedelta(days=2)).isoformat(), "to": start.isoformat()},
    )
    assert not set(made) & {e["entity_id"] for e in before.json()["items"]}


def test_another_tenants_rows_are_never_seen(client, org, other):
    mine = _team(client, org.members["admin"])
    theirs = _events(client, other.members["admin"], entity_id=mine["id"])
    assert theirs.status_code == 200 and theirs.json()["items"] == []
    listed = _events(client, other.members["admin"], limit=100).json()["items"]
    assert all(e["entity_id"] != mine["id"] for e in listed)
    event = _events(client, org.members["admin"], entity_id=mine["id"]).json()["items"][0]
    gone = client.get(f"/v1/audit-events/{event['id']}", headers=other.members["admin"].headers)
    assert gone.status_code == 404, gone.text
    assert gone.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("role", ["agent", "manager", "requester"])
def test_only_admins_read_it(client, org, role):
    actor = org.members[role]
    assert _events(client, actor).status_code == 403
    assert client.get("/v1/audit-events/1", headers=actor.headers).status_code == 403


def _field(response: Any) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    return {str(e.get("field") or e.get("pointer") or e.get("loc")) for e in body["errors"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"action": "x" * 101}, "action"),
        ({"entity_type": "x" * 201}, "entity_type"),
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"from": "2025-01-01T00:00:00Z", "to": "2026-01-03T00:00:00Z"}, "to"),
        ({"from": "2026-01-01T00:00:00"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"actor_id": "nobody"}, "actor_id"),
        ({"limit": 101}, "limit"),
        ({"cursor": "bm9wZQ"}, "cursor"),
    ],
)
def test_bad_input_names_the_field(client, org, params, field):
    got = _events(client, org.members["admin"], **params)
    assert any(field in f for f in _field(got)), got.text


def test_a_bad_id_is_a_422_or_404_never_a_database_error(client, org):
    h = org.members["admin"].headers
    assert client.get("/v1/audit-events/99999999999999", headers=h).status_code == 404
    assert client.get(f"/v1/audit-events/{2**63}", headers=h).status_code == 422
    assert client.get("/v1/audit-events/0", headers=h).status_code == 422


AUDIT_QUERY = (
    "query($filter: JSON, $first: Int, $after: String) { auditEvents(filter: $filter,"
    " first: $first, after: $after) { edges { node { id action entityType entityId"
    " actor { id name } data requestId createdAt } } pageInfo { hasNextPage endCursor } } }"
)


def test_graphql_audit_events_equal_rest_for_an_admin_and_are_refused_to_others(client, org):
    admin = org.members["admin"]
    team = _team(client, org.members["manager"])
    _team(client, admin)
    for params in ({}, {"action": "team."}, {"entity_id": team["id"]}):
        rest = _events(client, admin, limit=5, **params).json()
        graph = ok(gql(client, admin, AUDIT_QUERY, filter=params, first=5))["auditEvents"]
        nodes = [e["node"] for e in graph["edges"]]
        assert [n["id"] for n in nodes] == [str(e["id"]) for e in rest["items"]]
        assert [n["action"] for n in nodes] == [e["action"] for e in rest["items"]]
        assert [n["data"] for n in nodes] == [e["data"] for e in rest["items"]]
        assert [n["actor"] for n in nodes] == [e["actor"] for e in rest["items"]]
        assert graph["pageInfo"]["endCursor"] == rest["next_cursor"]
    # The next page through GraphQL is REST's next page.
    first = _events(client, admin, limit=1).json()
    second = ok(gql(client, admin, AUDIT_QUERY, first=1, after=first["next_cursor"]))
    rest_second = _events(client, admin, limit=1, cursor=first["next_cursor"]).json()
    assert second["auditEvents"]["edges"][0]["node"]["id"] == str(rest_second["items"][0]["id"])
    for role in ("agent", "manager", "requester"):
        refused = gql(client, org.members[role], AUDIT_QUERY)
        assert refused.json()["errors"][0]["extensions"]["status"] == 403
    for bad, field in (
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"nope": 1}, "nope"),
    ):
        error = gql(client, admin, AUDIT_QUERY, filter=bad).json()["errors"][0]
        assert error["extensions"]["status"] == 422, error
        assert field in str(error["extensions"]), error
