"""``Overviews``: the three operator dashboards (API, workers, realtime) over the metrics
the code emits (servicedesk.platform.metric_names), with the alarms that matter beside
their widgets: 5xx rate and p95 over budget for the key routes, the outbox sweeper's
errors, and a drop in open WebSocket connections. Every alarm goes to the alarm topic.

Metrics are named here only through ``metric_names`` (``_metric``/``_per_dimension`` take a
``Metric``), and tests/infra checks every name on the dashboards against the code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from servicedesk.platform import metric_names as names
from servicedesk.platform.metric_names import Metric
from stacks.config import DeploymentConfig
from stacks.constructs.alarms import Alarms

ONE_MINUTE = Duration.minutes(1)
FIVE_MINUTES = Duration.minutes(5)

# The routes worth waking someone for, with their p95 budget in milliseconds (method and
# route template, as platform.app.route_of labels them; tests/infra checks they exist).
KEY_ROUTES: dict[str, int] = {
    "POST /v1/auth/login": 1500,
    "GET /v1/tickets": 1000,
    "GET /v1/tickets/{ticket_id}": 800,
    "POST /v1/tickets": 1500,
    "POST /v1/tickets/{ticket_id}/comments": 1500,
}


def _metric(metric: Metric, statistic: str, label: str | None = None, **dims: str) -> cw.Metric:
    return cw.Metric(
        namespace=names.NAMESPACE,
        metric_name=metric.name,
        dimensions_map=dims or None,
        statistic=statistic,
        period=ONE_MINUTE,
        label=label,
    )


def _per_dimension(title: str, metric: Metric, statistic: str) -> cw.GraphWidget:
    """A half-width graph, one line per value of the metric's dimensions (every route,
    every consumer and outcome): a SEARCH expression."""
    keys = ",".join((names.NAMESPACE, *metric.dimensions))
    search = cw.MathExpression(
        expression=f"SEARCH('{{{keys}}} MetricName=\"{metric.name}\"', '{statistic}', 60)",
        label="",
        period=ONE_MINUTE,
    )
    return cw.GraphWidget(title=title, left=[search], width=12)


def _slug(text: str) -> str:
    """ "GET /v1/tickets/{ticket_id}" → "GetV1TicketsTicketId" (a construct id)."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)


