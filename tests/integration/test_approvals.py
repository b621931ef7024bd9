"""Approvals on the real database: flows, service requests that wait for approval (opened
when approved, closed with the reason when rejected), the refusals (not an approver, decided
already, stage not current, stale version), delegation, two approvers at once giving one
outcome, roles and tenant isolation of every route."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from servicedesk.platform import db
from servicedesk.platform.errors import ProblemError
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from tests.conftest import PASSWORD, make_tenant
from tests.conftest import login as log_in
from tests.integration import test_notifications

# The e-mail queue and mail catcher of the notification tests.
wiring = test_notifications.wiring


@pytest.fixture(scope="module")
def org(client):
    found = make_tenant(client, roles=("agent", "manager", "requester"))
    found.extra = {}  # type: ignore[attr-defined]
    for name in ("alice", "bob"):
        email = f"{name}-{uuid.uuid4().hex[:6]}@{found.slug}.example"
        made = client.post(
            "/v1/users",
            headers=found.admin.headers,
            json={"email": email, "name": name.title(), "role": "requester", "password": PASSWORD},
        )
        assert made.status_code == 201, made.text
        token = log_in(client, email).json()["access_token"]
        found.extra[name] = (made.json()["id"], {"Authorization": f"Bearer {token}"})  # type: ignore[attr-defined]
    return found


def _h(org, who: str) -> dict[str, str]:
    if who in org.extra:
        return dict(org.extra[who][1])
    return dict(org.members[who].headers)


def _id(org, who: str) -> str:
    return str(org.extra[who][0]) if who in org.extra else str(org.members[who].user_id)


def _flow(client, org, stages: list[dict[str, Any]], **body: Any) -> dict[str, Any]:
    made = client.post(
        "/v1/approvals/flows",
        headers=_h(org, "manager"),
        json={"name": f"F {uuid.uuid4().hex[:8]}", "stages": stages, **body},
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def _category(client, org, flow_id: str) -> dict[str, Any]:
    made = client.post(
        "/v1/categories",
        headers=org.admin.headers,
        json={"name": f"C {uuid.uuid4().hex[:8]}", "approval_flow_id": flow_id},
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def _request(client, org, stages: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A service request in a category with a flow of ``stages``: (ticket, approval)."""
    category = _category(client, org, _flow(client, org, stages)["id"])
    ticket = client.post(
        "/v1/tickets",
        headers=_h(org, "requester"),
        json={"title": "New laptop", "description": "mine broke", "category_id": category["id"]},
    )
    assert ticket.status_code == 201, ticket.text
    approvals = client.get(f"/v1/tickets/{ticket.json()['id']}/approvals", headers=_h(org, "agent"))
    assert approvals.status_code == 200, approvals.text
    return dict(ticket.json()), approvals.json()[0]


def _decide(client, org, who: str, approval: dict[str, Any], decision: str = "approve", **body):
    return client.post(
        f"/v1/approvals/{approval['id']}/decisions",
        headers=_h(org, who),
        json={"decision": decision, **body},
    )


def _users(*names: str, org) -> dict[str, Any]:
    return {"users": [_id(org, n) for n in names]}


def test_an_approved_service_request_opens(client, org):
    ticket, approval = _request(
        client,
        org,
        [
            {"name": "Line manager", "approvers": _users("alice", org=org)},
            {"name": "IT", "rule": "all", "approvers": {"role": "manager"}},
        ],
    )
    assert ticket["status"] == "pending_approval"
    assert approval["state"] == "pending" and approval["current_stage"] == 0
    assert approval["subject"]["title"] == "New laptop"
    # Alice's inbox has it; Bob's not; the manager's not yet (stage 2 waits).
    inbox = client.get("/v1/approvals", headers=_h(org, "alice")).json()["items"]
    assert [a["id"] for a in inbox] == [approval["id"]]
    assert inbox[0]["my_seats"] == [_id(org, "alice")]
    assert client.get("/v1/approvals", headers=_h(org, "bob")).json()["items"] == []
    assert client.get(f"/v1/approvals/{approval['id']}", headers=_h(org, "bob")).status_code == 404
    manager_inbox = client.get("/v1/approvals", headers=_h(org, "manager")).json()["items"]
    assert approval["id"] not in [a["id"] for a in manager_inbox]
    # The requester cannot approve their own request; the manager not a stage not theirs.
    refused = _decide(client, org, "requester", approval)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "decision"
    assert _decide(client, org, "manager", approval).status_code == 403
    # Stale version: 412.
    assert _decide(client, org, "alice", approval, version=7).status_code == 412
    done = _decide(client, org, "alice", approval, comment="ok", version=approval["version"])
    assert done.status_code == 201, done.text
    assert done.json()["current_stage"] == 1
    # Alice again on the (now) second stage: not an approver of it.
    assert _decide(client, org, "alice", approval).status_code == 403
    # The first stage is no longer current.
    stale = _decide(client, org, "manager", approval, stage_id=approval["stages"][0]["id"])
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["field"] == "stage_id"
    final = _decide(client, org, "manager", approval)
    assert final.status_code == 201, final.text
    assert final.json()["state"] == "approved"
    opened = client.get(f"/v1/tickets/{ticket['id']}", headers=_h(org, "agent")).json()
    assert opened["status"] == "open"
    again = _decide(client, org, "manager", approval)
    assert again.status_code == 409


