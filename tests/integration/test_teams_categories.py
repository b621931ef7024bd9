"""Teams and the service catalog: CRUD, roles, versions, members, assignment, bad input."""

from __future__ import annotations

import threading
import uuid

import pytest

from servicedesk.catalog.service import get_active_category
from servicedesk.platform import db
from servicedesk.teams.service import pick_assignee
from servicedesk.tickets.states import ACTIVE_STATUSES
from tests.conftest import PASSWORD, make_tenant

ROLES = ("manager", "agent", "requester")


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=ROLES)


def _count(database, table: str, tenant_id: str) -> int:
    with database.connect("owner") as conn:
        return conn.execute(
            f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (tenant_id,)
        ).fetchone()[0]


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def _fields(body: dict) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def _name(prefix: str = "Team") -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def _team(client, actor, **body) -> dict:
    response = client.post("/v1/teams", headers=actor.headers, json={"name": _name(), **body})
    assert response.status_code == 201, response.text
    return response.json()


def _category(client, actor, **body) -> dict:
    response = client.post(
        "/v1/categories", headers=actor.headers, json={"name": _name("Cat"), **body}
    )
    assert response.status_code == 201, response.text
    return response.json()


def _agent(client, tenant, role: str = "agent") -> str:
    created = client.post(
        "/v1/users",
        headers=tenant.admin.headers,
        json={
            "email": f"{role}-{uuid.uuid4().hex[:8]}@{tenant.slug}.example",
            "name": role.title(),
            "role": role,
            "password": PASSWORD,
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _deactivate(client, tenant, user_id: str) -> None:
    response = client.patch(
        f"/v1/users/{user_id}",
        headers=tenant.admin.headers,
        json={"active": False, "version": 1},
    )
    assert response.status_code == 200, response.text


def _add(client, actor, team_id: str, user_id: str):
    return client.put(f"/v1/teams/{team_id}/members/{user_id}", headers=actor.headers)


def _pick(tenant_id: str, team_id: str) -> uuid.UUID | None:
    with db.transaction() as session:
        db.set_tenant(session, tenant_id=uuid.UUID(tenant_id), user_id=None)
        return pick_assignee(
            session,
            tenant_id=uuid.UUID(tenant_id),
            team_id=uuid.UUID(team_id),
            open_statuses=ACTIVE_STATUSES,
        )


def _audit(database, entity_id: str) -> list[tuple[str, dict]]:
    with database.connect("owner") as conn:
        return conn.execute(
            "SELECT action, data FROM audit_log WHERE entity_id = %s ORDER BY created_at, id",
            (entity_id,),
        ).fetchall()


# --- teams ---------------------------------------------------------------------------


def test_me_lists_the_callers_active_teams(client, org):
    manager, agent = org.members["manager"], org.members["agent"]
    first, second = _team(client, manager, name="A " + _name()), _team(client, manager)
    for team in (first, second):
        assert _add(client, manager, team["id"], agent.user_id).status_code in (200, 201)
    teams = client.get("/v1/me", headers=agent.headers).json()["teams"]
    assert {t["id"] for t in teams} >= {first["id"], second["id"]}
    assert {t["name"] for t in teams} >= {first["name"], second["name"]}
    # Not a member: not listed; another member's teams are not the manager's.
    assert first["id"] not in {
        t["id"] for t in client.get("/v1/me", headers=manager.headers).json()["teams"]
    }
    removed = client.delete(
        f"/v1/teams/{second['id']}/members/{agent.user_id}", headers=manager.headers
    )
    assert removed.status_code in (200, 204), removed.text
    after = client.get("/v1/me", headers=agent.headers).json()["teams"]
    assert second["id"] not in {t["id"] for t in after} and first["id"] in {t["id"] for t in after}


def test_manager_creates_a_team_and_agents_read_it(client, org):
    manager, agent = org.members["manager"], org.members["agent"]
    team = _team(
        client, manager, description="Laptops and phones", assignment_strategy="round_robin"
    )
    assert team["assignment_strategy"] == "round_robin" and team["version"] == 1
    assert team["active"] is True
    got = client.get(f"/v1/teams/{team['id']}", headers=agent.headers)
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    assert got.json()["members"] == [] and got.json()["name"] == team["name"]
    listed = client.get("/v1/teams?limit=100", headers=agent.headers).json()["items"]
    assert team["id"] in {t["id"] for t in listed}


def test_roles_gate_teams_and_categories(client, org):
    requester, agent, manager = (org.members[r] for r in ("requester", "agent", "manager"))
    assert client.get("/v1/teams", headers=requester.headers).status_code == 403
    team = _team(client, manager)
    assert client.get(f"/v1/teams/{team['id']}", headers=requester.headers).status_code == 403
    for actor in (requester, agent):
        assert (
            client.post("/v1/teams", headers=actor.headers, json={"name": _name()}).status_code
            == 403
        )
        denied = client.post("/v1/categories", headers=actor.headers, json={"name": _name()})
        assert _problem(denied, 403)["type"].endswith("/forbidden")
        patched = client.patch(
            f"/v1/teams/{team['id']}", headers=actor.headers, json={"name": "x", "version": 1}
        )
        assert patched.status_code == 403
        assert _add(client, actor, team["id"], agent.user_id).status_code == 403
    assert client.get("/v1/categories", headers=requester.headers).status_code == 200


def test_team_names_are_unique_per_tenant_ignoring_case(client, org, database):
    manager = org.members["manager"]
    team = _team(client, manager)
    before = _count(database, "teams", org.tenant_id)
    dup = client.post("/v1/teams", headers=manager.headers, json={"name": team["name"].upper()})
    assert _fields(_problem(dup, 409)) == {"name"}
    assert _count(database, "teams", org.tenant_id) == before
    other = _team(client, manager)
    rename = client.patch(
        f"/v1/teams/{other['id']}",
        headers=manager.headers,
        json={"name": team["name"], "version": 1},
    )
    assert _fields(_problem(rename, 409)) == {"name"}
    # the same name is free in another tenant
    elsewhere = make_tenant(client, roles=())
    assert (
        client.post(
            "/v1/teams", headers=elsewhere.admin.headers, json={"name": team["name"]}
        ).status_code
        == 201
    )


def test_patch_team_needs_the_current_version_and_is_audited(client, org, database):
    manager = org.members["manager"]
    team = _team(client, manager)
    path = f"/v1/teams/{team['id']}"
    missing = client.patch(path, headers=manager.headers, json={"description": "x"})
    assert _fields(_problem(missing, 428)) == {"If-Match"}
    ok = client.patch(
        path,
        headers={**manager.headers, "If-Match": '"1"'},
        json={"description": "Second line", "assignment_strategy": "least_open"},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2 and ok.headers["etag"] == '"2"'
    assert ok.json()["assignment_strategy"] == "least_open"
    stale = client.patch(path, headers=manager.headers, json={"active": False, "version": 1})
    assert _problem(stale, 412)["current_version"] == 2
    assert client.get(path, headers=manager.headers).json()["active"] is True
    actions = _audit(database, team["id"])
    assert [a for a, _ in actions] == ["team.created", "team.updated"]
    assert actions[1][1]["before"] == {"description": "", "assignment_strategy": "manual"}
    assert actions[1][1]["after"] == {
        "description": "Second line",
        "assignment_strategy": "least_open",
    }


def test_list_teams_pages_by_name_and_filters_active(client):
    tenant = make_tenant(client, roles=())
    names = ["delta", "Alpha", "charlie", "Bravo", "echo"]
    ids = {n: _team(client, tenant.admin, name=n)["id"] for n in names}
    off = client.patch(
        f"/v1/teams/{ids['charlie']}",
        headers=tenant.admin.headers,
        json={"active": False, "version": 1},
    )
    assert off.status_code == 200
    seen, cursor = [], None
    while True:
        url = "/v1/teams?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=tenant.admin.headers).json()
        seen.extend(t["name"] for t in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Alpha", "Bravo", "charlie", "delta", "echo"]
    active = client.get("/v1/teams?active=true", headers=tenant.admin.headers).json()["items"]
    assert [t["name"] for t in active] == ["Alpha", "Bravo", "delta", "echo"]
    inactive = client.get("/v1/teams?active=false", headers=tenant.admin.headers).json()
    assert [t["name"] for t in inactive["items"]] == ["charlie"]
    bad = client.get("/v1/teams?cursor=not-a-cursor", headers=tenant.admin.headers)
    assert _fields(_problem(bad, 422)) == {"cursor"}


def test_create_team_with_idempotency_key_replays(client, org, database):
    manager = org.members["manager"]
    key = {"Idempotency-Key": f"team-{uuid.uuid4().hex}"}
    body = {"name": _name()}
    first = client.post("/v1/teams", headers={**manager.headers, **key}, json=body)
    before = _count(database, "teams", org.tenant_id)
    again = client.post("/v1/teams", headers={**manager.headers, **key}, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert _count(database, "teams", org.tenant_id) == before


def test_members_must_be_active_staff_of_the_tenant(client, org, database):
    manager, agent, requester = (org.members[r] for r in ("manager", "agent", "requester"))
    team = _team(client, manager)
    added = _add(client, manager, team["id"], agent.user_id)
    assert added.status_code == 200, added.text
    members = added.json()["members"]
    assert [(m["user_id"], m["role"], m["active"]) for m in members] == [
        (agent.user_id, "agent", True)
    ]
    assert _add(client, manager, team["id"], agent.user_id).status_code == 200  # idempotent
    assert _add(client, manager, team["id"], manager.user_id).status_code == 200
    gone = _agent(client, org)
    _deactivate(client, org, gone)
    other = make_tenant(client, roles=("agent",))
    before = _count(database, "team_members", org.tenant_id)
    for user_id in (requester.user_id, gone, str(uuid.uuid4()), other.members["agent"].user_id):
        refused = _add(client, manager, team["id"], user_id)
        assert _fields(_problem(refused, 422)) == {"user_id"}, user_id
    assert _count(database, "team_members", org.tenant_id) == before
    removed = client.delete(
        f"/v1/teams/{team['id']}/members/{agent.user_id}", headers=manager.headers
    )
    assert removed.status_code == 204
    again = client.delete(
        f"/v1/teams/{team['id']}/members/{agent.user_id}", headers=manager.headers
    )
    assert again.status_code == 404
    detail = client.get(f"/v1/teams/{team['id']}", headers=manager.headers).json()
    assert [m["user_id"] for m in detail["members"]] == [manager.user_id]
    actions = [a for a, _ in _audit(database, team["id"])]
    assert actions == [
        "team.created",
        "team.member_added",
        "team.member_added",
        "team.member_removed",
    ]


def test_put_reactivates_an_inactive_team_member(client, org, database):
    manager, agent = org.members["manager"], org.members["agent"]
    team = _team(client, manager)
    assert _add(client, manager, team["id"], agent.user_id).status_code == 200
    with database.connect("owner") as conn:
        conn.execute("UPDATE team_members SET active = false WHERE team_id = %s", (team["id"],))
    detail = client.get(f"/v1/teams/{team['id']}", headers=manager.headers).json()
    assert detail["members"][0]["active"] is False
    again = _add(client, manager, team["id"], agent.user_id)
    assert again.json()["members"][0]["active"] is True
    audited = _audit(database, team["id"])[-1]
    assert audited[0] == "team.member_added" and audited[1]["before"] == {"active": False}


def test_other_tenants_ids_answer_404(client):
    a = make_tenant(client, roles=("agent",))
    b = make_tenant(client, roles=("agent",))
    team = _team(client, a.admin)
    category = _category(client, a.admin)
    a_agent, b_agent = a.members["agent"].user_id, b.members["agent"].user_id
    calls = [
        ("GET", f"/v1/teams/{team['id']}", None),
        ("PATCH", f"/v1/teams/{team['id']}", {"name": "Stolen", "version": 1}),
        ("PUT", f"/v1/teams/{team['id']}/members/{b_agent}", None),
        ("DELETE", f"/v1/teams/{team['id']}/members/{a_agent}", None),
        ("GET", f"/v1/categories/{category['id']}", None),
        ("PATCH", f"/v1/categories/{category['id']}", {"name": "Stolen", "version": 1}),
    ]
    for method, path, body in calls:
        response = client.request(method, path, json=body, headers=b.admin.headers)
        _problem(response, 404)
    assert team["id"] not in {
        t["id"] for t in client.get("/v1/teams", headers=b.admin.headers).json()["items"]
    }
    assert category["id"] not in {
        c["id"] for c in client.get("/v1/categories", headers=b.admin.headers).json()["items"]
    }
    borrowed = client.post(
        "/v1/categories",
        headers=b.admin.headers,
        json={"name": _name(), "default_team_id": team["id"]},
    )
    assert _fields(_problem(borrowed, 422)) == {"default_team_id"}
    assert (
        client.get(f"/v1/teams/{team['id']}", headers=a.admin.headers).json()["name"]
        == (team["name"])
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x" * 101}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "ok", "assignment_strategy": "random"}, "assignment_strategy"),
        ({"name": "ok", "description": "d" * 2001}, "description"),
        ({"name": "ok", "last_assigned_user_id": str(uuid.uuid4())}, "last_assigned_user_id"),
        ({}, "name"),
    ],
)
def test_bad_team_input_is_named_and_nothing_is_written(client, org, database, body, field):
    before = (
        _count(database, "teams", org.tenant_id),
        _count(database, "audit_log", org.tenant_id),
    )
    response = client.post("/v1/teams", headers=org.members["manager"].headers, json=body)
    assert field in _fields(_problem(response, 422))
    after = (_count(database, "teams", org.tenant_id), _count(database, "audit_log", org.tenant_id))
    assert after == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"active": None}, "active"),
        ({"assignment_strategy": "random"}, "assignment_strategy"),
        ({"version": 0}, "version"),
    ],
)
def test_bad_team_patch_is_named_and_changes_nothing(client, org, body, field):
    manager = org.members["manager"]
    team = _team(client, manager)
    response = client.patch(
        f"/v1/teams/{team['id']}", headers={**manager.headers, "If-Match": '"1"'}, json=body
    )
    assert field in _fields(_problem(response, 422))
    assert client.get(f"/v1/teams/{team['id']}", headers=manager.headers).json()["version"] == 1


