"""Queues (email, webhook, realtime, knowledge, reports, exports) with DLQs, their consumers,
and Scheduler jobs.

Consumers and scheduled jobs are created only once ``functions/<name>/handler.py`` exists, so the
stack synthesizes today and grows as the entry points are written: add a line to
``CONSUMERS`` or ``SCHEDULED_JOBS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration, Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from stacks.config import DeploymentConfig
from stacks.constructs import DomainFunction, SharedLayers
from stacks.constructs.embeddings import embedding_environment, grant_embeddings
from stacks.constructs.llm import grant_llm, llm_secret
from stacks.constructs.nag import acknowledge
from stacks.constructs.queues import Queues
from stacks.constructs.schedules import Schedules
from stacks.data import DataStack
from stacks.storage import StorageStack

QUEUES = (
    "email",
    "webhook",
    "realtime",
    "knowledge",
    "reports",
    "exports",
    "automation",
    "integrations",
)
# Consumers' Lambda timeout; queues' visibility timeout is six times it (AWS guidance).
CONSUMER_TIMEOUT = Duration.seconds(60)
# DomainFunction's default memory; the export worker asks for more (rendering, buffers).
DEFAULT_MEMORY_MB = 512
# Scheduled jobs' Lambda timeout unless a job says otherwise (under their 1-minute rate).
SCHEDULED_TIMEOUT = Duration.seconds(55)


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
    # Its Lambda timeout; its queue's visibility timeout is six times it.
    timeout: Duration = CONSUMER_TIMEOUT
    exports: str | None = None  # the exports bucket: "read" or "write"
    memory_size: int | None = None


@dataclass(frozen=True)
class ScheduledJob:
    """A function invoked by EventBridge Scheduler at a fixed rate."""

    rate: Duration
    db: bool = True
    publishes: bool = False  # may send to the queues (outbox)
    bucket: bool = False  # reads/deletes attachments
    exports: bool = False  # writes the exports bucket (scheduled reports)
    timeout: Duration = SCHEDULED_TIMEOUT
    # Reaches the internet (egress subnets, NAT): AWS APIs of other accounts and regions.
    internet: bool = False
    # Assumes roles of other accounts whose name starts with this prefix (AWS discovery).
    assumes: str | None = None


# function name -> what it consumes. Both read and write the database (deliveries,
# notifications, the delivery log), so both run in the VPC. E-mail goes out through the SES
# API's interface endpoint from an isolated subnet; webhook deliveries go to arbitrary HTTPS
# URLs, so that consumer alone runs in the egress subnets behind the NAT gateways (its
# SSRF guard refuses private, loopback and link-local targets, the VPC's own included). The
# realtime consumer lives in the realtime stack (it needs the WebSocket API); it reads this
# stack's "realtime" queue.
CONSUMERS: dict[str, ConsumerSpec] = {
    # It attaches scheduled reports read from the exports bucket.
    "email_consumer": ConsumerSpec("email", db=True, email=True, exports="read"),
    "webhook_consumer": ConsumerSpec("webhook", db=True, internet=True, publishes=True),
    # Article embeddings and drafts from resolved tickets: calls the embedding and language
    # model endpoints (Bedrock, or an OpenAI-compatible service on the internet). A draft may
    # wait on the model (llm_timeout_seconds, 30 s by default), so a smaller batch and a
    # longer timeout than the others: a slow model must not time out a whole batch and send
    # its embeddings to the DLQ. It publishes what it emits (a draft's kb.article.created)
    # after its commit instead of leaving it to the sweeper.
    "knowledge_consumer": ConsumerSpec(
        "knowledge",
        db=True,
        internet=True,
        publishes=True,
        batch_size=5,
        timeout=Duration.minutes(4),
    ),
    # Ticket events recompute the ticket's report facts: database only, no internet.
    "reports_consumer": ConsumerSpec("reports", db=True),
    # SLA warnings and breaches run the event rules they trigger (servicedesk/automation):
    # database only; the rules' side effects leave through the outbox, published after
    # the commit.
    "automation_consumer": ConsumerSpec("automation", db=True, publishes=True),
    # GitHub and Slack (servicedesk/integrations): calls their APIs (GitHub Enterprise may
    # be anywhere: SSRF-vetted), reads the tenants' tokens, changes tickets as the Slack
    # user; publishes what it emits after its commit.
    "integrations_consumer": ConsumerSpec("integrations", db=True, internet=True, publishes=True),
    # Asynchronous exports (servicedesk/exports): up to export_job_max_rows tickets read in
    # keyset pages and streamed to S3 (gateway endpoint: no internet), one job a batch, the
    # longest timeout Lambda allows; it publishes export.ready after its commit.
    "export_worker": ConsumerSpec(
        "exports",
        db=True,
        publishes=True,
        batch_size=1,
        timeout=Duration.minutes(15),
        exports="write",
        memory_size=1024,
    ),
}


def integrations_secret_prefix(config: DeploymentConfig) -> str:
    """``SERVICEDESK_INTEGRATIONS_SECRET_PREFIX``: GitHub and Slack tokens and secrets."""
    return f"servicedesk/{config.stage}/integrations"


def grant_integration_secrets(config: DeploymentConfig, role: iam.Role, *, manage: bool) -> None:
    """The integrations' credentials: read (the consumer), or also create/replace/delete
    (the integrations API). Only under the stage's integrations prefix."""
    from stacks.mail import grant_tenant_secrets  # stacks.mail imports this module

    grant_tenant_secrets(
        role,
        integrations_secret_prefix(config),
        manage=manage,
        reason="One secret per tenant integration, created at run time under the stage's "
        "integrations prefix; nothing outside it.",
    )


