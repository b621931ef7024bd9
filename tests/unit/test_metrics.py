"""platform.metrics: the one facade. EMF on Lambda (Powertools), a Prometheus sink locally,
declared dimensions only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from prometheus_client import generate_latest

from local.metrics import PrometheusSink
from servicedesk.platform import metric_names as names
from servicedesk.platform import metrics
from servicedesk.platform.consumer import consumer_name, record_batch_metrics


@pytest.fixture
def sink() -> Any:
    sink = PrometheusSink()
    metrics.add_sink(sink)
    yield sink
    metrics.remove_sink(sink)


def prom(sink: PrometheusSink) -> str:
    return generate_latest(sink.registry).decode()


def test_emf_document_names_the_declared_dimensions_only(monkeypatch: Any) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "servicedesk-tickets")
    doc = metrics.emf_document(
        {"Route": "GET /v1/tickets/{ticket_id}"}, {names.REQUEST_LATENCY: 12.5, names.REQUESTS: 1}
    )
    (directive,) = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == names.NAMESPACE
    assert directive["Dimensions"] == [["Route"]]  # no "service": dashboards name exact sets
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "RequestLatency": "Milliseconds",
        "Requests": "Count",
    }
    assert doc["RequestLatency"] == [12.5] and doc["Route"] == "GET /v1/tickets/{ticket_id}"


def test_on_lambda_each_call_is_one_emf_line(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setattr(metrics, "_SINKS", [])
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "servicedesk-dev-tickets")
    metrics.count(names.WEBHOOK_DELIVERIES, Outcome="failed")
    metrics.count(names.TICKETS_CREATED)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] for line in lines] == [
        "WebhookDeliveries",
        "TicketsCreated",
    ]
    assert lines[0]["Outcome"] == "failed"


def test_off_lambda_without_a_sink_nothing_is_written(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setattr(metrics, "_SINKS", [])
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    metrics.count(names.TICKETS_CREATED)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("metric", "dimensions"),
    [
        (names.REQUESTS, {}),  # missing its route
        (names.TICKETS_CREATED, {"TenantId": "t1"}),  # a tenant is never a dimension
        (names.CONSUMER_RECORDS, {"Consumer": "webhooks"}),  # missing the outcome
    ],
)
def test_undeclared_dimensions_are_refused(metric: names.Metric, dimensions: Any) -> None:
    with pytest.raises(metrics.MetricError):
        metrics.count(metric, **dimensions)


def test_a_failing_sink_never_fails_the_caller(sink: PrometheusSink) -> None:
    def broken(dimensions: Any, values: Any) -> None:
        raise RuntimeError("sink down")

    metrics.add_sink(broken)
    try:
        metrics.count(names.EMAILS_SENT)
    finally:
        metrics.remove_sink(broken)
    assert "servicedesk_emails_sent_total 1.0" in prom(sink)


def test_assistant_usage_counts_calls_and_tokens(sink: PrometheusSink) -> None:
    metrics.assistant_usage(100, 20)
    text = prom(sink)
    assert "servicedesk_assistant_calls_total 1.0" in text
    assert "servicedesk_assistant_tokens_total 120.0" in text


def test_consumer_batch_metrics(sink: PrometheusSink) -> None:
    now = 1_800_000_000.0
    records = [
        {"messageId": "a", "attributes": {"SentTimestamp": str(int(now * 1000) - 4_000)}},
        {
            "messageId": "b",
            "attributes": {
                "SentTimestamp": str(int(now * 1000) - 90_000),
                "ApproximateReceiveCount": "3",
            },
        },
        {"messageId": "c", "attributes": {}},
    ]
    record_batch_metrics("webhooks", records, {"b"}, now=now)
    text = prom(sink)
    for outcome, n in (("processed", 2), ("failed", 1), ("retried", 1)):
        line = f'servicedesk_consumer_records_total{{consumer="webhooks",outcome="{outcome}"}}'
        assert f"{line} {n:.1f}" in text
    # One observation per batch: its oldest record, 90 s old.
    assert 'servicedesk_consumer_message_age_sum{consumer="webhooks"} 90000.0' in text
    assert 'servicedesk_consumer_message_age_count{consumer="webhooks"} 1.0' in text


def test_consumer_names_are_their_domains() -> None:
    from servicedesk.realtime import broadcaster
    from servicedesk.webhooks import delivery

    assert consumer_name(delivery.process) == "webhooks"
    assert consumer_name(broadcaster.process) == "realtime"


def test_every_metric_is_declared_once_with_a_unit() -> None:
    assert len(names.BY_NAME) == len(names.ALL)
    units = {"Count", "Milliseconds"}
    assert all(m.unit in units and m.kind in ("counter", "histogram", "gauge") for m in names.ALL)
    assert all("Tenant" not in d and "User" not in d for m in names.ALL for d in m.dimensions)
