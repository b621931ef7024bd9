"""``DomainFunction``: one Lambda entry point from ``functions/<name>`` with the shared layers.

Every function here is Python 3.12 on ARM64 (Graviton): the code is pure Python plus a few
wheels (psycopg, argon2, cryptography, pydantic-core) that PyPI ships for manylinux2014_aarch64,
and Graviton is ~20% cheaper per GB-second and as fast or faster for this kind of workload.
The deps layer must therefore be built for ``manylinux2014_aarch64`` (``make layers``).

``make layers`` (scripts/build_layers.sh) also copies the core layer and the function bundles
into ``build/`` with bytecode compiled by CPython 3.12; the stacks deploy those copies, .pyc
included, when they are present and current, and the plain sources (compiled on every cold
start, since /opt and /var/task are read-only) otherwise, with a synth warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.config import DeploymentConfig
from stacks.constructs.nag import acknowledge

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
CORE_LAYER_DIR = REPO_ROOT / "layers" / "core"
BUILD_DIR = REPO_ROOT / "build"
CORE_LAYER_BUILT_DIR = BUILD_DIR / "layers" / "core"
FUNCTIONS_BUILT_DIR = BUILD_DIR / "functions"
DEPS_LAYER_BUILT_DIR = BUILD_DIR / "layers" / "deps"
DEPS_LAYER_SOURCE_DIR = REPO_ROOT / "layers" / "deps"
# Never deployed from a source tree: a developer's bytecode is for another Python version.
SOURCE_EXCLUDES = ["**/__pycache__", "**/*.pyc", "*.egg-info", "tests"]

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64

# ENI management for functions in a VPC; EC2 does not support resource-level scoping here.
_VPC_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
]


def _python_sources(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*.py")
        if "__pycache__" not in path.parts and "tests" not in path.parts
    }


def built_copy(source: Path, built: Path) -> Path | None:
    """``built`` when it holds exactly ``source``'s Python files (as ``make layers`` left
    it), else None: a build older than the code would deploy yesterday's code."""
    if not built.is_dir() or _python_sources(source) != _python_sources(built):
        return None
    return built


_RETENTION: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def log_retention(days: int) -> logs.RetentionDays:
    """CloudWatch Logs retention for ``logRetentionDays`` (a value CloudWatch Logs accepts)."""
    try:
        return _RETENTION[days]
    except KeyError:
        msg = f"logRetentionDays={days}: use one of {sorted(_RETENTION)}"
        raise ValueError(msg) from None


def log_group(
    scope: Construct, construct_id: str, config: DeploymentConfig, *, name: str | None = None
) -> logs.LogGroup:
    """A log group kept ``logRetentionDays``, removed as the stage's removal policy says."""
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=log_retention(config.log_retention_days),
        removal_policy=config.removal,
    )


