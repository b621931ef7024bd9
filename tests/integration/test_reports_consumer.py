"""The reports consumer keeps the facts equal to a full rebuild, whatever the order of the
events and however often each arrives: the real outbox rows of real API calls, through the
real Lambda handler (functions/reports_consumer), in shuffled, duplicated batches."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicedesk.platform import publisher
from servicedesk.reports.rebuild import rebuild_tenant
from tests.conftest import TenantFixture, make_tenant


@pytest.fixture(scope="module")
def desk(client: Any) -> TenantFixture:
    return make_tenant(client, roles=("agent", "manager", "requester"))


@pytest.fixture(scope="module")
def stream(client: Any, database: Any, desk: TenantFixture) -> list[str]:
    """Tickets worked through the API; the SQS bodies of their outbox events for reports."""
    requester, agent = desk.members["requester"], desk.members["agent"]
    ids = []
    for n in range(4):
        made = client.post("/v1/tickets", json={"title": f"T{n}"}, headers=requester.headers)
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    steps: list[tuple[int, str, dict[str, Any]]] = [
        (0, "comments", {"body": "On it", "visibility": "public"}),
        (0, "transitions", {"to": "resolved"}),
        (1, "transitions", {"to": "in_progress"}),
        (1, "comments", {"body": "Note", "visibility": "internal"}),
        (1, "transitions", {"to": "resolved"}),
        (1, "transitions", {"to": "open"}),
        (2, "assign", {"assignee_id": agent.user_id}),
        (2, "transitions", {"to": "resolved"}),
        (2, "transitions", {"to": "closed"}),
        (3, "comments", {"body": "Hello", "visibility": "public"}),
    ]
    for index, what, body in steps:
        response = client.post(f"/v1/tickets/{ids[index]}/{what}", json=body, headers=agent.headers)
        assert response.status_code in (200, 201), (what, response.text)
    bodies = report_bodies(database, desk.tenant_id)
    assert len(bodies) >= 10
    return bodies


def report_bodies(database: Any, tenant_id: str) -> list[str]:
    """The SQS bodies of the tenant's outbox events that the reports channel takes, in
    outbox order."""
    with database.connect("owner") as conn:
        rows = conn.execute(
            "SELECT id, seq, tenant_id, event_type, aggregate_type, aggregate_id, payload,"
            " created_at FROM outbox WHERE tenant_id = %s ORDER BY seq",
            (tenant_id,),
        ).fetchall()
    names = ("id", "seq", "tenant_id", "event_type", "aggregate_type", "aggregate_id")
    events = [
        SimpleNamespace(**dict(zip(names, r[:6], strict=True)), payload=r[6], created_at=r[7])
        for r in rows
    ]
    return [
        publisher.encode(e) for e in events if "reports" in publisher.channels_for(e.event_type)
    ]


def _snapshot(database: Any, tenant_id: str) -> tuple[list[Any], list[Any], list[Any]]:
    with database.connect("owner") as conn:
        facts = conn.execute(
            "SELECT ticket_id, team_id, assignee_id, category_id, priority, channel, status,"
            " merged, created_at, first_response_at, first_response_business, resolved_at,"
            " resolution_business, resolution_wall, public_replies, reopens"
            " FROM report_ticket_facts WHERE tenant_id = %s ORDER BY ticket_id",
            (tenant_id,),
        ).fetchall()
        events = conn.execute(
            "SELECT ticket_id, kind, at, agent_id, team_id, assignee_id, priority"
            " FROM report_events WHERE tenant_id = %s ORDER BY ticket_id, at, kind",
            (tenant_id,),
        ).fetchall()
        # Rows that dropped to zero may stay: they count nothing.
        rollup = conn.execute(
            "SELECT dim, kind, hour, value, n FROM report_rollup_hourly"
            " WHERE tenant_id = %s AND n <> 0 ORDER BY 1, 2, 3, 4",
            (tenant_id,),
        ).fetchall()
    return facts, events, rollup


def _reset(database: Any, tenant_id: str) -> None:
    with database.connect("owner") as conn:
        for table in (
            "report_events",
            "report_ticket_facts",
            "report_processed_events",
            "report_rollup_hourly",
        ):
            conn.execute(f"DELETE FROM {table} WHERE tenant_id = %s", (tenant_id,))
        conn.commit()


def _deliver(bodies: list[str]) -> dict[str, Any]:
    from local.app import load_function

    handler = load_function("reports_consumer").lambda_handler
    records = [
        {
            "messageId": str(uuid.uuid4()),
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1"},
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:servicedesk-reports",
        }
        for body in bodies
    ]
    return dict(handler({"Records": records}, None))


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_consumer_in_any_order_with_duplicates_equals_a_rebuild(
    data: Any, database: Any, desk: TenantFixture, stream: list[str]
) -> None:
    _reset(database, desk.tenant_id)
    rebuild_tenant(uuid.UUID(desk.tenant_id))
    expected = _snapshot(database, desk.tenant_id)
    assert len(expected[0]) == 4 and expected[2]
    _reset(database, desk.tenant_id)
    repeats = data.draw(st.lists(st.sampled_from(stream), max_size=len(stream)))
    shuffled = data.draw(st.permutations(stream + repeats))
    assert _deliver(shuffled) == {"batchItemFailures": []}
    assert _snapshot(database, desk.tenant_id) == expected


def test_a_redelivered_event_is_skipped(
    database: Any, desk: TenantFixture, stream: list[str]
) -> None:
    _reset(database, desk.tenant_id)
    _deliver(stream[:1])
    with database.connect("owner") as conn:
        conn.execute(
            "UPDATE report_ticket_facts SET public_replies = 99 WHERE tenant_id = %s",
            (desk.tenant_id,),
        )
        conn.commit()
    _deliver(stream[:1])  # same event id: not applied again
    with database.connect("owner") as conn:
        (replies,) = conn.execute(
            "SELECT public_replies FROM report_ticket_facts WHERE tenant_id = %s",
            (desk.tenant_id,),
        ).fetchone()
    assert replies == 99


def test_events_of_other_aggregates_are_ignored(database: Any, desk: TenantFixture) -> None:
    body = publisher.encode(
        SimpleNamespace(
            id=uuid.uuid4(),
            seq=1,
            tenant_id=desk.tenant_id,
            event_type="ticket.created",
            aggregate_type="user",
            aggregate_id="not-a-ticket",
            payload={},
            created_at=__import__("datetime").datetime.now(__import__("datetime").UTC),
        )
    )
    assert _deliver([body]) == {"batchItemFailures": []}


def test_another_tenants_events_do_not_touch_these_facts(
    client: Any, database: Any, desk: TenantFixture, stream: list[str]
) -> None:
    other = make_tenant(client, roles=("requester",))
    made = client.post(
        "/v1/tickets", json={"title": "Theirs"}, headers=other.members["requester"].headers
    )
    assert made.status_code == 201
    rebuild_tenant(uuid.UUID(other.tenant_id))
    before = _snapshot(database, desk.tenant_id)
    with database.connect("owner") as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM report_ticket_facts WHERE tenant_id = %s", (other.tenant_id,)
        ).fetchone()
    assert count == 1 and _snapshot(database, desk.tenant_id) == before


def test_a_rebuild_in_two_processes_equals_one_in_one(
    database: Any, desk: TenantFixture, stream: list[str]
) -> None:
    """``--jobs 2``: two processes over two ranges of ticket ids, small batches, then the
    rollups recounted: the same facts, events and rollups as one process."""
    _reset(database, desk.tenant_id)
    rebuild_tenant(uuid.UUID(desk.tenant_id))
    expected = _snapshot(database, desk.tenant_id)
    _reset(database, desk.tenant_id)
    assert rebuild_tenant(uuid.UUID(desk.tenant_id), batch=1, jobs=2) == 4
    assert _snapshot(database, desk.tenant_id) == expected
