"""Change management on the real database: the state machine (standard, normal, emergency),
the approval flow end to end on the approvals engine (approved → scheduled, rejected → back
to draft with the reason), risk scoring from the tenant's questionnaire, collision detection
through a CI dependency, blackout refusal, stale versions, ticket links, the calendar,
events through the outbox, roles and tenant isolation of every route."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from servicedesk.platform import db
from tests.conftest import make_tenant

pytestmark = pytest.mark.usefixtures("client")

DAY = datetime(2031, 3, 3, 9, tzinfo=UTC)
LOW = {"impact": "few", "tested": "yes", "backout": "yes", "done_before": "often"}
HIGH = {"impact": "all", "tested": "no", "backout": "no", "done_before": "never"}


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent", "manager", "requester"))


@pytest.fixture(scope="module")
def other(client):
    return make_tenant(client, roles=("manager", "agent"))


def _h(org, role: str, version: int | None = None) -> dict[str, str]:
    headers = dict(org.members[role].headers)
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return headers


def _ci(client, org) -> dict[str, Any]:
    classes = client.get("/v1/ci-classes", headers=_h(org, "manager")).json()["items"]
    hardware = next(c for c in classes if c["key"] == "hardware")
    made = client.post(
        "/v1/cis",
        headers=_h(org, "manager"),
        json={"class_id": hardware["id"], "name": f"ci-{uuid.uuid4().hex[:8]}"},
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def _window(days: int, hours: int = 2) -> dict[str, str]:
    start = DAY + timedelta(days=days)
    return {
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=hours)).isoformat(),
    }


def _change(client, org, **body: Any) -> dict[str, Any]:
    made = client.post(
        "/v1/changes",
        headers=_h(org, "agent"),
        json={"title": f"Change {uuid.uuid4().hex[:6]}", **body},
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def _patch(client, org, change: dict[str, Any], **body: Any) -> Any:
    return client.patch(
        f"/v1/changes/{change['id']}", headers=_h(org, "agent", change["version"]), json=body
    )


def _move(client, org, change: dict[str, Any], state: str, **body: Any) -> Any:
    return client.post(
        f"/v1/changes/{change['id']}/transitions",
        headers=_h(org, "agent"),
        json={"state": state, "version": change["version"], **body},
    )


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


def _field(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["errors"][0]["field"])


def _settings(client, org, **body: Any) -> dict[str, Any]:
    current = _ok(client.get("/v1/changes/settings", headers=_h(org, "manager")))
    return _ok(
        client.patch(
            "/v1/changes/settings", headers=_h(org, "manager", current["version"]), json=body
        )
    )


def _cab(client, org) -> dict[str, Any]:
    """A two-stage CAB flow (the manager, then the admin) as the tenant's CAB flow."""
    flow = _ok(
        client.post(
            "/v1/approvals/flows",
            headers=_h(org, "manager"),
            json={
                "name": f"CAB {uuid.uuid4().hex[:6]}",
                "stages": [
                    {
                        "name": "Change manager",
                        "approvers": {"users": [org.members["manager"].user_id]},
                    },
                    {"name": "CAB", "approvers": {"users": [org.admin.user_id]}},
                ],
            },
        ),
        201,
    )
    _settings(client, org, cab_flow_id=flow["id"], emergency_flow_id=None)
    return flow


def _to_approval(client, org, **body: Any) -> dict[str, Any]:
    change = _change(client, org, **_window(body.pop("day", 1)), **body)
    change = _ok(_patch(client, org, change, risk_answers=LOW))
    change = _ok(_move(client, org, change, "assessment"))
    return _ok(_move(client, org, change, "approval"))


def _decide(client, org, who: str, approval: dict[str, Any], decision: str, comment: str = ""):
    headers = org.admin.headers if who == "admin" else _h(org, who)
    return client.post(
        f"/v1/approvals/{approval['id']}/decisions",
        headers=headers,
        json={"decision": decision, "comment": comment},
    )