# --- automatic assignment ----------------------------------------------------------------


def _staffed_team(client, tenant, strategy: str, count: int = 3) -> tuple[dict, list[str]]:
    team = _team(client, tenant.admin, assignment_strategy=strategy)
    agents = [_agent(client, tenant) for _ in range(count)]
    for user_id in agents:
        assert _add(client, tenant.admin, team["id"], user_id).status_code == 200
    return team, sorted(agents, key=uuid.UUID)


def test_round_robin_rotates_over_active_agents_in_user_id_order(client):
    tenant = make_tenant(client, roles=())
    team, agents = _staffed_team(client, tenant, "round_robin")
    _deactivate(client, tenant, agents[1])
    picks = [str(_pick(tenant.tenant_id, team["id"])) for _ in range(5)]
    assert picks == [agents[0], agents[2], agents[0], agents[2], agents[0]]
    # a member added later joins the rotation at its place in the order
    late = _agent(client, tenant, role="manager")
    assert _add(client, tenant.admin, team["id"], late).status_code == 200
    ring = sorted([agents[0], agents[2], late], key=uuid.UUID)
    following = [str(_pick(tenant.tenant_id, team["id"])) for _ in range(3)]
    start = ring.index(agents[0]) + 1
    assert following == [ring[(start + i) % 3] for i in range(3)]
    # the automatic rotation is not an edit: the team's version is untouched
    assert (
        client.get(f"/v1/teams/{team['id']}", headers=tenant.admin.headers).json()["version"] == 1
    )


