"""Network and database: VPC, Aurora PostgreSQL Serverless v2, RDS Proxy, DB secrets, migrations.

Each concern is a construct in ``stacks/constructs/`` (``Network``, ``Database``,
``Migrations``); this stack wires them and exposes what the other stacks use.
"""

from __future__ import annotations

from aws_cdk import Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.config import DeploymentConfig
from stacks.constructs.database import DB_PORT, Database
from stacks.constructs.domain_function import DomainFunction
from stacks.constructs.migrations import Migrations
from stacks.constructs.nag import acknowledge
from stacks.constructs.network import Network

__all__ = ["DB_PORT", "DataStack"]


class DataStack(Stack):
    """VPC, Aurora behind RDS Proxy, and the migration runner.

    The database, the proxy and nearly every function live in isolated subnets (no route
    out; AWS services through endpoints). Egress subnets, routed through NAT gateways in
    small public subnets, exist for the one function that must reach the internet: the
    webhook consumer. Nothing has a public address but the NAT gateways' Elastic IPs.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        env: Environment | None = None,
    ) -> None:
        super().__init__(
            scope, construct_id, env=env, description="Servicedesk network and database"
        )
        self.config = config
        network = Network(self, config=config)
        self.vpc = network.vpc
        self.egress_subnets = network.egress_subnets
        self.db_client_sg = network.db_client_sg
        self.db_admin_sg = network.db_admin_sg
        self.identity_sg = network.identity_sg

        self.database = Database(self, config=config, network=network)
        self.cluster = self.database.cluster
        self.owner_secret = self.database.owner_secret
        self.app_secret = self.database.app_secret
        self.proxy_sg = self.database.proxy_sg
        self.proxy = self.database.proxy
        self.database_url = self.database.database_url

        # The key that signs what ticket mail carries: reply addresses, unsubscribe links and
        # requesters' magic links (servicedesk.platform.mail_links). Generated; read by the
        # functions that sign or check them (grant_mail_key). Retained: replacing it voids
        # every link and reply address already mailed.
        self.mail_key = secretsmanager.Secret(
            self,
            "MailKey",
            secret_name=f"servicedesk/{config.stage}/mail-key",
            description="Servicedesk key for signed reply addresses and links in e-mail",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True
            ),
            removal_policy=config.removal,
        )
        acknowledge(
            self.mail_key,
            {
                "AwsSolutions-SMG4": "Rotating the key voids every reply address and link "
                "already mailed; it is replaced by hand when it must be (docs/deploy.md).",
            },
        )

        # The key of two-step verification (servicedesk.identity.mfa): it encrypts each
        # person's TOTP secret and signs the sign-in's short-lived second-step tokens.
        # Generated; read by the identity function only (grant_mfa_key). Retained: replacing
        # it makes every enrolled authenticator unreadable (admins reset them).
        self.mfa_key = secretsmanager.Secret(
            self,
            "MfaKey",
            secret_name=f"servicedesk/{config.stage}/mfa-key",
            description="Servicedesk key encrypting TOTP secrets (two-step verification)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True
            ),
            removal_policy=config.removal,
        )
        acknowledge(
            self.mfa_key,
            {
                "AwsSolutions-SMG4": "Rotating the key makes every enrolled authenticator "
                "unreadable; it is replaced by hand when it must be (docs/identity.md).",
            },
        )

        # alembic upgrade head as the owner on every deploy that changes the migrations.
        self.migrations = Migrations(
            self, config=config, network=network, database=self.database
        ).resource

    def db_environment(self) -> dict[str, str]:
        """Environment for a function that connects through RDS Proxy as the app role."""
        return self.database.environment(self.region)

    def grant_db_connect(self, grantee: iam.IGrantable) -> None:
        self.database.grant_connect(grantee)

    def grant_mfa_key(self, fn: DomainFunction) -> None:
        """Enrol, and check the second step of a sign-in: read the two-step key."""
        self.mfa_key.grant_read(fn.role)
        fn.function.add_environment(
            "SERVICEDESK_MFA_SECRET_KEY_SECRET_ARN", self.mfa_key.secret_arn
        )

    def grant_mail_key(self, fn: DomainFunction) -> None:
        """Sign or check reply addresses and mailed links: read the key, and know the
        reply domain."""
        self.mail_key.grant_read(fn.role)
        fn.function.add_environment("SERVICEDESK_EMAIL_TOKEN_SECRET_ARN", self.mail_key.secret_arn)
        domain = self.config.email_reply_domain or self.config.inbound_mail_domain
        if domain:
            fn.function.add_environment("SERVICEDESK_EMAIL_REPLY_DOMAIN", domain)
