"""One trace id from a ticket's creation to its webhook delivery (platform.tracing), over
the local runtime: the API request, the outbox publish to SQS (the emulator's, over HTTP),
the webhook consumer polling it and POSTing to a receiver on 127.0.0.1. The structured
log lines of both functions carry the same trace_id."""

from __future__ import annotations

import json
from typing import Any

import boto3

from local.app import load_function
from servicedesk.platform import tracing
from tests.conftest import make_tenant

# The webhook tests' receiver on 127.0.0.1 and webhook queue (module-scoped fixtures).
from tests.integration.test_webhooks import _drain, _hook, _ticket, queue, receiver  # noqa: F401

API = "servicedesk-tickets"
CONSUMER = "servicedesk-webhook-consumer"


def _lines(read: Any, service: str) -> list[dict[str, Any]]:
    return [line for line in read() if line.get("service") == service]


def test_a_ticket_and_its_webhook_delivery_share_one_trace_id(
    client: Any,
    queue: Any,  # noqa: F811 - the imported fixture
    receiver: Any,  # noqa: F811
    log_lines: Any,
) -> None:
    org = make_tenant(client, roles=())
    _hook(client, org, receiver.url("/traced"))
    ticket = _ticket(client, org, "Traced")
    consumer = load_function("webhook_consumer").lambda_handler
    assert _drain(queue, consumer) >= 1
    assert len(receiver.at("/traced")) == 1

    (access,) = [
        line
        for line in _lines(log_lines, API)
        if line["message"] == "request" and line.get("route") == "POST /v1/tickets"
    ]
    trace_id = access["trace_id"]
    assert tracing.ROOT.match(trace_id), trace_id  # X-Amzn-Trace-Id's root format
    handled = [
        line
        for line in _lines(log_lines, CONSUMER)
        if line.get("ticket_id") == ticket["id"] and line.get("event_type") == "ticket.created"
    ]
    assert handled, [line for line in log_lines() if line.get("service") == CONSUMER]
    assert {line["trace_id"] for line in handled} == {trace_id}
    # Another request is another trace.
    other = _ticket(client, org, "Another")
    _drain(queue, consumer)
    others = {
        line.get("trace_id")
        for line in _lines(log_lines, CONSUMER)
        if line.get("ticket_id") == other["id"]
    }
    assert others and trace_id not in others


def test_an_incoming_trace_header_is_kept_to_the_queue(
    client: Any,
    queue: Any,  # noqa: F811 - the imported fixture
    receiver: Any,  # noqa: F811
) -> None:
    """API Gateway's X-Amzn-Trace-Id (here sent by hand) is the trace of the request and of
    its messages: in the body, read back by every consumer (platform.consumer.Envelope)."""
    org = make_tenant(client, roles=())
    _hook(client, org, receiver.url("/incoming"))
    root = tracing.new_root()
    header = f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"
    response = client.post(
        "/v1/tickets",
        json={"title": "From the gateway"},
        headers={**org.admin.headers, "X-Amzn-Trace-Id": header},
    )
    assert response.status_code == 201, response.text
    sqs = boto3.client("sqs")
    bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get("Messages", [])
    ]
    mine = [b for b in bodies if b["aggregate"]["id"] == response.json()["id"]]
    assert mine and {b["trace"] for b in mine} == {header}


def test_malformed_trace_headers_are_replaced() -> None:
    assert tracing.root_of("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
    for bad in ("Root=nope", "1-zzzz", "x" * 300, "Root=1-5759e988-bd862e3f\n"):
        assert tracing.root_of(bad) is None
        assert tracing.root_of(tracing.incoming(bad)) is not None
    root = "1-5759e988-bd862e3fe1be46a994272793"
    assert tracing.incoming(f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1;Lineage=x:1") == (
        f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"
    )
    assert tracing.incoming(f"Sampled=7;Root={root};Parent=zz") == f"Root={root}"


def test_a_failing_records_warning_carries_its_trace_and_ticket(
    database: Any, log_lines: Any
) -> None:
    from local.scheduler import LambdaContext
    from servicedesk.platform.consumer import sqs_handler

    def boom(session: Any, envelope: Any) -> None:
        raise RuntimeError("consumer broke")

    handler = sqs_handler(boom, consumer="test")
    root = tracing.new_root()
    ticket_id = "5f0c2b0e-7d44-4f1e-9f43-8d1f2b3c4d5e"
    body = {
        "event_id": "2b7f6a4e-1c1d-4c55-8a0e-0f9b8c7d6e5f",
        "seq": 1,
        "tenant_id": "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
        "type": "ticket.updated",
        "aggregate": {"type": "ticket", "id": ticket_id},
        "payload": {},
        "created_at": "2026-01-01T00:00:00+00:00",
        "trace": f"Root={root};Sampled=1",
    }
    result = handler(
        {"Records": [{"messageId": "m-1", "body": json.dumps(body), "attributes": {}}]},
        LambdaContext("test_consumer"),
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    (failed,) = [
        line for line in log_lines() if line["message"] == "record failed; SQS delivers it again"
    ]
    assert failed["trace_id"] == root and failed["ticket_id"] == ticket_id
    assert failed["event_type"] == "ticket.updated"


def test_on_lambda_the_invocations_trace_is_in_force(monkeypatch: Any) -> None:
    """Outside a request (a scheduled job, the sweeper) the invocation's own trace."""
    root = tracing.new_root()
    monkeypatch.setenv(
        tracing.LAMBDA_ENV, f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a:1"
    )
    assert tracing.current() == f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"
    with tracing.bind("Root=1-5759e988-bd862e3fe1be46a994272793"):
        assert tracing.current() == "Root=1-5759e988-bd862e3fe1be46a994272793"
    monkeypatch.delenv(tracing.LAMBDA_ENV)
    assert tracing.current() is None