def test_round_robin_skips_removed_and_inactive_team_members(client, database):
    tenant = make_tenant(client, roles=())
    team, agents = _staffed_team(client, tenant, "round_robin")
    assert str(_pick(tenant.tenant_id, team["id"])) == agents[0]
    removed = client.delete(
        f"/v1/teams/{team['id']}/members/{agents[1]}", headers=tenant.admin.headers
    )
    assert removed.status_code == 204
    with database.connect("owner") as conn:
        conn.execute(
            "UPDATE team_members SET active = false WHERE team_id = %s AND user_id = %s",
            (team["id"], agents[2]),
        )
    assert [str(_pick(tenant.tenant_id, team["id"])) for _ in range(2)] == [agents[0]] * 2


def test_concurrent_round_robin_picks_take_turns(client):
    tenant = make_tenant(client, roles=())
    team, agents = _staffed_team(client, tenant, "round_robin", count=2)
    tid, team_id = uuid.UUID(tenant.tenant_id), uuid.UUID(team["id"])
    second: list[uuid.UUID | None] = []
    with db.transaction() as session:
        db.set_tenant(session, tenant_id=tid, user_id=None)
        first = pick_assignee(
            session, tenant_id=tid, team_id=team_id, open_statuses=ACTIVE_STATUSES
        )
        worker = threading.Thread(target=lambda: second.append(_pick(tenant.tenant_id, team["id"])))
        worker.start()
        worker.join(timeout=0.5)
        assert worker.is_alive(), "the second pick must wait for the first transaction"
    worker.join(timeout=10)
    assert [str(first), str(second[0])] == agents


