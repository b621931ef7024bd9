"""The action vocabulary (servicedesk.actions) applied through the real services and
database: strict is all or nothing, lenient skips what no longer exists, placeholders render
once and safely."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import TypeAdapter

from servicedesk.actions import executor, placeholders
from servicedesk.actions.schemas import ActionList
from servicedesk.platform import db
from servicedesk.platform.errors import Conflict, ValidationProblem
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from tests.conftest import make_tenant

ACTIONS: TypeAdapter[list[Any]] = TypeAdapter(ActionList)


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent", "manager", "requester"))


def _ticket(client, org, **body) -> dict[str, Any]:
    created = client.post(
        "/v1/tickets",
        headers=org.members["requester"].headers,
        json={"title": "Printer on fire", "description": "smoke", **body},
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def _apply(org, ticket_id: str, actions: list[dict[str, Any]], mode: str = "strict") -> Any:
    agent = org.members["agent"]
    with db.transaction() as session:
        tenant_id, user_id = uuid.UUID(org.tenant_id), uuid.UUID(agent.user_id)
        db.set_tenant(session, tenant_id=tenant_id, user_id=user_id)
        ctx = RequestContext(session, tenant_id, user_id, Role.AGENT)
        return executor.apply(
            ctx,
            uuid.UUID(ticket_id),
            ACTIONS.validate_python(actions),
            agent_id=user_id,
            mode=mode,  # type: ignore[arg-type]
        )


def _get(client, org, ticket_id: str) -> dict[str, Any]:
    return dict(client.get(f"/v1/tickets/{ticket_id}", headers=org.members["agent"].headers).json())


def _events(client, org, ticket_id: str) -> list[str]:
    page = client.get(
        f"/v1/tickets/{ticket_id}/events?limit=100", headers=org.members["agent"].headers
    )
    assert page.status_code == 200, page.text
    return [e["type"] for e in page.json()["items"]]


def _comments(client, org, ticket_id: str) -> list[dict[str, Any]]:
    page = client.get(
        f"/v1/tickets/{ticket_id}/comments", headers=org.members["agent"].headers
    ).json()
    return list(page["items"])


def test_strict_actions_apply_in_order_one_timeline_entry_each(client, org):
    ticket = _ticket(client, org)
    before = _events(client, org, ticket["id"])
    outcomes = _apply(
        org,
        ticket["id"],
        [
            {"type": "set_field", "field": "priority", "value": "high"},
            {"type": "add_tags", "tags": ["Printer", "fire"]},
            {"type": "assign", "assignee_rule": "current_user"},
            {"type": "set_status", "status": "in_progress"},
            {"type": "reply", "body": "Hi {{requester.first_name}}, {{ticket.number}} is ours."},
            {"type": "note", "body": "Taken by {{ agent.name }}"},
            {"type": "set_status", "status": "in_progress"},
        ],
    )
    assert [o.status for o in outcomes] == ["applied"] * 6 + ["unchanged"]
    now = _get(client, org, ticket["id"])
    assert now["priority"] == "high" and now["tags"] == ["printer", "fire"]
    assert now["assignee_id"] == org.members["agent"].user_id
    assert now["status"] == "in_progress"
    bodies = {c["visibility"]: c["body"] for c in _comments(client, org, ticket["id"])}
    assert bodies["public"] == f"Hi Requester, {ticket['number']} is ours."
    assert bodies["internal"] == "Taken by Agent"
    added = _events(client, org, ticket["id"])[len(before) :]
    # As by hand: the agent who acts joins the ticket's participants (one entry).
    assert sorted(added) == sorted(
        [
            "participant_added",
            "priority_changed",
            "tags_changed",
            "assigned",
            "status_changed",
            "comment_added",
            "comment_added",
        ]
    )


def test_a_failing_strict_action_leaves_the_ticket_untouched(client, org):
    ticket = _ticket(client, org)
    with pytest.raises(Conflict) as raised:
        _apply(
            org,
            ticket["id"],
            [
                {"type": "add_tags", "tags": ["kept-out"]},
                {"type": "reply", "body": "never sent"},
                {"type": "set_status", "status": "resolved"},
                # resolved -> pending is not a transition
                {"type": "set_status", "status": "pending"},
            ],
        )
    assert {e["field"] for e in raised.value.errors or []} == {"actions.3.to"}
    assert raised.value.status == 409
    now = _get(client, org, ticket["id"])
    assert now["tags"] == [] and now["version"] == ticket["version"]
    assert _comments(client, org, ticket["id"]) == []


def test_strict_refuses_every_bad_reference_at_once(client, org):
    ticket = _ticket(client, org)
    with pytest.raises(ValidationProblem) as raised:
        _apply(
            org,
            ticket["id"],
            [
                {
                    "type": "reply",
                    "body": "{{requester.shoe_size}} {{ Ticket.Number }} {{ticket.title}}",
                },
                {"type": "assign", "team_id": str(uuid.uuid4())},
                {"type": "set_field", "field": "custom_fields.nope", "value": 1},
                {"type": "set_field", "field": "priority", "value": "urgent"},
            ],
        )
    errors = {e["field"]: e for e in raised.value.errors or []}
    assert set(errors) == {
        "actions.0.body",
        "actions.1.team_id",
        "actions.2.field",
        "actions.3.value",
    }
    assert errors["actions.0.body"]["unknown"] == ["requester.shoe_size", "Ticket.Number"]
    assert _get(client, org, ticket["id"])["version"] == ticket["version"]


def test_lenient_skips_what_no_longer_exists_and_applies_the_rest(client, org):
    manager = org.members["manager"]
    team = client.post(
        "/v1/teams", headers=manager.headers, json={"name": f"T{uuid.uuid4().hex[:6]}"}
    )
    assert team.status_code == 201, team.text
    gone = client.patch(
        f"/v1/teams/{team.json()['id']}",
        headers=manager.headers,
        json={"active": False, "version": team.json()["version"]},
    )
    assert gone.status_code == 200, gone.text
    ticket = _ticket(client, org)
    outcomes = _apply(
        org,
        ticket["id"],
        [
            {"type": "assign", "team_id": team.json()["id"]},
            {"type": "add_tags", "tags": ["triaged"]},
            {"type": "set_status", "status": "resolved"},
            {"type": "set_status", "status": "pending"},
            {"type": "set_field", "field": "priority", "value": "low"},
        ],
        mode="lenient",
    )
    assert [o.status for o in outcomes] == ["skipped", "applied", "applied", "skipped", "applied"]
    assert "no such active team" in (outcomes[0].detail or "")
    now = _get(client, org, ticket["id"])
    assert now["tags"] == ["triaged"] and now["priority"] == "low" and now["status"] == "resolved"
    assert now["team_id"] is None


def test_custom_field_set_and_cleared_through_the_category_schema(client, org):
    manager = org.members["manager"]
    schema = {"type": "object", "properties": {"asset": {"type": "string", "maxLength": 8}}}
    category = client.post(
        "/v1/categories",
        headers=manager.headers,
        json={"name": f"Hardware {uuid.uuid4().hex[:6]}", "fields_schema": schema},
    )
    assert category.status_code == 201, category.text
    ticket = _ticket(client, org, category_id=category.json()["id"])
    _apply(
        org, ticket["id"], [{"type": "set_field", "field": "custom_fields.asset", "value": "A-1"}]
    )
    assert _get(client, org, ticket["id"])["custom_fields"] == {"asset": "A-1"}
    with pytest.raises(ValidationProblem) as raised:
        _apply(
            org,
            ticket["id"],
            [{"type": "set_field", "field": "custom_fields.asset", "value": "far too long"}],
        )
    assert all(e["field"].startswith("actions.0.") for e in raised.value.errors or [])
    _apply(
        org, ticket["id"], [{"type": "set_field", "field": "custom_fields.asset", "value": None}]
    )
    assert _get(client, org, ticket["id"])["custom_fields"] == {}


def test_placeholders_render_once_and_values_are_never_templates():
    class Ticket:
        id = uuid.uuid4()
        number = "SD-7"
        title = "{{tenant.name}}"
        status = "pending"
        priority = "low"

    values = placeholders.Values(
        ticket=Ticket(),  # type: ignore[arg-type]
        requester=placeholders.Person("{{ticket.number}} Smith", "r@example.com"),
        assignee=None,
        agent=None,
        team=None,
        category=None,
        tenant="Acme",
        web_origin="https://desk.example/",
    )
    rendered = placeholders.render(
        "{{requester.first_name}}|{{ticket.title}}|{{assignee.name}}|{{ticket.url}}|{{x.y}}",
        values,
    )
    assert (
        rendered
        == f"{{{{ticket.number}}}}|{{{{tenant.name}}}}||https://desk.example/tickets/{Ticket.id}|{{{{x.y}}}}"
    )
    assert placeholders.unknown("{{ a.b.c }} {{ticket.number}} {{x.y}} {{x.y}}") == ["a.b.c", "x.y"]
    # Linear in the template: a long run of braces is cheap.
    assert placeholders.unknown("{{" * 50000) == []