def test_default_questionnaire_scores_and_levels(client, org):
    settings = _ok(client.get("/v1/changes/settings", headers=_h(org, "agent")))
    assert [q["key"] for q in settings["questions"]] == [
        "impact",
        "tested",
        "backout",
        "done_before",
    ]
    change = _change(client, org)
    assert change["state"] == "draft" and change["risk_level"] is None
    low = _ok(_patch(client, org, change, risk_answers=LOW))
    assert (low["risk_score"], low["risk_level"]) == (0, "low")
    high = _ok(_patch(client, org, low, risk_answers=HIGH))
    assert (high["risk_score"], high["risk_level"]) == (18, "high")
    # An unanswered question, an unknown option: 422 naming the question, nothing written.
    bad = _patch(client, org, high, risk_answers={**LOW, "tested": "maybe"})
    assert _field(bad, 422) == "risk_answers.tested"
    missing = _patch(client, org, high, risk_answers={"impact": "few"})
    assert {e["field"] for e in missing.json()["errors"]} == {
        "risk_answers.tested",
        "risk_answers.backout",
        "risk_answers.done_before",
    }
    again = _ok(client.get(f"/v1/changes/{change['id']}", headers=_h(org, "agent")))
    assert again["risk_level"] == "high" and again["version"] == high["version"]


def test_stale_version_is_412_and_missing_is_428(client, org):
    change = _change(client, org)
    _ok(_patch(client, org, change, title="First"))
    stale = _patch(client, org, change, title="Second")
    assert stale.status_code == 412, stale.text
    missing = client.patch(
        f"/v1/changes/{change['id']}", headers=_h(org, "agent"), json={"title": "Third"}
    )
    assert missing.status_code == 428
    stale_move = _move(client, org, change, "assessment")
    assert stale_move.status_code == 412
    found = _ok(client.get(f"/v1/changes/{change['id']}", headers=_h(org, "agent")))
    assert found["title"] == "First" and found["state"] == "draft"


def test_standard_change_from_a_template_is_scheduled_without_approval(client, org):
    template = _ok(
        client.post(
            "/v1/changes/templates",
            headers=_h(org, "manager"),
            json={"name": f"Patch {uuid.uuid4().hex[:6]}", "implementation_plan": "apt upgrade"},
        ),
        201,
    )
    bad = client.post(
        "/v1/changes", headers=_h(org, "agent"), json={"title": "x", "type": "standard"}
    )
    assert bad.status_code == 422
    change = _change(client, org, type="standard", template_id=template["id"], **_window(40))
    assert change["implementation_plan"] == "apt upgrade"
    assert change["allowed_states"] == ["cancelled", "scheduled"]
    change = _ok(_move(client, org, change, "scheduled"))
    assert change["state"] == "scheduled" and change["approvals"] == []
    change = _ok(_move(client, org, change, "implementing"))
    change = _ok(_move(client, org, change, "review"))
    closing = _move(client, org, change, "closed")
    assert _field(closing, 422) == "review_outcome"
    reviewed = _ok(
        client.put(
            f"/v1/changes/{change['id']}/review",
            headers=_h(org, "agent"),
            json={"outcome": "successful", "notes": "all good", "version": change["version"]},
        )
    )
    closed = _ok(_move(client, org, reviewed, "closed"))
    assert closed["state"] == "closed" and closed["review_outcome"] == "successful"
    assert closed["allowed_states"] == []
    # A closed change moves nowhere; a review outside review is 409.
    assert _field(_move(client, org, closed, "implementing"), 409) == "state"
    late = client.put(
        f"/v1/changes/{change['id']}/review",
        headers=_h(org, "agent"),
        json={"outcome": "failed", "version": closed["version"]},
    )
    assert _field(late, 409) == "state"
    # An inactive template cannot make a standard change.
    _ok(
        client.patch(
            f"/v1/changes/templates/{template['id']}",
            headers=_h(org, "manager", template["version"]),
            json={"active": False},
        )
    )
    refused = client.post(
        "/v1/changes",
        headers=_h(org, "agent"),
        json={"title": "x", "type": "standard", "template_id": template["id"]},
    )
    assert _field(refused, 422) == "template_id"


def test_normal_change_approved_by_the_cab_is_scheduled(client, org):
    _cab(client, org)
    change = _change(client, org, **_window(2))
    # Not assessed yet: 422 naming risk_answers; drafts cannot skip assessment.
    assert _field(_move(client, org, change, "approval"), 409) == "state"
    change = _ok(_move(client, org, change, "assessment"))
    assert _field(_move(client, org, change, "approval"), 422) == "risk_answers"
    change = _ok(_patch(client, org, change, risk_answers=LOW))
    change = _ok(_move(client, org, change, "approval"))
    assert change["state"] == "approval"
    [approval] = change["approvals"]
    assert approval["state"] == "pending" and approval["subject_type"] == "change"
    assert approval["subject"]["number"] == f"CHG-{change['number']}"
    # The change is no longer editable; scheduling by hand is not a person's move.
    assert _field(_patch(client, org, change, title="x"), 409) == "state"
    assert _field(_move(client, org, change, "scheduled"), 409) == "state"
    # The admin cannot decide the first stage (not current for them): 403/409, no change.
    assert _decide(client, org, "admin", approval, "approve").status_code in (403, 409)
    _ok(_decide(client, org, "manager", approval, "approve"), 201)
    mid = _ok(client.get(f"/v1/changes/{change['id']}", headers=_h(org, "agent")))
    assert mid["state"] == "approval"
    _ok(_decide(client, org, "admin", approval, "approve"), 201)
    done = _ok(client.get(f"/v1/changes/{change['id']}", headers=_h(org, "agent")))
    assert done["state"] == "scheduled"
    assert done["approvals"][0]["state"] == "approved"


