"""``Alarms``: the encrypted alarm topic and the alarms that notify it (DLQs, queue age, SLA
evaluator errors, API 5xx rate)."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs

from stacks.config import DeploymentConfig

ONE_MINUTE = Duration.minutes(1)
FIVE_MINUTES = Duration.minutes(5)


class Alarms:
    """Built in ``stack``'s own scope (stacks/constructs/__init__.py says why)."""

    def __init__(
        self,
        stack: Stack,
        *,
        config: DeploymentConfig,
        api: apigw.RestApi,
        queues: Mapping[str, sqs.IQueue],
        dlqs: Mapping[str, sqs.IQueue],
        sla_evaluator: lambda_.IFunction | None,
    ) -> None:
        self._stack = stack
        self.topic = self._topic(stack, config)
        self._action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cw.Alarm] = []

        for name, dlq in dlqs.items():
            self.alarm(
                f"{name.capitalize()}DlqNotEmpty",
                alarm_description=f"{name} DLQ holds messages: a consumer or schedule gave up",
                metric=dlq.metric_approximate_number_of_messages_visible(
                    period=ONE_MINUTE, statistic="Maximum"
                ),
                threshold=0,
            )

        # Main queues: a consumer that is down, throttled or failing shows as old messages
        # long before anything reaches the DLQ.
        for name, queue in queues.items():
            self.alarm(
                f"{name.capitalize()}QueueOldestMessage",
                alarm_description=f"{name} queue: oldest message older than "
                f"{config.queue_age_alarm_seconds} s (consumer down or falling behind)",
                metric=queue.metric_approximate_age_of_oldest_message(
                    period=FIVE_MINUTES, statistic="Maximum"
                ),
                threshold=config.queue_age_alarm_seconds,
            )

        # The SLA evaluator runs every minute: errors mean breaches go unnoticed.
        if sla_evaluator is not None:
            self.alarm(
                "SlaEvaluatorErrors",
                alarm_description="SLA evaluator invocations failed in 3 of the last 5 minutes",
                metric=sla_evaluator.metric_errors(period=ONE_MINUTE, statistic="Sum"),
                threshold=0,
                evaluation_periods=5,
                datapoints_to_alarm=3,
            )

        # 5XXError averaged over requests is the fraction of requests answered 5xx.
        self.alarm(
            "Api5xxRate",
            alarm_description=f"More than {config.api_5xx_rate_threshold:.0%} of API "
            "requests answered 5xx over 5 minutes",
            metric=api.metric_server_error(period=FIVE_MINUTES, statistic="Average"),
            threshold=config.api_5xx_rate_threshold,
        )

    @staticmethod
    def _topic(stack: Stack, config: DeploymentConfig) -> sns.Topic:
        """The alarm topic, encrypted with a key CloudWatch may use."""
        key = kms.Key(
            stack,
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
        topic = sns.Topic(
            stack,
            "Alarms",
            display_name=f"Servicedesk {config.stage} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        if config.alarm_email:
            topic.add_subscription(subs.EmailSubscription(config.alarm_email))
        return topic

    def notify(self, alarm: cw.Alarm) -> cw.Alarm:
        """An alarm made elsewhere (an anomaly band), on the topic like the others."""
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def alarm(
        self,
        alarm_id: str,
        *,
        alarm_description: str,
        metric: cw.IMetric,
        threshold: float,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
    ) -> cw.Alarm:
        """A "greater than threshold" alarm (missing data is not breaching) on the topic."""
        alarm = cw.Alarm(
            self._stack,
            alarm_id,
            alarm_description=alarm_description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        return self.notify(alarm)