def visibility_timeout(queue: str) -> Duration:
    """Six times the Lambda timeout of the consumer that reads ``queue`` (AWS guidance)."""
    timeouts = [c.timeout.to_seconds() for c in CONSUMERS.values() if c.queue == queue]
    return Duration.seconds(int(max(timeouts, default=CONSUMER_TIMEOUT.to_seconds())) * 6)


# The name every tenant's discovery role starts with (docs/cmdb.md): our function may
# assume no other role.
DISCOVERY_ROLE_PREFIX = "servicedesk-discovery"


def discovery_trust_principal() -> str:
    """The principal tenants' discovery roles trust (with our external id): this account."""
    return f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:root"


# function name -> schedule.
SCHEDULED_JOBS: dict[str, ScheduledJob] = {
    "sla_evaluator": ScheduledJob(Duration.minutes(1), publishes=True),
    "outbox_sweeper": ScheduledJob(Duration.minutes(1), publishes=True),
    "attachment_cleanup": ScheduledJob(Duration.minutes(15), bucket=True),
    # Scheduled reports due (rendered, written to the exports bucket, mailed through the
    # outbox) and exports past their retention; a run may render several reports.
    "report_scheduler": ScheduledJob(
        Duration.minutes(5), publishes=True, exports=True, timeout=Duration.minutes(4)
    ),
    # Delayed CSAT surveys (csat.delay_minutes) that are due: handed to the e-mail
    # consumer through the outbox (it alone sends mail).
    "csat_sender": ScheduledJob(Duration.minutes(5), publishes=True),
    # Automation time rules (servicedesk/automation/timed.py): set-based per rule, once per
    # ticket per status stint.
    "automation_scheduler": ScheduledJob(Duration.minutes(5), publishes=True),
    # Knowledge base activity (search log, deflections) past the tenant's retention.
    "kb_retention": ScheduledJob(Duration.days(1)),
    # CMDB AWS discovery (servicedesk/cmdb/discovery_runs.py): the sources due and the
    # queued "Run now" runs; assumes the tenants' servicedesk-discovery* roles (STS and the
    # Tagging/EC2 APIs of their regions: internet) and writes the CIs; publishes
    # ci.imported after its commit.
    "cmdb_discovery": ScheduledJob(
        Duration.minutes(1), publishes=True, internet=True, assumes=DISCOVERY_ROLE_PREFIX
    ),
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
        queues = Queues(
            self,
            visibility_timeouts={name: visibility_timeout(name) for name in QUEUES},
            max_receive_count=config.dlq_max_receive_count,
        )
        self._queues = queues
        self.queues = queues.queues
        self.dlqs = queues.dlqs
        self.scheduler_dlq = queues.scheduler_dlq
        self.functions: dict[str, DomainFunction] = {}
        layers = SharedLayers(self, "Layers")
        # The language model's key (OpenAI-compatible providers): read by the knowledge
        # consumer here and by the assistant in the API stack.
        self.llm_secret = llm_secret(self, config)
        self._add_consumers(data, storage, layers)
        self._add_schedules(data, storage, layers)

    def _add_consumers(self, data: DataStack, storage: StorageStack, layers: SharedLayers) -> None:
        for fn_name, consumer in CONSUMERS.items():
            in_vpc = consumer.db or consumer.internet
            fn = self._function(
                fn_name,
                in_vpc,
                data,
                layers,
                consumer.timeout,
                egress=consumer.internet,
                memory_size=consumer.memory_size,
            )
            if consumer.email:
                self._grant_send_email(fn)
                data.grant_mail_key(fn)  # signs reply addresses and links in the mail
            if consumer.publishes:
                self._allow_publish(fn)
            if consumer.exports is not None:
                storage.grant_exports(fn.role, write=consumer.exports == "write")
                for key, value in storage.export_environment().items():
                    fn.function.add_environment(key, value)
            if consumer.queue == "knowledge":
                for key, value in embedding_environment(self.config).items():
                    fn.function.add_environment(key, value)
                grant_embeddings(self.config, fn.role, self)
                # Drafts from resolved tickets through the language model, when one is set.
                for key, value in grant_llm(self.config, fn.role, self.llm_secret).items():
                    fn.function.add_environment(key, value)
            if consumer.queue == "integrations":
                grant_integration_secrets(self.config, fn.role, manage=False)
                fn.function.add_environment(
                    "SERVICEDESK_INTEGRATIONS_SECRET_PREFIX",
                    integrations_secret_prefix(self.config),
                )
            queue = self.queues[consumer.queue]
            fn.function.add_event_source(
                event_sources.SqsEventSource(
                    queue, batch_size=consumer.batch_size, report_batch_item_failures=True
                )
            )

    def _add_schedules(self, data: DataStack, storage: StorageStack, layers: SharedLayers) -> None:
        schedules = Schedules(self, config=self.config, dlq=self.scheduler_dlq)
        self.schedule_group = schedules.group
        self.schedules = schedules.schedules
        self.scheduler_role = schedules.role
        for fn_name, job in SCHEDULED_JOBS.items():
            fn = self._function(fn_name, job.db, data, layers, job.timeout, egress=job.internet)
            if job.assumes is not None:
                self._allow_assume(fn, job.assumes)
            if job.publishes:
                self._allow_publish(fn)
            if job.exports:
                storage.grant_exports(fn.role, write=True)
                for key, value in storage.export_environment().items():
                    fn.function.add_environment(key, value)
            if job.bucket:
                storage.grant_objects(fn.role, delete=True, list_=True)
                fn.function.add_environment(
                    "SERVICEDESK_ATTACHMENTS_BUCKET", storage.attachments_bucket_name
                )
            schedules.add(f"{_pascal(fn_name)}Schedule", fn_name, fn.function, job.rate)

    def _function(
        self,
        name: str,
        db: bool,
        data: DataStack,
        layers: SharedLayers,
        timeout: Duration,
        *,
        egress: bool = False,
        memory_size: int | None = None,
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
            memory_size=memory_size or DEFAULT_MEMORY_MB,
        )
        if db:
            data.grant_db_connect(fn.role)
        self.functions[name] = fn
        return fn

    def _allow_assume(self, fn: DomainFunction, prefix: str) -> None:
        """sts:AssumeRole on roles named ``prefix*`` of any account: the tenants' own."""
        resource = f"arn:{Aws.PARTITION}:iam::*:role/{prefix}*"
        fn.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[resource])
        )
        acknowledge(
            fn.role,
            {
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/{prefix}*]": (
                    "Tenants' discovery roles live in their own accounts, unknown at deploy "
                    "time; only roles so named, and each trusts us only with the external id "
                    "we generated for its source."
                ),
            },
        )

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
        return self._queues.environment()

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        self._queues.grant_publish(grantee)


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
