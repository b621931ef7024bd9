"""Automation rules through the API and the real database: event rules in the change's
transaction, the run log, broken references skipped (never a 500), time rules once per
episode, the dry run, bad input, roles and tenant isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from servicedesk.automation import timed
from servicedesk.platform import db
from tests.conftest import make_tenant


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent", "manager", "requester"))


def _rule(client, org, **body: Any) -> dict[str, Any]:
    created = client.post("/v1/automations", headers=org.admin.headers, json=body)
    assert created.status_code == 201, created.text
    return dict(created.json())


def _ticket(client, org, **body: Any) -> dict[str, Any]:
    created = client.post(
        "/v1/tickets",
        headers=org.members["requester"].headers,
        json={"title": "VPN down", "description": "cannot connect", **body},
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def _get(client, org, ticket_id: str) -> dict[str, Any]:
    return dict(client.get(f"/v1/tickets/{ticket_id}", headers=org.admin.headers).json())


def _runs(client, org, rule_id: str) -> list[dict[str, Any]]:
    page = client.get(f"/v1/automations/{rule_id}/runs?limit=100", headers=org.admin.headers)
    assert page.status_code == 200, page.text
    return list(page.json()["items"])


def _delete_all(client, org) -> None:
    for rule in client.get("/v1/automations", headers=org.admin.headers).json():
        assert (
            client.delete(f"/v1/automations/{rule['id']}", headers=org.admin.headers).status_code
            == 204
        )


def test_an_event_rule_runs_in_the_change_and_logs_its_run(client, org):
    _delete_all(client, org)
    rule = _rule(
        client,
        org,
        name="VPN tickets are high",
        kind="event",
        triggers=[{"event": "created"}],
        conditions={"all": [{"field": "title", "op": "contains", "value": "vpn"}]},
        actions=[
            {"type": "set_field", "field": "priority", "value": "high"},
            {"type": "add_tags", "tags": ["vpn"]},
            {"type": "note", "body": "Flagged for {{ticket.number}}"},
        ],
    )
    assert rule["problems"] == [] and rule["position"] == 0
    ticket = _ticket(client, org)
    # The creation's answer already shows what the rule did: same transaction.
    assert ticket["priority"] == "high" and ticket["tags"] == ["vpn"]
    other = _ticket(client, org, title="Printer")
    assert other["tags"] == []
    runs = _runs(client, org, rule["id"])
    assert [r["status"] for r in runs] == ["fired"]
    assert runs[0]["ticket_id"] == ticket["id"]
    assert [o["status"] for o in runs[0]["outcomes"]] == ["applied"] * 3
    events = client.get(
        f"/v1/tickets/{ticket['id']}/events?limit=100", headers=org.admin.headers
    ).json()["items"]
    # The Automation actor acts, takes part in nothing.
    assert "participant_added" not in [e["type"] for e in events]
    users = client.get("/v1/users?limit=100", headers=org.admin.headers).json()["items"]
    assert all("automation.invalid" not in u["email"] for u in users)


def test_rules_see_the_ticket_as_the_previous_rule_left_it_and_chain(client, org):
    _delete_all(client, org)
    first = _rule(
        client,
        org,
        name="tag urgent",
        kind="event",
        triggers=[{"event": "updated", "fields": ["priority"]}],
        conditions={"all": [{"field": "priority", "op": "changed_to", "value": "critical"}]},
        actions=[{"type": "add_tags", "tags": ["urgent"]}],
    )
    second = _rule(
        client,
        org,
        name="urgent to in progress",
        kind="event",
        triggers=[{"event": "updated", "fields": ["tags"]}],
        conditions={"all": [{"field": "tags", "op": "includes", "value": ["urgent"]}]},
        actions=[{"type": "set_status", "status": "in_progress"}],
    )
    ticket = _ticket(client, org)
    changed = client.patch(
        f"/v1/tickets/{ticket['id']}",
        headers=org.members["agent"].headers,
        json={"priority": "critical", "version": ticket["version"]},
    )
    assert changed.status_code == 200, changed.text
    now = _get(client, org, ticket["id"])
    assert now["tags"] == ["urgent"] and now["status"] == "in_progress"
    assert [r["status"] for r in _runs(client, org, first["id"])] == ["fired"]
    second_runs = _runs(client, org, second["id"])
    assert [r["status"] for r in second_runs] == ["fired"] and second_runs[0]["depth"] == 1


def test_a_rule_that_refires_itself_stops_at_its_loop_limit(client, org):
    _delete_all(client, org)
    rule = _rule(
        client,
        org,
        name="ping pong",
        kind="event",
        loop_limit=2,
        triggers=[{"event": "updated", "fields": ["priority"]}],
        conditions={"all": []},
        actions=[
            {"type": "set_field", "field": "priority", "value": "low"},
            {"type": "set_field", "field": "priority", "value": "high"},
        ],
    )
    ticket = _ticket(client, org)
    client.patch(
        f"/v1/tickets/{ticket['id']}",
        headers=org.members["agent"].headers,
        json={"priority": "critical", "version": ticket["version"]},
    )
    statuses = [r["status"] for r in reversed(_runs(client, org, rule["id"]))]
    assert statuses.count("fired") == 2
    assert "loop_limit" in statuses


def test_a_deleted_team_is_flagged_and_skipped_at_run_never_a_500(client, org):
    _delete_all(client, org)
    team = client.post(
        "/v1/teams", headers=org.admin.headers, json={"name": f"Net {uuid.uuid4().hex[:6]}"}
    )
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    by_condition = _rule(
        client,
        org,
        name="network team tickets",
        kind="event",
        triggers=[{"event": "created"}],
        conditions={"all": [{"field": "team_id", "op": "is_not", "value": team_id}]},
        actions=[{"type": "add_tags", "tags": ["seen"]}],
    )
    by_action = _rule(
        client,
        org,
        name="route to network",
        kind="event",
        triggers=[{"event": "created"}],
        actions=[{"type": "assign", "team_id": team_id}, {"type": "add_tags", "tags": ["routed"]}],
    )
    gone = client.patch(
        f"/v1/teams/{team_id}",
        headers=org.admin.headers,
        json={"active": False, "version": team.json()["version"]},
    )
    assert gone.status_code == 200, gone.text
    listed = {r["id"]: r for r in client.get("/v1/automations", headers=org.admin.headers).json()}
    assert listed[by_condition["id"]]["problems"][0]["field"] == "conditions.all.0.value"
    assert listed[by_action["id"]]["problems"][0]["field"] == "actions.0.team_id"
    ticket = _ticket(client, org)
    assert ticket["tags"] == ["routed"]  # the other action still applied
    skipped = _runs(client, org, by_condition["id"])
    assert skipped[0]["status"] == "skipped" and "no such active team" in skipped[0]["error"]
    partial = _runs(client, org, by_action["id"])[0]
    assert [o["status"] for o in partial["outcomes"]] == ["skipped", "applied"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"conditions": {"all": [{"field": "nope", "op": "is", "value": 1}]}},
            "conditions.all.0.field",
        ),
        (
            {"conditions": {"all": [{"field": "title", "op": "matches", "value": "(a)\\1"}]}},
            "conditions.all.0.value",
        ),
        ({"actions": [{"type": "reply", "body": "Hi {{requester.shoe_size}}"}]}, "actions.0.body"),
        (
            {
                "kind": "time",
                "triggers": [],
                "conditions": {"all": [{"field": "status", "op": "changed"}]},
            },
            "conditions.all.0.op",
        ),
        (
            {"actions": [{"type": "assign", "assignee_rule": "current_user"}]},
            "actions.0.assignee_rule",
        ),
        ({"triggers": []}, "triggers"),
        (
            {"actions": [{"type": "webhook", "webhook_id": str(uuid.uuid4())}]},
            "actions.0.webhook_id",
        ),
    ],
)
def test_bad_rules_are_422_naming_the_field(client, org, body, field):
    rule = {
        "name": f"bad {uuid.uuid4().hex[:6]}",
        "kind": "event",
        "triggers": [{"event": "created"}],
        "actions": [{"type": "add_tags", "tags": ["x"]}],
        **body,
    }
    answer = client.post("/v1/automations", headers=org.admin.headers, json=rule)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in answer.json()["errors"]], answer.json()


def test_roles_and_tenant_isolation(client, org):
    _delete_all(client, org)
    rule = _rule(
        client,
        org,
        name="iso",
        kind="event",
        triggers=[{"event": "created"}],
        actions=[{"type": "add_tags", "tags": ["iso"]}],
    )
    manager, agent = org.members["manager"].headers, org.members["agent"].headers
    assert client.get("/v1/automations", headers=manager).status_code == 200
    assert client.get(f"/v1/automations/{rule['id']}", headers=manager).status_code == 200
    assert client.get("/v1/automations", headers=agent).status_code == 403
    assert client.post("/v1/automations", headers=manager, json={}).status_code == 403
    assert client.delete(f"/v1/automations/{rule['id']}", headers=manager).status_code == 403
    other = make_tenant(client, roles=("requester",))
    assert (
        client.get(f"/v1/automations/{rule['id']}", headers=other.admin.headers).status_code == 404
    )
    assert client.get("/v1/automations", headers=other.admin.headers).json() == []
    created = client.post(
        "/v1/tickets",
        headers=other.members["requester"].headers,
        json={"title": "x", "description": "y"},
    ).json()
    assert created["tags"] == []  # another tenant's rule never fires here


def test_reorder_and_dry_run(client, org):
    _delete_all(client, org)
    a = _rule(
        client,
        org,
        name="a",
        kind="time",
        conditions={"all": [{"field": "status", "op": "is", "value": "new"}]},
        actions=[{"type": "add_tags", "tags": ["a"]}],
        active=False,
    )
    b = _rule(
        client,
        org,
        name="b",
        kind="time",
        actions=[{"type": "add_tags", "tags": ["b"]}],
        active=False,
    )
    moved = client.post(
        "/v1/automations/reorder",
        headers=org.admin.headers,
        json={"kind": "time", "ids": [b["id"], a["id"]]},
    )
    assert moved.status_code == 200, moved.text
    assert [r["id"] for r in moved.json()] == [b["id"], a["id"]]
    bad = client.post(
        "/v1/automations/reorder",
        headers=org.admin.headers,
        json={"kind": "time", "ids": [b["id"]]},
    )
    assert bad.status_code == 422
    marker = f"dry{uuid.uuid4().hex[:8]}"
    made = [_ticket(client, org, title=f"{marker} {i}") for i in range(3)]
    dry = client.post(
        "/v1/automations/dry-run",
        headers=org.admin.headers,
        json={
            "conditions": {
                "all": [{"field": "title", "op": "matches", "value": f"^{marker} [01]$"}]
            },
            "limit": 1,
        },
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["count"] == 2 and len(dry.json()["items"]) == 1
    assert dry.json()["items"][0]["id"] in {made[0]["id"], made[1]["id"]}


def test_a_time_rule_fires_once_per_status_episode(client, org):
    _delete_all(client, org)
    marker = f"ep{uuid.uuid4().hex[:8]}"
    rule = _rule(
        client,
        org,
        name="remind pending",
        kind="time",
        conditions={
            "all": [
                {"field": "status", "op": "is", "value": "pending"},
                {"field": "title", "op": "contains", "value": marker},
                {"field": "hours_since_status_change", "op": "gte", "value": 120, "business": True},
            ]
        },
        actions=[{"type": "reply", "body": "Any news, {{requester.first_name}}?"}],
    )
    ticket = _ticket(client, org, title=f"{marker} waiting")
    agent = org.members["agent"].headers
    moved = client.post(
        f"/v1/tickets/{ticket['id']}/transitions", headers=agent, json={"to": "pending"}
    )
    if moved.status_code == 409:  # the state machine goes through open first
        client.post(f"/v1/tickets/{ticket['id']}/transitions", headers=agent, json={"to": "open"})
        moved = client.post(
            f"/v1/tickets/{ticket['id']}/transitions", headers=agent, json={"to": "pending"}
        )
    assert moved.status_code == 200, moved.text
    now = datetime.now(UTC)
    assert timed.run(now).fired == 0  # not pending long enough
    later = now + timedelta(days=14)  # 5 business days have passed (24x7 without a policy)
    assert timed.run(later).fired == 1
    assert timed.run(later + timedelta(hours=1)).fired == 0  # same episode: once
    comments = client.get(f"/v1/tickets/{ticket['id']}/comments", headers=agent).json()["items"]
    assert [c["body"] for c in comments] == ["Any news, Requester?"]
    runs = _runs(client, org, rule["id"])
    assert [r["status"] for r in runs] == ["fired"] and runs[0]["trigger"] == "time"
    with db.transaction() as session:
        db.set_tenant(session, tenant_id=uuid.UUID(org.tenant_id), user_id=None)
        fired = session.execute(
            text("SELECT count(*) FROM automation_fired WHERE rule_id = :r"), {"r": rule["id"]}
        ).scalar_one()
    assert fired == 1