class SharedLayers(Construct):
    """The ``core`` (servicedesk package) and ``deps`` (third-party wheels) layers."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        built_core = built_copy(CORE_LAYER_DIR, CORE_LAYER_BUILT_DIR)
        if built_core is not None:
            core_code = lambda_.Code.from_asset(str(built_core))  # with its cpython-312 .pyc
        else:
            core_code = lambda_.Code.from_asset(str(CORE_LAYER_DIR), exclude=SOURCE_EXCLUDES)
            Annotations.of(self).add_warning_v2(
                "servicedesk:core-layer-not-built",
                "build/layers/core is missing or older than layers/core: the core layer "
                "ships without bytecode. Run `make layers` before `cdk deploy`.",
            )
        self.core = lambda_.LayerVersion(
            self,
            "Core",
            code=core_code,
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="servicedesk application package (python/servicedesk)",
        )
        if DEPS_LAYER_BUILT_DIR.is_dir():
            deps_dir = DEPS_LAYER_BUILT_DIR
        else:
            # Synth must work on a fresh checkout (tests, CI). The asset is then only the
            # requirements file: `make layers` (scripts/build_layers.sh) before `cdk deploy`.
            deps_dir = DEPS_LAYER_SOURCE_DIR
            Annotations.of(self).add_warning_v2(
                "servicedesk:deps-layer-not-built",
                "build/layers/deps is missing: the deps layer holds no packages. "
                "Run `make layers` (scripts/build_layers.sh) before `cdk deploy`.",
            )
        self.deps = lambda_.LayerVersion(
            self,
            "Deps",
            code=lambda_.Code.from_asset(str(deps_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="third-party runtime dependencies (manylinux2014_aarch64, cp312)",
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.core, self.deps]


class DomainFunction(Construct):
    """A Lambda function from ``functions/<name>/handler.py`` with its own role and log group.

    The role starts empty: logs to its own log group, X-Ray, and (in a VPC) ENI management.
    Callers add exactly what the function needs with ``grant_*`` on the resources.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        config: DeploymentConfig,
        layers: SharedLayers,
        environment: Mapping[str, str] | None = None,
        vpc: ec2.IVpc | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        vpc_subnets: ec2.SubnetSelection | None = None,
        timeout: Duration | None = None,
        memory_size: int = 512,
        reserved_concurrency: int | None = None,
        description: str | None = None,
        code: lambda_.Code | None = None,
        live_alias: bool = False,
        snap_start: bool = False,
        provisioned_concurrency: int = 0,
        entry: str = "lambda_handler",
    ) -> None:
        super().__init__(scope, construct_id)
        self.name = name

        self.log_group = log_group(self, "Logs", config)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Servicedesk {config.stage} function {name}",
        )
        self.log_group.grant_write(self.role)
        if vpc is not None:
            self.role.add_to_policy(iam.PolicyStatement(actions=_VPC_ACTIONS, resources=["*"]))

        service = f"servicedesk-{name.replace('_', '-')}"
        env = {
            "SERVICEDESK_ENVIRONMENT": config.app_environment,
            "SERVICEDESK_STAGE": config.stage,
            # The app's logger takes its service and level from its own settings
            # (servicedesk.platform.logging); Powertools' variables cover the rest.
            "SERVICEDESK_SERVICE_NAME": service,
            "SERVICEDESK_LOG_LEVEL": config.log_level,
            "POWERTOOLS_SERVICE_NAME": service,
            "POWERTOOLS_LOG_LEVEL": config.log_level,
            "POWERTOOLS_METRICS_NAMESPACE": "Servicedesk",
        }
        env.update(environment or {})
        if config.sentry_dsn_secret:
            # The DSN by the secret's name (GetSecretValue takes a name or an ARN); read at
            # the first log line of a cold start (platform/sentry.py), cached five minutes.
            env["SERVICEDESK_SENTRY_DSN_SECRET_ARN"] = config.sentry_dsn_secret
            secretsmanager.Secret.from_secret_name_v2(
                self, "SentryDsn", config.sentry_dsn_secret
            ).grant_read(self.role)

        # ``entry``: the callable in handler.py (the e-mail functions' contract names it
        # ``handler``; every other function's is ``lambda_handler``).
        if code is not None:
            resolved_code, handler = code, f"handler.{entry}"
        else:
            resolved_code, handler = self._code(name, entry)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=resolved_code,
            layers=layers.all,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            environment=env,
            timeout=timeout or Duration.seconds(29),
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrency,
            vpc=vpc,
            # Isolated (no route out) unless the caller names other subnets, or Sentry (outside
            # AWS) is on: then the egress subnets (NAT).
            vpc_subnets=(
                (
                    vpc_subnets
                    or ec2.SubnetSelection(
                        subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                        if config.sentry_dsn_secret
                        else ec2.SubnetType.PRIVATE_ISOLATED
                    )
                )
                if vpc is not None
                else None
            ),
            security_groups=list(security_groups) if vpc is not None else None,
            description=description or f"Servicedesk {name}",
            # A snapshot of each published version, taken after initialization (imports,
            # app construction); platform.snapstart's hooks run around it.
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
            # A replaced version is deleted with the deploy: every cached snapshot is billed.
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY),
        )
        # What callers invoke: the `live` alias of the current published version (SnapStart
        # and provisioned concurrency apply to versions, never to $LATEST), or the function.
        self.alias: lambda_.Alias | None = None
        self.target: lambda_.IFunction = self.function
        if live_alias or snap_start or provisioned_concurrency:
            self.alias = lambda_.Alias(
                self,
                "Live",
                alias_name="live",
                version=self.function.current_version,
                provisioned_concurrent_executions=provisioned_concurrency or None,
            )
            self.target = self.alias

        acknowledge(
            self,
            {
                "AwsSolutions-IAM5[Resource::*]": (
                    "X-Ray PutTraceSegments/PutTelemetryRecords and the EC2 ENI actions "
                    "Lambda needs in a VPC do not support resource-level permissions."
                ),
                "AwsSolutions-L1": (
                    "Pinned to python3.12: the deps layer is built for cp312 wheels; "
                    "move the runtime and the layer build together."
                ),
            },
        )

    @staticmethod
    def _code(name: str, entry: str) -> tuple[lambda_.Code, str]:
        directory = FUNCTIONS_DIR / name
        built = built_copy(directory, FUNCTIONS_BUILT_DIR / name)
        if built is not None:  # with its cpython-312 .pyc (make layers)
            return lambda_.Code.from_asset(str(built)), f"handler.{entry}"
        code = lambda_.Code.from_asset(str(directory), exclude=SOURCE_EXCLUDES)
        return code, f"handler.{entry}"
