"""Inbound e-mail: the mail bucket, SES receiving, the intake queue and its consumer, the
IMAP poller and its schedule (issue 17; docs/email.md, docs/deploy.md "Receiving e-mail").

Built only with ``inboundMailDomain`` set. SES receiving (a receipt rule per domain of
``sesReceivingDomains``: S3 action into ``inbound/ses/`` with an SNS notification) exists
only in some regions and needs its rule set made active by hand (one active set per account
and region); ``sesReceivingDomains: []`` leaves it out, and the other doors (provider hooks,
IMAP) still work: they write the same bucket and notify the same queue themselves
(``servicedesk/mail/inbox.py``).

The functions of other stacks reach these resources by name, literal in their IAM
statements: the bucket is ``sd-<stage>-mail-<account>-<region>``, the secrets of the doors
``servicedesk/<stage>/mail/*`` (``grant_mail_secrets``).
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, Environment, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ses_actions as ses_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from stacks.asyncq import CONSUMER_TIMEOUT, AsyncStack
from stacks.config import DeploymentConfig
from stacks.constructs import DomainFunction, SharedLayers
from stacks.constructs.domain_function import FUNCTIONS_DIR
from stacks.constructs.nag import acknowledge
from stacks.constructs.queues import Queues
from stacks.constructs.schedules import Schedules
from stacks.data import DataStack
from stacks.storage import StorageStack

INTAKE = "email_intake"
POLLER = "email_imap_poller"
# Both entry points export ``handler`` (BRIEF-MAIL's contract for these two files).
ENTRY = "handler"
SES_PREFIX = "inbound/ses/"
POLLER_TIMEOUT = Duration.minutes(2)


def mail_bucket_name(config: DeploymentConfig) -> str:
    return f"sd-{config.stage}-mail-{Aws.ACCOUNT_ID}-{Aws.REGION}"


def mail_secret_prefix(config: DeploymentConfig) -> str:
    """``SERVICEDESK_MAIL_SECRET_PREFIX``: the doors' credentials in Secrets Manager."""
    return f"servicedesk/{config.stage}/mail"


class MailStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        data: DataStack,
        storage: StorageStack,
        queues: AsyncStack,
        env: Environment | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description="Servicedesk inbound e-mail")
        assert config.inbound_mail_domain is not None, "MailStack needs inboundMailDomain"
        self.config = config
        self.bucket = self._bucket(storage)
        self._queues = Queues(
            self,
            visibility_timeouts={
                "intake": Duration.seconds(int(CONSUMER_TIMEOUT.to_seconds()) * 6)
            },
            max_receive_count=config.dlq_max_receive_count,
        )
        self.queue = self._queues.queues["intake"]
        self.dlq = self._queues.dlqs["intake"]
        self.scheduler_dlq = self._queues.scheduler_dlq
        self.topic = self._topic()
        self.topic.add_subscription(subs.SqsSubscription(self.queue))
        self.rule_set: ses.ReceiptRuleSet | None = None
        if config.receiving_domains:
            self.rule_set = self._receiving(config.receiving_domains)

        self.functions: dict[str, DomainFunction] = {}
        layers = SharedLayers(self, "Layers")
        # The intake is h-mailin's entry point: built once functions/email_intake exists.
        if (FUNCTIONS_DIR / INTAKE / "handler.py").is_file():
            self._intake(data, storage, queues, layers)
        self._poller(data, layers)

    # --- storage and notification ------------------------------------------------------------

    def _bucket(self, storage: StorageStack) -> s3.Bucket:
        """Private, encrypted, TLS only, unversioned: a raw message is written once and read
        by the intake; it expires after ``inboundMailRetentionDays``. Customer data: kept when
        the stack goes (docs/deploy.md, teardown)."""
        return s3.Bucket(
            self,
            "MailBucket",
            bucket_name=mail_bucket_name(self.config),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=False,
            server_access_logs_bucket=storage.access_logs,
            server_access_logs_prefix="mail/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-raw-mail",
                    prefix="inbound/",
                    expiration=Duration.days(self.config.inbound_mail_retention_days),
                ),
                s3.LifecycleRule(
                    id="abort-incomplete-multipart",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _topic(self) -> sns.Topic:
        """SES's receipt notifications, encrypted with a key SES may use for this account."""
        key = kms.Key(
            self,
            "MailTopicKey",
            description="Servicedesk inbound mail notifications",
            enable_key_rotation=True,
            removal_policy=self.config.removal,
            pending_window=Duration.days(7),
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("ses.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # "*" in a key policy means this key
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        topic = sns.Topic(
            self,
            "MailTopic",
            display_name=f"Servicedesk {self.config.stage} inbound mail",
            master_key=key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("ses.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        # The topic's key must let SNS decrypt for the subscribed (SSE-SQS) queue.
        key.grant_encrypt_decrypt(iam.ServicePrincipal("sns.amazonaws.com"))
        return topic

    def _receiving(self, domains: list[str]) -> ses.ReceiptRuleSet:
        """One rule per domain: scan (spam/virus verdicts for the intake), store under
        ``inbound/ses/``, notify the topic. The set must be made active by hand."""
        rule_set = ses.ReceiptRuleSet(
            self, "ReceiptRules", receipt_rule_set_name=f"servicedesk-{self.config.stage}"
        )
        previous: ses.IReceiptRule | None = None
        for domain in domains:
            previous = rule_set.add_rule(
                "Rule-" + domain.replace(".", "-"),
                recipients=[domain],
                scan_enabled=True,
                tls_policy=ses.TlsPolicy.OPTIONAL,
                after=previous,
                actions=[
                    ses_actions.S3(
                        bucket=self.bucket, object_key_prefix=SES_PREFIX, topic=self.topic
                    )
                ],
            )
        return rule_set

    # --- functions -----------------------------------------------------------------------------

    def _function(
        self, name: str, data: DataStack, layers: SharedLayers, *, egress: bool, timeout: Duration
    ) -> DomainFunction:
        reserved = self.config.reserved_concurrency
        fn = DomainFunction(
            self,
            "".join(part.capitalize() for part in name.split("_")),
            name=name,
            config=self.config,
            layers=layers,
            environment={**data.db_environment(), **self.mail_environment()},
            vpc=data.vpc,
            security_groups=[data.db_client_sg],
            vpc_subnets=data.egress_subnets if egress else None,
            timeout=timeout,
            # One poller at a time: two runs would fetch the same unseen messages.
            reserved_concurrency=(1 if name == POLLER else reserved) if reserved else None,
            entry=ENTRY,
        )
        data.grant_db_connect(fn.role)
        self.functions[name] = fn
        return fn

    def _intake(
        self, data: DataStack, storage: StorageStack, queues: AsyncStack, layers: SharedLayers
    ) -> None:
        """Reads the raw messages, writes tickets, comments and attachments, emits events."""
        fn = self._function(INTAKE, data, layers, egress=False, timeout=CONSUMER_TIMEOUT)
        self.grant_read_mail(fn.role)
        data.grant_mail_key(fn)  # checks the signed reply addresses it receives
        storage.grant_objects(fn.role)
        fn.function.add_environment(
            "SERVICEDESK_ATTACHMENTS_BUCKET", storage.attachments_bucket_name
        )
        queues.grant_publish(fn.role)
        for key, value in queues.queue_environment().items():
            fn.function.add_environment(key, value)
        if self.config.email_sender:  # our own address: mail from it is a loop
            fn.function.add_environment("SERVICEDESK_EMAIL_SENDER", self.config.email_sender)
        fn.function.add_event_source(
            event_sources.SqsEventSource(self.queue, batch_size=10, report_batch_item_failures=True)
        )

    def _poller(self, data: DataStack, layers: SharedLayers) -> None:
        """Reaches the tenants' IMAP servers (egress subnets, NAT) and deposits what it takes."""
        fn = self._function(POLLER, data, layers, egress=True, timeout=POLLER_TIMEOUT)
        self.grant_deposit(fn.role, door="imap")
        self.grant_read_secrets(fn.role)
        schedules = Schedules(
            self, config=self.config, dlq=self.scheduler_dlq, group_suffix="-mail"
        )
        self.schedules = schedules.schedules
        self.schedule_group = schedules.group
        schedules.add(
            "ImapPollerSchedule",
            POLLER,
            fn.function,
            Duration.minutes(self.config.imap_poll_minutes),
        )

    # --- what other stacks' functions get ------------------------------------------------------

    def mail_environment(self) -> dict[str, str]:
        """The settings of every function that touches inbound mail."""
        assert self.config.inbound_mail_domain is not None
        return {
            "SERVICEDESK_EMAIL_INBOUND_BUCKET": mail_bucket_name(self.config),
            "SERVICEDESK_EMAIL_INTAKE_QUEUE_URL": self.queue.queue_url,
            "SERVICEDESK_EMAIL_INBOUND_DOMAIN": self.config.inbound_mail_domain,
            "SERVICEDESK_MAIL_SECRET_PREFIX": mail_secret_prefix(self.config),
        }

    def grant_deposit(self, role: iam.Role, *, door: str) -> None:
        """``inbox.deposit`` for one door: PutObject under ``inbound/<door>/`` and SendMessage
        to the intake queue; nothing else."""
        name = mail_bucket_name(self.config)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[f"arn:{Aws.PARTITION}:s3:::{name}/inbound/{door}/*"],
            )
        )
        self.queue.grant_send_messages(role)
        if Stack.of(role) is not self:
            Stack.of(role).add_stack_dependency(self, "inbound mail")
        acknowledge(
            role,
            {
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
                f"sd-{self.config.stage}-mail-<AWS::AccountId>-<AWS::Region>/inbound/{door}/*]": (
                    "Each message gets its own key (date and id) under this door's prefix; "
                    "PutObject only."
                ),
            },
        )

    def grant_read_mail(self, role: iam.Role) -> None:
        name = mail_bucket_name(self.config)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[f"arn:{Aws.PARTITION}:s3:::{name}/inbound/*"],
            )
        )
        acknowledge(
            role,
            {
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
                f"sd-{self.config.stage}-mail-<AWS::AccountId>-<AWS::Region>/inbound/*]": (
                    "The intake reads whichever message a notification names; GetObject only."
                ),
            },
        )

    def grant_read_secrets(self, role: iam.Role) -> None:
        grant_mail_secrets(self.config, role, manage=False)


def grant_mail_secrets(config: DeploymentConfig, role: iam.Role, *, manage: bool) -> None:
    """The doors' credentials: read (hooks, poller), or also create/replace/delete (the
    admins' API). Only under the stage's mail prefix."""
    grant_tenant_secrets(
        role,
        mail_secret_prefix(config),
        manage=manage,
        reason="One secret per tenant hook or mailbox, created at run time under the "
        "stage's mail prefix; nothing outside it.",
    )


def grant_tenant_secrets(role: iam.Role, prefix: str, *, manage: bool, reason: str) -> None:
    """Tenants' credentials under ``prefix`` (platform/secrets.py names them
    ``<prefix>/<tenant id>/<kind>-<id>``): read, or also create/replace/delete."""
    actions = ["secretsmanager:GetSecretValue"]
    if manage:
        actions += [
            "secretsmanager:CreateSecret",
            "secretsmanager:PutSecretValue",
            "secretsmanager:DeleteSecret",
            "secretsmanager:TagResource",
        ]
    arn = f"arn:{Aws.PARTITION}:secretsmanager:{Aws.REGION}:{Aws.ACCOUNT_ID}:secret:{prefix}/*"
    role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[arn]))
    acknowledge(
        role,
        {
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:"
            f"<AWS::AccountId>:secret:{prefix}/*]": reason,
        },
    )


__all__ = ["MailStack", "grant_mail_secrets", "grant_tenant_secrets", "mail_secret_prefix"]