def test_rejected_change_goes_back_to_draft_with_the_reason(client, org):
    _cab(client, org)
    change = _to_approval(client, org, day=3)
    approval = change["approvals"][0]
    _ok(_decide(client, org, "manager", approval, "reject", "too risky this week"), 201)
    back = _ok(client.get(f"/v1/changes/{change['id']}", headers=_h(org, "agent")))
    assert back["state"] == "draft"
    assert "too risky this week" in back["reason"]
    # Resubmitting opens a new approval request.
    again = _ok(_move(client, org, back, "assessment"))
    again = _ok(_move(client, org, again, "approval"))
    assert [a["state"] for a in again["approvals"]] == ["pending", "rejected"]
    # Cancelling a change in approval cancels its pending approval.
    cancelled = _move(client, org, again, "cancelled")
    assert _field(cancelled, 422) == "reason"
    cancelled = _ok(_move(client, org, again, "cancelled", reason="not needed"))
    assert cancelled["approvals"][0]["state"] == "cancelled"


def test_emergency_change_uses_the_expedited_stage_and_ignores_blackouts(client, org):
    _cab(client, org)
    blackout = _ok(
        client.post(
            "/v1/changes/blackouts",
            headers=_h(org, "manager"),
            json={
                "name": "Year-end freeze",
                "starts_at": (DAY + timedelta(days=10)).isoformat(),
                "ends_at": (DAY + timedelta(days=12)).isoformat(),
            },
        ),
        201,
    )
    inside = _window(11)
    normal = _change(client, org, **inside)
    normal = _ok(_patch(client, org, normal, risk_answers=LOW))
    normal = _ok(_move(client, org, normal, "assessment"))
    assert [b["name"] for b in normal["blackouts"]] == ["Year-end freeze"]
    refused = _move(client, org, normal, "approval")
    assert _field(refused, 422) == "planned_start"
    assert "Year-end freeze" in refused.json()["errors"][0]["detail"]
    kept = _ok(client.get(f"/v1/changes/{normal['id']}", headers=_h(org, "agent")))
    assert kept["state"] == "assessment" and kept["approvals"] == []
    emergency = _to_approval(client, org, day=11, type="emergency")
    [approval] = emergency["approvals"]
    assert [s["name"] for s in approval["stages"]] == ["Change manager"]
    _ok(_decide(client, org, "manager", approval, "approve"), 201)
    done = _ok(client.get(f"/v1/changes/{emergency['id']}", headers=_h(org, "agent")))
    assert done["state"] == "scheduled"
    # The calendar shows both changes and the blackout.
    month = _ok(
        client.get(
            "/v1/changes/calendar",
            params={
                "from": (DAY + timedelta(days=9)).isoformat(),
                "to": (DAY + timedelta(days=13)).isoformat(),
            },
            headers=_h(org, "agent"),
        )
    )
    ids = {c["id"] for c in month["changes"]}
    assert {normal["id"], emergency["id"]} <= ids
    assert blackout["id"] in {b["id"] for b in month["blackouts"]}
    too_long = client.get(
        "/v1/changes/calendar",
        params={"from": DAY.isoformat(), "to": (DAY + timedelta(days=200)).isoformat()},
        headers=_h(org, "agent"),
    )
    assert _field(too_long, 422) == "to"


def test_no_cab_flow_configured_is_409_naming_the_setting(client):
    fresh = make_tenant(client, roles=("agent", "manager"))
    change = _change(client, fresh, **_window(60))
    change = _ok(_patch(client, fresh, change, risk_answers=LOW))
    change = _ok(_move(client, fresh, change, "assessment"))
    assert _field(_move(client, fresh, change, "approval"), 409) == "cab_flow_id"
    kept = _ok(client.get(f"/v1/changes/{change['id']}", headers=_h(fresh, "agent")))
    assert kept["state"] == "assessment"


