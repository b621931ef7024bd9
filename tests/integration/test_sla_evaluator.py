"""The SLA evaluator's pass: what one crossing announces, tenants failing on their own, and
the events published right after each tenant's commit (the sweeper only as a safety net)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from local.queues import ensure_queues
from servicedesk.platform import publisher
from tests.conftest import make_tenant, reset_caches
from tests.integration.test_outbox import _drain
from tests.integration.test_sla import _age_ticket, _policy, _ticket

GRACE_SECONDS = 1


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


@pytest.fixture(scope="module")
def queues(aws_endpoint, database):
    made = ensure_queues(prefix=f"s{uuid.uuid4().hex[:8]}", visibility_timeout=1)
    mp = pytest.MonkeyPatch()
    for channel, queue in made.items():
        mp.setenv(f"SERVICEDESK_{channel.upper()}_QUEUE_URL", queue.url)
    mp.setenv("SERVICEDESK_OUTBOX_GRACE_SECONDS", str(GRACE_SECONDS))
    reset_caches()
    yield made
    mp.undo()
    reset_caches()


def _breach(client, database) -> tuple[str, str]:
    """A ticket whose first response is past due: (tenant id, ticket id)."""
    org = make_tenant(client, roles=("requester", "manager"))
    _policy(client, org, position=1)
    ticket = _ticket(client, org.members["requester"])
    _age_ticket(database, ticket["id"], 61)  # first response (60 min): 75%, 90%, breached
    return org.tenant_id, ticket["id"]


def _events(database, ticket_id: str) -> dict[str, tuple[uuid.UUID, bool, int]]:
    """The ticket's SLA outbox rows by kind: (event id, published, attempts)."""
    with database.connect("owner") as conn:
        rows = conn.execute(
            "SELECT payload->>'kind', id, published_at IS NOT NULL, attempts FROM outbox"
            " WHERE aggregate_id = %s AND event_type LIKE 'sla.%%'",
            (ticket_id,),
        ).fetchall()
    return {kind: (event_id, published, attempts) for kind, event_id, published, attempts in rows}


def _sla_queues(queues: dict[str, Any]) -> dict[str, Any]:
    """The queues SLA events are published to (not the knowledge queue)."""
    heard = publisher.channels_for("sla.breached")
    return {channel: q for channel, q in queues.items() if channel in heard}


def _received(url: str, ticket_id: str) -> list[dict[str, Any]]:
    return [e for e in _drain(url) if e["aggregate"] == {"type": "ticket", "id": ticket_id}]


def test_a_breach_is_published_when_its_tenant_commits(client, database, queues):
    """One pass, no sweep and no grace wait: the breach is on every queue at once, its row
    published; a second pass neither records nor sends anything again."""
    from servicedesk.sla.evaluator import run

    tenant_id, ticket_id = _breach(client, database)
    for q in queues.values():
        _drain(q.url)

    assert tenant_id not in run(datetime.now(UTC)).failed_tenants

    events = _events(database, ticket_id)
    assert set(events) == {"warning_75", "warning_90", "breached"}
    assert {published for _, published, _ in events.values()} == {True}
    for channel, q in _sla_queues(queues).items():
        got = _received(q.url, ticket_id)
        assert sorted((e["type"], e["payload"]["kind"]) for e in got) == [
            ("sla.breached", "breached"),
            ("sla.warning", "warning_75"),
            ("sla.warning", "warning_90"),
        ], channel
        breached = next(e for e in got if e["type"] == "sla.breached")
        assert breached["event_id"] == str(events["breached"][0])
        assert breached["tenant_id"] == tenant_id

    run(datetime.now(UTC))
    assert _events(database, ticket_id) == events
    assert all(_received(q.url, ticket_id) == [] for q in queues.values())


def test_a_failed_publish_leaves_the_events_to_the_sweeper(
    client, database, queues, monkeypatch: pytest.MonkeyPatch
):
    """The e-mail queue is unreachable during the pass: the crossing is still recorded and
    committed, its rows stay unpublished (one attempt), and the sweeper sends them once the
    grace period has passed."""
    from servicedesk.platform.config import get_settings
    from servicedesk.sla.evaluator import run

    tenant_id, ticket_id = _breach(client, database)
    for q in queues.values():
        _drain(q.url)
    email = queues["email"].url
    monkeypatch.setenv(
        "SERVICEDESK_EMAIL_QUEUE_URL", email.rsplit("/", 1)[0] + f"/gone-{uuid.uuid4().hex[:8]}"
    )
    get_settings.cache_clear()
    try:
        assert tenant_id not in run(datetime.now(UTC)).failed_tenants
    finally:
        monkeypatch.setenv("SERVICEDESK_EMAIL_QUEUE_URL", email)
        get_settings.cache_clear()

    events = _events(database, ticket_id)
    assert set(events) == {"warning_75", "warning_90", "breached"}
    assert {(published, attempts) for _, published, attempts in events.values()} == {(False, 1)}
    assert _received(email, ticket_id) == []

    time.sleep(GRACE_SECONDS + 0.2)
    publisher.sweep()
    assert {published for _, published, _ in _events(database, ticket_id).values()} == {True}
    swept = _received(email, ticket_id)
    assert sorted(e["event_id"] for e in swept) == sorted(str(i) for i, _, _ in events.values())


def test_past_its_publish_budget_a_pass_still_evaluates_and_leaves_the_sends_to_the_sweeper(
    client, database, queues
):
    from servicedesk.sla.evaluator import run

    tenant_id, ticket_id = _breach(client, database)
    for q in queues.values():
        _drain(q.url)

    assert tenant_id not in run(datetime.now(UTC), publish_budget_seconds=0).failed_tenants

    events = _events(database, ticket_id)
    assert set(events) == {"warning_75", "warning_90", "breached"}
    assert {(published, attempts) for _, published, attempts in events.values()} == {(False, 0)}
    assert all(_received(q.url, ticket_id) == [] for q in queues.values())
    time.sleep(GRACE_SECONDS + 0.2)
    publisher.sweep()
    assert {published for _, published, _ in _events(database, ticket_id).values()} == {True}
    for q in _sla_queues(queues).values():
        assert len(_received(q.url, ticket_id)) == 3
