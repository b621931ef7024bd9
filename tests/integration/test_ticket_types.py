"""Ticket types, problems with their incidents, and the category tree (issue 20, points 1-2):
roles, tenant isolation, bad input, the tree's rules, delete with reassignment (atomic), the
type filter, SLA conditions on the type, and reports grouped by type against a direct count."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from servicedesk.reports.rebuild import rebuild_tenant
from tests.conftest import Actor, TenantFixture, make_tenant

ROLES = ("manager", "agent", "requester")


@pytest.fixture(scope="module")
def org(client: Any) -> TenantFixture:
    return make_tenant(client, roles=ROLES)


@pytest.fixture(scope="module")
def other(client: Any) -> TenantFixture:
    return make_tenant(client, roles=("manager", "agent"))


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return dict(response.json())


def _fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def _key() -> str:
    return f"t_{uuid.uuid4().hex[:8]}"


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _types(client: Any, actor: Actor, **params: Any) -> list[dict[str, Any]]:
    return list(_ok(client.get("/v1/ticket-types", headers=actor.headers, params=params))["items"])


def _new_type(client: Any, org: TenantFixture, **body: Any) -> dict[str, Any]:
    sent = {"key": _key(), "name": f"Type {uuid.uuid4().hex[:6]}", **body}
    return dict(_ok(client.post("/v1/ticket-types", json=sent, headers=org.admin.headers), 201))


def _category(client: Any, org: TenantFixture, **body: Any) -> dict[str, Any]:
    sent = {"name": f"Cat {uuid.uuid4().hex[:8]}", **body}
    made = client.post("/v1/categories", json=sent, headers=org.members["manager"].headers)
    return dict(_ok(made, 201))


def _ticket(client: Any, actor: Actor, **body: Any) -> dict[str, Any]:
    made = client.post("/v1/tickets", json={"title": "Typed", **body}, headers=actor.headers)
    return dict(_ok(made, 201))


def _patch(client: Any, actor: Actor, path: str, version: int, **body: Any) -> Any:
    return client.patch(path, json={**body, "version": version}, headers=actor.headers)


# --- types -----------------------------------------------------------------------------


def test_every_tenant_has_the_four_builtin_types(client: Any, org: TenantFixture) -> None:
    listed = _types(client, org.members["requester"])
    assert [t["key"] for t in listed][:4] == ["incident", "service_request", "problem", "question"]
    assert all(t["builtin"] and not t["archived"] for t in listed[:4])


def test_admins_add_rename_reorder_and_archive_types(client: Any, org: TenantFixture) -> None:
    made = _new_type(client, org, description="Hardware orders")
    assert made["builtin"] is False and made["position"] >= 4
    for role in ("manager", "agent", "requester"):
        denied = client.post(
            "/v1/ticket-types",
            json={"key": _key(), "name": "Nope"},
            headers=org.members[role].headers,
        )
        _problem(denied, 403)
    incident = next(t for t in _types(client, org.admin) if t["key"] == "incident")
    renamed = _patch(
        client, org.admin, f"/v1/ticket-types/{incident['id']}", incident["version"], name="Outage"
    )
    assert _ok(renamed)["name"] == "Outage" and renamed.json()["key"] == "incident"
    # incident is the fallback type: never archived.
    refused = _patch(
        client, org.admin, f"/v1/ticket-types/{incident['id']}", renamed.json()["version"],
        archived=True,
    )  # fmt: skip
    assert "archived" in _fields(_problem(refused, 409))
    archived = _ok(
        _patch(client, org.admin, f"/v1/ticket-types/{made['id']}", made["version"], archived=True)
    )
    assert archived["archived"] and archived["archived_at"]
    assert made["key"] not in {t["key"] for t in _types(client, org.members["requester"])}
    assert made["key"] in {t["key"] for t in _types(client, org.members["agent"], archived=True)}
    _problem(
        client.get(f"/v1/ticket-types/{made['id']}", headers=org.members["requester"].headers), 404
    )
    # An archived type is not offered for new tickets.
    bad = client.post(
        "/v1/tickets",
        json={"title": "x", "type": made["key"]},
        headers=org.members["agent"].headers,
    )
    assert "type" in _fields(_problem(bad, 422))
    # Reorder: every type once.
    everything = _types(client, org.admin, limit=100)
    ids = [t["id"] for t in reversed(everything)]
    ordered = _ok(
        client.put("/v1/ticket-types/order", json={"ids": ids}, headers=org.admin.headers)
    )
    assert [t["id"] for t in ordered] == ids
    assert [t["id"] for t in _types(client, org.admin, limit=100)] == ids
    partial = client.put("/v1/ticket-types/order", json={"ids": ids[1:]}, headers=org.admin.headers)
    assert "ids" in _fields(_problem(partial, 409))
    twice = client.put(
        "/v1/ticket-types/order", json={"ids": [ids[0], *ids]}, headers=org.admin.headers
    )
    assert "ids.1" in _fields(_problem(twice, 422))
    # Put them back in the built-in order for the other tests.
    builtin_first = sorted(everything, key=lambda t: (not t["builtin"], t["position"]))
    _ok(
        client.put(
            "/v1/ticket-types/order",
            json={"ids": [t["id"] for t in builtin_first]},
            headers=org.admin.headers,
        )
    )


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"key": "Bad-Key", "name": "x"}, "key", 422),
        ({"key": "1abc", "name": "x"}, "key", 422),
        ({"key": "a" * 41, "name": "x"}, "key", 422),
        ({"key": "ok_key", "name": ""}, "name", 422),
        ({"key": "incident", "name": "Second incident"}, "key", 409),
        ({"key": "fresh_one", "name": "Problem"}, "name", 409),
        ({"key": "ok_key", "name": "x", "extra": 1}, "extra", 422),
    ],
)
def test_bad_types_are_refused_naming_the_field(
    client: Any, org: TenantFixture, body: dict[str, Any], field: str, status: int
) -> None:
    response = client.post("/v1/ticket-types", json=body, headers=org.admin.headers)
    assert field in _fields(_problem(response, status))


def test_another_tenants_types_and_categories_are_404(
    client: Any, org: TenantFixture, other: TenantFixture
) -> None:
    mine = _new_type(client, org)
    theirs = client.get(f"/v1/ticket-types/{mine['id']}", headers=other.admin.headers)
    _problem(theirs, 404)
    changed = client.patch(
        f"/v1/ticket-types/{mine['id']}", json={"name": "x", "version": 1},
        headers=other.admin.headers,
    )  # fmt: skip
    _problem(changed, 404)
    # Their tickets cannot use my custom key.
    refused = client.post(
        "/v1/tickets", json={"title": "x", "type": mine["key"]}, headers=other.admin.headers
    )
    assert "type" in _fields(_problem(refused, 422))
    category = _category(client, org)
    _problem(client.get(f"/v1/categories/{category['id']}", headers=other.admin.headers), 404)
    for path in ("archive", "unarchive"):
        _problem(
            client.post(f"/v1/categories/{category['id']}/{path}", headers=other.admin.headers),
            404,
        )
    _problem(client.delete(f"/v1/categories/{category['id']}", headers=other.admin.headers), 404)
    under = client.post(
        "/v1/categories",
        json={"name": "Under theirs", "parent_id": category["id"]},
        headers=other.members["manager"].headers,
    )
    assert "parent_id" in _fields(_problem(under, 422))
    foreign = client.post(
        "/v1/categories",
        json={"name": "Typed theirs", "default_type": mine["key"]},
        headers=other.members["manager"].headers,
    )
    assert "default_type" in _fields(_problem(foreign, 422))
    # Incidents of another tenant's problem: 404.
    problem = _ticket(client, org.members["agent"], type="problem")
    listed = client.get(f"/v1/tickets/{problem['id']}/incidents", headers=other.admin.headers)
    _problem(listed, 404)


# --- tickets -----------------------------------------------------------------------------


def test_new_tickets_take_the_type_asked_else_the_categorys_else_incident(
    client: Any, org: TenantFixture
) -> None:
    requester, agent = org.members["requester"], org.members["agent"]
    typed = _category(client, org, default_type="service_request")
    assert typed["default_type"] == "service_request"
    assert _ticket(client, requester)["type"] == "incident"
    assert _ticket(client, requester, category_id=typed["id"])["type"] == "service_request"
    asked = _ticket(client, requester, category_id=typed["id"], type="question")
    assert asked["type"] == "question"
    unknown = client.post(
        "/v1/tickets", json={"title": "x", "type": "nosuch"}, headers=requester.headers
    )
    assert "type" in _fields(_problem(unknown, 422))
    malformed = client.post(
        "/v1/tickets", json={"title": "x", "type": "No Such"}, headers=requester.headers
    )
    assert "type" in _fields(_problem(malformed, 422))
    # The requester may not retype; staff may, and the timeline says so.
    denied = _patch(
        client, requester, f"/v1/tickets/{asked['id']}", asked["version"], type="incident"
    )
    assert "type" in _fields(_problem(denied, 403))
    same = _patch(
        client, requester, f"/v1/tickets/{asked['id']}", asked["version"], type="question"
    )
    assert same.status_code == 200, same.text
    retyped = _ok(
        _patch(client, agent, f"/v1/tickets/{asked['id']}", asked["version"], type="problem")
    )
    assert retyped["type"] == "problem" and retyped["version"] == asked["version"] + 1
    events = _ok(client.get(f"/v1/tickets/{asked['id']}/events", headers=agent.headers))["items"]
    changed = [e for e in events if e["type"] == "type_changed"]
    assert changed and changed[-1]["payload"] == {"from": "question", "to": "problem"}
    # A category's default type cannot be archived while the category is active.
    service_request = next(t for t in _types(client, org.admin) if t["key"] == "service_request")
    refused = _patch(
        client, org.admin, f"/v1/ticket-types/{service_request['id']}",
        service_request["version"], archived=True,
    )  # fmt: skip
    assert "archived" in _fields(_problem(refused, 409))


def test_the_list_filters_by_type_repeatably(client: Any) -> None:
    desk = make_tenant(client, roles=("agent",))
    agent = desk.members["agent"]
    made = {
        kind: [_ticket(client, agent, type=kind)["id"] for _ in range(n)]
        for kind, n in (("incident", 2), ("problem", 1), ("question", 3))
    }

    def listed(*kinds: str) -> set[str]:
        page = client.get(
            "/v1/tickets", params=[("type", k) for k in kinds] + [("limit", "100")],
            headers=agent.headers,
        )  # fmt: skip
        return {t["id"] for t in _ok(page)["items"]}

    assert listed("question") == set(made["question"])
    assert listed("problem", "incident") == set(made["problem"]) | set(made["incident"])
    assert listed("service_request") == set()
    bad = client.get("/v1/tickets", params={"type": "Not A Key"}, headers=agent.headers)
    assert "type.0" in _fields(_problem(bad, 422))


# --- problems and incidents --------------------------------------------------------------


def test_a_problem_links_incidents_and_resolves_them(client: Any, org: TenantFixture) -> None:
    agent, requester = org.members["agent"], org.members["requester"]
    problem = _ticket(client, agent, type="problem", title="Mail server disk")
    incidents = [_ticket(client, requester, title=f"No mail {n}") for n in range(3)]
    question = _ticket(client, requester, type="question")
    for incident in incidents[:2]:
        _ok(
            client.post(
                f"/v1/tickets/{problem['id']}/links",
                json={"target_id": incident["id"], "kind": "problem_of"},
                headers=agent.headers,
            ),
            201,
        )
    # From the incident's side.
    linked = client.post(
        f"/v1/tickets/{incidents[2]['id']}/links",
        json={"target_id": problem["id"], "kind": "incident_of"},
        headers=agent.headers,
    )
    assert _ok(linked, 201)["kind"] == "problem_of" and linked.json()["source_id"] == problem["id"]
    # Wrong types, a second problem: refused naming the field.
    wrong = client.post(
        f"/v1/tickets/{problem['id']}/links",
        json={"target_id": question["id"], "kind": "problem_of"},
        headers=agent.headers,
    )
    assert "target_id" in _fields(_problem(wrong, 422))
    not_problem = client.post(
        f"/v1/tickets/{question['id']}/links",
        json={"target_id": incidents[0]["id"], "kind": "problem_of"},
        headers=agent.headers,
    )
    assert "kind" in _fields(_problem(not_problem, 422))
    second = _ticket(client, agent, type="problem")
    taken = client.post(
        f"/v1/tickets/{second['id']}/links",
        json={"target_id": incidents[0]["id"], "kind": "problem_of"},
        headers=agent.headers,
    )
    assert "target_id" in _fields(_problem(taken, 409))
    # A linked problem stays a problem.
    current = _ok(client.get(f"/v1/tickets/{problem['id']}", headers=agent.headers))
    retype = _patch(
        client, agent, f"/v1/tickets/{problem['id']}", current["version"], type="incident"
    )
    assert "type" in _fields(_problem(retype, 409))
    # The count (staff) and the list.
    assert current["incident_count"] == 3
    as_requester = _ok(client.get(f"/v1/tickets/{incidents[0]['id']}", headers=requester.headers))
    assert as_requester["incident_count"] is None
    page = _ok(client.get(f"/v1/tickets/{problem['id']}/incidents", headers=agent.headers))
    assert {t["id"] for t in page["items"]} == {t["id"] for t in incidents}
    listed = _ok(
        client.get("/v1/tickets", params={"type": "problem", "limit": 100}, headers=agent.headers)
    )
    assert next(t for t in listed["items"] if t["id"] == problem["id"])["incident_count"] == 3
    # The requester of the incidents may not see the problem: 404, as a direct read.
    _problem(client.get(f"/v1/tickets/{problem['id']}/incidents", headers=requester.headers), 404)
    # One incident already closed elsewhere is left alone; the others move with the problem.
    _ok(
        client.post(
            f"/v1/tickets/{incidents[1]['id']}/transitions",
            json={"to": "cancelled"},
            headers=agent.headers,
        )
    )
    denied = client.post(
        f"/v1/tickets/{incidents[0]['id']}/transitions",
        json={"to": "resolved", "resolve_incidents": True},
        headers=agent.headers,
    )
    assert "resolve_incidents" in _fields(_problem(denied, 422))
    resolved = _ok(
        client.post(
            f"/v1/tickets/{problem['id']}/transitions",
            json={"to": "resolved", "resolve_incidents": True},
            headers=agent.headers,
        )
    )
    assert resolved["status"] == "resolved"
    statuses = {
        t["id"]: _ok(client.get(f"/v1/tickets/{t['id']}", headers=agent.headers))["status"]
        for t in incidents
    }
    assert statuses == {
        incidents[0]["id"]: "resolved",
        incidents[1]["id"]: "cancelled",
        incidents[2]["id"]: "resolved",
    }
    events = _ok(client.get(f"/v1/tickets/{incidents[0]['id']}/events", headers=agent.headers))
    moved = [e for e in events["items"] if e["type"] == "status_changed"]
    assert len(moved) == 1 and moved[0]["payload"]["problem_id"] == problem["id"]


def test_requesters_cannot_resolve_incidents_with_a_problem(
    client: Any, org: TenantFixture
) -> None:
    requester = org.members["requester"]
    problem = _ticket(client, requester, type="problem")
    denied = client.post(
        f"/v1/tickets/{problem['id']}/transitions",
        json={"to": "cancelled", "resolve_incidents": True},
        headers=requester.headers,
    )
    assert "resolve_incidents" in _fields(_problem(denied, 403))


# --- the category tree ---------------------------------------------------------------------


def test_the_tree_orders_depths_and_refuses_cycles(client: Any) -> None:
    desk = make_tenant(client, roles=("manager", "requester"))
    manager = desk.members["manager"]
    root = _category(client, desk, name="Hardware")
    laptops = _category(client, desk, name="Laptops", parent_id=root["id"])
    batteries = _category(client, desk, name="Batteries", parent_id=laptops["id"])
    printers = _category(client, desk, name="Printers", parent_id=root["id"])
    other = _category(client, desk, name="Access")
    assert (root["depth"], laptops["depth"], batteries["depth"]) == (0, 1, 2)
    assert printers["position"] == laptops["position"] + 1

    def tree(actor: Actor = manager) -> list[tuple[str, int]]:
        page = _ok(client.get("/v1/categories", params={"tree": "true"}, headers=actor.headers))
        assert page["next_cursor"] is None
        return [(c["name"], c["depth"]) for c in page["items"]]

    assert tree() == [
        ("Hardware", 0), ("Laptops", 1), ("Batteries", 2), ("Printers", 1), ("Access", 0)
    ]  # fmt: skip
    # Cycles: below itself or its own descendant.
    for target in (root, batteries):
        moved = _patch(
            client, manager, f"/v1/categories/{root['id']}", root["version"], parent_id=target["id"]
        )
        assert "parent_id" in _fields(_problem(moved, 409))
    # Depth: at most five levels.
    chain = [batteries]
    while len(chain) < 3:
        chain.append(_category(client, desk, parent_id=chain[-1]["id"]))
    too_deep = client.post(
        "/v1/categories", json={"name": "Sixth", "parent_id": chain[-1]["id"]},
        headers=manager.headers,
    )  # fmt: skip
    assert "parent_id" in _fields(_problem(too_deep, 422))
    # Moving a subtree under another keeps the limit too (Laptops has three levels below).
    deep_move = _patch(
        client, manager, f"/v1/categories/{laptops['id']}", laptops["version"],
        parent_id=printers["id"],
    )  # fmt: skip
    assert "parent_id" in _fields(_problem(deep_move, 422))
    # Reorder the children of Hardware; then move Printers to the top level (placed last).
    order = client.put(
        "/v1/categories/order",
        json={"parent_id": root["id"], "ids": [printers["id"], laptops["id"]]},
        headers=manager.headers,
    )
    assert [c["name"] for c in _ok(order)] == ["Printers", "Laptops"]
    wrong = client.put(
        "/v1/categories/order",
        json={"parent_id": None, "ids": [printers["id"]]},
        headers=manager.headers,
    )
    assert "ids.0" in _fields(_problem(wrong, 422))
    current = _ok(client.get(f"/v1/categories/{printers['id']}", headers=manager.headers))
    top = _ok(
        _patch(
            client, manager, f"/v1/categories/{printers['id']}", current["version"], parent_id=None
        )
    )
    assert top["parent_id"] is None and top["depth"] == 0
    assert [n for n, d in tree() if d == 0] == ["Hardware", "Access", "Printers"]
    # Archive hides the subtree from requesters; unarchive brings it back.
    _ok(client.post(f"/v1/categories/{root['id']}/archive", headers=manager.headers))
    assert [n for n, _ in tree(desk.members["requester"])] == ["Access", "Printers"]
    child = _ok(client.get(f"/v1/categories/{laptops['id']}", headers=manager.headers))
    assert child["active"] is False
    restore_child = client.post(
        f"/v1/categories/{laptops['id']}/unarchive", headers=manager.headers
    )
    assert "parent_id" in _fields(_problem(restore_child, 409))
    under_archived = client.post(
        "/v1/categories", json={"name": "Under archived", "parent_id": root["id"]},
        headers=manager.headers,
    )  # fmt: skip
    assert "parent_id" in _fields(_problem(under_archived, 422))
    _ok(client.post(f"/v1/categories/{root['id']}/unarchive", headers=manager.headers))
    assert len(tree(desk.members["requester"])) == len(tree())
    # Writes are the manager's.
    denied = client.post(
        f"/v1/categories/{other['id']}/archive", headers=desk.members["requester"].headers
    )
    _problem(denied, 403)
    denied = client.put(
        "/v1/categories/order",
        json={"ids": [other["id"]]},
        headers=desk.members["requester"].headers,
    )
    _problem(denied, 403)


def _category_of(client: Any, actor: Actor, ticket: dict[str, Any]) -> Any:
    return _ok(client.get(f"/v1/tickets/{ticket['id']}", headers=actor.headers))["category_id"]


def test_delete_moves_the_subtrees_tickets_in_one_transaction(client: Any, database: Any) -> None:
    desk = make_tenant(client, roles=("manager", "agent", "requester"))
    manager, agent = desk.members["manager"], desk.members["agent"]
    parent = _category(client, desk)
    child = _category(client, desk, parent_id=parent["id"])
    target = _category(client, desk)
    tickets = [
        _ticket(client, desk.members["requester"], category_id=c["id"]) for c in (parent, child)
    ]
    # In use, and no reassign_to: 409 naming it.
    refused = client.delete(f"/v1/categories/{parent['id']}", headers=manager.headers)
    assert "reassign_to" in _fields(_problem(refused, 409))
    for bad in (child["id"], str(uuid.uuid4())):
        wrong = client.delete(
            f"/v1/categories/{parent['id']}", params={"reassign_to": bad}, headers=manager.headers
        )
        assert "reassign_to" in _fields(_problem(wrong, 422))
    _problem(
        client.delete(
            f"/v1/categories/{parent['id']}",
            params={"reassign_to": target["id"]},
            headers=agent.headers,
        ),
        403,
    )
    # A failure half-way (the database refuses the last statement, after the tickets have
    # moved) leaves everything as it was.
    with database.connect("owner") as conn:
        conn.execute(
            "CREATE FUNCTION test_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER test_refuse_delete BEFORE DELETE ON categories"
            " FOR EACH ROW EXECUTE FUNCTION test_refuse_delete()"
        )
        conn.commit()
    try:
        failed = client.delete(
            f"/v1/categories/{parent['id']}",
            params={"reassign_to": target["id"]},
            headers=manager.headers,
        )
        assert failed.status_code == 500
    finally:
        with database.connect("owner") as conn:
            conn.execute("DROP TRIGGER test_refuse_delete ON categories")
            conn.execute("DROP FUNCTION test_refuse_delete()")
            conn.commit()
    assert [_category_of(client, agent, t) for t in tickets] == [parent["id"], child["id"]]
    _ok(client.get(f"/v1/categories/{child['id']}", headers=manager.headers))
    events = _ok(client.get(f"/v1/tickets/{tickets[0]['id']}/events", headers=agent.headers))
    assert not [e for e in events["items"] if e["type"] == "category_changed"]
    # Now for real.
    deleted = client.delete(
        f"/v1/categories/{parent['id']}",
        params={"reassign_to": target["id"]},
        headers=manager.headers,
    )
    assert deleted.status_code == 204, deleted.text
    assert [_category_of(client, agent, t) for t in tickets] == [target["id"]] * 2
    for gone in (parent, child):
        _problem(client.get(f"/v1/categories/{gone['id']}", headers=manager.headers), 404)
    events = _ok(client.get(f"/v1/tickets/{tickets[1]['id']}/events", headers=agent.headers))
    moved = [e for e in events["items"] if e["type"] == "category_changed"]
    assert moved[-1]["payload"] == {
        "from": child["id"], "to": target["id"], "reason": "category_deleted"
    }  # fmt: skip
    # Each moved ticket tells its live viewers and the reports consumer (ticket.updated).
    with database.connect("owner") as conn:
        updated = conn.execute(
            "SELECT payload->>'ticket_id', payload->'values'->>'category_id' FROM outbox"
            " WHERE event_type = 'ticket.updated' AND payload->'fields' = '[\"category_id\"]'"
            " AND payload->>'ticket_id' = ANY(%s)",
            ([t["id"] for t in tickets],),
        ).fetchall()
    assert sorted(updated) == sorted((t["id"], target["id"]) for t in tickets)
    # An unused category needs no target.
    unused = _category(client, desk)
    gone = client.delete(f"/v1/categories/{unused['id']}", headers=manager.headers)
    assert gone.status_code == 204, gone.text


def test_delete_refuses_a_category_an_sla_policy_names(client: Any) -> None:
    desk = make_tenant(client, roles=("manager",))
    manager = desk.members["manager"]
    named = _category(client, desk)
    made = client.post(
        "/v1/sla-policies",
        json={
            "name": "Named", "position": 5, "first_response_minutes": 60,
            "resolution_minutes": 240, "conditions": {"category_ids": [named["id"]]},
        },
        headers=manager.headers,
    )  # fmt: skip
    _ok(made, 201)
    refused = client.delete(f"/v1/categories/{named['id']}", headers=manager.headers)
    assert "category_id" in _fields(_problem(refused, 409))


# --- SLA and reports ---------------------------------------------------------------------------


def test_sla_policies_match_on_the_type(client: Any) -> None:
    desk = make_tenant(client, roles=("manager", "agent"))
    manager, agent = desk.members["manager"], desk.members["agent"]
    unknown = client.post(
        "/v1/sla-policies",
        json={
            "name": "Bad", "position": 1, "first_response_minutes": 30,
            "resolution_minutes": 60, "conditions": {"types": ["nosuch"]},
        },
        headers=manager.headers,
    )  # fmt: skip
    assert "conditions.types.0" in _fields(_problem(unknown, 422))
    policy = _ok(
        client.post(
            "/v1/sla-policies",
            json={
                "name": "Problems", "position": 1, "first_response_minutes": 30,
                "resolution_minutes": 600, "conditions": {"types": ["problem"]},
            },
            headers=manager.headers,
        ),
        201,
    )  # fmt: skip
    assert policy["conditions"]["types"] == ["problem"]

    def policy_of(ticket: dict[str, Any]) -> Any:
        return _ok(client.get(f"/v1/tickets/{ticket['id']}/sla", headers=agent.headers))[
            "policy_id"
        ]

    problem = _ticket(client, agent, type="problem")
    incident = _ticket(client, agent)
    assert policy_of(problem) == policy["id"] and policy_of(incident) is None
    # Retyping re-chooses the policy.
    retyped = _ok(
        _patch(client, agent, f"/v1/tickets/{incident['id']}", incident["version"], type="problem")
    )
    assert retyped["type"] == "problem" and policy_of(incident) == policy["id"]


def test_reports_group_by_type_equal_a_direct_count(client: Any, database: Any) -> None:
    desk = make_tenant(client, roles=("manager", "agent"))
    manager, agent = desk.members["manager"], desk.members["agent"]
    custom = _new_type(client, desk)
    for kind, n in (("incident", 3), ("problem", 2), ("question", 1), (custom["key"], 2)):
        for _ in range(n):
            made = _ticket(client, agent, type=kind)
            if kind == "problem":
                _ok(
                    client.post(
                        f"/v1/tickets/{made['id']}/transitions",
                        json={"to": "resolved"},
                        headers=agent.headers,
                    )
                )
    rebuild_tenant(uuid.UUID(desk.tenant_id))
    with database.connect("owner") as conn:
        direct = dict(
            conn.execute(
                "SELECT type, count(*) FROM tickets WHERE tenant_id = %s GROUP BY type",
                (desk.tenant_id,),
            ).fetchall()
        )
    # UTC: from the hourly rollup; a half-hour zone: from the events. Both equal the count.
    for tz in ("UTC", "Asia/Kolkata"):
        report = _ok(
            client.get(
                "/v1/reports/volume",
                params={"group_by": "type", "tz": tz},
                headers=manager.headers,
            )
        )
        got = {r["group"]["id"]: r["values"]["created"] for r in report["rows"]}
        assert got == direct, (tz, got, direct)
        labels = {r["group"]["id"]: r["group"]["label"] for r in report["rows"]}
        assert labels[custom["key"]] == custom["name"] and labels["problem"] == "Problem"
        problem_row = next(r for r in report["rows"] if r["group"]["id"] == "problem")
        assert problem_row["values"]["resolved"] == 2
        assert problem_row["drilldowns"]["created"]["type"] == "problem"
    # The drill-down lists exactly the tickets counted.
    drill = problem_row["drilldowns"]["created"]
    listed = _ok(client.get("/v1/tickets", params=drill, headers=manager.headers))
    assert len(listed["items"]) == 2
    # The type filter, and a malformed one.
    only = _ok(
        client.get("/v1/reports/volume", params={"type": "question"}, headers=manager.headers)
    )
    assert only["totals"]["created"] == 1
    bad = client.get("/v1/reports/volume", params={"type": "Bad Key"}, headers=manager.headers)
    assert "type" in _fields(_problem(bad, 422))
