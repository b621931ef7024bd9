"""The one metrics facade the code calls: ``record(...)``, ``count(...)``.

Every metric is declared in platform.metric_names (name, unit, kind, dimensions); this
module refuses any other and any other set of dimensions, so a raw path or a tenant id
cannot become a dimension by accident.

Where the figures go is a list of sinks:

- on Lambda (``AWS_LAMBDA_FUNCTION_NAME`` is set), CloudWatch embedded metric format:
  one JSON line on stdout per call, written with Powertools' ``EphemeralMetrics``;
  CloudWatch Logs extracts the metrics from the function's log group, so a metric costs
  no API call and no latency;
- in the local runtime (``make dev``), local/metrics.py installs a sink that feeds an
  in-process Prometheus registry served at ``/metrics``. ``prometheus-client`` is a
  dev dependency: it is imported there, never on the Lambda code path.

A sink that raises is logged and skipped: a metric never fails a request.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from servicedesk.platform.metric_names import (
    ASSISTANT_CALLS,
    ASSISTANT_TOKENS,
    EVENT_COUNTERS,
    NAMESPACE,
    TICKETS_RESOLVED,
    Metric,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# (dimensions, {metric: value}): metrics of one call share their dimensions.
Sink = Callable[[Mapping[str, str], Mapping[Metric, float]], None]

_SINKS: list[Sink] = []


class MetricError(ValueError):
    """A metric recorded with dimensions other than those it declares."""


def record(values: Mapping[Metric, float], **dimensions: str) -> None:
    """Record several metrics that share ``dimensions`` (one EMF line on Lambda)."""
    for metric in values:
        if set(metric.dimensions) != set(dimensions):
            raise MetricError(
                f"{metric.name} takes dimensions {sorted(metric.dimensions)},"
                f" not {sorted(dimensions)}"
            )
    for sink in sinks():
        try:
            sink(dimensions, values)
        except Exception:  # noqa: BLE001 - a metric never fails what it measures
            from servicedesk.platform.logging import get_logger

            get_logger().warning("metrics sink failed", exc_info=True)


def count(metric: Metric, value: float = 1, **dimensions: str) -> None:
    record({metric: value}, **dimensions)


def sinks() -> list[Sink]:
    if not _SINKS and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        _SINKS.append(emf_sink)
    return _SINKS


def add_sink(sink: Sink) -> None:
    """Install a sink (the local runtime's Prometheus registry); idempotent."""
    if sink not in _SINKS:
        _SINKS.append(sink)


def remove_sink(sink: Sink) -> None:
    if sink in _SINKS:
        _SINKS.remove(sink)


def emf_document(dimensions: Mapping[str, str], values: Mapping[Metric, float]) -> dict[str, Any]:
    """The EMF document of one call, built by Powertools (no service dimension: the
    dashboards name each metric by exactly the dimensions metric_names declares)."""
    from aws_lambda_powertools.metrics import EphemeralMetrics

    emf = EphemeralMetrics(namespace=NAMESPACE)
    emf.service = ""  # falsy: no POWERTOOLS_SERVICE_NAME "service" dimension
    for name, value in dimensions.items():
        emf.add_dimension(name=name, value=value)
    for metric, amount in values.items():
        emf.add_metric(name=metric.name, unit=metric.unit, value=amount)
    document: dict[str, Any] = dict(emf.serialize_metric_set())
    return document


def emf_sink(dimensions: Mapping[str, str], values: Mapping[Metric, float]) -> None:
    sys.stdout.write(json.dumps(emf_document(dimensions, values), separators=(",", ":")) + "\n")
    sys.stdout.flush()


# --- Where things happen -------------------------------------------------------------------


# session.info key: (outbox event id, metric) written in this transaction, not yet counted.
PENDING = "pending_business_metrics"


def business_event(
    session: Session, event_id: uuid.UUID, event_type: str, payload: Mapping[str, Any]
) -> None:
    """Business counters for one outbox event, written where the event is (outbox.emit) and
    counted when its transaction commits: a rolled-back transaction counts nothing, nor an
    event a savepoint withdrew from the session's ``outbox_ids`` (GraphQL's failed mutation,
    the assistant's abandoned turn), exactly the events that get published."""
    metric = EVENT_COUNTERS.get(event_type)
    if metric is None and event_type == "ticket.status_changed":
        metric = TICKETS_RESOLVED if payload.get("status_to") == "resolved" else None
    if metric is not None:
        _listen()
        session.info.setdefault(PENDING, []).append((event_id, metric))


@functools.cache
def _listen() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session as SessionClass

    # Only commits: SQLAlchemy's after_rollback fires for a savepoint's rollback too, which
    # must not drop what the enclosing transaction wrote. A rolled-back transaction's
    # session is discarded with what it holds (platform.db.transaction).
    event.listen(SessionClass, "after_commit", _committed)


def _committed(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    kept = set(session.info.get("outbox_ids") or ())
    for event_id, metric in pending:
        if event_id in kept:
            count(metric)


def assistant_usage(input_tokens: int, output_tokens: int) -> None:
    record({ASSISTANT_CALLS: 1, ASSISTANT_TOKENS: input_tokens + output_tokens})


@functools.cache
def route_label(method: str, template: str) -> str:
    return f"{method} {template}"
