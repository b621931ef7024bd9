"""Network and database: VPC, Aurora PostgreSQL Serverless v2, RDS Proxy, DB secrets, migrations."""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
from pathlib import Path

from aws_cdk import CfnElement, CustomResource, Duration, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.config import DeploymentConfig
from stacks.constructs import REPO_ROOT, DomainFunction, SharedLayers
from stacks.constructs.domain_function import log_retention
from stacks.constructs.framework import harden_singleton_provider, trace_provider_framework
from stacks.constructs.nag import acknowledge

DATABASE_NAME = "servicedesk"
OWNER_USER = "servicedesk_owner"
APP_USER = "servicedesk_app"
DB_PORT = 5432
# Characters that break a postgresql:// URL or a shell; kept out of generated passwords.
URL_UNSAFE_CHARS = " %+~`#$&*()|[]{}:;<>?!'/@\"\\=,"

ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
# Private subnets routed to the internet through NAT gateways: only for functions that must
# call arbitrary HTTPS endpoints (outbound webhooks). Everything AWS goes through endpoints.
EGRESS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

# Interface endpoints the isolated subnets need (S3 is a gateway endpoint, added separately).
# "Email" is the SES API (email.<region>.amazonaws.com): the e-mail consumer sends through it
# from an isolated subnet.
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Email": ec2.InterfaceVpcEndpointAwsService.EMAIL,
}