def _insert_tickets(database, tenant, assignee: str | None, statuses: list[str]) -> None:
    with database.connect("owner") as conn:
        for status in statuses:
            conn.execute(
                "INSERT INTO tickets (tenant_id, number, title, priority, status,"
                " requester_id, assignee_id) VALUES (%s, %s, 'Printer', 'low', %s, %s, %s)",
                (
                    tenant.tenant_id,
                    f"T-{uuid.uuid4().hex[:10]}",
                    status,
                    tenant.admin.user_id,
                    assignee,
                ),
            )


def test_least_open_picks_the_member_with_fewest_open_tickets(client, database):
    tenant = make_tenant(client, roles=())
    team, (a, b, c) = _staffed_team(client, tenant, "least_open")
    _insert_tickets(database, tenant, a, ["new", "open"])
    _insert_tickets(database, tenant, b, ["in_progress", "resolved", "closed", "cancelled"])
    _insert_tickets(database, tenant, c, ["pending", "new"])
    _insert_tickets(database, tenant, None, ["new"] * 3)
    assert str(_pick(tenant.tenant_id, team["id"])) == b
    _insert_tickets(database, tenant, b, ["open"])
    # a, b and c now have two open tickets each: the tie goes to the lowest user id
    assert str(_pick(tenant.tenant_id, team["id"])) == a
    _deactivate(client, tenant, a)
    assert str(_pick(tenant.tenant_id, team["id"])) == b


