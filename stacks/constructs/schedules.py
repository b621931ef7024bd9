"""EventBridge Scheduler invoking Lambda functions: the invoke role and ``Schedules`` (a
schedule group whose jobs share one role and one DLQ)."""

from __future__ import annotations

from aws_cdk import CfnElement, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs

from stacks.config import DeploymentConfig
from stacks.constructs.nag import acknowledge


def scheduler_role(stack: Stack, role_id: str, *, description: str) -> iam.Role:
    """A role EventBridge Scheduler assumes (from this account only) to invoke functions."""
    return iam.Role(
        stack,
        role_id,
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com",
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        ),
        description=description,
    )


def acknowledge_invoke(stack: Stack, role: iam.IRole, function: lambda_.IFunction) -> None:
    """cdk-nag: the ``<arn>:*`` resource of the invoke grant CDK gives ``role``."""
    fn_resource = function.node.default_child
    if isinstance(fn_resource, CfnElement):
        acknowledge(
            role,
            {
                f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(fn_resource)}.Arn>:*]": (
                    "CDK grants lambda:InvokeFunction on the function and its "
                    "versions/aliases (<arn>:*); nothing else."
                ),
            },
        )


class Schedules:
    """Built in ``stack``'s own scope (stacks/constructs/__init__.py says why)."""

    def __init__(
        self,
        stack: Stack,
        *,
        config: DeploymentConfig,
        dlq: sqs.IQueue,
        group_suffix: str = "",
    ) -> None:
        self._stack = stack
        self._config = config
        self._dlq = dlq
        # Group names are unique per account and region: a second stack's group has a suffix.
        self.group = scheduler.ScheduleGroup(
            stack, "Schedules", schedule_group_name=f"servicedesk-{config.stage}{group_suffix}"
        )
        self.schedules: dict[str, scheduler.Schedule] = {}
        # One role for EventBridge Scheduler to invoke the scheduled functions.
        self.role = scheduler_role(
            stack,
            "SchedulerRole",
            description=f"Servicedesk {config.stage}: EventBridge Scheduler invokes jobs",
        )

    def add(self, schedule_id: str, name: str, function: lambda_.IFunction, rate: Duration) -> None:
        """Invoke ``function`` every ``rate``: two retries, then the DLQ."""
        self.schedules[name] = scheduler.Schedule(
            self._stack,
            schedule_id,
            schedule_group=self.group,
            schedule=scheduler.ScheduleExpression.rate(rate),
            description=f"Servicedesk {self._config.stage}: {name}",
            target=targets.LambdaInvoke(
                function,
                role=self.role,
                dead_letter_queue=self._dlq,
                retry_attempts=2,
                max_event_age=Duration.seconds(max(60, int(rate.to_seconds()))),
            ),
        )
        acknowledge_invoke(self._stack, self.role, function)