def test_collisions_through_a_ci_dependency(client, org):
    app, db_server, unrelated = _ci(client, org), _ci(client, org), _ci(client, org)
    related = client.post(
        f"/v1/cis/{app['id']}/relationships",
        headers=_h(org, "manager"),
        json={"type": "depends_on", "target_id": db_server["id"]},
    )
    assert related.status_code == 201, related.text
    first = _change(client, org, ci_ids=[db_server["id"]], **_window(20, hours=4))
    overlapping = {
        "planned_start": (DAY + timedelta(days=20, hours=2)).isoformat(),
        "planned_end": (DAY + timedelta(days=20, hours=6)).isoformat(),
    }
    second = _change(client, org, ci_ids=[app["id"]], **overlapping)
    assert [(c["change_id"], c["depth"]) for c in second["collisions"]] == [(first["id"], 1)]
    again = _ok(client.get(f"/v1/changes/{first['id']}", headers=_h(org, "agent")))
    assert [c["change_id"] for c in again["collisions"]] == [second["id"]]
    apart = _change(client, org, ci_ids=[unrelated["id"]], **overlapping)
    assert apart["collisions"] == []
    later = _change(client, org, ci_ids=[db_server["id"]], **_window(21))
    assert later["collisions"] == []
    # A cancelled change no longer collides.
    _ok(_move(client, org, first, "cancelled", reason="moved"))
    assert (
        _ok(client.get(f"/v1/changes/{second['id']}", headers=_h(org, "agent")))["collisions"] == []
    )
    # Unknown CIs: 422 naming the entry, nothing written.
    before = client.get("/v1/changes?limit=100", headers=_h(org, "agent")).json()["items"]
    bad = client.post(
        "/v1/changes",
        headers=_h(org, "agent"),
        json={"title": "x", "ci_ids": [app["id"], str(uuid.uuid4())]},
    )
    assert _field(bad, 422) == "ci_ids.1"
    after = client.get("/v1/changes?limit=100", headers=_h(org, "agent")).json()["items"]
    assert len(after) == len(before)


def test_ticket_links_both_ways(client, org):
    ticket = client.post(
        "/v1/tickets",
        headers=_h(org, "requester"),
        json={"title": "Mail is slow", "description": "since the upgrade"},
    ).json()
    change = _change(client, org, ticket_ids=[ticket["id"]])
    assert [t["id"] for t in change["tickets"]] == [ticket["id"]]
    other_change = _change(client, org)
    linked = _ok(
        client.post(
            f"/v1/changes/{other_change['id']}/tickets",
            headers=_h(org, "agent"),
            json={"ticket_id": ticket["id"]},
        ),
        201,
    )
    assert [t["number"] for t in linked["tickets"]] == [ticket["number"]]
    found = client.get(f"/v1/changes?ticket_id={ticket['id']}", headers=_h(org, "agent"))
    assert {c["id"] for c in _ok(found)["items"]} == {change["id"], other_change["id"]}
    gone = client.delete(
        f"/v1/changes/{other_change['id']}/tickets/{ticket['id']}", headers=_h(org, "agent")
    )
    assert gone.status_code == 204
    found = client.get(f"/v1/changes?ticket_id={ticket['id']}", headers=_h(org, "agent"))
    assert [c["id"] for c in _ok(found)["items"]] == [change["id"]]
    bad = client.post(
        "/v1/changes",
        headers=_h(org, "agent"),
        json={"title": "x", "ticket_ids": [str(uuid.uuid4())]},
    )
    assert _field(bad, 422) == "ticket_ids.0"


def test_list_filters(client, org):
    change = _change(client, org, type="emergency")
    _ok(_patch(client, org, change, risk_answers=HIGH))
    found = _ok(
        client.get(
            "/v1/changes?type=emergency&risk_level=high&state=draft&limit=100",
            headers=_h(org, "agent"),
        )
    )
    assert change["id"] in {c["id"] for c in found["items"]}
    assert all(c["type"] == "emergency" and c["risk_level"] == "high" for c in found["items"])