def test_no_assignee_for_manual_empty_inactive_or_foreign_teams(client):
    tenant = make_tenant(client, roles=())
    manual, _ = _staffed_team(client, tenant, "manual", count=1)
    assert _pick(tenant.tenant_id, manual["id"]) is None
    empty = _team(client, tenant.admin, assignment_strategy="round_robin")
    assert _pick(tenant.tenant_id, empty["id"]) is None
    staffed, _ = _staffed_team(client, tenant, "least_open", count=1)
    other = make_tenant(client, roles=())
    assert _pick(other.tenant_id, staffed["id"]) is None
    off = client.patch(
        f"/v1/teams/{staffed['id']}",
        headers=tenant.admin.headers,
        json={"active": False, "version": 1},
    )
    assert off.status_code == 200
    assert _pick(tenant.tenant_id, staffed["id"]) is None


# --- categories ----------------------------------------------------------------------

FIELDS = {
    "type": "object",
    "properties": {
        "asset_tag": {"type": "string", "pattern": "^IT-[0-9]{4}$", "title": "Asset tag"},
        "urgency": {"type": "string", "enum": ["low", "high"], "default": "low"},
        "screens": {"type": "integer", "minimum": 0, "maximum": 4},
    },
    "required": ["asset_tag"],
    "additionalProperties": False,
}


