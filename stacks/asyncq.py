"""Queues (email, webhook, realtime) with DLQs, their consumers, and EventBridge Scheduler jobs.

Consumers and scheduled jobs are created only once ``functions/<name>/handler.py`` exists, so the
stack synthesizes today and grows as the entry points are written: add a line to
``CONSUMERS`` or ``SCHEDULED_JOBS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, CfnElement, Duration, Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.config import DeploymentConfig
from stacks.constructs import DomainFunction, SharedLayers
from stacks.constructs.nag import acknowledge
from stacks.data import DataStack
from stacks.storage import StorageStack

QUEUES = ("email", "webhook", "realtime")
# Consumers' Lambda timeout; queues' visibility timeout is six times it (AWS guidance).
CONSUMER_TIMEOUT = Duration.seconds(60)


@dataclass(frozen=True)
class ConsumerSpec:
    """A Lambda fed by one queue. ``db``: runs in the VPC and connects through RDS Proxy."""

    queue: str
    db: bool = False
    batch_size: int = 10
    email: bool = False  # sends through SES as ``emailSender`` (the SES API endpoint)
    # Reaches the internet (egress subnets, NAT); implies db. Everyone else stays isolated.
    internet: bool = False
    publishes: bool = False  # may send to the queues (retries, events it emits)


@dataclass(frozen=True)
class ScheduledJob:
    """A function invoked by EventBridge Scheduler at a fixed rate."""

    rate: Duration
    db: bool = True
    publishes: bool = False  # may send to the queues (outbox)
    bucket: bool = False  # reads/deletes attachments


# function name -> what it consumes. Both read and write the database (deliveries,
# notifications, the delivery log), so both run in the VPC. E-mail goes out through the SES
# API's interface endpoint from an isolated subnet; webhook deliveries go to arbitrary HTTPS
# URLs, so that consumer alone runs in the egress subnets behind the NAT gateways (its
# SSRF guard refuses private, loopback and link-local targets, the VPC's own included). The
# realtime consumer lives in the realtime stack (it needs the WebSocket API); it reads this
# stack's "realtime" queue.
CONSUMERS: dict[str, ConsumerSpec] = {
    "email_consumer": ConsumerSpec("email", db=True, email=True),
    "webhook_consumer": ConsumerSpec("webhook", db=True, internet=True, publishes=True),
}

# function name -> schedule.
SCHEDULED_JOBS: dict[str, ScheduledJob] = {
    "sla_evaluator": ScheduledJob(Duration.minutes(1), publishes=True),
    "outbox_sweeper": ScheduledJob(Duration.minutes(1), publishes=True),
    "attachment_cleanup": ScheduledJob(Duration.minutes(15), bucket=True),
}


class AsyncStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        data: DataStack,
        storage: StorageStack,
        env: Environment | None = None,
    ) -> None:
        super().__init__(
            scope, construct_id, env=env, description="Servicedesk queues and schedules"
        )
        self.config = config
        self._add_queues()
        self.functions: dict[str, DomainFunction] = {}
        layers = SharedLayers(self, "Layers")
        self._add_consumers(data, layers)
        self._add_schedules(data, storage, layers)

    def _add_queues(self) -> None:
        config = self.config
        self.queues: dict[str, sqs.Queue] = {}
        self.dlqs: dict[str, sqs.Queue] = {}
        for name in QUEUES:
            dlq = sqs.Queue(
                self,
                f"{name.capitalize()}Dlq",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            self.dlqs[name] = dlq
            self.queues[name] = sqs.Queue(
                self,
                f"{name.capitalize()}Queue",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                visibility_timeout=Duration.seconds(int(CONSUMER_TIMEOUT.to_seconds()) * 6),
                retention_period=Duration.days(4),
                dead_letter_queue=sqs.DeadLetterQueue(
                    queue=dlq, max_receive_count=config.dlq_max_receive_count
                ),
            )
        # Invocations EventBridge Scheduler could not deliver after its retries.
        self.scheduler_dlq = sqs.Queue(
            self,
            "SchedulerDlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.dlqs["scheduler"] = self.scheduler_dlq
        acknowledge(
            self.scheduler_dlq,
            {
                "AwsSolutions-SQS3": "This is a dead-letter queue itself (EventBridge Scheduler "
                "target DLQ, set on the schedule rather than as an SQS redrive policy).",
            },
        )

    def _add_consumers(self, data: DataStack, layers: SharedLayers) -> None:
        for fn_name, consumer in CONSUMERS.items():
            in_vpc = consumer.db or consumer.internet
            fn = self._function(
                fn_name, in_vpc, data, layers, CONSUMER_TIMEOUT, egress=consumer.internet
            )
            if consumer.email:
                self._grant_send_email(fn)
            if consumer.publishes:
                self._allow_publish(fn)
            queue = self.queues[consumer.queue]
            fn.function.add_event_source(
                event_sources.SqsEventSource(
                    queue, batch_size=consumer.batch_size, report_batch_item_failures=True
                )
            )

    def _add_schedules(self, data: DataStack, storage: StorageStack, layers: SharedLayers) -> None:
        config = self.config
        self.schedule_group = scheduler.ScheduleGroup(
            self, "Schedules", schedule_group_name=f"servicedesk-{config.stage}"
        )
        self.schedules: dict[str, scheduler.Schedule] = {}
        # One role for EventBridge Scheduler to invoke the scheduled functions.
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            ),
            description=f"Servicedesk {config.stage}: EventBridge Scheduler invokes jobs",
        )
        for fn_name, job in SCHEDULED_JOBS.items():
            fn = self._function(fn_name, job.db, data, layers, Duration.seconds(55))
            if job.publishes:
                self._allow_publish(fn)
            if job.bucket:
                storage.grant_objects(fn.role, delete=True, list_=True)
                fn.function.add_environment(
                    "SERVICEDESK_ATTACHMENTS_BUCKET", storage.attachments_bucket_name
                )
            self.schedules[fn_name] = scheduler.Schedule(
                self,
                f"{_pascal(fn_name)}Schedule",
                schedule_group=self.schedule_group,
                schedule=scheduler.ScheduleExpression.rate(job.rate),
                description=f"Servicedesk {config.stage}: {fn_name}",
                target=targets.LambdaInvoke(
                    fn.function,
                    role=self.scheduler_role,
                    dead_letter_queue=self.scheduler_dlq,
                    retry_attempts=2,
                    max_event_age=Duration.seconds(max(60, int(job.rate.to_seconds()))),
                ),
            )
            fn_resource = fn.function.node.default_child
            if isinstance(fn_resource, CfnElement):
                acknowledge(
                    self.scheduler_role,
                    {
                        f"AwsSolutions-IAM5[Resource::<{self.get_logical_id(fn_resource)}"
                        ".Arn>:*]": "CDK grants lambda:InvokeFunction on the function and "
                        "its versions/aliases (<arn>:*); nothing else.",
                    },
                )

    def _function(
        self,
        name: str,
        db: bool,
        data: DataStack,
        layers: SharedLayers,
        timeout: Duration,
        *,
        egress: bool = False,
    ) -> DomainFunction:
        fn = DomainFunction(
            self,
            _pascal(name),
            name=name,
            config=self.config,
            layers=layers,
            environment=data.db_environment() if db else None,
            vpc=data.vpc if db else None,
            security_groups=[data.db_client_sg] if db else (),
            # The egress subnets route out through NAT; the same security group, so RDS
            # Proxy and the endpoints admit the function as before.
            vpc_subnets=data.egress_subnets if egress else None,
            timeout=timeout,
            reserved_concurrency=self.config.reserved_concurrency if db else None,
        )
        if db:
            data.grant_db_connect(fn.role)
        self.functions[name] = fn
        return fn

    def _allow_publish(self, fn: DomainFunction) -> None:
        self.grant_publish(fn.role)
        for key, value in self.queue_environment().items():
            fn.function.add_environment(key, value)

    def _grant_send_email(self, fn: DomainFunction) -> None:
        """SES send as ``emailSender`` only: its address identity and its domain identity."""
        sender = self.config.email_sender
        if not sender:
            return
        fn.function.add_environment("SERVICEDESK_EMAIL_SENDER", sender)
        identities = [sender]
        if "@" in sender:
            identities.append(sender.rsplit("@", 1)[1])
        fn.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[
                    f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:identity/{identity}"
                    for identity in identities
                ],
            )
        )

    def queue_environment(self) -> dict[str, str]:
        """``SERVICEDESK_<QUEUE>_QUEUE_URL`` for every queue."""
        return {
            f"SERVICEDESK_{name.upper()}_QUEUE_URL": queue.queue_url
            for name, queue in self.queues.items()
        }

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        for queue in self.queues.values():
            queue.grant_send_messages(grantee)


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