def test_settings_validation(client, org):
    current = _ok(client.get("/v1/changes/settings", headers=_h(org, "manager")))
    bad = client.patch(
        "/v1/changes/settings",
        headers=_h(org, "manager", current["version"]),
        json={"cab_flow_id": str(uuid.uuid4())},
    )
    assert _field(bad, 422) == "cab_flow_id"
    bad = client.patch(
        "/v1/changes/settings",
        headers=_h(org, "manager", current["version"]),
        json={"medium_from": 50},
    )
    assert _field(bad, 422) == "high_from"
    stale = client.patch(
        "/v1/changes/settings", headers=_h(org, "manager", 999), json={"medium_from": 1}
    )
    assert stale.status_code == 412
    questions = [
        {
            "key": "outage",
            "text": "Does it need an outage?",
            "options": [
                {"key": "no", "label": "No", "weight": 0},
                {"key": "yes", "label": "Yes", "weight": 7},
            ],
        }
    ]
    changed = _settings(client, org, questions=questions, medium_from=3, high_from=7)
    assert [q["key"] for q in changed["questions"]] == ["outage"]
    change = _change(client, org)
    scored = _ok(_patch(client, org, change, risk_answers={"outage": "yes"}))
    assert (scored["risk_score"], scored["risk_level"]) == (7, "high")
    # Put the default questionnaire back for the other tests of this module.
    from servicedesk.changes import risk

    _settings(client, org, questions=risk.DEFAULT_QUESTIONS, medium_from=5, high_from=10)


def test_roles_on_every_route(client, org):
    change = _change(client, org)
    template = _ok(
        client.post(
            "/v1/changes/templates",
            headers=_h(org, "manager"),
            json={"name": f"T {uuid.uuid4().hex[:6]}"},
        ),
        201,
    )
    rid = str(uuid.uuid4())
    reads = [
        "/v1/changes",
        f"/v1/changes/{change['id']}",
        "/v1/changes/settings",
        "/v1/changes/templates",
        f"/v1/changes/templates/{template['id']}",
        "/v1/changes/blackouts",
        f"/v1/changes/calendar?from={DAY.isoformat()}&to={(DAY + timedelta(days=30)).isoformat()}".replace(
            "+", "%2B"
        ),
    ]
    for url in reads:
        assert client.get(url, headers=_h(org, "requester")).status_code == 403, url
        assert client.get(url, headers=_h(org, "agent")).status_code == 200, url
    agent_writes = [
        ("post", "/v1/changes", {"title": "x"}),
        ("patch", f"/v1/changes/{change['id']}", {"title": "y", "version": 1}),
        ("post", f"/v1/changes/{change['id']}/transitions", {"state": "assessment", "version": 2}),
        ("put", f"/v1/changes/{change['id']}/review", {"outcome": "failed", "version": 3}),
        ("post", f"/v1/changes/{change['id']}/tickets", {"ticket_id": rid}),
        ("delete", f"/v1/changes/{change['id']}/tickets/{rid}", None),
    ]
    for method, url, body in agent_writes:
        kwargs = {"json": body} if body is not None else {}
        got = getattr(client, method)(url, headers=_h(org, "requester"), **kwargs)
        assert got.status_code == 403, (method, url)
        got = getattr(client, method)(url, headers=_h(org, "agent"), **kwargs)
        # Allowed (the outcome is the rule's: created, moved, 409 review outside review,
        # 404 unknown ticket), never refused for the role.
        assert got.status_code in (200, 201, 404, 409), (method, url, got.text)
    manager_writes = [
        ("patch", "/v1/changes/settings", {"medium_from": 5}),
        ("post", "/v1/changes/templates", {"name": "n"}),
        ("patch", f"/v1/changes/templates/{template['id']}", {"name": "m"}),
        ("delete", f"/v1/changes/templates/{template['id']}", None),
        (
            "post",
            "/v1/changes/blackouts",
            {"name": "b", "starts_at": DAY.isoformat(), "ends_at": DAY.isoformat()},
        ),
        ("patch", f"/v1/changes/blackouts/{rid}", {"name": "b", "version": 1}),
        ("delete", f"/v1/changes/blackouts/{rid}", None),
    ]
    for method, url, body in manager_writes:
        for role in ("requester", "agent"):
            kwargs = {"json": body} if body is not None else {}
            got = getattr(client, method)(url, headers=_h(org, role), **kwargs)
            assert got.status_code == 403, (method, url, role)
            assert got.headers["content-type"].startswith("application/problem+json")
    assert (
        client.delete(f"/v1/changes/blackouts/{rid}", headers=org.admin.headers).status_code == 404
    )