class Overviews:
    """Built in ``stack``'s own scope (stacks/constructs/__init__.py says why)."""

    def __init__(
        self,
        stack: Stack,
        *,
        config: DeploymentConfig,
        alarms: Alarms,
        queues: Mapping[str, sqs.IQueue],
        dlqs: Mapping[str, sqs.IQueue],
        sweepers: Mapping[str, lambda_.IFunction],
        broadcaster: lambda_.IFunction,
    ) -> None:
        self.alarms = alarms
        self.api = self._dashboard(stack, config, "Api", self._api_widgets(config))
        self.workers = self._dashboard(
            stack, config, "Workers", self._worker_widgets(queues, dlqs, sweepers)
        )
        self.realtime = self._dashboard(
            stack, config, "Realtime", self._realtime_widgets(stack, broadcaster)
        )

    @staticmethod
    def _dashboard(
        stack: Stack, config: DeploymentConfig, name: str, rows: Sequence[Sequence[cw.IWidget]]
    ) -> cw.Dashboard:
        dashboard = cw.Dashboard(
            stack,
            f"{name}Overview",
            dashboard_name=f"servicedesk-{config.stage}-{name.lower()}",
            default_interval=Duration.hours(3),
        )
        for row in rows:
            dashboard.add_widgets(*row)
        return dashboard

    # --- API ----------------------------------------------------------------------------

    def _api_widgets(self, config: DeploymentConfig) -> list[list[cw.IWidget]]:
        overview: list[cw.IWidget] = [
            _per_dimension("Requests by route", names.REQUESTS, "Sum"),
            _per_dimension("p95 latency by route (ms)", names.REQUEST_LATENCY, "p95"),
            _per_dimension("5xx by route", names.SERVER_ERRORS, "Sum"),
            _per_dimension("4xx by route", names.CLIENT_ERRORS, "Sum"),
        ]
        key_routes: list[cw.IWidget] = []
        for route, budget in KEY_ROUTES.items():
            errors, latency = self._route_alarms(config, route, budget)
            key_routes.append(cw.AlarmWidget(title=f"{route}: 5xx rate", alarm=errors, width=6))
            key_routes.append(
                cw.AlarmWidget(title=f"{route}: p95 ms (budget {budget})", alarm=latency, width=6)
            )
        business: list[cw.IWidget] = [
            cw.GraphWidget(
                title="Tickets and comments",
                left=[
                    _metric(names.TICKETS_CREATED, "Sum", "created"),
                    _metric(names.TICKETS_RESOLVED, "Sum", "resolved"),
                    _metric(names.COMMENTS_ADDED, "Sum", "comments"),
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="SLA warnings and breaches",
                left=[
                    _metric(names.SLA_WARNINGS, "Sum", "warnings"),
                    _metric(names.SLA_BREACHES, "Sum", "breaches"),
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="Assistant calls and tokens",
                left=[_metric(names.ASSISTANT_CALLS, "Sum", "calls")],
                right=[_metric(names.ASSISTANT_TOKENS, "Sum", "tokens")],
                width=8,
            ),
        ]
        return [overview, key_routes, business]

    def _route_alarms(
        self, config: DeploymentConfig, route: str, budget_ms: int
    ) -> tuple[cw.Alarm, cw.Alarm]:
        slug = _slug(route)
        rate = cw.MathExpression(
            expression="IF(requests > 0, errors / requests, 0)",
            using_metrics={
                "errors": _metric(names.SERVER_ERRORS, "Sum", Route=route).with_(
                    period=FIVE_MINUTES
                ),
                "requests": _metric(names.REQUESTS, "Sum", Route=route).with_(period=FIVE_MINUTES),
            },
            period=FIVE_MINUTES,
            label="5xx share",
        )
        errors = self.alarms.alarm(
            f"Route5xx{slug}",
            alarm_description=f"{route}: more than {config.api_5xx_rate_threshold:.0%} of "
            "requests answered 5xx over 5 minutes",
            metric=rate,
            threshold=config.api_5xx_rate_threshold,
        )
        latency = self.alarms.alarm(
            f"RouteP95{slug}",
            alarm_description=f"{route}: p95 latency over {budget_ms} ms in 2 of 3 5-minute "
            "periods",
            metric=_metric(names.REQUEST_LATENCY, "p95", Route=route).with_(period=FIVE_MINUTES),
            threshold=budget_ms,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        )
        return errors, latency

    # --- Workers ------------------------------------------------------------------------

    def _worker_widgets(
        self,
        queues: Mapping[str, sqs.IQueue],
        dlqs: Mapping[str, sqs.IQueue],
        sweepers: Mapping[str, lambda_.IFunction],
    ) -> list[list[cw.IWidget]]:
        consumers: list[cw.IWidget] = [
            _per_dimension("Consumer records by outcome", names.CONSUMER_RECORDS, "Sum"),
            _per_dimension(
                "Oldest record's age when handled (ms)", names.CONSUMER_MESSAGE_AGE, "Maximum"
            ),
            cw.GraphWidget(
                title="E-mails in and out",
                left=[
                    _metric(names.EMAILS_RECEIVED, "Sum", "received"),
                    _metric(names.EMAILS_SENT, "Sum", "sent"),
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Webhook deliveries",
                left=[
                    _metric(names.WEBHOOK_DELIVERIES, "Sum", outcome, Outcome=outcome)
                    for outcome in ("ok", "failed")
                ],
                width=12,
            ),
        ]
        queue_rows: list[cw.IWidget] = [
            cw.GraphWidget(
                title="Queue: oldest message (s)",
                left=[
                    q.metric_approximate_age_of_oldest_message(
                        period=ONE_MINUTE, statistic="Maximum", label=name
                    )
                    for name, q in queues.items()
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="DLQs: messages",
                left=[
                    q.metric_approximate_number_of_messages_visible(
                        period=ONE_MINUTE, statistic="Maximum", label=name
                    )
                    for name, q in dlqs.items()
                ],
                width=12,
            ),
        ]
        jobs: list[cw.IWidget] = []
        for name, fn in sweepers.items():
            alarm = self.alarms.alarm(
                f"{_slug(name)}Errors",
                alarm_description=f"{name} invocations failed in 3 of the last 5 minutes",
                metric=fn.metric_errors(period=ONE_MINUTE, statistic="Sum"),
                threshold=0,
                evaluation_periods=5,
                datapoints_to_alarm=3,
            )
            jobs.append(cw.AlarmWidget(title=f"{name}: errors", alarm=alarm, width=8))
        return [consumers, queue_rows, jobs]

    # --- Realtime -----------------------------------------------------------------------

    def _realtime_widgets(
        self, stack: Stack, broadcaster: lambda_.IFunction
    ) -> list[list[cw.IWidget]]:
        connections = _metric(names.WEBSOCKET_CONNECTIONS, "Maximum", "open").with_(
            period=FIVE_MINUTES
        )
        drop = self.alarms.notify(
            cw.AnomalyDetectionAlarm(
                stack,
                "WebSocketConnectionsDrop",
                alarm_description="Open WebSocket connections fell below their expected band "
                "for 15 minutes (the gateway, the connect route or the sign-in is failing)",
                metric=connections,
                std_devs=3,
                comparison_operator=cw.ComparisonOperator.LESS_THAN_LOWER_THRESHOLD,
                evaluation_periods=3,
                treat_missing_data=cw.TreatMissingData.BREACHING,
            )
        )
        return [
            [
                cw.AlarmWidget(title="Open WebSocket connections", alarm=drop, width=12),
                cw.GraphWidget(
                    title="Broadcaster records and lag",
                    left=[
                        _metric(
                            names.CONSUMER_RECORDS,
                            "Sum",
                            outcome,
                            Consumer="realtime",
                            Outcome=outcome,
                        )
                        for outcome in ("processed", "failed", "retried")
                    ],
                    right=[
                        _metric(
                            names.CONSUMER_MESSAGE_AGE, "Maximum", "lag ms", Consumer="realtime"
                        )
                    ],
                    width=12,
                ),
            ],
            [
                cw.GraphWidget(
                    title="Broadcaster duration and errors",
                    left=[broadcaster.metric_duration(statistic="p95", period=ONE_MINUTE)],
                    right=[broadcaster.metric_errors(statistic="Sum", period=ONE_MINUTE)],
                    width=24,
                )
            ],
        ]
