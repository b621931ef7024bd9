"""Every metric the code emits, by name: the single source of truth for the metrics facade
(platform.metrics), which refuses any other, and for the CDK dashboards and alarms
(stacks/constructs/dashboard.py, alarms.py), whose infra test checks that each widget's
metric is one of these *and* is emitted by some code path.

Dimensions are few and of low cardinality: a route template (never a raw path), a
consumer's name, an outcome. Never a tenant, a user or a ticket: per-tenant figures are
in the logs (docs/operations.md, the Logs Insights queries).

This module imports nothing: the stacks import it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NAMESPACE = "Servicedesk"

Kind = Literal["counter", "histogram", "gauge"]


@dataclass(frozen=True)
class Metric:
    name: str  # CloudWatch metric name (CamelCase)
    unit: str  # a CloudWatch unit (aws_lambda_powertools MetricUnit value)
    kind: Kind  # how the local Prometheus registry keeps it
    dimensions: tuple[str, ...]
    description: str

    @property
    def prometheus_name(self) -> str:
        """``RequestLatency`` → ``servicedesk_request_latency`` (counters get ``_total``
        from the client library)."""
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in self.name).lstrip("_")
        return f"servicedesk_{snake}"


# Per route: method and route template ("GET /v1/tickets/{ticket_id}"), "unmatched" else.
REQUEST_LATENCY = Metric(
    "RequestLatency", "Milliseconds", "histogram", ("Route",), "Request duration by route"
)
REQUESTS = Metric("Requests", "Count", "counter", ("Route",), "Requests answered, by route")
SERVER_ERRORS = Metric("ServerErrors", "Count", "counter", ("Route",), "5xx answers, by route")
CLIENT_ERRORS = Metric("ClientErrors", "Count", "counter", ("Route",), "4xx answers, by route")

# Business counters: counted once each, where the outbox event is written
# (platform.outbox.emit → platform.metrics.business_event), or where the side effect is done.
TICKETS_CREATED = Metric("TicketsCreated", "Count", "counter", (), "Tickets created")
TICKETS_RESOLVED = Metric("TicketsResolved", "Count", "counter", (), "Tickets resolved")
COMMENTS_ADDED = Metric("CommentsAdded", "Count", "counter", (), "Comments added")
SLA_WARNINGS = Metric("SlaWarnings", "Count", "counter", (), "SLA warnings raised")
SLA_BREACHES = Metric("SlaBreaches", "Count", "counter", (), "SLA breaches")
EMAILS_RECEIVED = Metric("EmailsReceived", "Count", "counter", (), "Inbound e-mails taken in")
EMAILS_SENT = Metric("EmailsSent", "Count", "counter", (), "E-mails sent")
WEBHOOK_DELIVERIES = Metric(
    "WebhookDeliveries", "Count", "counter", ("Outcome",), "Webhook deliveries (ok, failed)"
)
ASSISTANT_CALLS = Metric("AssistantCalls", "Count", "counter", (), "Assistant model calls")
ASSISTANT_TOKENS = Metric("AssistantTokens", "Count", "counter", (), "Assistant model tokens")

# SQS consumers (platform.consumer): records by outcome (processed, failed, retried: a
# record received more than once), and the age of each record when handled (queue lag).
CONSUMER_RECORDS = Metric(
    "ConsumerRecords", "Count", "counter", ("Consumer", "Outcome"), "Consumer records by outcome"
)
CONSUMER_MESSAGE_AGE = Metric(
    "ConsumerMessageAge",
    "Milliseconds",
    "histogram",
    ("Consumer",),
    "Age of a record when its consumer handled it (sent → handled)",
)

# Realtime: open WebSocket connections, counted in the registry by the sweep.
WEBSOCKET_CONNECTIONS = Metric(
    "WebSocketConnections", "Count", "gauge", (), "Open WebSocket connections (registry)"
)

ALL: tuple[Metric, ...] = (
    REQUEST_LATENCY,
    REQUESTS,
    SERVER_ERRORS,
    CLIENT_ERRORS,
    TICKETS_CREATED,
    TICKETS_RESOLVED,
    COMMENTS_ADDED,
    SLA_WARNINGS,
    SLA_BREACHES,
    EMAILS_RECEIVED,
    EMAILS_SENT,
    WEBHOOK_DELIVERIES,
    ASSISTANT_CALLS,
    ASSISTANT_TOKENS,
    CONSUMER_RECORDS,
    CONSUMER_MESSAGE_AGE,
    WEBSOCKET_CONNECTIONS,
)
BY_NAME = {metric.name: metric for metric in ALL}

# Business counters by outbox event type (counted when the event is written).
EVENT_COUNTERS: dict[str, Metric] = {
    "ticket.created": TICKETS_CREATED,
    "comment.added": COMMENTS_ADDED,
    "sla.warning": SLA_WARNINGS,
    "sla.breached": SLA_BREACHES,
    # The e-mail intake's outcome for every inbound message (servicedesk.mail.decide).
    "mail.received": EMAILS_RECEIVED,
    "mail.held": EMAILS_RECEIVED,
    "mail.rejected": EMAILS_RECEIVED,
}