def test_another_tenant_sees_nothing(client, org, other):
    change = _change(client, org, **_window(30))
    template = _ok(
        client.post(
            "/v1/changes/templates",
            headers=_h(org, "manager"),
            json={"name": f"T {uuid.uuid4().hex[:6]}"},
        ),
        201,
    )
    h = _h(other, "manager")
    assert client.get(f"/v1/changes/{change['id']}", headers=h).status_code == 404
    assert client.get(f"/v1/changes/templates/{template['id']}", headers=h).status_code == 404
    assert (
        client.patch(
            f"/v1/changes/{change['id']}", headers={**h, "If-Match": '"1"'}, json={"title": "x"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/v1/changes/{change['id']}/transitions",
            headers=h,
            json={"state": "assessment", "version": 1},
        ).status_code
        == 404
    )
    assert client.delete(f"/v1/changes/templates/{template['id']}", headers=h).status_code == 404
    assert client.get("/v1/changes?limit=100", headers=h).json()["items"] == []
    blackout = _ok(
        client.post(
            "/v1/changes/blackouts",
            headers=_h(org, "manager"),
            json={
                "name": "Their freeze",
                "starts_at": (DAY + timedelta(days=30)).isoformat(),
                "ends_at": (DAY + timedelta(days=31)).isoformat(),
            },
        ),
        201,
    )
    assert client.delete(f"/v1/changes/blackouts/{blackout['id']}", headers=h).status_code == 404
    assert blackout["id"] not in {
        b["id"] for b in client.get("/v1/changes/blackouts", headers=h).json()["items"]
    }
    review = client.put(
        f"/v1/changes/{change['id']}/review",
        headers=h,
        json={"outcome": "failed", "version": 1},
    )
    assert review.status_code == 404
    ticket = client.post(
        "/v1/tickets",
        headers=_h(org, "requester"),
        json={"title": "Theirs", "description": "x"},
    ).json()
    link = client.post(
        f"/v1/changes/{change['id']}/tickets", headers=h, json={"ticket_id": ticket["id"]}
    )
    assert link.status_code == 404
    month = client.get(
        "/v1/changes/calendar",
        params={"from": DAY.isoformat(), "to": (DAY + timedelta(days=60)).isoformat()},
        headers=h,
    ).json()
    assert change["id"] not in {c["id"] for c in month["changes"]}
    assert blackout["id"] not in {b["id"] for b in month["blackouts"]}
    # Their own change cannot link another tenant's ticket either.
    mine = _change(client, other)
    foreign_ticket = client.post(
        f"/v1/changes/{mine['id']}/tickets",
        headers=_h(other, "agent"),
        json={"ticket_id": ticket["id"]},
    )
    assert foreign_ticket.status_code == 404
    # Another tenant's template, CI or ticket cannot be used: 422 naming the field.
    own = _change(client, other, **_window(30))
    assert own["collisions"] == []
    foreign = client.post(
        "/v1/changes",
        headers=_h(other, "agent"),
        json={"title": "x", "type": "standard", "template_id": template["id"]},
    )
    assert _field(foreign, 422) == "template_id"
    ci = _ci(client, org)
    foreign = client.post(
        "/v1/changes", headers=_h(other, "agent"), json={"title": "x", "ci_ids": [ci["id"]]}
    )
    assert _field(foreign, 422) == "ci_ids.0"


def test_events_go_through_the_outbox(client, org):
    change = _change(client, org, **_window(50))
    change = _ok(_patch(client, org, change, risk_answers=LOW))
    _ok(_move(client, org, change, "assessment"))
    with db.transaction() as session:
        db.set_tenant(session, tenant_id=uuid.UUID(org.tenant_id), user_id=None)
        found = list(
            session.execute(
                text(
                    "SELECT event_type, payload FROM outbox WHERE aggregate_id = :id"
                    " ORDER BY created_at, seq"
                ),
                {"id": change["id"]},
            )
        )
    assert [row.event_type for row in found] == [
        "change.created",
        "change.updated",
        "change.state_changed",
    ]
    assert found[1].payload["changed"] == ["risk_answers"]
    assert found[2].payload["previous_state"] == "draft"
    assert found[2].payload["state"] == "assessment"


def _search(client, org, q: str, role: str = "agent") -> Any:
    return client.get("/v1/changes", params={"q": q, "limit": 100}, headers=_h(org, role))


def test_q_finds_changes_by_number_and_by_words_in_title_or_description(client, org, other):
    tag = uuid.uuid4().hex[:8]
    patch = _change(client, org, title=f"Patch the {tag} database servers")
    firewall = _change(
        client, org, title="Firewall rules", description=f"Open port 443 on the {tag} gateway"
    )
    _change(client, other, title=f"Patch the {tag} database servers (other tenant)")

    def ids(q: str) -> list[str]:
        return [c["id"] for c in _ok(_search(client, org, q))["items"]]

    assert ids(tag) == [firewall["id"], patch["id"]]  # newest first
    assert ids(f"{tag.upper()} DATABASE") == [patch["id"]]  # every word, any case
    assert ids(f"gate {tag}") == [firewall["id"]]  # a part of a word, in the description
    assert ids(f"{tag} printer") == []
    for number in (f"CHG-{patch['number']}", f"chg{patch['number']}", str(patch["number"])):
        assert patch["id"] in ids(number), number
    assert ids(f"CHG-{patch['number']}") == [patch["id"]]
    # Words of two letters or fewer are left out; only those: 422 naming q.
    assert ids(f"{tag} of a") == [firewall["id"], patch["id"]]
    assert _field(_search(client, org, "db"), 422) == "q"
    assert _field(_search(client, org, "x" * 201), 422) == "q"
    # LIKE's wildcards are literal: % is no word, _ is part of one.
    assert _field(_search(client, org, "%%%"), 422) == "q"
    assert ids(f"{tag[:4]}_{tag[4:]}") == []
    # Filters combine with q; requesters have no change permission.
    found = client.get(
        "/v1/changes", params={"q": tag, "state": "closed"}, headers=_h(org, "agent")
    )
    assert _ok(found)["items"] == []
    assert _search(client, org, tag, role="requester").status_code == 403


def test_q_pages_through_more_matches_than_a_page(client, org):
    tag = uuid.uuid4().hex[:8]
    made = [_change(client, org, title=f"Rotate {tag} keys {i}")["id"] for i in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"q": f"rotate {tag}", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = _ok(client.get("/v1/changes", params=params, headers=_h(org, "agent")))
        seen += [c["id"] for c in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert seen == made[::-1]


def test_the_search_index_serves_the_candidates_query(client, org):
    """The function's text condition is the index's expression (a typo in either would
    read every change of the tenant)."""
    from tests.conftest import current_database

    with current_database().connect("owner") as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                "EXPLAIN SELECT c.id FROM changes c"
                " WHERE lower(c.title || ' ' || c.description) LIKE '%firewall%'"
            )
        )
    assert "ix_changes_text_trgm" in plan, plan


SATURDAY_NIGHTS = {
    "frequency": "weekly",
    "weekdays": [5],
    "start_time": "22:00",
    "duration_minutes": 360,
    "time_zone": "Europe/London",
    "starts_on": "2031-03-01",
}


def _blackout(client, org, **body: Any) -> Any:
    return client.post("/v1/changes/blackouts", headers=_h(org, "manager"), json=body)


def test_a_recurring_blackout_blocks_its_occurrences_in_local_time_across_dst(client):
    """Saturdays 22:00-04:00 London time. The UK clocks go forward on Sunday 30 March 2031:
    before, the window starts at 22:00 UTC; after, at 21:00 UTC."""
    fresh = make_tenant(client, roles=("agent", "manager"))
    _cab(client, fresh)
    made = _ok(_blackout(client, fresh, name="Weekend batch", recurrence=SATURDAY_NIGHTS), 201)
    assert made["recurrence"]["weekdays"] == [5] and made["recurrence"]["start_time"] == "22:00:00"
    assert made["starts_at"] == "2031-03-01T22:00:00Z" and made["ends_at"] is None
    listed = _ok(client.get("/v1/changes/blackouts", headers=_h(fresh, "agent")))["items"]
    assert [b["recurrence"]["time_zone"] for b in listed] == ["Europe/London"]

    def submit(start: datetime, minutes: int = 30) -> Any:
        window = {
            "planned_start": start.isoformat(),
            "planned_end": (start + timedelta(minutes=minutes)).isoformat(),
        }
        change = _change(client, fresh, **window)
        change = _ok(_patch(client, fresh, change, risk_answers=LOW))
        change = _ok(_move(client, fresh, change, "assessment"))
        return change, _move(client, fresh, change, "approval")

    # Sunday 30 March 03:00 UTC: inside Saturday night's occurrence, the night of the change.
    change, refused = submit(datetime(2031, 3, 30, 3, tzinfo=UTC))
    assert _field(refused, 422) == "planned_start"
    assert "Weekend batch" in refused.json()["errors"][0]["detail"]
    assert change["blackouts"] == [
        {
            "id": made["id"],
            "name": "Weekend batch",
            "starts_at": "2031-03-29T22:00:00Z",
            "ends_at": "2031-03-30T04:00:00Z",
            "recurring": True,
        }
    ]
    # Saturday 5 April 21:00 UTC is 22:00 BST: refused (a UTC-only expansion would let it by).
    _, refused = submit(datetime(2031, 4, 5, 21, tzinfo=UTC))
    assert _field(refused, 422) == "planned_start"
    # Saturday 22 March 21:00 UTC is 21:00 GMT, an hour before the window: allowed.
    _, allowed = submit(datetime(2031, 3, 22, 21, tzinfo=UTC))
    assert _ok(allowed)["state"] == "approval"
    # The calendar lists each occurrence of the month, at its own UTC time.
    month = _ok(
        client.get(
            "/v1/changes/calendar",
            params={"from": "2031-03-20T00:00:00Z", "to": "2031-04-13T00:00:00Z"},
            headers=_h(fresh, "agent"),
        )
    )
    assert [(b["starts_at"], b["recurring"]) for b in month["blackouts"]] == [
        ("2031-03-22T22:00:00Z", True),
        ("2031-03-29T22:00:00Z", True),
        ("2031-04-05T21:00:00Z", True),
        ("2031-04-12T21:00:00Z", True),
    ]


def test_a_recurring_blackout_ends_on_its_until_day(client):
    fresh = make_tenant(client, roles=("agent", "manager"))
    monthly = {
        "frequency": "monthly",
        "nth": -1,
        "weekday": 4,
        "start_time": "18:00",
        "duration_minutes": 120,
        "time_zone": "America/New_York",
        "starts_on": "2031-01-01",
        "until": "2031-02-28",
    }
    made = _ok(_blackout(client, fresh, name="Month-end close", recurrence=monthly), 201)
    assert made["ends_at"] == "2031-03-01T01:00:00Z"  # Friday 28 Feb 18:00 EST + 2 h
    found = _ok(
        client.get(
            "/v1/changes/calendar",
            params={"from": "2031-01-01T00:00:00Z", "to": "2031-03-31T00:00:00Z"},
            headers=_h(fresh, "agent"),
        )
    )["blackouts"]
    assert [b["starts_at"] for b in found] == ["2031-01-31T23:00:00Z", "2031-02-28T23:00:00Z"]


def test_recurring_blackout_input_is_checked_field_by_field(client, org):
    def field(**body: Any) -> str:
        return _field(_blackout(client, org, name="Bad", **body), 422)

    assert field(recurrence={**SATURDAY_NIGHTS, "weekdays": None}) == "recurrence.weekdays"
    assert field(recurrence={**SATURDAY_NIGHTS, "weekdays": [7]}) == "recurrence.weekdays.0"
    assert field(recurrence={**SATURDAY_NIGHTS, "monthday": 3}) == "recurrence.monthday"
    monthly = {**SATURDAY_NIGHTS, "frequency": "monthly", "weekdays": None}
    assert field(recurrence=monthly) == "recurrence.nth"
    assert field(recurrence={**monthly, "nth": 2}) == "recurrence.weekday"
    assert field(recurrence={**monthly, "monthday": 32}) == "recurrence.monthday"
    assert field(recurrence={**monthly, "monthday": 3, "nth": 1}) == "recurrence.monthday"
    assert field(recurrence={**SATURDAY_NIGHTS, "time_zone": "Mars/Olympus"}) == (
        "recurrence.time_zone"
    )
    assert field(recurrence={**SATURDAY_NIGHTS, "until": "2031-02-01"}) == "recurrence.until"
    assert field(recurrence={**SATURDAY_NIGHTS, "until": "2045-01-01"}) == "recurrence.until"
    assert field(recurrence={**SATURDAY_NIGHTS, "duration_minutes": 0}) == (
        "recurrence.duration_minutes"
    )
    assert field(recurrence={**SATURDAY_NIGHTS, "start_time": "25:00"}) == ("recurrence.start_time")
    assert field(recurrence=SATURDAY_NIGHTS, starts_at=DAY.isoformat()) == "starts_at"
    assert field() == "starts_at"
    assert field(starts_at=DAY.isoformat()) == "ends_at"
    assert field(starts_at=DAY.isoformat(), ends_at=DAY.isoformat()) == "ends_at"
    # Nothing was written.
    names = {
        b["name"]
        for b in client.get("/v1/changes/blackouts", headers=_h(org, "agent")).json()["items"]
    }
    assert "Bad" not in names