def test_a_rejected_service_request_closes_with_the_reason(client, org):
    ticket, approval = _request(
        client, org, [{"name": "Budget", "approvers": _users("alice", "bob", org=org)}]
    )
    unreasoned = _decide(client, org, "bob", approval, "reject")
    assert unreasoned.status_code == 422
    assert unreasoned.json()["errors"][0]["field"] == "comment"
    rejected = _decide(client, org, "bob", approval, "reject", comment="no budget this year")
    assert rejected.status_code == 201, rejected.text
    assert rejected.json()["state"] == "rejected"
    closed = client.get(f"/v1/tickets/{ticket['id']}", headers=_h(org, "requester")).json()
    assert closed["status"] == "closed"
    comments = client.get(
        f"/v1/tickets/{ticket['id']}/comments", headers=_h(org, "requester")
    ).json()["items"]
    assert any("no budget this year" in c["body"] for c in comments)
    # Alice, too late: the request is over.
    assert _decide(client, org, "alice", approval).status_code == 409


def test_all_rule_decided_twice_and_quorum(client, org):
    _, approval = _request(
        client,
        org,
        [{"name": "Both", "rule": "all", "approvers": _users("alice", "bob", org=org)}],
    )
    assert _decide(client, org, "alice", approval).status_code == 201
    twice = _decide(client, org, "alice", approval)
    assert twice.status_code == 409
    assert twice.json()["errors"][0]["field"] == "decision"
    last = _decide(client, org, "bob", approval)
    assert last.json()["state"] == "approved"


