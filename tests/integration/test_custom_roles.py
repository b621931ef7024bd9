"""Custom roles (issue 21, point 5): /v1/roles, assignment through the user PATCH, the
permissions a member then holds (restricting and extending), isolation, deletion in use."""

from __future__ import annotations

import uuid

import pytest

from servicedesk.platform.permissions import BUILTIN, Permission
from servicedesk.platform.roles import Role
from tests.conftest import make_tenant
from tests.test_support import field_names as _fields
from tests.test_support import problem as _problem

AGENT = sorted(p.value for p in BUILTIN[Role.AGENT])


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("manager", "agent", "requester"))


def _role(client, org, permissions, name=None, **body) -> dict:
    name = name or f"Role {uuid.uuid4().hex[:8]}"
    created = client.post(
        "/v1/roles",
        headers=org.admin.headers,
        json={"name": name, "permissions": permissions, **body},
    )
    assert created.status_code == 201, created.text
    return created.json()


def _assign(client, org, user_id: str, role_id: str | None):
    return client.patch(
        f"/v1/users/{user_id}",
        headers={**org.admin.headers, "If-Match": _version(client, org, user_id)},
        json={"custom_role_id": role_id},
    )


def _version(client, org, user_id: str) -> str:
    found = client.get(f"/v1/users/{user_id}", headers=org.admin.headers)
    assert found.status_code == 200, found.text
    return f'"{found.json()["version"]}"'


def _ticket(client, actor) -> dict:
    made = client.post(
        "/v1/tickets", headers=actor.headers, json={"title": "Printer", "description": "Jammed"}
    )
    assert made.status_code == 201, made.text
    return made.json()


def test_only_admin_roles_manages_roles(client, org):
    for who in ("manager", "agent", "requester"):
        headers = org.members[who].headers
        _problem(client.get("/v1/roles", headers=headers), 403)
        _problem(client.post("/v1/roles", headers=headers, json={}), 403)
        _problem(client.get("/v1/roles/permissions", headers=headers), 403)
    listed = client.get("/v1/roles", headers=org.admin.headers)
    assert listed.status_code == 200
    builtins = [r for r in listed.json() if r["builtin"]]
    assert [r["builtin"] for r in builtins] == ["requester", "agent", "manager", "admin"]
    assert sorted(builtins[1]["permissions"]) == AGENT
    catalogue = client.get("/v1/roles/permissions", headers=org.admin.headers).json()
    assert {p["name"] for p in catalogue} == {p.value for p in Permission}
    assert all(p["description"] and p["area"] and p["floor"] for p in catalogue)


