"""``Dashboard``: REST API latency and errors, every function, the queues, Aurora and the
proxy, and the alarms' status."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sqs as sqs

from stacks.config import DeploymentConfig

ONE_MINUTE = Duration.minutes(1)


class Dashboard:
    """Built in ``stack``'s own scope (stacks/constructs/__init__.py says why)."""

    def __init__(
        self,
        stack: Stack,
        *,
        config: DeploymentConfig,
        api: apigw.RestApi,
        functions: Mapping[str, lambda_.IFunction],
        queues: Mapping[str, sqs.IQueue],
        dlqs: Mapping[str, sqs.IQueue],
        cluster: rds.DatabaseCluster,
        proxy: rds.IDatabaseProxy,
        alarms: Sequence[cw.IAlarm],
    ) -> None:
        self.dashboard = cw.Dashboard(
            stack,
            "Dashboard",
            dashboard_name=f"servicedesk-{config.stage}",
            default_interval=Duration.hours(3),
        )
        self.dashboard.add_widgets(*_api_widgets(api))
        self.dashboard.add_widgets(
            *(_function_widget(name, fn) for name, fn in sorted(functions.items()))
        )
        self.dashboard.add_widgets(*_queue_widgets(queues, dlqs))
        self.dashboard.add_widgets(
            *_database_widgets(cluster, proxy),
            cw.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=24),
        )


def _api_widgets(api: apigw.RestApi) -> list[cw.IWidget]:
    return [
        cw.GraphWidget(
            title="REST API latency",
            left=[
                api.metric_latency(statistic=stat, period=ONE_MINUTE)
                for stat in ("p50", "p90", "p99")
            ],
            width=12,
        ),
        cw.GraphWidget(
            title="REST API errors and requests",
            left=[
                api.metric_server_error(period=ONE_MINUTE, statistic="Sum"),
                api.metric_client_error(period=ONE_MINUTE, statistic="Sum"),
            ],
            right=[api.metric_count(period=ONE_MINUTE, statistic="Sum")],
            width=12,
        ),
    ]


def _function_widget(name: str, f: lambda_.IFunction) -> cw.GraphWidget:
    return cw.GraphWidget(
        title=f"{name}: duration and errors",
        left=[
            f.metric_duration(statistic="p90", period=ONE_MINUTE, label="p90 ms"),
            f.metric_duration(statistic="p99", period=ONE_MINUTE, label="p99 ms"),
        ],
        right=[
            f.metric_errors(statistic="Sum", period=ONE_MINUTE, label="errors"),
            f.metric_throttles(statistic="Sum", period=ONE_MINUTE, label="throttles"),
        ],
        width=8,
    )


def _depth(queue: sqs.IQueue, label: str) -> cw.IMetric:
    return queue.metric_approximate_number_of_messages_visible(
        period=ONE_MINUTE, statistic="Maximum", label=label
    )


def _oldest_age(queue: sqs.IQueue, label: str) -> cw.IMetric:
    return queue.metric_approximate_age_of_oldest_message(
        period=ONE_MINUTE, statistic="Maximum", label=label
    )


def _queue_graph(
    title: str,
    queues: Mapping[str, sqs.IQueue],
    metric: Callable[[sqs.IQueue, str], cw.IMetric],
) -> cw.GraphWidget:
    """One line per queue, labelled with its name."""
    return cw.GraphWidget(
        title=title, left=[metric(queue, name) for name, queue in queues.items()], width=8
    )


def _queue_widgets(
    queues: Mapping[str, sqs.IQueue], dlqs: Mapping[str, sqs.IQueue]
) -> list[cw.IWidget]:
    return [
        _queue_graph("Queue depth", queues, _depth),
        _queue_graph("Age of oldest message (s)", queues, _oldest_age),
        _queue_graph("DLQ depth", dlqs, _depth),
    ]


def _database_widgets(cluster: rds.DatabaseCluster, proxy: rds.IDatabaseProxy) -> list[cw.IWidget]:
    proxy_dims = {"ProxyName": proxy.db_proxy_name}
    return [
        cw.GraphWidget(
            title="Aurora capacity (ACU)",
            left=[
                cluster.metric_serverless_database_capacity(period=ONE_MINUTE, statistic="Maximum"),
            ],
            right=[cluster.metric_acu_utilization(period=ONE_MINUTE, statistic="Maximum")],
            width=12,
        ),
        cw.GraphWidget(
            title="Database connections",
            left=[
                cluster.metric_database_connections(
                    period=ONE_MINUTE, statistic="Maximum", label="Aurora"
                ),
                cw.Metric(
                    namespace="AWS/RDS",
                    metric_name="ClientConnections",
                    dimensions_map=proxy_dims,
                    period=ONE_MINUTE,
                    statistic="Maximum",
                    label="Proxy clients",
                ),
                cw.Metric(
                    namespace="AWS/RDS",
                    metric_name="DatabaseConnections",
                    dimensions_map=proxy_dims,
                    period=ONE_MINUTE,
                    statistic="Maximum",
                    label="Proxy to DB",
                ),
            ],
            width=12,
        ),
    ]