def test_manager_creates_a_category_with_fields_and_a_default_team(client, org, database):
    manager, requester = org.members["manager"], org.members["requester"]
    team = _team(client, manager)
    category = _category(client, manager, fields_schema=FIELDS, default_team_id=team["id"])
    assert category["fields_schema"] == FIELDS and category["default_team_id"] == team["id"]
    plain = _category(client, manager)
    assert plain["fields_schema"] == {"type": "object", "properties": {}}
    got = client.get(f"/v1/categories/{category['id']}", headers=requester.headers)
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    assert [a for a, _ in _audit(database, category["id"])] == ["category.created"]
    with db.transaction() as session:
        db.set_tenant(session, tenant_id=uuid.UUID(org.tenant_id), user_id=None)
        found = get_active_category(
            session, tenant_id=uuid.UUID(org.tenant_id), category_id=uuid.UUID(category["id"])
        )
        assert found is not None and found.fields_schema == FIELDS
        assert (
            get_active_category(
                session, tenant_id=uuid.UUID(org.tenant_id), category_id=uuid.uuid4()
            )
            is None
        )


def test_requesters_see_only_active_categories(client):
    tenant = make_tenant(client, roles=("requester", "agent"))
    requester, agent = tenant.members["requester"], tenant.members["agent"]
    names = ["Access", "hardware", "Network", "software"]
    ids = {n: _category(client, tenant.admin, name=n)["id"] for n in names}
    retired = client.patch(
        f"/v1/categories/{ids['Network']}",
        headers=tenant.admin.headers,
        json={"active": False, "version": 1},
    )
    assert retired.status_code == 200 and retired.json()["active"] is False
    seen, cursor = [], None
    while True:
        url = "/v1/categories?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=requester.headers).json()
        seen.extend(c["name"] for c in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Access", "hardware", "software"]
    asked = client.get("/v1/categories?active=false", headers=requester.headers).json()
    assert asked["items"] == []
    staff = client.get("/v1/categories", headers=agent.headers).json()["items"]
    assert [c["name"] for c in staff] == ["Access", "hardware", "Network", "software"]
    _problem(client.get(f"/v1/categories/{ids['Network']}", headers=requester.headers), 404)
    assert client.get(f"/v1/categories/{ids['Network']}", headers=agent.headers).status_code == 200
    with db.transaction() as session:
        db.set_tenant(session, tenant_id=uuid.UUID(tenant.tenant_id), user_id=None)
        assert (
            get_active_category(
                session,
                tenant_id=uuid.UUID(tenant.tenant_id),
                category_id=uuid.UUID(ids["Network"]),
            )
            is None
        )


def test_patch_category_needs_version_and_checks_what_it_changes(client, org, database):
    manager = org.members["manager"]
    team = _team(client, manager)
    category = _category(client, manager, default_team_id=team["id"])
    path = f"/v1/categories/{category['id']}"
    _problem(client.patch(path, headers=manager.headers, json={"description": "x"}), 428)
    bad = client.patch(
        path,
        headers=manager.headers,
        json={"version": 1, "fields_schema": {"type": "object", "properties": {"x": {}}}},
    )
    assert _fields(_problem(bad, 422)) == {"fields_schema.properties.x.type"}
    ok = client.patch(
        path,
        headers={**manager.headers, "If-Match": 'W/"1"'},
        json={"fields_schema": FIELDS, "default_team_id": None},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2 and ok.json()["default_team_id"] is None
    assert ok.json()["fields_schema"] == FIELDS
    stale = client.patch(path, headers=manager.headers, json={"name": "x", "version": 1})
    assert _problem(stale, 412)["current_version"] == 2
    taken = _category(client, manager)
    dup = client.patch(
        path, headers=manager.headers, json={"name": taken["name"].lower(), "version": 2}
    )
    assert _fields(_problem(dup, 409)) == {"name"}
    updated = _audit(database, category["id"])[-1]
    assert updated[0] == "category.updated"
    assert updated[1]["before"]["default_team_id"] == team["id"]
    assert updated[1]["after"]["default_team_id"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "y" * 101}, "name"),
        ({"fields_schema": []}, "fields_schema"),
        ({"fields_schema": {"type": "array", "properties": {}}}, "fields_schema.type"),
        (
            {"fields_schema": {"type": "object", "properties": {"a": {"type": "date"}}}},
            "fields_schema.properties.a.type",
        ),
        (
            {
                "fields_schema": {
                    "type": "object",
                    "properties": {"a": {"type": "string", "pattern": "(unclosed"}},
                }
            },
            "fields_schema.properties.a.pattern",
        ),
        (
            {"fields_schema": {"type": "object", "properties": {}, "required": ["ghost"]}},
            "fields_schema.required",
        ),
        ({"default_team_id": str(uuid.uuid4())}, "default_team_id"),
        ({"default_team_id": "not-a-uuid"}, "default_team_id"),
    ],
)
def test_bad_category_input_is_named_and_nothing_is_written(client, org, database, body, field):
    before = (
        _count(database, "categories", org.tenant_id),
        _count(database, "audit_log", org.tenant_id),
    )
    response = client.post(
        "/v1/categories", headers=org.members["manager"].headers, json={"name": _name(), **body}
    )
    assert field in _fields(_problem(response, 422))
    after = (
        _count(database, "categories", org.tenant_id),
        _count(database, "audit_log", org.tenant_id),
    )
    assert after == before


