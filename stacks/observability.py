"""Dashboard and alarms: API latency/5xx per function, queues, DLQs, Aurora capacity."""

from __future__ import annotations

from aws_cdk import Duration, Environment, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from stacks.api import ApiStack
from stacks.asyncq import AsyncStack
from stacks.config import DeploymentConfig
from stacks.constructs import DomainFunction
from stacks.data import DataStack
from stacks.realtime import RealtimeStack

ONE_MINUTE = Duration.minutes(1)
FIVE_MINUTES = Duration.minutes(5)


class ObservabilityStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        data: DataStack,
        api: ApiStack,
        queues: AsyncStack,
        realtime: RealtimeStack,
        env: Environment | None = None,
    ) -> None:
        super().__init__(
            scope, construct_id, env=env, description="Servicedesk dashboard and alarms"
        )

        # --- alarm topic (encrypted with a key CloudWatch may use) -----------------------
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description="Servicedesk alarm topic",
            enable_key_rotation=True,
            removal_policy=config.removal,
            pending_window=Duration.days(7),
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # "*" in a key policy means this key
            )
        )
        self.topic = sns.Topic(
            self,
            "Alarms",
            display_name=f"Servicedesk {config.stage} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        if config.alarm_email:
            self.topic.add_subscription(subs.EmailSubscription(config.alarm_email))
        action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cw.Alarm] = []

        # --- alarms ----------------------------------------------------------------------
        for name, dlq in queues.dlqs.items():
            alarm = cw.Alarm(
                self,
                f"{name.capitalize()}DlqNotEmpty",
                alarm_description=f"{name} DLQ holds messages: a consumer or schedule gave up",
                metric=dlq.metric_approximate_number_of_messages_visible(
                    period=ONE_MINUTE, statistic="Maximum"
                ),
                threshold=0,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
            self.alarms.append(alarm)

        # Main queues: a consumer that is down, throttled or failing shows as old messages
        # long before anything reaches the DLQ.
        for name, queue in queues.queues.items():
            alarm = cw.Alarm(
                self,
                f"{name.capitalize()}QueueOldestMessage",
                alarm_description=f"{name} queue: oldest message older than "
                f"{config.queue_age_alarm_seconds} s (consumer down or falling behind)",
                metric=queue.metric_approximate_age_of_oldest_message(
                    period=FIVE_MINUTES, statistic="Maximum"
                ),
                threshold=config.queue_age_alarm_seconds,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
            self.alarms.append(alarm)

        # The SLA evaluator runs every minute: errors mean breaches go unnoticed.
        evaluator = queues.functions.get("sla_evaluator")
        if evaluator is not None:
            alarm = cw.Alarm(
                self,
                "SlaEvaluatorErrors",
                alarm_description="SLA evaluator invocations failed in 3 of the last 5 minutes",
                metric=evaluator.function.metric_errors(period=ONE_MINUTE, statistic="Sum"),
                threshold=0,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
            self.alarms.append(alarm)

        # 5XXError averaged over requests is the fraction of requests answered 5xx.
        api_5xx_rate = api.api.metric_server_error(period=FIVE_MINUTES, statistic="Average")
        alarm = cw.Alarm(
            self,
            "Api5xxRate",
            alarm_description=f"More than {config.api_5xx_rate_threshold:.0%} of API "
            "requests answered 5xx over 5 minutes",
            metric=api_5xx_rate,
            threshold=config.api_5xx_rate_threshold,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(action)
        self.alarms.append(alarm)

        # --- dashboard -------------------------------------------------------------------
        dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"servicedesk-{config.stage}",
            default_interval=Duration.hours(3),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="REST API latency",
                left=[
                    api.api.metric_latency(statistic=stat, period=ONE_MINUTE)
                    for stat in ("p50", "p90", "p99")
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="REST API errors and requests",
                left=[
                    api.api.metric_server_error(period=ONE_MINUTE, statistic="Sum"),
                    api.api.metric_client_error(period=ONE_MINUTE, statistic="Sum"),
                ],
                right=[api.api.metric_count(period=ONE_MINUTE, statistic="Sum")],
                width=12,
            ),
        )
        functions: dict[str, DomainFunction] = {**api.functions, **queues.functions}
        functions.update({fn.name: fn for fn in realtime.functions.values()})
        functions[realtime.consumer.name] = realtime.consumer
        dashboard.add_widgets(
            *(self._function_widget(name, fn) for name, fn in sorted(functions.items()))
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Queue depth",
                left=[
                    q.metric_approximate_number_of_messages_visible(
                        period=ONE_MINUTE, statistic="Maximum", label=name
                    )
                    for name, q in queues.queues.items()
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="Age of oldest message (s)",
                left=[
                    q.metric_approximate_age_of_oldest_message(
                        period=ONE_MINUTE, statistic="Maximum", label=name
                    )
                    for name, q in queues.queues.items()
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="DLQ depth",
                left=[
                    q.metric_approximate_number_of_messages_visible(
                        period=ONE_MINUTE, statistic="Maximum", label=name
                    )
                    for name, q in queues.dlqs.items()
                ],
                width=8,
            ),
        )
        cluster = data.cluster
        proxy_dims = {"ProxyName": data.proxy.db_proxy_name}
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Aurora capacity (ACU)",
                left=[
                    cluster.metric_serverless_database_capacity(
                        period=ONE_MINUTE, statistic="Maximum"
                    ),
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
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24),
        )

    @staticmethod
    def _function_widget(name: str, fn: DomainFunction) -> cw.GraphWidget:
        f = fn.function
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