def test_a_delegate_decides_for_the_approver(client, org):
    made = client.post(
        "/v1/approvals/delegations",
        headers=_h(org, "alice"),
        json={
            "delegate_id": _id(org, "bob"),
            "ends_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        },
    )
    assert made.status_code == 201, made.text
    try:
        _, approval = _request(
            client, org, [{"name": "Alice only", "approvers": _users("alice", org=org)}]
        )
        inbox = client.get("/v1/approvals", headers=_h(org, "bob")).json()["items"]
        assert approval["id"] in [a["id"] for a in inbox]
        done = _decide(client, org, "bob", approval)
        assert done.status_code == 201, done.text
        decision = done.json()["stages"][0]["decisions"][0]
        assert decision["approver_id"] == _id(org, "bob")
        assert decision["on_behalf_of"] == _id(org, "alice")
        assert done.json()["state"] == "approved"
        # Only the delegator (or an admin) ends it.
        gone = client.delete(
            f"/v1/approvals/delegations/{made.json()['id']}", headers=_h(org, "bob")
        )
        assert gone.status_code == 403
    finally:
        client.delete(f"/v1/approvals/delegations/{made.json()['id']}", headers=_h(org, "alice"))


def test_two_approvers_at_once_give_one_outcome(client, org):
    """Any-rule stage, two approvers deciding in two real concurrent transactions: one
    decision ends the stage, the other is refused (409), never both counted."""
    ticket, approval = _request(
        client, org, [{"name": "First wins", "approvers": _users("alice", "bob", org=org)}]
    )
    tenant = uuid.UUID(org.tenant_id)
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def run(who: str, decision: str) -> None:
        user = uuid.UUID(_id(org, who))
        try:
            with db.transaction() as session:
                db.set_tenant(session, tenant_id=tenant, user_id=user)
                ctx = RequestContext(session, tenant, user, Role.REQUESTER)
                from servicedesk.approvals import service

                barrier.wait(timeout=5)
                results[who] = service.decide(
                    ctx,
                    approval_id=uuid.UUID(approval["id"]),
                    decision=decision,
                    comment="mine",
                )["state"]
        except ProblemError as problem:
            results[who] = problem.status

    threads = [
        threading.Thread(target=run, args=("alice", "approve")),
        threading.Thread(target=run, args=("bob", "reject")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert sorted(map(str, results.values())) in (["409", "approved"], ["409", "rejected"])
    final = client.get(f"/v1/approvals/{approval['id']}", headers=_h(org, "manager")).json()
    assert len(final["stages"][0]["decisions"]) == 1
    status = client.get(f"/v1/tickets/{ticket['id']}", headers=_h(org, "agent")).json()["status"]
    assert status == ("open" if final["state"] == "approved" else "closed")


def test_cancelling_a_waiting_request_cancels_its_approval(client, org):
    ticket, approval = _request(client, org, [{"name": "x", "approvers": _users("alice", org=org)}])
    moved = client.post(
        f"/v1/tickets/{ticket['id']}/transitions",
        headers=_h(org, "requester"),
        json={"to": "cancelled"},
    )
    assert moved.status_code in (200, 201), moved.text
    # Staff cannot skip the approval.
    found = client.get(f"/v1/approvals/{approval['id']}", headers=_h(org, "manager")).json()
    assert found["state"] == "cancelled"


def test_staff_cannot_open_a_request_waiting_for_approval(client, org):
    ticket, _ = _request(client, org, [{"name": "x", "approvers": _users("alice", org=org)}])
    moved = client.post(
        f"/v1/tickets/{ticket['id']}/transitions",
        headers=_h(org, "agent"),
        json={"to": "open"},
    )
    assert moved.status_code == 409


def test_flow_input_is_checked_field_by_field(client, org):
    bad = client.post(
        "/v1/approvals/flows",
        headers=_h(org, "manager"),
        json={
            "name": "Bad",
            "stages": [{"name": "s", "approvers": {"users": [str(uuid.uuid4())]}}],
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "stages.0.approvers.users.0"
    no_quorum = client.post(
        "/v1/approvals/flows",
        headers=_h(org, "manager"),
        json={
            "name": "Q",
            "stages": [{"name": "s", "rule": "quorum", "approvers": {"role": "agent"}}],
        },
    )
    assert no_quorum.status_code == 422
    empty = client.post(
        "/v1/approvals/flows",
        headers=_h(org, "manager"),
        json={"name": "E", "stages": [{"name": "s", "approvers": {}}]},
    )
    assert empty.status_code == 422
    unknown = client.post(
        "/v1/categories",
        headers=org.admin.headers,
        json={"name": f"C {uuid.uuid4().hex[:6]}", "approval_flow_id": str(uuid.uuid4())},
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "approval_flow_id"


def test_roles_on_flows_and_delegations(client, org):
    flow = _flow(client, org, [{"name": "s", "approvers": {"role": "manager"}}])
    assert client.get("/v1/approvals/flows", headers=_h(org, "agent")).status_code == 200
    assert client.get("/v1/approvals/flows", headers=_h(org, "requester")).status_code == 403
    created = client.post(
        "/v1/approvals/flows",
        headers=_h(org, "agent"),
        json={"name": "A", "stages": [{"name": "s", "approvers": {"role": "manager"}}]},
    )
    assert created.status_code == 403
    changed = client.patch(
        f"/v1/approvals/flows/{flow['id']}",
        headers={**_h(org, "manager"), "If-Match": '"1"'},
        json={"description": "the IT flow"},
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = client.patch(
        f"/v1/approvals/flows/{flow['id']}",
        headers={**_h(org, "manager"), "If-Match": '"1"'},
        json={"description": "again"},
    )
    assert stale.status_code == 412
    _category(client, org, flow["id"])
    used = client.delete(f"/v1/approvals/flows/{flow['id']}", headers=_h(org, "manager"))
    assert used.status_code == 409
    others = client.post(
        "/v1/approvals/delegations",
        headers=_h(org, "alice"),
        json={
            "user_id": _id(org, "bob"),
            "delegate_id": _id(org, "alice"),
            "ends_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        },
    )
    assert others.status_code == 403
    assert others.json()["errors"][0]["field"] == "user_id"


def test_another_tenant_sees_nothing(client, org):
    _, approval = _request(client, org, [{"name": "x", "approvers": _users("alice", org=org)}])
    flow_id = approval["flow_id"]
    other = make_tenant(client, roles=("manager",))
    h = other.members["manager"].headers
    assert client.get(f"/v1/approvals/{approval['id']}", headers=h).status_code == 404
    assert client.get(f"/v1/approvals/flows/{flow_id}", headers=h).status_code == 404
    assert (
        client.post(
            f"/v1/approvals/{approval['id']}/decisions", headers=h, json={"decision": "approve"}
        ).status_code
        == 404
    )
    assert client.get("/v1/approvals?scope=all", headers=h).json()["items"] == []
    assert client.get("/v1/approvals/flows", headers=h).json()["items"] == []


def _events(org, approval_id: str) -> list[tuple[str, dict[str, Any]]]:
    from sqlalchemy import text

    with db.transaction() as session:
        db.set_tenant(session, tenant_id=uuid.UUID(org.tenant_id), user_id=None)
        rows = session.execute(
            text(
                "SELECT event_type, payload FROM outbox WHERE aggregate_id = :a"
                " ORDER BY created_at, id"
            ),
            {"a": approval_id},
        ).all()
    return [(r.event_type, r.payload) for r in rows]


def test_a_stage_waiting_too_long_reminds_then_escalates(client, org):
    """Time driven: at the due time a reminder, a due period later the escalation (the
    tenant's admins join, an all-stage then needs one more approval from anyone)."""
    from servicedesk.approvals import timers

    ticket, approval = _request(
        client,
        org,
        [
            {
                "name": "Both",
                "rule": "all",
                "due_hours": 2,
                "approvers": _users("alice", "bob", org=org),
            }
        ],
    )
    assert _decide(client, org, "alice", approval).status_code == 201
    started = datetime.fromisoformat(approval["stages"][0]["started_at"])
    timers.run(started + timedelta(minutes=119))
    assert [k for k, _ in _events(org, approval["id"])].count("approval.requested") == 1
    timers.run(started + timedelta(hours=2, minutes=1))
    reminders = [p for k, p in _events(org, approval["id"]) if p.get("reminder")]
    assert [r["approver_ids"] for r in reminders] == [[_id(org, "bob")]]
    timers.run(started + timedelta(hours=3))  # nothing new: reminded, not yet escalating
    assert len([p for _, p in _events(org, approval["id"]) if p.get("reminder")]) == 1
    timers.run(started + timedelta(hours=4, minutes=1))
    escalated = [p for k, p in _events(org, approval["id"]) if k == "approval.escalated"]
    assert len(escalated) == 1 and escalated[0]["approver_ids"] == [str(org.admin.user_id)]
    timers.run(started + timedelta(hours=9))  # escalated once only
    assert len([k for k, _ in _events(org, approval["id"]) if k == "approval.escalated"]) == 1
    done = client.post(
        f"/v1/approvals/{approval['id']}/decisions",
        headers=org.admin.headers,
        json={"decision": "approve"},
    )
    assert done.status_code == 201, done.text
    assert done.json()["state"] == "approved"
    assert (
        client.get(f"/v1/tickets/{ticket['id']}", headers=_h(org, "agent")).json()["status"]
        == "open"
    )


def _tokens(org, who: str, approval: dict[str, Any], stage: int = 0, **kw: Any) -> dict[str, str]:
    from servicedesk.approvals import links
    from servicedesk.platform.config import get_settings
    from servicedesk.platform.mail_links import mail_key

    key = mail_key(get_settings())
    assert key is not None
    return links.links_for(
        key,
        uuid.UUID(org.tenant_id),
        uuid.UUID(_id(org, who)),
        uuid.UUID(approval["id"]),
        uuid.UUID(approval["stages"][stage]["id"]),
        **kw,
    )


def test_an_emailed_link_decides_once(client, org):
    ticket, approval = _request(
        client,
        org,
        [
            {"name": "Alice", "approvers": _users("alice", org=org)},
            {"name": "Bob", "approvers": _users("bob", org=org)},
        ],
    )
    tokens = _tokens(org, "alice", approval)
    shown = client.get(f"/v1/approval-links/{tokens['approve']}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["decision"] == "approve" and shown.json()["decided"] is False
    assert shown.json()["subject"]["title"] == "New laptop"
    # Showing recorded nothing.
    assert (
        client.get(f"/v1/approvals/{approval['id']}", headers=_h(org, "alice")).json()[
            "current_stage"
        ]
        == 0
    )
    used = client.post(f"/v1/approval-links/{tokens['approve']}", json={"comment": "fine"})
    assert used.status_code == 200, used.text
    assert used.json()["decided"] is True
    # Single use: the same link, or the other one, is refused.
    assert client.post(f"/v1/approval-links/{tokens['approve']}", json={}).status_code == 409
    assert (
        client.post(f"/v1/approval-links/{tokens['reject']}", json={"comment": "no"}).status_code
        == 409
    )
    after = client.get(f"/v1/approvals/{approval['id']}", headers=_h(org, "alice")).json()
    assert after["stages"][0]["decisions"][0]["channel"] == "email"
    # Bob's reject link needs its reason, and then closes the request.
    bob = _tokens(org, "bob", after, stage=1)
    assert client.post(f"/v1/approval-links/{bob['reject']}", json={}).status_code == 422
    done = client.post(f"/v1/approval-links/{bob['reject']}", json={"comment": "too dear"})
    assert done.status_code == 200 and done.json()["state"] == "rejected"
    closed = client.get(f"/v1/tickets/{ticket['id']}", headers=_h(org, "requester")).json()
    assert closed["status"] == "closed"


def test_expired_forged_and_stale_links(client, org):
    _, approval = _request(
        client,
        org,
        [
            {"name": "Alice", "approvers": _users("alice", org=org)},
            {"name": "Alice again", "approvers": _users("alice", org=org)},
        ],
    )
    old = _tokens(org, "alice", approval, now=0)
    assert client.get(f"/v1/approval-links/{old['approve']}").status_code == 410
    assert client.post(f"/v1/approval-links/{old['approve']}", json={}).status_code == 410
    forged = _tokens(org, "alice", approval)["approve"][:-3] + "AAA"
    assert client.get(f"/v1/approval-links/{forged}").status_code == 404
    assert client.get("/v1/approval-links/not-a-token").status_code == 404
    # Bob holds no seat: a link in his name is refused as not an approver.
    bob = _tokens(org, "bob", approval)
    assert client.post(f"/v1/approval-links/{bob['approve']}", json={}).status_code == 404
    first = _tokens(org, "alice", approval)
    assert client.post(f"/v1/approval-links/{first['approve']}", json={}).status_code == 200
    # The first stage's link no longer decides anything: the second stage is current.
    stale = client.post(f"/v1/approval-links/{first['reject']}", json={"comment": "x"})
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["field"] == "stage_id"


def test_the_approver_is_mailed_links_that_decide(client, org, wiring):
    import re

    _, approval = _request(client, org, [{"name": "Alice", "approvers": _users("alice", org=org)}])
    wiring.drain()
    alice = client.get("/v1/me", headers=_h(org, "alice")).json()["user"]["email"]
    mails = [
        m
        for m in wiring.mails(alice, "approval.requested")
        if approval["id"] in test_notifications._parts(m)[0]
    ]
    assert len(mails) == 1, [(m["To"], m["X-Servicedesk-Event"]) for m in wiring.mails()]
    plain, html = test_notifications._parts(mails[0])
    assert "Approval needed" in mails[0]["Subject"]
    approve = re.search(r"Approve: \S+/approval-links/(\S+)", plain)
    assert approve, plain
    assert "/approval-links/" in html
    done = client.post(f"/v1/approval-links/{approve.group(1)}", json={})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "approved"


def test_the_requesters_manager_approves(client, org):
    """An admin sets the requester's manager (PUT /v1/approvals/managers/{user_id}); a
    stage naming "the requester's manager" goes to them."""
    path = f"/v1/approvals/managers/{_id(org, 'requester')}"
    assert (
        client.put(path, headers=_h(org, "manager"), json={"manager_id": _id(org, "bob")})
    ).status_code == 403
    self_managed = client.put(
        path, headers=org.admin.headers, json={"manager_id": _id(org, "requester")}
    )
    assert self_managed.status_code == 422
    assert self_managed.json()["errors"][0]["field"] == "manager_id"
    made = client.put(path, headers=org.admin.headers, json={"manager_id": _id(org, "bob")})
    assert made.status_code == 200, made.text
    try:
        _, approval = _request(
            client, org, [{"name": "Manager", "approvers": {"requester_manager": True}}]
        )
        assert approval["stages"][0]["approver_ids"] == [_id(org, "bob")]
        assert _decide(client, org, "bob", approval).json()["state"] == "approved"
    finally:
        client.put(path, headers=org.admin.headers, json={"manager_id": None})