def test_create_get_patch_with_if_match_and_delete(client, org, database):
    role = _role(client, org, ["ticket:read", "ticket:read", "kb:read"], description="Readers")
    assert role["permissions"] == ["ticket:read", "kb:read"] and role["members"] == 0
    path = f"/v1/roles/{role['id']}"
    got = client.get(path, headers=org.admin.headers)
    assert got.status_code == 200 and got.headers["ETag"] == '"1"'
    _problem(client.patch(path, headers=org.admin.headers, json={"name": "x"}), 428)
    stale = client.patch(
        path, headers={**org.admin.headers, "If-Match": '"7"'}, json={"name": "Renamed"}
    )
    _problem(stale, 412)
    changed = client.patch(
        path,
        headers={**org.admin.headers, "If-Match": '"1"'},
        json={"name": "Renamed", "permissions": ["kb:read"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["permissions"] == ["kb:read"] and changed.headers["ETag"] == '"2"'
    assert client.delete(path, headers=org.admin.headers).status_code == 204
    _problem(client.get(path, headers=org.admin.headers), 404)
    with database.connect("owner") as conn:
        events = conn.execute(
            "SELECT event_type FROM outbox WHERE aggregate_id = %s ORDER BY seq", (role["id"],)
        ).fetchall()
        audits = conn.execute(
            "SELECT action FROM audit_log WHERE entity_id = %s ORDER BY created_at",
            (role["id"],),
        ).fetchall()
    assert [e[0] for e in events] == ["role.created", "role.updated", "role.deleted"]
    assert [a[0] for a in audits] == ["role.created", "role.updated", "role.deleted"]


def test_bad_input_names_the_field(client, org):
    unknown = client.post(
        "/v1/roles",
        headers=org.admin.headers,
        json={"name": "Odd", "permissions": ["ticket:read", "ticket:fly"]},
    )
    assert "permissions.1" in _fields(_problem(unknown, 422))
    empty = client.post(
        "/v1/roles", headers=org.admin.headers, json={"name": "Empty", "permissions": []}
    )
    assert "permissions" in _fields(_problem(empty, 422))
    _role(client, org, ["kb:read"], name="Twin")
    twin = client.post(
        "/v1/roles", headers=org.admin.headers, json={"name": "TWIN", "permissions": ["kb:read"]}
    )
    assert "name" in _fields(_problem(twin, 409))
    nothing = _assign(client, org, org.members["agent"].user_id, str(uuid.uuid4()))
    assert "custom_role_id" in _fields(_problem(nothing, 422))


def test_a_custom_role_restricts_an_agent(client, org):
    agent = org.members["agent"]
    no_close = _role(client, org, [p for p in AGENT if p != "ticket:close"])
    assert _assign(client, org, agent.user_id, no_close["id"]).status_code == 200
    me = client.get("/v1/me", headers=agent.headers).json()
    assert "ticket:close" not in me["permissions"] and me["role"] == "agent"
    assert me["user"]["custom_role_id"] == no_close["id"]
    ticket = _ticket(client, org.members["requester"])
    path = f"/v1/tickets/{ticket['id']}"
    seen = client.get(path, headers=agent.headers)
    assert seen.status_code == 200, seen.text
    assert "closed" not in seen.json()["allowed_transitions"]
    closing = client.post(f"{path}/transitions", headers=agent.headers, json={"to": "closed"})
    assert "to" in _fields(_problem(closing, 403))
    moved = client.post(f"{path}/transitions", headers=agent.headers, json={"to": "pending"})
    assert moved.status_code == 200, moved.text
    # Back to the built-in role's permissions: closing works again.
    assert _assign(client, org, agent.user_id, None).status_code == 200
    closed = client.post(f"{path}/transitions", headers=agent.headers, json={"to": "closed"})
    assert closed.status_code == 200, closed.text


def test_a_custom_role_extends_an_agent_and_can_drop_routes(client, org):
    agent = org.members["agent"]
    _problem(client.get("/v1/reports/dashboard", headers=agent.headers), 403)
    analyst = _role(client, org, [*AGENT, "report:read"])
    assert _assign(client, org, agent.user_id, analyst["id"]).status_code == 200
    report = client.get("/v1/reports/dashboard", headers=agent.headers)
    assert report.status_code == 200, report.text
    # Without kb:write the agent no longer writes articles (the route's permission).
    narrow = _role(client, org, [p for p in AGENT if p != "kb:write"])
    assert _assign(client, org, agent.user_id, narrow["id"]).status_code == 200
    refused = client.post(
        "/v1/kb/articles", headers=agent.headers, json={"title": "T", "body": "B"}
    )
    assert "kb:write" in _problem(refused, 403)["detail"]
    assert _assign(client, org, agent.user_id, None).status_code == 200


def test_internal_notes_follow_comment_internal(client, org):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    note = client.post(
        f"/v1/tickets/{ticket['id']}/comments",
        headers=org.admin.headers,
        json={"body": "staff only", "visibility": "internal"},
    )
    assert note.status_code == 201, note.text
    peek = _role(client, org, ["desk:access", "ticket:read", "comment:internal"])
    assert _assign(client, org, requester.user_id, peek["id"]).status_code == 200
    comments = client.get(f"/v1/tickets/{ticket['id']}/comments", headers=requester.headers)
    assert "staff only" in [c["body"] for c in comments.json()["items"]]
    assert _assign(client, org, requester.user_id, None).status_code == 200
    comments = client.get(f"/v1/tickets/{ticket['id']}/comments", headers=requester.headers)
    assert "staff only" not in [c["body"] for c in comments.json()["items"]]


def test_deleting_a_role_in_use_is_refused_naming_the_count(client, org):
    held = _role(client, org, AGENT)
    manager = org.members["manager"]
    assert _assign(client, org, manager.user_id, held["id"]).status_code == 200
    listed = {r["id"]: r for r in client.get("/v1/roles", headers=org.admin.headers).json()}
    assert listed[held["id"]]["members"] == 1
    refused = _problem(client.delete(f"/v1/roles/{held['id']}", headers=org.admin.headers), 409)
    assert refused["members"] == 1 and "1 member" in refused["detail"]
    assert _assign(client, org, manager.user_id, None).status_code == 200
    assert client.delete(f"/v1/roles/{held['id']}", headers=org.admin.headers).status_code == 204


def test_the_last_admin_keeps_what_manages_members_and_roles(client, org):
    weak = _role(client, org, ["desk:access", "ticket:read"])
    refused = _assign(client, org, org.admin.user_id, weak["id"])
    assert "custom_role_id" in _fields(_problem(refused, 409))
    strong = _role(client, org, ["desk:access", "directory:read", "admin:users", "admin:roles"])
    assert _assign(client, org, org.admin.user_id, strong["id"]).status_code == 200
    # Nor can the role the last admin holds lose what manages members and roles.
    weakened = client.patch(
        f"/v1/roles/{strong['id']}",
        headers={**org.admin.headers, "If-Match": '"1"'},
        json={"permissions": ["desk:access", "directory:read", "admin:users"]},
    )
    assert "permissions" in _fields(_problem(weakened, 409))
    assert _assign(client, org, org.admin.user_id, None).status_code == 200


def test_tenants_never_see_or_assign_each_others_roles(client, org):
    other = make_tenant(client, roles=("agent",))
    theirs = _role(client, other, ["kb:read"])
    _problem(client.get(f"/v1/roles/{theirs['id']}", headers=org.admin.headers), 404)
    _problem(client.delete(f"/v1/roles/{theirs['id']}", headers=org.admin.headers), 404)
    ids = {r["id"] for r in client.get("/v1/roles", headers=org.admin.headers).json()}
    assert theirs["id"] not in ids
    stolen = _assign(client, org, org.members["agent"].user_id, theirs["id"])
    assert "custom_role_id" in _fields(_problem(stolen, 422))


def _team(client, org) -> str:
    made = client.post(
        "/v1/teams", headers=org.admin.headers, json={"name": f"Team {uuid.uuid4().hex[:8]}"}
    )
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _in_team(client, org, team_id: str) -> dict:
    ticket = _ticket(client, org.members["requester"])
    moved = client.post(
        f"/v1/tickets/{ticket['id']}/assign", headers=org.admin.headers, json={"team_id": team_id}
    )
    assert moved.status_code == 200, moved.text
    return moved.json()


def test_a_team_scoped_role_works_only_its_teams_tickets(client, org):
    ours, theirs = _team(client, org), _team(client, org)
    bad = client.post(
        "/v1/roles",
        headers=org.admin.headers,
        json={"name": "Nowhere", "permissions": AGENT, "team_id": str(uuid.uuid4())},
    )
    assert "team_id" in _fields(_problem(bad, 422))
    scoped = _role(client, org, AGENT, team_id=ours)
    assert scoped["team_id"] == ours
    agent = org.members["agent"]
    assert _assign(client, org, agent.user_id, scoped["id"]).status_code == 200
    mine, other = _in_team(client, org, ours), _in_team(client, org, theirs)
    untriaged = _ticket(client, org.members["requester"])
    listed = client.get("/v1/tickets", headers=agent.headers, params={"limit": 100}).json()
    ids = {t["id"] for t in listed["items"]}
    assert mine["id"] in ids and other["id"] not in ids and untriaged["id"] not in ids
    _problem(client.get(f"/v1/tickets/{other['id']}", headers=agent.headers), 404)
    note = client.post(
        f"/v1/tickets/{mine['id']}/comments",
        headers=agent.headers,
        json={"body": "team note", "visibility": "internal"},
    )
    assert note.status_code == 201, note.text
    took = client.post(
        f"/v1/tickets/{mine['id']}/assign",
        headers=agent.headers,
        json={"assignee_id": agent.user_id},
    )
    assert took.status_code == 200, took.text
    closed = client.post(
        f"/v1/tickets/{mine['id']}/transitions", headers=agent.headers, json={"to": "closed"}
    )
    assert closed.status_code == 200, closed.text
    # Where the agent takes part in another team's ticket, its ticket permissions do not
    # follow: they read it, but work it as a participant, not as staff.
    added = client.post(
        f"/v1/tickets/{other['id']}/participants",
        headers=org.admin.headers,
        json={"user_id": agent.user_id, "kind": "participant"},
    )
    assert added.status_code in (200, 201), added.text
    seen = client.get(f"/v1/tickets/{other['id']}", headers=agent.headers)
    assert seen.status_code == 200 and "closed" not in seen.json()["allowed_transitions"]
    internal = client.post(
        f"/v1/tickets/{other['id']}/comments",
        headers=agent.headers,
        json={"body": "x", "visibility": "internal"},
    )
    assert "visibility" in _fields(_problem(internal, 403))
    # Nor does it read that ticket's internal notes (comments and timeline).
    theirs_note = client.post(
        f"/v1/tickets/{other['id']}/comments",
        headers=org.admin.headers,
        json={"body": "other team's note", "visibility": "internal"},
    )
    assert theirs_note.status_code == 201, theirs_note.text
    read = client.get(f"/v1/tickets/{other['id']}/comments", headers=agent.headers).json()
    assert theirs_note.json()["id"] not in {c["id"] for c in read["items"]}
    timeline = client.get(f"/v1/tickets/{other['id']}/events", headers=agent.headers).json()
    assert all(e.get("visibility") != "internal" for e in timeline["items"]), timeline
    own = client.get(f"/v1/tickets/{mine['id']}/comments", headers=agent.headers).json()
    assert note.json()["id"] in {c["id"] for c in own["items"]}
    _problem(
        client.post(
            f"/v1/tickets/{other['id']}/assign",
            headers=agent.headers,
            json={"assignee_id": agent.user_id},
        ),
        403,
    )
    assert _assign(client, org, agent.user_id, None).status_code == 200
