"""``/metrics`` in `make dev`: the platform.metrics calls, kept in an in-process Prometheus
registry (the maintained ``prometheus-client``) and served in its text format, so that a
local Prometheus (and Grafana over it) can scrape the desk (docs/operations.md).

The same calls write CloudWatch embedded metric format on Lambda; this sink exists only in
the local runtime: ``prometheus-client`` is a dev dependency, not in the Lambda layer.

Labels are the metric's declared dimensions, lower-cased (``route``, ``consumer``,
``outcome``): low-cardinality by construction (platform.metric_names).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from fastapi import FastAPI
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.responses import Response

from servicedesk.platform import metrics
from servicedesk.platform.metric_names import Metric

# Milliseconds: a fast request to a queue message an hour old.
BUCKETS_MS = (
    5.0,
    10.0,
    25.0,
    50.0,
    100.0,
    250.0,
    500.0,
    1_000.0,
    2_500.0,
    5_000.0,
    10_000.0,
    30_000.0,
    60_000.0,
    300_000.0,
    3_600_000.0,
)

PATH = "/metrics"


class PrometheusSink:
    """A platform.metrics sink: one collector per declared metric, made on first use."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._collectors: dict[str, Counter | Gauge | Histogram] = {}
        self._lock = threading.Lock()

    def _collector(self, metric: Metric) -> Counter | Gauge | Histogram:
        with self._lock:
            found = self._collectors.get(metric.name)
            if found is None:
                labels = [d.lower() for d in metric.dimensions]
                name, doc = metric.prometheus_name, metric.description
                found = (
                    Counter(name, doc, labels, registry=self.registry)
                    if metric.kind == "counter"
                    else Gauge(name, doc, labels, registry=self.registry)
                    if metric.kind == "gauge"
                    else Histogram(name, doc, labels, registry=self.registry, buckets=BUCKETS_MS)
                )
                self._collectors[metric.name] = found
            return found

    def __call__(self, dimensions: Mapping[str, str], values: Mapping[Metric, float]) -> None:
        labels = {name.lower(): value for name, value in dimensions.items()}
        for metric, value in values.items():
            collector = self._collector(metric)
            target = collector.labels(**labels) if labels else collector
            if isinstance(target, Counter):
                target.inc(value)
            elif isinstance(target, Gauge):
                target.set(value)
            else:
                target.observe(value)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


# One per process: `make dev` serves every function from one process.
SINK = PrometheusSink()


def mount_metrics(app: FastAPI, sink: PrometheusSink = SINK) -> None:
    """Feed ``sink`` from every platform.metrics call and serve it at ``/metrics``."""
    metrics.add_sink(sink)

    async def serve() -> Response:
        return Response(sink.exposition(), media_type=CONTENT_TYPE_LATEST)

    # An API route (not a bare Starlette one), so that its own requests are counted under
    # "GET /metrics"; local only: never in a domain router, never on Lambda.
    app.add_api_route(PATH, serve, methods=["GET"], include_in_schema=False)
