"""Set-based escalation (one statement per tenant and pass) against the per-crossing rules it
replaced: two identical tenants, one escalated by the evaluator, the other by the old
per-crossing code kept here as the oracle; the timeline, the outbox and the tickets must
come out the same."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform.db import jsonable, set_tenant, transaction
from servicedesk.sla.models import Policy
from tests.conftest import make_tenant
from tests.integration.test_sla import _age_ticket, _policy, _ticket

RULES_WITHOUT_TEAMS: list[dict[str, Any]] = [
    {"on": "warning", "threshold": 75, "action": "notify_assignee"},
    {"on": "warning", "action": "raise_priority"},
    {"on": "breach", "target": "first_response", "action": "raise_priority"},
    {"on": "breach", "action": "reassign_team", "team": "first"},
    {"on": "breach", "target": "resolution", "action": "notify_managers"},
    {"on": "breach", "target": "first_response", "action": "reassign_team", "team": "second"},
    {"on": "warning", "threshold": 90, "target": "resolution", "action": "notify_team"},
]
# (priority, minutes aged, assignment locked): first response 60 min, resolution 240 min,
# warnings at 75% and 90%.
TICKETS = [
    ("low", 70, False),  # first response: 75%, 90%, breach
    ("high", 200, False),  # first response: all three; resolution: 75%
    ("medium", 250, True),  # both targets breached; the assignment is locked
    ("critical", 46, False),  # first response 75% only, already at the top
    ("medium", 10, False),  # nothing crosses
]


# The per-crossing escalation as it was before the set-based statement (the oracle).
OLD_RAISE = {"low": "medium", "medium": "high", "high": "critical", "critical": "critical"}


def _old_applies(rule: dict[str, Any], target: str, kind: str) -> bool:
    if rule.get("target") and rule["target"] != target:
        return False
    if kind == "breached":
        return bool(rule["on"] == "breach")
    if rule["on"] != "warning":
        return False
    threshold = rule.get("threshold")
    return threshold is None or kind == f"warning_{threshold}"


def _old_event(session: Session, tenant_id: Any, ticket_id: Any, payload: dict[str, Any]) -> None:
    session.execute(
        text(
            "INSERT INTO ticket_events (tenant_id, ticket_id, type, visibility, payload)"
            " VALUES (:t, :i, 'escalated', 'internal', CAST(:p AS jsonb))"
        ),
        {"t": tenant_id, "i": ticket_id, "p": json.dumps(jsonable(payload))},
    )


def _old_escalate(session: Session, tenant_id: Any, crossing: Any, policy: Policy) -> None:
    for rule in policy.escalations or []:
        if not _old_applies(rule, crossing.target, crossing.kind):
            continue
        action = rule["action"]
        base = {
            "action": action,
            "target": crossing.target,
            "kind": crossing.kind,
            "policy_id": policy.id,
        }
        ticket = {"t": tenant_id, "i": crossing.ticket_id}
        if action.startswith("notify_"):
            payload = {
                **base,
                "ticket_id": crossing.ticket_id,
                "audience": action.removeprefix("notify_"),
            }
            session.execute(
                text(
                    "INSERT INTO outbox (tenant_id, event_type, aggregate_type, aggregate_id,"
                    " payload) VALUES (:t, 'sla.escalation', 'ticket', :aid, CAST(:p AS jsonb))"
                ),
                {
                    "t": tenant_id,
                    "aid": str(crossing.ticket_id),
                    "p": json.dumps(jsonable(payload)),
                },
            )
            _old_event(session, tenant_id, crossing.ticket_id, base)
        elif action == "reassign_team":
            session.execute(
                text(
                    "UPDATE tickets SET team_id = :team, assignee_id = NULL,"
                    " version = version + 1, updated_at = now()"
                    " WHERE tenant_id = :t AND id = :i AND NOT assignment_locked"
                ),
                {"team": rule["team_id"], **ticket},
            )
            _old_event(session, tenant_id, crossing.ticket_id, {**base, "team_id": rule["team_id"]})
        elif action == "raise_priority":
            row = session.execute(
                text("SELECT priority FROM tickets WHERE tenant_id = :t AND id = :i FOR UPDATE"),
                ticket,
            ).one()
            raised = OLD_RAISE[row.priority]
            if raised != row.priority:
                session.execute(
                    text(
                        "UPDATE tickets SET priority = :p, version = version + 1,"
                        " updated_at = now() WHERE tenant_id = :t AND id = :i"
                    ),
                    {"p": raised, **ticket},
                )
            _old_event(
                session,
                tenant_id,
                crossing.ticket_id,
                {**base, "from": row.priority, "to": raised},
            )


def _old_pass(tenant_id: str, now: datetime) -> None:
    from servicedesk.sla.evaluator import CROSS, Crossing

    with transaction() as session:
        set_tenant(session, tenant_id=uuid.UUID(tenant_id), user_id=None)
        for r in session.execute(CROSS, {"tenant": tenant_id, "now": now}).all():
            if r.escalates:
                policy = session.get(Policy, r.policy_id)
                assert policy is not None
                crossing = Crossing(
                    r.ticket_id, r.target, r.cycle, r.kind, r.policy_id, r.crossed_at
                )
                _old_escalate(session, tenant_id, crossing, policy)


def _new_pass(tenant_id: str, now: datetime) -> int:
    from servicedesk.platform.db import set_tenant
    from servicedesk.sla.evaluator import evaluate_tenant

    with transaction() as session:
        set_tenant(session, tenant_id=uuid.UUID(tenant_id), user_id=None)
        return len(evaluate_tenant(session, uuid.UUID(tenant_id), now))


def _desk(client: Any, database: Any) -> dict[str, Any]:
    """A tenant with two teams, the rules above and the tickets above (aged)."""
    org = make_tenant(client, roles=("agent", "requester", "manager"))
    admin = org.admin.headers
    teams = {
        name: client.post("/v1/teams", json={"name": f"Esc {name}"}, headers=admin).json()["id"]
        for name in ("first", "second")
    }
    rules = [
        {k: v for k, v in rule.items() if k != "team"}
        | ({"team_id": teams[rule["team"]]} if "team" in rule else {})
        for rule in RULES_WITHOUT_TEAMS
    ]
    policy = _policy(client, org, position=1, escalations=rules)
    agent = org.members["agent"]
    ids = []
    for priority, minutes, locked in TICKETS:
        ticket = _ticket(client, agent, priority=priority, assignee_id=agent.user_id)
        _age_ticket(database, ticket["id"], minutes)
        if locked:
            with database.connect("owner") as conn:
                conn.execute(
                    "UPDATE tickets SET assignment_locked = true WHERE id = %s", (ticket["id"],)
                )
                conn.commit()
        ids.append(ticket["id"])
    names = {policy["id"]: "policy", agent.user_id: "agent"}
    names |= {team_id: name for name, team_id in teams.items()}
    names |= {ticket_id: f"ticket{i}" for i, ticket_id in enumerate(ids)}
    return {"tenant_id": org.tenant_id, "tickets": ids, "names": names}


def _named(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _named(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_named(v, names) for v in value]
    return names.get(str(value), value) if value is not None else None


def _outcome(database: Any, desk: dict[str, Any]) -> dict[str, Any]:
    names = desk["names"]
    with database.connect("owner") as conn:
        tickets = conn.execute(
            "SELECT id::text, priority, team_id::text, assignee_id::text, version FROM tickets"
            " WHERE id = ANY(%s::uuid[])",
            (desk["tickets"],),
        ).fetchall()
        events = conn.execute(
            "SELECT ticket_id::text, visibility, payload FROM ticket_events"
            " WHERE ticket_id = ANY(%s::uuid[]) AND type = 'escalated' ORDER BY id",
            (desk["tickets"],),
        ).fetchall()
        outbox = conn.execute(
            "SELECT aggregate_id, payload FROM outbox WHERE tenant_id = %s"
            " AND event_type = 'sla.escalation' ORDER BY seq",
            (desk["tenant_id"],),
        ).fetchall()
    return {
        "tickets": sorted(_named(list(t), names) for t in tickets),
        "timeline": [_named(list(e), names) for e in events],
        "outbox": [_named(list(o), names) for o in outbox],
    }


def test_set_based_escalation_gives_what_the_per_crossing_rules_gave(client, database):
    new, old = _desk(client, database), _desk(client, database)
    now = datetime.now(UTC)

    _new_pass(new["tenant_id"], now)
    _old_pass(old["tenant_id"], now)

    got, expected = _outcome(database, new), _outcome(database, old)
    assert got == expected
    # The scenario does exercise every path (not two empty results).
    tickets = {t[0]: t[1:] for t in got["tickets"]}
    assert tickets["ticket0"] == ["critical", "second", None, 1 + 3 + 2]  # 3 raises, 2 moves
    assert tickets["ticket1"] == ["critical", "second", None, 1 + 1 + 2]  # capped at critical
    assert tickets["ticket2"][1:3] == [None, "agent"]  # locked: not moved, still assigned
    assert tickets["ticket3"] == ["critical", None, "agent", 1]
    assert tickets["ticket4"] == ["medium", None, "agent", 1]
    actions = sorted({e[2]["action"] for e in got["timeline"]})
    assert actions == [
        "notify_assignee",
        "notify_managers",
        "notify_team",
        "raise_priority",
        "reassign_team",
    ]
    assert len(got["outbox"]) == sum(1 for e in got["timeline"] if "notify" in e[2]["action"])


def test_a_crossing_escalates_once_across_passes(client, database):
    desk = _desk(client, database)
    now = datetime.now(UTC)
    assert _new_pass(desk["tenant_id"], now) > 0
    first = _outcome(database, desk)

    assert _new_pass(desk["tenant_id"], now) == 0
    assert _new_pass(desk["tenant_id"], datetime.now(UTC)) == 0
    assert _outcome(database, desk) == first
