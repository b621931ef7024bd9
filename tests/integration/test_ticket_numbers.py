"""Ticket numbers: the per-tenant counter is taken by the create's last statement, so
concurrent creates in one tenant get gap-free unique numbers, and a create that fails after
its number was drawn leaves neither a gap nor half a ticket."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import make_tenant
from tests.integration.test_sla import _policy

CREATES_PER_THREAD = 6
THREADS = 8


@pytest.fixture
def org(client):
    return make_tenant(client, roles=("agent", "requester", "manager"))


def _numbers(database: Any, tenant_id: str) -> list[int]:
    with database.connect("owner") as conn:
        rows = conn.execute(
            "SELECT number FROM tickets WHERE tenant_id = %s ORDER BY number", (tenant_id,)
        ).fetchall()
    return sorted(int(r[0].rsplit("-", 1)[1]) for r in rows)


def _counter(database: Any, tenant_id: str) -> int | None:
    with database.connect("owner") as conn:
        row = conn.execute(
            "SELECT last_value FROM ticket_counters WHERE tenant_id = %s AND year = %s",
            (tenant_id, datetime.now(UTC).year),
        ).fetchone()
    return row[0] if row else None


@contextmanager
def _statements() -> Iterator[list[str]]:
    """The SQL statements the app's engine sends while the block runs."""
    from servicedesk.platform.db import get_engine

    engine = get_engine()
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_concurrent_creates_in_one_tenant_get_gap_free_unique_numbers(client, database, org):
    requester = org.members["requester"]
    agent = org.members["agent"]
    failures: list[str] = []

    def create_many(actor: Any, index: int) -> None:
        for i in range(CREATES_PER_THREAD):
            body: dict[str, Any] = {"title": f"Concurrent {index}.{i}", "impact": "high"}
            if actor is agent:
                body["requester_id"] = requester.user_id
            response = client.post("/v1/tickets", json=body, headers=actor.headers)
            if response.status_code != 201:
                failures.append(response.text)

    threads = [
        threading.Thread(target=create_many, args=(agent if n % 2 else requester, n))
        for n in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    total = THREADS * CREATES_PER_THREAD
    assert _numbers(database, org.tenant_id) == list(range(1, total + 1))
    assert _counter(database, org.tenant_id) == total


def test_a_create_that_fails_after_its_number_leaves_no_gap_and_nothing_behind(
    client, database, org
):
    """A trigger (the database's own failure, not a mock) refuses a write the create makes after drawing its number
    for one title: the transaction rolls back whole, and the next create takes the number
    the failed one had drawn."""
    requester = org.members["requester"]
    _policy(client, org, position=1)
    first = client.post("/v1/tickets", json={"title": "Before"}, headers=requester.headers)
    assert first.status_code == 201
    # The ticket's SLA targets: written once its number is drawn.
    name = f"refuse_{uuid.uuid4().hex[:8]}"
    with database.connect("owner") as conn:
        conn.execute(
            f"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM tickets WHERE id = NEW.ticket_id AND title = 'Refused')
                THEN
                    RAISE EXCEPTION 'refused for the test';
                END IF;
                RETURN NEW;
            END $$
            """
        )
        conn.execute(
            f"CREATE TRIGGER {name} AFTER INSERT ON ticket_sla_targets FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
        conn.commit()
    try:
        refused = client.post("/v1/tickets", json={"title": "Refused"}, headers=requester.headers)
        assert refused.status_code == 500, refused.text
    finally:
        with database.connect("owner") as conn:
            conn.execute(f"DROP TRIGGER {name} ON ticket_sla_targets")
            conn.execute(f"DROP FUNCTION {name}()")
            conn.commit()

    with database.connect("owner") as conn:
        left = conn.execute(
            "SELECT (SELECT count(*) FROM tickets WHERE tenant_id = %(t)s AND title = 'Refused'),"
            " (SELECT count(*) FROM ticket_sla_targets WHERE tenant_id = %(t)s),"
            " (SELECT count(*) FROM ticket_events WHERE tenant_id = %(t)s),"
            " (SELECT count(*) FROM audit_log WHERE tenant_id = %(t)s"
            "  AND action = 'ticket.created'),"
            " (SELECT count(*) FROM outbox WHERE tenant_id = %(t)s"
            "  AND event_type IN ('ticket.created', 'ticket.received'))",
            {"t": org.tenant_id},
        ).fetchone()
    assert left == (0, 2, 1, 1, 2)  # the first ticket's rows only
    assert _counter(database, org.tenant_id) == 1
    after = client.post("/v1/tickets", json={"title": "After"}, headers=requester.headers)
    assert after.status_code == 201
    assert after.json()["number"].endswith("-000002")
    assert _numbers(database, org.tenant_id) == [1, 2]


def test_the_counter_is_the_create_s_last_write(client, org):
    """The counter's row lock is held from its statement to the commit: nothing but the
    commit (and the idempotency record, when a key is sent) may follow it."""
    requester = org.members["requester"]
    with _statements() as seen:
        response = client.post(
            "/v1/tickets",
            json={"title": "Counted", "impact": "low", "urgency": "low"},
            headers=requester.headers,
        )
    assert response.status_code == 201, response.text
    writes = [s for s in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE", "WITH"))]
    numbering = [i for i, s in enumerate(seen) if "ticket_counters" in s]
    assert len(numbering) == 1
    print(f"statements per create: {len(seen)}; writes: {len(writes)}")
    assert seen[numbering[0]] is writes[-1] or seen[numbering[0]] == writes[-1]
