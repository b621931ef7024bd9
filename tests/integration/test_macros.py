"""Macros through the API on the real database: saving refuses what would not run,
visibility and edit rights per scope and role, applying is one atomic change, preview and
render write nothing, and the ``apply_macro`` action of automation rules."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import text

from servicedesk.actions import executor
from servicedesk.actions.schemas import ActionList
from servicedesk.platform import db
from servicedesk.platform.errors import ValidationProblem
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from tests.conftest import PASSWORD, make_tenant
from tests.conftest import login as log_in

ACTIONS: TypeAdapter[list[Any]] = TypeAdapter(ActionList)


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent", "manager", "requester"))


def _h(org, role: str) -> dict[str, str]:
    return org.members[role].headers


def _ticket(client, org, **body) -> dict[str, Any]:
    created = client.post(
        "/v1/tickets",
        headers=_h(org, "requester"),
        json={"title": "VPN down", "description": "no tunnel", **body},
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def _macro(client, org, role: str = "manager", **body) -> dict[str, Any]:
    payload = {
        "name": f"M {uuid.uuid4().hex[:8]}",
        "scope": "tenant",
        "actions": [{"type": "add_tags", "tags": ["macro"]}],
        **body,
    }
    made = client.post("/v1/macros", headers=_h(org, role), json=payload)
    assert made.status_code == 201, made.text
    return dict(made.json())


def _team(client, org, *members: str) -> dict[str, Any]:
    team = client.post(
        "/v1/teams", headers=_h(org, "manager"), json={"name": f"T{uuid.uuid4().hex[:6]}"}
    )
    assert team.status_code == 201, team.text
    for role in members:
        added = client.put(
            f"/v1/teams/{team.json()['id']}/members/{org.members[role].user_id}",
            headers=_h(org, "manager"),
        )
        assert added.status_code in (200, 201), added.text
    return dict(team.json())


def _state(client, org, ticket_id: str) -> tuple[Any, ...]:
    h = _h(org, "agent")
    ticket = client.get(f"/v1/tickets/{ticket_id}", headers=h).json()
    comments = client.get(f"/v1/tickets/{ticket_id}/comments", headers=h).json()["items"]
    events = client.get(f"/v1/tickets/{ticket_id}/events?limit=100", headers=h).json()["items"]
    return ticket, comments, [e["id"] for e in events]


def test_apply_is_one_change_per_action_and_counts_its_use(client, org):
    ticket = _ticket(client, org)
    macro = _macro(
        client,
        org,
        actions=[
            {"type": "set_field", "field": "priority", "value": "high"},
            {"type": "add_tags", "tags": ["vpn"]},
            {"type": "assign", "assignee_rule": "current_user"},
            {"type": "set_status", "status": "in_progress"},
            {"type": "reply", "body": "Hi {{requester.first_name}}, {{agent.name}} has it."},
        ],
    )
    url = f"/v1/tickets/{ticket['id']}/macros/{macro['id']}/apply"
    applied = client.post(url, headers={**_h(org, "agent"), "Idempotency-Key": "k-apply-1"})
    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert [o["status"] for o in body["outcomes"]] == ["applied"] * 5
    assert body["ticket"]["priority"] == "high" and body["ticket"]["status"] == "in_progress"
    assert body["ticket"]["assignee_id"] == org.members["agent"].user_id
    _, comments, _ = _state(client, org, ticket["id"])
    assert [c["body"] for c in comments] == ["Hi Requester, Agent has it."]
    # The same key: the same answer, applied once.
    again = client.post(url, headers={**_h(org, "agent"), "Idempotency-Key": "k-apply-1"})
    assert again.json() == body
    assert len(_state(client, org, ticket["id"])[1]) == 1
    used = client.get(f"/v1/macros/{macro['id']}", headers=_h(org, "agent")).json()
    assert used["usage_count"] == 1 and used["last_used_at"] is not None
    assert used["version"] == macro["version"]


def test_a_failing_action_leaves_ticket_comments_and_timeline_untouched(client, org):
    ticket = _ticket(client, org)
    macro = _macro(
        client,
        org,
        actions=[
            {"type": "add_tags", "tags": ["never"]},
            {"type": "note", "body": "never posted"},
            {"type": "set_status", "status": "resolved"},
            {"type": "set_status", "status": "pending"},  # resolved -> pending: refused
        ],
    )
    before = _state(client, org, ticket["id"])
    failed = client.post(
        f"/v1/tickets/{ticket['id']}/macros/{macro['id']}/apply", headers=_h(org, "agent")
    )
    assert failed.status_code == 409, failed.text
    assert failed.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in failed.json()["errors"]} == {"actions.3.to"}
    assert _state(client, org, ticket["id"]) == before
    assert (
        client.get(f"/v1/macros/{macro['id']}", headers=_h(org, "agent")).json()["usage_count"] == 0
    )


def test_save_refuses_unknown_placeholders_and_bad_references_listing_each(client, org):
    sent = {
        "name": "Broken",
        "scope": "tenant",
        "actions": [
            {"type": "reply", "body": "Hi {{requester.shoe_size}} {{ticket.number}} {{ x.y }}"},
            {"type": "assign", "team_id": str(uuid.uuid4())},
            {"type": "set_field", "field": "custom_fields.nope", "value": 1},
            {"type": "note", "body": "{{tenant.name}}"},
            {"type": "webhook", "webhook_id": str(uuid.uuid4())},
        ],
    }
    refused = client.post("/v1/macros", headers=_h(org, "manager"), json=sent)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    errors = {e["field"]: e for e in refused.json()["errors"]}
    assert set(errors) == {"actions.4.type"}  # a type a macro cannot have is refused first
    sent["actions"].pop()
    refused = client.post("/v1/macros", headers=_h(org, "manager"), json=sent)
    assert refused.status_code == 422, refused.text
    errors = {e["field"]: e for e in refused.json()["errors"]}
    assert set(errors) == {"actions.0.body", "actions.1.team_id", "actions.2.field"}
    assert errors["actions.0.body"]["unknown"] == ["requester.shoe_size", "x.y"]
    # An update is checked the same way.
    macro = _macro(client, org)
    patched = client.patch(
        f"/v1/macros/{macro['id']}",
        headers={**_h(org, "manager"), "If-Match": f'"{macro["version"]}"'},
        json={"actions": [{"type": "note", "body": "{{ticket.nope}}"}]},
    )
    assert patched.status_code == 422, patched.text
    assert patched.json()["errors"][0]["unknown"] == ["ticket.nope"]


def test_deactivated_team_is_flagged_and_apply_refused(client, org):
    team = _team(client, org, "agent")
    macro = _macro(client, org, actions=[{"type": "assign", "team_id": team["id"]}])
    assert macro["problems"] == []
    gone = client.patch(
        f"/v1/teams/{team['id']}",
        headers=_h(org, "manager"),
        json={"active": False, "version": team["version"]},
    )
    assert gone.status_code == 200, gone.text
    listed = client.get("/v1/macros?scope=tenant&limit=100", headers=_h(org, "agent")).json()
    found = next(m for m in listed["items"] if m["id"] == macro["id"])
    assert [p["field"] for p in found["problems"]] == ["actions.0.team_id"]
    ticket = _ticket(client, org)
    before = _state(client, org, ticket["id"])
    refused = client.post(
        f"/v1/tickets/{ticket['id']}/macros/{macro['id']}/apply", headers=_h(org, "agent")
    )
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["actions.0.team_id"]
    assert _state(client, org, ticket["id"]) == before


def test_visibility_and_edit_rights_per_scope_and_role(client):
    org = make_tenant(client, roles=("agent", "manager", "requester"))
    other_agent = client.post(
        "/v1/users",
        headers=_h(org, "admin"),
        json={
            "email": f"a2-{uuid.uuid4().hex[:6]}@{org.slug}.example",
            "name": "Other Agent",
            "role": "agent",
            "password": PASSWORD,
        },
    )
    assert other_agent.status_code == 201, other_agent.text
    team = _team(client, org, "agent")
    personal = _macro(client, org, role="agent", scope="personal")
    team_macro = _macro(client, org, scope="team", team_id=team["id"])
    shared = _macro(client, org, scope="tenant")

    def ids(role: str) -> set[str]:
        page = client.get("/v1/macros?limit=100", headers=_h(org, role))
        assert page.status_code == 200, page.text
        return {m["id"] for m in page.json()["items"]}

    assert ids("agent") == {personal["id"], team_macro["id"], shared["id"]}
    assert ids("manager") == {team_macro["id"], shared["id"]}
    assert ids("admin") == {team_macro["id"], shared["id"]}
    # Requesters: every route answers 404.
    for method, url in (
        ("GET", "/v1/macros"),
        ("GET", "/v1/macros/placeholders"),
        ("GET", f"/v1/macros/{shared['id']}"),
        ("PATCH", f"/v1/macros/{shared['id']}"),
        ("DELETE", f"/v1/macros/{shared['id']}"),
    ):
        answer = client.request(
            method, url, headers=_h(org, "requester"), json={"name": "x", "version": 1}
        )
        assert answer.status_code == 404, (method, url, answer.text)
    made = client.post(
        "/v1/macros",
        headers=_h(org, "requester"),
        json={"name": "r", "actions": [{"type": "note", "body": "x"}]},
    )
    assert made.status_code == 404
    # Another agent, not in the team: neither the personal nor the team macro.
    login = log_in(client, other_agent.json()["email"])
    assert login.status_code == 200, login.text
    other = {"Authorization": f"Bearer {login.json()['access_token']}"}
    listed = client.get("/v1/macros?limit=100", headers=other).json()["items"]
    assert {m["id"] for m in listed} == {shared["id"]}
    for hidden in (personal, team_macro):
        assert client.get(f"/v1/macros/{hidden['id']}", headers=other).status_code == 404

    # Edit rights: the owner edits a personal macro, managers the shared ones, agents not.
    def patch(role: str, macro: dict[str, Any]) -> int:
        current = client.get(f"/v1/macros/{macro['id']}", headers=_h(org, role))
        if current.status_code != 200:
            return current.status_code
        changed = client.patch(
            f"/v1/macros/{macro['id']}",
            headers={**_h(org, role), "If-Match": current.headers["ETag"]},
            json={"description": f"by {role}"},
        )
        return changed.status_code

    assert patch("agent", personal) == 200
    assert patch("manager", personal) == 404
    assert patch("agent", team_macro) == 403
    assert patch("manager", team_macro) == 200
    assert patch("agent", shared) == 403
    assert patch("admin", shared) == 200
    assert (
        client.get(f"/v1/macros/{shared['id']}", headers=_h(org, "agent")).json()["can_edit"]
        is False
    )
    # Agents make personal macros only.
    refused = client.post(
        "/v1/macros",
        headers=_h(org, "agent"),
        json={"name": "mine", "scope": "tenant", "actions": [{"type": "note", "body": "x"}]},
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "scope"
    assert client.delete(f"/v1/macros/{shared['id']}", headers=_h(org, "agent")).status_code == 403
    assert (
        client.delete(f"/v1/macros/{personal['id']}", headers=_h(org, "agent")).status_code == 204
    )


def test_names_unique_per_scope_ignoring_case_and_versions_checked(client, org):
    macro = _macro(client, org, name="Close as duplicate")
    clash = client.post(
        "/v1/macros",
        headers=_h(org, "manager"),
        json={"name": "close AS duplicate", "scope": "tenant", "actions": macro["actions"]},
    )
    assert clash.status_code == 409 and clash.json()["errors"][0]["field"] == "name"
    found = client.get("/v1/macros?q=AS%20DUP&limit=100", headers=_h(org, "agent")).json()
    assert macro["id"] in {m["id"] for m in found["items"]}
    literal = client.get("/v1/macros?q=%25&limit=100", headers=_h(org, "agent")).json()
    assert literal["items"] == []  # "%" is a character, not a wildcard
    # The same name as a personal macro is another scope.
    _macro(client, org, role="agent", name="Close as duplicate", scope="personal")
    stale = client.patch(
        f"/v1/macros/{macro['id']}",
        headers={**_h(org, "manager"), "If-Match": '"99"'},
        json={"name": "x"},
    )
    assert stale.status_code == 412
    missing = client.patch(
        f"/v1/macros/{macro['id']}", headers=_h(org, "manager"), json={"name": "x"}
    )
    assert missing.status_code == 428
    archived = client.patch(
        f"/v1/macros/{macro['id']}",
        headers=_h(org, "manager"),
        json={"archived": True, "version": macro["version"]},
    )
    assert archived.status_code == 200 and archived.json()["archived"] is True
    listed = client.get("/v1/macros?q=close%20as&limit=100", headers=_h(org, "manager")).json()
    assert macro["id"] not in {m["id"] for m in listed["items"]}
    ticket = _ticket(client, org)
    refused = client.post(
        f"/v1/tickets/{ticket['id']}/macros/{macro['id']}/apply", headers=_h(org, "agent")
    )
    assert refused.status_code == 409


def test_preview_and_render_write_nothing(client, org):
    ticket = _ticket(client, org)
    macro = _macro(
        client,
        org,
        actions=[
            {"type": "set_field", "field": "priority", "value": "critical"},
            {"type": "reply", "body": "{{ticket.number}}: on it, {{requester.first_name}}"},
            {"type": "note", "body": "internal {{ agent.first_name }}"},
        ],
    )
    before = _state(client, org, ticket["id"])
    preview = client.post(
        f"/v1/tickets/{ticket['id']}/macros/{macro['id']}/preview", headers=_h(org, "agent")
    )
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["changes"] == [{"field": "priority", "before": "medium", "after": "critical"}]
    assert body["comments"] == [
        {"type": "reply", "body": f"{ticket['number']}: on it, Requester"},
        {"type": "note", "body": "internal Agent"},
    ]
    assert _state(client, org, ticket["id"]) == before
    # Not a canned response: it sets a field.
    refused = client.post(
        f"/v1/tickets/{ticket['id']}/macros/{macro['id']}/render", headers=_h(org, "agent")
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "macro_id"
    canned = _macro(
        client,
        org,
        role="agent",
        scope="personal",
        actions=[{"type": "reply", "body": "Hi {{requester.name}}"}],
    )
    assert canned["canned"] is True
    rendered = client.post(
        f"/v1/tickets/{ticket['id']}/macros/{canned['id']}/render", headers=_h(org, "agent")
    )
    assert rendered.status_code == 200, rendered.text
    assert rendered.json() == {"items": [{"type": "reply", "body": "Hi Requester"}]}
    assert _state(client, org, ticket["id"]) == before


def test_tenant_isolation_and_invisible_tickets_answer_404(client, org):
    stranger = make_tenant(client, roles=("agent", "manager"))
    macro = _macro(client, org)
    ticket = _ticket(client, org)
    for method, url in (
        ("GET", f"/v1/macros/{macro['id']}"),
        ("DELETE", f"/v1/macros/{macro['id']}"),
        ("POST", f"/v1/tickets/{ticket['id']}/macros/{macro['id']}/apply"),
        ("POST", f"/v1/tickets/{ticket['id']}/macros/{macro['id']}/preview"),
        ("POST", f"/v1/tickets/{ticket['id']}/macros/{macro['id']}/render"),
    ):
        answer = client.request(method, url, headers=_h(stranger, "manager"))
        assert answer.status_code == 404, (method, url, answer.text)
    assert macro["id"] not in {
        m["id"] for m in client.get("/v1/macros", headers=_h(stranger, "manager")).json()["items"]
    }
    # Their macro on our ticket, and ours on theirs: 404 too.
    own = _macro(client, stranger)
    answer = client.post(
        f"/v1/tickets/{ticket['id']}/macros/{own['id']}/apply", headers=_h(org, "agent")
    )
    assert answer.status_code == 404


def test_macro_events_and_audit_go_through_the_outbox(client, org):
    macro = _macro(client, org)
    client.patch(
        f"/v1/macros/{macro['id']}",
        headers=_h(org, "manager"),
        json={"description": "d", "version": macro["version"]},
    )
    assert client.delete(f"/v1/macros/{macro['id']}", headers=_h(org, "manager")).status_code == 204
    with db.transaction() as session:
        db.set_tenant(session, tenant_id=uuid.UUID(org.tenant_id), user_id=None)
        rows = session.execute(
            text("SELECT event_type FROM outbox WHERE aggregate_id = :id ORDER BY created_at, seq"),
            {"id": macro["id"]},
        ).scalars()
        assert list(rows) == ["macro.created", "macro.updated", "macro.deleted"]


def _run(org, ticket_id: str, actions: list[dict[str, Any]], mode: str) -> Any:
    with db.transaction() as session:
        tenant_id = uuid.UUID(org.tenant_id)
        user_id = uuid.UUID(org.members["admin"].user_id)
        db.set_tenant(session, tenant_id=tenant_id, user_id=user_id)
        ctx = RequestContext(session, tenant_id, user_id, Role.ADMIN)
        extra: dict[str, Any] = {}
        outcomes = executor.apply(
            ctx,
            uuid.UUID(ticket_id),
            ACTIONS.validate_python(actions),
            agent_id=None,
            mode=mode,  # type: ignore[arg-type]
            extra=extra,
        )
        return outcomes, extra


def test_apply_macro_action_lenient_skips_the_broken_and_applies_the_rest(client, org):
    team = _team(client, org)
    shared = _macro(
        client,
        org,
        actions=[
            {"type": "assign", "team_id": team["id"]},
            {"type": "add_tags", "tags": ["auto"]},
            {"type": "note", "body": "rule by {{agent.name}} for {{requester.first_name}}"},
        ],
    )
    client.patch(
        f"/v1/teams/{team['id']}",
        headers=_h(org, "manager"),
        json={"active": False, "version": team["version"]},
    )
    personal = _macro(client, org, role="agent", scope="personal")
    ticket = _ticket(client, org)
    outcomes, extra = _run(
        org,
        ticket["id"],
        [
            {"type": "apply_macro", "macro_id": shared["id"]},
            {"type": "apply_macro", "macro_id": personal["id"]},
            {"type": "set_field", "field": "priority", "value": "low"},
        ],
        "lenient",
    )
    assert [o.status for o in outcomes] == ["applied", "skipped", "applied"]
    assert "actions.1.macro_id" in (outcomes[1].detail or "")
    inner = extra["apply_macro"][0]["outcomes"]
    assert [o["status"] for o in inner] == ["skipped", "applied", "applied"]
    now, comments, _ = _state(client, org, ticket["id"])
    assert now["tags"] == ["auto"] and now["priority"] == "low" and now["team_id"] is None
    assert [c["body"] for c in comments] == ["rule by  for Requester"]
    # Strict: the broken reference refuses everything, named under the outer action.
    with pytest.raises(ValidationProblem) as raised:
        _run(
            org,
            ticket["id"],
            [
                {"type": "add_tags", "tags": ["strict"]},
                {"type": "apply_macro", "macro_id": shared["id"]},
            ],
            "strict",
        )
    assert [e["field"] for e in raised.value.errors or []] == ["actions.1.0.team_id"]
    assert _state(client, org, ticket["id"])[0]["tags"] == ["auto"]


def test_the_editor_previews_a_draft_without_saving_it(client, org):
    ticket = _ticket(client, org)
    before = _state(client, org, ticket["id"])
    url = f"/v1/tickets/{ticket['id']}/macros/preview"
    draft = {
        "actions": [
            {"type": "assign", "assignee_rule": "current_user"},
            {"type": "reply", "body": "{{assignee.first_name}} will help, {{requester.name}}"},
        ]
    }
    shown = client.post(url, headers=_h(org, "agent"), json=draft)
    assert shown.status_code == 200, shown.text
    assert shown.json()["comments"] == [{"type": "reply", "body": "Agent will help, Requester"}]
    assert [c["field"] for c in shown.json()["changes"]] == ["assignee_id"]
    assert _state(client, org, ticket["id"]) == before
    bad = client.post(
        url,
        headers=_h(org, "agent"),
        json={
            "actions": [
                {"type": "note", "body": "{{nope.x}}"},
                {"type": "webhook", "webhook_id": str(uuid.uuid4())},
            ]
        },
    )
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == [
        "actions.1.type"
    ]
    bad = client.post(
        url, headers=_h(org, "agent"), json={"actions": [{"type": "note", "body": "{{nope.x}}"}]}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["unknown"] == ["nope.x"]
    assert client.post(url, headers=_h(org, "requester"), json=draft).status_code == 404
