"""The local app's /metrics (local/metrics.py): the platform.metrics calls requests make,
in Prometheus text format — per route template, never a raw path or a tenant id."""

from __future__ import annotations

import uuid
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import make_tenant


def scrape(client: Any) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_move_per_route_histograms_and_counters(client: Any) -> None:
    tenant = make_tenant(client)
    agent = tenant.members["agent"]
    before = scrape(client)

    created = client.post("/v1/tickets", headers=agent.headers, json={"title": "Metrics"})
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    for _ in range(2):
        assert client.get(f"/v1/tickets/{ticket_id}", headers=agent.headers).status_code == 200
    missing = client.get(f"/v1/tickets/{uuid.uuid4()}", headers=agent.headers)
    assert missing.status_code == 404

    after = scrape(client)
    one = "GET /v1/tickets/{ticket_id}"
    create = "POST /v1/tickets"

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("servicedesk_requests_total", route=one) == 3
    assert moved("servicedesk_client_errors_total", route=one) == 1
    assert moved("servicedesk_server_errors_total", route=one) == 0
    assert moved("servicedesk_request_latency_count", route=one) == 3
    assert moved("servicedesk_request_latency_bucket", route=one, le="+Inf") == 3
    assert moved("servicedesk_request_latency_sum", route=one) > 0
    assert moved("servicedesk_requests_total", route=create) == 1
    assert moved("servicedesk_tickets_created_total") == 1

    # Route templates only: no raw path, no tenant or ticket id anywhere in the labels.
    labels = {v for (_, pairs) in after for _, v in pairs}
    text = client.get("/metrics").text
    for secret in (tenant.tenant_id, ticket_id, tenant.slug, agent.user_id):
        assert secret not in text
    assert not any(ticket_id in label for label in labels)
    routes = {v for (_, pairs) in after for k, v in pairs if k == "route"}
    assert all(r == "unmatched" or " /" in r for r in routes), routes


def test_unknown_paths_share_one_label(client: Any) -> None:
    before = scrape(client)
    for n in range(3):
        client.get(f"/v1/no-such-thing-{n}")
    after = scrape(client)
    key = ("servicedesk_requests_total", frozenset({("route", "unmatched")}))
    assert after.get(key, 0) - before.get(key, 0) == 3
    assert not any("no-such-thing" in v for (_, pairs) in after for _, v in pairs)


def test_the_sweep_sets_the_open_connections_gauge(client: Any, database: Any) -> None:
    """The realtime sweep counts every tenant's open connections in the registry (through
    its cross-tenant definer function) into the WebSocketConnections gauge."""
    from servicedesk.realtime import sweep

    tenants = [make_tenant(client, roles=()) for _ in range(2)]
    before = sweep.open_connections()
    with database.connect("owner") as conn:
        for n, tenant in enumerate(tenants):
            conn.execute(
                "INSERT INTO realtime_connections (connection_id, tenant_id, user_id, expires_at)"
                " VALUES (%s, %s, %s, now() + interval '1 hour')",
                (f"gauge-{uuid.uuid4().hex[:8]}-{n}", tenant.tenant_id, tenant.admin.user_id),
            )
    assert sweep.open_connections() == before + 2
    report = sweep.sweep()  # nothing stale: nothing closed; the gauge is set
    assert report.closed == 0
    gauge = value(scrape(client), "servicedesk_web_socket_connections")
    assert gauge == before + 2


def test_business_events_count_once_their_transaction_commits(client: Any) -> None:
    """Counted where the outbox event is written, when its transaction commits: a rolled
    back transaction counts nothing, nor an event a savepoint withdrew (as GraphQL's failed
    mutation does), exactly the events that get published."""
    from servicedesk.platform import outbox
    from servicedesk.platform.db import set_tenant, transaction

    tenant = make_tenant(client, roles=())
    tid = uuid.UUID(tenant.tenant_id)

    def emit(session: Any, event_type: str, **payload: Any) -> uuid.UUID:
        return outbox.emit(
            session,
            tenant_id=tid,
            event_type=event_type,
            aggregate_type="ticket",
            aggregate_id=uuid.uuid4(),
            payload=payload,
        )

    def counts() -> tuple[float, float, float]:
        samples = scrape(client)
        return (
            value(samples, "servicedesk_tickets_created_total"),
            value(samples, "servicedesk_tickets_resolved_total"),
            value(samples, "servicedesk_comments_added_total"),
        )

    before = counts()
    with transaction() as session:
        set_tenant(session, tenant_id=tid, user_id=None)
        emit(session, "ticket.created")
        emit(session, "ticket.status_changed", status_to="resolved")
        emit(session, "ticket.status_changed", status_to="open")  # not a resolution
        assert counts() == before  # written, not yet committed
    assert counts() == (before[0] + 1, before[1] + 1, before[2])

    class Abandoned(Exception):
        pass

    try:
        with transaction() as session:
            set_tenant(session, tenant_id=tid, user_id=None)
            emit(session, "ticket.created")
            raise Abandoned
    except Abandoned:
        pass
    assert counts() == (before[0] + 1, before[1] + 1, before[2])  # rolled back: nothing

    with transaction() as session:
        set_tenant(session, tenant_id=tid, user_id=None)
        emit(session, "comment.added")
        kept = list(session.info["outbox_ids"])
        savepoint = session.begin_nested()
        emit(session, "ticket.created")
        savepoint.rollback()
        session.info["outbox_ids"] = kept  # as graphql/routes.py withdraws a savepoint's
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
