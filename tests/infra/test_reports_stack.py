"""Reports in AWS: the reports queue (DLQ, alarm: the generic queue tests) feeds the reports
consumer; the functions that publish the outbox know its URL; the reports API function is
routed /v1/reports and is the only one that is."""

from __future__ import annotations

from typing import Any

from stacks.api import DOMAINS
from tests.infra.conftest import Synthesized
from tests.infra.test_stacks import _all_resources, _logical_id, _resources, _service_of


def test_the_reports_queue_feeds_the_reports_consumer(dev: Synthesized) -> None:
    stack = dev.sd.asyncq
    assert "reports" in stack.queues and "reports" in stack.dlqs
    queue_id = _logical_id(stack.queues["reports"])
    consumer_id = _logical_id(stack.functions["reports_consumer"].function)
    mappings = _resources(dev.templates["Async"], "AWS::Lambda::EventSourceMapping")
    fed = [
        m["Properties"]
        for m in mappings.values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    assert len(fed) == 1
    assert consumer_id in str(fed[0]["FunctionName"])


def test_publishers_know_the_reports_queue(dev: Synthesized) -> None:
    publishers: set[str] = set()
    for _, _, fn in _all_resources(dev.templates, "AWS::Lambda::Function"):
        env: dict[str, Any] = fn["Properties"].get("Environment", {}).get("Variables", {})
        if "SERVICEDESK_EMAIL_QUEUE_URL" in env:
            assert "SERVICEDESK_REPORTS_QUEUE_URL" in env, _service_of(fn)
            publishers.add(str(_service_of(fn)))
    assert {"tickets", "outbox_sweeper"} <= publishers


def test_reports_prefix_routes_to_the_reports_function() -> None:
    owners = [domain for domain, prefixes in DOMAINS.items() if "reports" in prefixes]
    assert owners == ["reports"]