_MIGRATE_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def _stage_migrate_asset() -> Path:
    """Copy ``functions/migrate/handler.py`` and ``migrations/`` into one directory.

    The migrate function needs both in its zip and no Docker bundling is allowed, so the asset
    is staged here at synth time (CDK then copies it into cdk.out by content hash).
    """
    staging = Path(tempfile.mkdtemp(prefix="servicedesk-migrate-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    shutil.copy2(REPO_ROOT / "functions" / "migrate" / "handler.py", staging / "handler.py")
    migrations = REPO_ROOT / "migrations"
    if migrations.is_dir():
        shutil.copytree(migrations, staging / "migrations", ignore=_MIGRATE_IGNORE)
    alembic_ini = REPO_ROOT / "alembic.ini"
    if alembic_ini.is_file():
        shutil.copy2(alembic_ini, staging / "alembic.ini")
    return staging


def _cfn(construct: Construct) -> CfnElement:
    child = construct.node.default_child
    if not isinstance(child, CfnElement):  # pragma: no cover - L2 constructs have one
        msg = f"{construct.node.path} has no CloudFormation resource"
        raise TypeError(msg)
    return child


def _tree_hash(*roots: Path) -> str:
    """Content hash of the migration sources: a change re-runs the migrations resource."""
    digest = hashlib.sha256()
    for root in roots:
        if not root.exists():
            continue
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


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

        # --- network -------------------------------------------------------------------
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=config.vpc_max_azs,
            nat_gateways=config.nat_gateway_count,
            # "isolated" stays first so that its CIDR blocks do not move; the groups added
            # after it take the next free ranges.
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
                ),
                # Holds the NAT gateways only (they bring their own Elastic IPs).
                ec2.SubnetConfiguration(
                    name="public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=26,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name="egress", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
            ],
            restrict_default_security_group=True,
        )
        self.egress_subnets = EGRESS
        harden_singleton_provider(
            self,
            "Custom::VpcRestrictDefaultSGCustomResourceProvider",
            users=[self.vpc.node.find_child("RestrictDefaultSecurityGroupCustomResource")],
            config=config,
        )
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            retention=log_retention(config.log_retention_days),
            removal_policy=config.removal,
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        self.vpc.add_gateway_endpoint(
            "S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[ISOLATED]
        )

        # Functions that talk to the database through the proxy share this group.
        self.db_client_sg = ec2.SecurityGroup(
            self,
            "DbClientSg",
            vpc=self.vpc,
            description="Lambda functions that reach RDS Proxy",
            allow_all_outbound=True,
        )
        # Rotation and migration Lambdas reach the cluster directly.
        self.db_admin_sg = ec2.SecurityGroup(
            self,
            "DbAdminSg",
            vpc=self.vpc,
            description="Secret rotation and migration Lambdas (direct cluster access)",
            allow_all_outbound=True,
        )
        # Interface endpoints admit HTTPS from the Lambda security groups only.
        endpoint_sg = ec2.SecurityGroup(
            self,
            "EndpointSg",
            vpc=self.vpc,
            description="VPC interface endpoints",
            allow_all_outbound=False,
        )
        for client in (self.db_client_sg, self.db_admin_sg):
            endpoint_sg.add_ingress_rule(client, ec2.Port.tcp(443), "HTTPS from Lambda")
        for name, service in INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                f"{name}Endpoint",
                service=service,
                subnets=ISOLATED,
                private_dns_enabled=True,
                security_groups=[endpoint_sg],
                open=False,
            )

        # --- Aurora PostgreSQL Serverless v2 -------------------------------------------
        engine = rds.DatabaseClusterEngine.aurora_postgres(
            version=rds.AuroraPostgresEngineVersion.VER_16_9
        )
        readers = [
            rds.ClusterInstance.serverless_v2(
                f"reader{i}", scale_with_writer=i == 1, enable_performance_insights=True
            )
            for i in range(1, config.aurora_readers + 1)
        ]
        cluster_identifier = f"servicedesk-{config.stage}"
        # The log group is created before the cluster so its retention is ours.
        db_logs = logs.LogGroup(
            self,
            "DbLogs",
            log_group_name=f"/aws/rds/cluster/{cluster_identifier}/postgresql",
            retention=log_retention(config.log_retention_days),
            removal_policy=config.removal,
        )
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=engine,
            cluster_identifier=cluster_identifier,
            default_database_name=DATABASE_NAME,
            credentials=rds.Credentials.from_generated_secret(
                OWNER_USER, exclude_characters=URL_UNSAFE_CHARS
            ),
            writer=rds.ClusterInstance.serverless_v2("writer", enable_performance_insights=True),
            readers=readers,
            serverless_v2_min_capacity=config.aurora_min_acu,
            serverless_v2_max_capacity=config.aurora_max_acu,
            vpc=self.vpc,
            vpc_subnets=ISOLATED,
            port=DB_PORT,
            storage_encrypted=True,
            iam_authentication=True,
            deletion_protection=config.deletion_protection,
            backup=rds.BackupProps(retention=Duration.days(config.backup_retention_days)),
            cloudwatch_logs_exports=["postgresql"],
            removal_policy=config.database_removal,
        )
        self.cluster.node.add_dependency(db_logs)
        # Literal port (not the cluster's Endpoint.Port token): the rule reads as what it is.
        self.cluster.connections.allow_from(
            self.db_admin_sg, ec2.Port.tcp(DB_PORT), "rotation and migrations"
        )
        if self.cluster.secret is None:  # pragma: no cover - generated credentials above
            msg = "cluster has no generated secret"
            raise RuntimeError(msg)
        self.owner_secret: secretsmanager.ISecret = self.cluster.secret

        # --- application role secret (non-owner; RLS applies to it) --------------------
        app_secret = rds.DatabaseSecret(
            self,
            "AppSecret",
            username=APP_USER,
            secret_name=f"servicedesk/{config.stage}/db-app",
            exclude_characters=URL_UNSAFE_CHARS,
        )
        self.app_secret: secretsmanager.ISecret = app_secret.attach(self.cluster)

        for label, secret in (("Owner", self.owner_secret), ("App", self.app_secret)):
            secret.add_rotation_schedule(
                f"{label}Rotation",
                automatically_after=Duration.days(30),
                # Not at creation: the app role exists only once the migrations have run.
                rotate_immediately_on_update=False,
                hosted_rotation=secretsmanager.HostedRotation.postgre_sql_single_user(
                    vpc=self.vpc,
                    vpc_subnets=ISOLATED,
                    security_groups=[self.db_admin_sg],
                    exclude_characters=URL_UNSAFE_CHARS,
                ),
            )

        # --- RDS Proxy: TLS required, clients authenticate with IAM ---------------------
        proxy_sg = ec2.SecurityGroup(
            self, "ProxySg", vpc=self.vpc, description="RDS Proxy", allow_all_outbound=False
        )
        self.proxy_sg = proxy_sg
        proxy_sg.add_ingress_rule(
            self.db_client_sg, ec2.Port.tcp(DB_PORT), "Lambda functions to RDS Proxy"
        )
        # add_proxy below admits proxy_sg on the cluster's port (its own ingress rule).
        proxy_sg.add_egress_rule(
            self.cluster.connections.security_groups[0],
            ec2.Port.tcp(DB_PORT),
            "RDS Proxy to Aurora",
        )
        self.proxy = self.cluster.add_proxy(
            "Proxy",
            secrets=[self.app_secret],
            vpc=self.vpc,
            vpc_subnets=ISOLATED,
            security_groups=[proxy_sg],
            require_tls=True,
            iam_auth=True,
            debug_logging=False,
            idle_client_timeout=Duration.minutes(5),
            max_connections_percent=90,
        )

        self.database_url = (
            f"postgresql+psycopg://{APP_USER}@{self.proxy.endpoint}:{DB_PORT}/{DATABASE_NAME}"
            "?sslmode=require"
        )

        # --- migrations: alembic upgrade head as the owner on every deploy that changes them
        self._add_migrations(config)

        acknowledge(
            self.cluster,
            {
                "AwsSolutions-RDS11": "Standard port 5432 is kept: the cluster is reachable "
                "only from the proxy and admin security groups inside isolated subnets; a "
                "custom port adds no control.",
            },
        )
        if not config.deletion_protection:
            acknowledge(
                self.cluster,
                {
                    "AwsSolutions-RDS10": f"Stage {config.stage} uses the {config.preset} "
                    "preset: a throwaway database that `cdk destroy` may delete. The prod "
                    "preset (and -c deletionProtection=true) turns protection on.",
                },
            )

    def db_environment(self) -> dict[str, str]:
        """Environment for a function that connects through RDS Proxy as the app role."""
        return {
            "SERVICEDESK_DATABASE_URL": self.database_url,
            # No password in the URL: the app signs an IAM token (rds generate_db_auth_token)
            # for the proxy endpoint and APP_USER as the connection password.
            "SERVICEDESK_DATABASE_IAM_AUTH": "true",
            "SERVICEDESK_DATABASE_REGION": self.region,
            # RDS Proxy keeps its own connections to the cluster alive: a pre-ping round trip
            # per request would only add latency (docs/benchmarks.md, "Tickets").
            "SERVICEDESK_DB_POOL_PRE_PING": "false",
        }

    def grant_db_connect(self, grantee: iam.IGrantable) -> None:
        self.proxy.grant_connect(grantee, APP_USER)

    def _add_migrations(self, config: DeploymentConfig) -> None:
        layers = SharedLayers(self, "Layers")
        migrate = DomainFunction(
            self,
            "Migrate",
            name="migrate",
            config=config,
            layers=layers,
            code=lambda_.Code.from_asset(str(_stage_migrate_asset())),
            environment={
                # Owner (migrations) and app role secrets; the app secret's password is
                # what RDS Proxy logs in with, so the handler keeps the role in step.
                "SERVICEDESK_MIGRATION_DATABASE_SECRET_ARN": self.owner_secret.secret_arn,
                "SERVICEDESK_DATABASE_SECRET_ARN": self.app_secret.secret_arn,
                "SERVICEDESK_DATABASE_HOST": self.cluster.cluster_endpoint.hostname,
                "SERVICEDESK_DATABASE_NAME": DATABASE_NAME,
            },
            vpc=self.vpc,
            security_groups=[self.db_admin_sg],
            timeout=Duration.minutes(10),
            memory_size=1024,
            description="Servicedesk: alembic upgrade head as the schema owner",
        )
        self.owner_secret.grant_read(migrate.role)
        self.app_secret.grant_read(migrate.role)

        provider_logs = logs.LogGroup(
            self,
            "MigrationsProviderLogs",
            retention=log_retention(config.log_retention_days),
            removal_policy=config.removal,
        )
        provider = cr.Provider(
            self,
            "MigrationsProvider",
            on_event_handler=migrate.function,
            log_group=provider_logs,
        )
        trace_provider_framework(provider)
        self.migrations = CustomResource(
            self,
            "Migrations",
            service_token=provider.service_token,
            resource_type="Custom::ServicedeskMigrations",
            properties={
                "MigrationsHash": _tree_hash(
                    REPO_ROOT / "migrations",
                    REPO_ROOT / "alembic.ini",
                    REPO_ROOT / "functions" / "migrate" / "handler.py",
                ),
            },
        )
        # Migrate only once the writer is up and the app secret carries the cluster host.
        self.migrations.node.add_dependency(self.cluster)
        self.migrations.node.add_dependency(self.app_secret)

        acknowledge(
            provider,
            {
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]": "CDK Provider framework function: basic "
                "execution (logs) only.",
                f"AwsSolutions-IAM5[Resource::<{self.get_logical_id(_cfn(migrate.function))}"
                ".Arn>:*]": "CDK Provider framework invokes any version of the migrate function.",
                "AwsSolutions-L1": "The Provider framework function's Node.js runtime is "
                "chosen by CDK.",
                "AwsSolutions-IAM5[Resource::*]": "X-Ray PutTraceSegments/PutTelemetryRecords "
                "do not support resource-level permissions.",
            },
        )
