"""``Database``: Aurora PostgreSQL Serverless v2, its owner and app-role secrets (rotated), and
RDS Proxy in front (TLS required, IAM authentication)."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager

from stacks.config import DeploymentConfig
from stacks.constructs.domain_function import log_group
from stacks.constructs.nag import acknowledge
from stacks.constructs.network import Network

DATABASE_NAME = "servicedesk"
OWNER_USER = "servicedesk_owner"
APP_USER = "servicedesk_app"
DB_PORT = 5432
# Characters that break a postgresql:// URL or a shell; kept out of generated passwords.
URL_UNSAFE_CHARS = " %+~`#$&*()|[]{}:;<>?!'/@\"\\=,"


class Database:
    """The cluster in the isolated subnets, reachable from the proxy and the admin group only.

    Built in ``stack``'s own scope (stacks/constructs/__init__.py says why).
    """

    def __init__(self, stack: Stack, *, config: DeploymentConfig, network: Network) -> None:
        self.cluster = self._cluster(stack, config, network)
        if self.cluster.secret is None:  # pragma: no cover - generated credentials
            msg = "cluster has no generated secret"
            raise RuntimeError(msg)
        self.owner_secret: secretsmanager.ISecret = self.cluster.secret

        # --- application role secret (non-owner; RLS applies to it) --------------------
        app_secret = rds.DatabaseSecret(
            stack,
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
                    vpc=network.vpc,
                    vpc_subnets=network.isolated_subnets,
                    security_groups=[network.db_admin_sg],
                    exclude_characters=URL_UNSAFE_CHARS,
                ),
            )
        self.proxy_sg, self.proxy = self._proxy(stack, network)
        self.database_url = (
            f"postgresql+psycopg://{APP_USER}@{self.proxy.endpoint}:{DB_PORT}/{DATABASE_NAME}"
            "?sslmode=require"
        )
        self._acknowledge(config)

    @staticmethod
    def _cluster(stack: Stack, config: DeploymentConfig, network: Network) -> rds.DatabaseCluster:
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
        db_logs = log_group(
            stack, "DbLogs", config, name=f"/aws/rds/cluster/{cluster_identifier}/postgresql"
        )
        cluster = rds.DatabaseCluster(
            stack,
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
            vpc=network.vpc,
            vpc_subnets=network.isolated_subnets,
            port=DB_PORT,
            storage_encrypted=True,
            iam_authentication=True,
            deletion_protection=config.deletion_protection,
            backup=rds.BackupProps(retention=Duration.days(config.backup_retention_days)),
            cloudwatch_logs_exports=["postgresql"],
            removal_policy=config.database_removal,
        )
        cluster.node.add_dependency(db_logs)
        # Literal port (not the cluster's Endpoint.Port token): the rule reads as what it is.
        cluster.connections.allow_from(
            network.db_admin_sg, ec2.Port.tcp(DB_PORT), "rotation and migrations"
        )
        return cluster

    def _proxy(self, stack: Stack, network: Network) -> tuple[ec2.SecurityGroup, rds.DatabaseProxy]:
        """RDS Proxy: TLS required, clients authenticate with IAM."""
        proxy_sg = ec2.SecurityGroup(
            stack, "ProxySg", vpc=network.vpc, description="RDS Proxy", allow_all_outbound=False
        )
        proxy_sg.add_ingress_rule(
            network.db_client_sg, ec2.Port.tcp(DB_PORT), "Lambda functions to RDS Proxy"
        )
        proxy_sg.add_ingress_rule(
            network.identity_sg, ec2.Port.tcp(DB_PORT), "Identity function to RDS Proxy"
        )
        network.identity_sg.add_egress_rule(
            proxy_sg, ec2.Port.tcp(DB_PORT), "Identity function to RDS Proxy"
        )
        # add_proxy below admits proxy_sg on the cluster's port (its own ingress rule).
        proxy_sg.add_egress_rule(
            self.cluster.connections.security_groups[0],
            ec2.Port.tcp(DB_PORT),
            "RDS Proxy to Aurora",
        )
        proxy = self.cluster.add_proxy(
            "Proxy",
            secrets=[self.app_secret],
            vpc=network.vpc,
            vpc_subnets=network.isolated_subnets,
            security_groups=[proxy_sg],
            require_tls=True,
            iam_auth=True,
            debug_logging=False,
            idle_client_timeout=Duration.minutes(5),
            max_connections_percent=90,
        )
        return proxy_sg, proxy

    def _acknowledge(self, config: DeploymentConfig) -> None:
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

    def environment(self, region: str) -> dict[str, str]:
        """Environment for a function that connects through RDS Proxy as the app role."""
        return {
            "SERVICEDESK_DATABASE_URL": self.database_url,
            # No password in the URL: the app signs an IAM token (rds generate_db_auth_token)
            # for the proxy endpoint and APP_USER as the connection password.
            "SERVICEDESK_DATABASE_IAM_AUTH": "true",
            "SERVICEDESK_DATABASE_REGION": region,
            # RDS Proxy keeps its own connections to the cluster alive: a pre-ping round trip
            # per request would only add latency (docs/benchmarks.md, "Tickets").
            "SERVICEDESK_DB_POOL_PRE_PING": "false",
        }

    def grant_connect(self, grantee: iam.IGrantable) -> None:
        self.proxy.grant_connect(grantee, APP_USER)
