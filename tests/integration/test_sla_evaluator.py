"""The SLA evaluator's pass: what one crossing announces, and tenants failing on their own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from psycopg.types.json import Jsonb

from tests.conftest import make_tenant
from tests.integration.test_sla import _age_ticket, _policy, _ticket


def _announced(database, ticket_id):
    with database.connect("owner") as conn:
        outbox = conn.execute(
            "SELECT event_type, payload FROM outbox WHERE aggregate_id = %s"
            " AND event_type LIKE 'sla.%%' ORDER BY seq",
            (ticket_id,),
        ).fetchall()
        timeline = conn.execute(
            "SELECT type, visibility, payload FROM ticket_events WHERE ticket_id = %s"
            " AND type LIKE 'sla%%' ORDER BY id",
            (ticket_id,),
        ).fetchall()
    return outbox, timeline


def test_each_crossing_is_announced_in_order_with_its_own_instant(client, database):
    from servicedesk.sla.evaluator import run

    org = make_tenant(client, roles=("requester", "manager"))
    policy = _policy(client, org, position=1)
    ticket = _ticket(client, org.members["requester"])
    _age_ticket(database, ticket["id"], 61)  # first response (60 min): 75%, 90%, breached
    with database.connect("owner") as conn:
        warn_at, due_at = conn.execute(
            "SELECT warn_at, due_at FROM ticket_sla_targets"
            " WHERE ticket_id = %s AND target = 'first_response'",
            (ticket["id"],),
        ).fetchone()

    assert run(datetime.now(UTC)).failed_tenants == []

    outbox, timeline = _announced(database, ticket["id"])
    expected = [
        ("sla.warning", "warning_75", warn_at[0]),
        ("sla.warning", "warning_90", warn_at[1]),
        ("sla.breached", "breached", due_at),
    ]
    assert [event for event, _ in outbox] == [event for event, _, _ in expected]
    for (_, payload), (_, kind, instant) in zip(outbox, expected, strict=True):
        assert payload.keys() == {"ticket_id", "target", "kind", "crossed_at", "policy_id"}
        assert payload["ticket_id"] == ticket["id"] and payload["policy_id"] == policy["id"]
        assert payload["target"] == "first_response" and payload["kind"] == kind
        assert datetime.fromisoformat(payload["crossed_at"]) == instant
    # the timeline says the same, to staff only
    assert [(t, v, p) for t, v, p in timeline] == [
        (event.replace(".", "_"), "internal", payload) for event, payload in outbox
    ]


def test_a_failing_tenant_rolls_back_alone_and_is_retried_next_pass(client, database):
    from servicedesk.sla.evaluator import run

    healthy, broken = (make_tenant(client, roles=("requester", "manager")) for _ in range(2))
    tickets = {}
    for org in (healthy, broken):
        _policy(client, org, position=1)
        tickets[org.tenant_id] = _ticket(client, org.members["requester"])["id"]
        _age_ticket(database, tickets[org.tenant_id], 61)
    # A rule the API refuses (a team that does not exist), written behind its back: the
    # broken tenant's breach escalation violates a foreign key.
    with database.connect("owner") as conn:
        conn.execute(
            "UPDATE sla_policies SET escalations = %s WHERE tenant_id = %s",
            (
                Jsonb([{"on": "breach", "action": "reassign_team", "team_id": str(uuid.uuid4())}]),
                broken.tenant_id,
            ),
        )
        conn.commit()

    report = run(datetime.now(UTC))

    assert broken.tenant_id in report.failed_tenants
    assert healthy.tenant_id not in report.failed_tenants

    def recorded(org):
        with database.connect("owner") as conn:
            return conn.execute(
                "SELECT count(*) FROM sla_crossings WHERE ticket_id = %s",
                (tickets[org.tenant_id],),
            ).fetchone()[0]

    assert recorded(healthy) == 3
    assert recorded(broken) == 0  # nothing of the failed tenant's pass was kept ...
    assert _announced(database, tickets[broken.tenant_id]) == ([], [])

    with database.connect("owner") as conn:
        conn.execute(
            "UPDATE sla_policies SET escalations = '[]' WHERE tenant_id = %s", (broken.tenant_id,)
        )
        conn.commit()
    again = run(datetime.now(UTC))
    assert broken.tenant_id not in again.failed_tenants
    assert recorded(broken) == 3  # ... so the next pass records it, once
    assert recorded(healthy) == 3