def test_category_default_team_must_be_active(client, org):
    manager = org.members["manager"]
    team = _team(client, manager)
    off = client.patch(
        f"/v1/teams/{team['id']}", headers=manager.headers, json={"active": False, "version": 1}
    )
    assert off.status_code == 200
    response = client.post(
        "/v1/categories",
        headers=manager.headers,
        json={"name": _name(), "default_team_id": team["id"]},
    )
    assert _fields(_problem(response, 422)) == {"default_team_id"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"fields_schema": None}, "fields_schema"),
        ({"active": None}, "active"),
        ({"default_team_id": str(uuid.uuid4())}, "default_team_id"),
        ({"fields_schema": {"type": "object", "properties": {}, "x": 1}}, "fields_schema.x"),
    ],
)
def test_bad_category_patch_is_named_and_changes_nothing(client, org, body, field):
    manager = org.members["manager"]
    category = _category(client, manager)
    path = f"/v1/categories/{category['id']}"
    response = client.patch(path, headers={**manager.headers, "If-Match": '"1"'}, json=body)
    assert field in _fields(_problem(response, 422))
    assert client.get(path, headers=manager.headers).json() == category


def test_category_keeps_a_retired_default_team_it_already_has(client, org):
    manager = org.members["manager"]
    team = _team(client, manager)
    category = _category(client, manager, default_team_id=team["id"])
    off = client.patch(
        f"/v1/teams/{team['id']}", headers=manager.headers, json={"active": False, "version": 1}
    )
    assert off.status_code == 200
    renamed = client.patch(
        f"/v1/categories/{category['id']}",
        headers=manager.headers,
        json={"name": _name("Renamed"), "default_team_id": team["id"], "version": 1},
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["default_team_id"] == team["id"]
