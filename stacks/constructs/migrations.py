"""``Migrations``: ``alembic upgrade head`` as the schema owner, as a custom resource that runs
on every deploy that changes the migrations."""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
from pathlib import Path

from aws_cdk import CfnElement, CustomResource, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.config import DeploymentConfig
from stacks.constructs.database import DATABASE_NAME, Database
from stacks.constructs.domain_function import (
    REPO_ROOT,
    DomainFunction,
    SharedLayers,
    log_group,
)
from stacks.constructs.framework import trace_provider_framework
from stacks.constructs.nag import acknowledge
from stacks.constructs.network import Network

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


class Migrations:
    """The migrate function (direct cluster access) behind a Provider-backed custom resource.

    Built in ``stack``'s own scope (stacks/constructs/__init__.py says why).
    """

    def __init__(
        self,
        stack: Stack,
        *,
        config: DeploymentConfig,
        network: Network,
        database: Database,
    ) -> None:
        layers = SharedLayers(stack, "Layers")
        migrate = DomainFunction(
            stack,
            "Migrate",
            name="migrate",
            config=config,
            layers=layers,
            code=lambda_.Code.from_asset(str(_stage_migrate_asset())),
            environment={
                # Owner (migrations) and app role secrets; the app secret's password is
                # what RDS Proxy logs in with, so the handler keeps the role in step.
                "SERVICEDESK_MIGRATION_DATABASE_SECRET_ARN": database.owner_secret.secret_arn,
                "SERVICEDESK_DATABASE_SECRET_ARN": database.app_secret.secret_arn,
                "SERVICEDESK_DATABASE_HOST": database.cluster.cluster_endpoint.hostname,
                "SERVICEDESK_DATABASE_NAME": DATABASE_NAME,
            },
            vpc=network.vpc,
            security_groups=[network.db_admin_sg],
            timeout=Duration.minutes(10),
            memory_size=1024,
            description="Servicedesk: alembic upgrade head as the schema owner",
        )
        database.owner_secret.grant_read(migrate.role)
        database.app_secret.grant_read(migrate.role)

        provider_logs = log_group(stack, "MigrationsProviderLogs", config)
        provider = cr.Provider(
            stack,
            "MigrationsProvider",
            on_event_handler=migrate.function,
            log_group=provider_logs,
        )
        trace_provider_framework(provider)
        self.resource = CustomResource(
            stack,
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
        self.resource.node.add_dependency(database.cluster)
        self.resource.node.add_dependency(database.app_secret)

        acknowledge(
            provider,
            {
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]": "CDK Provider framework function: basic "
                "execution (logs) only.",
                f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(_cfn(migrate.function))}"
                ".Arn>:*]": "CDK Provider framework invokes any version of the migrate function.",
                "AwsSolutions-L1": "The Provider framework function's Node.js runtime is "
                "chosen by CDK.",
                "AwsSolutions-IAM5[Resource::*]": "X-Ray PutTraceSegments/PutTelemetryRecords "
                "do not support resource-level permissions.",
            },
        )
