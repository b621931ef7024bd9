"""CDK assertions and cdk-nag over the whole app, synthesized once per module (in-process)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App  # noqa: E402
from aws_cdk.assertions import Match, Template  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from stacks import ServicedeskApp, build_app  # noqa: E402
from stacks.api import DOMAINS, PUBLIC_PATHS  # noqa: E402
from stacks.asyncq import QUEUES, SCHEDULED_JOBS  # noqa: E402
from stacks.constructs import function_exists  # noqa: E402

pytestmark = pytest.mark.infra

CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
# Functions CDK itself adds (custom-resource providers); they are not ours to pin.
CDK_FRAMEWORK_HANDLERS = {"framework.onEvent", "__entrypoint__.handler", "index.handler"}


@pytest.fixture(scope="module")
def sd(tmp_path_factory: pytest.TempPathFactory) -> ServicedeskApp:
    app = App(context=CONTEXT, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    built = build_app(app, nag=False)  # nag runs explicitly below, to report findings
    app.synth()
    return built


@pytest.fixture(scope="module")
def templates(sd: ServicedeskApp) -> dict[str, Template]:
    return {stack.node.id.rsplit("-", 1)[-1]: Template.from_stack(stack) for stack in sd.stacks}


def _resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = template.find_resources(kind)
    return found


def _all_resources(templates: dict[str, Template], kind: str) -> Iterator[tuple[str, dict]]:
    for name, template in templates.items():
        for logical_id, resource in _resources(template, kind).items():
            yield f"{name}/{logical_id}", resource


def test_every_function_is_python312_on_arm64(templates: dict[str, Template]) -> None:
    ours = 0
    for where, fn in _all_resources(templates, "AWS::Lambda::Function"):
        props = fn["Properties"]
        if props["Handler"] in CDK_FRAMEWORK_HANDLERS and props["Runtime"].startswith("nodejs"):
            continue
        ours += 1
        assert props["Runtime"] == "python3.12", where
        assert props["Architectures"] == ["arm64"], where
        assert props["TracingConfig"] == {"Mode": "Active"}, where
        assert len(props["Layers"]) == 2, where
    # authorizer + one per domain + migrate, at least
    assert ours >= 2 + len(DOMAINS)


def test_queues_redrive_to_their_dlq(sd: ServicedeskApp, templates: dict[str, Template]) -> None:
    stack = sd.asyncq
    queues = _resources(templates["Async"], "AWS::SQS::Queue")
    max_receive = sd.config.dlq_max_receive_count
    for name in QUEUES:
        queue_id = stack.get_logical_id(stack.queues[name].node.default_child)  # type: ignore[arg-type]
        dlq_id = stack.get_logical_id(stack.dlqs[name].node.default_child)  # type: ignore[arg-type]
        props = queues[queue_id]["Properties"]
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
            "maxReceiveCount": max_receive,
        }
        assert props["SqsManagedSseEnabled"] is True
    # every queue is either redriven or is itself a DLQ
    dlq_ids = {stack.get_logical_id(q.node.default_child) for q in stack.dlqs.values()}  # type: ignore[arg-type]
    for logical_id, queue in queues.items():
        assert "RedrivePolicy" in queue["Properties"] or logical_id in dlq_ids, logical_id
    # and every queue refuses plain HTTP
    policies = _resources(templates["Async"], "AWS::SQS::QueuePolicy")
    assert len(policies) == len(queues)


def test_attachments_bucket_private_and_tls_only(templates: dict[str, Template]) -> None:
    storage = templates["Storage"]
    storage.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "CorsConfiguration": Match.any_value(),
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like({"AbortIncompleteMultipartUpload": Match.any_value()}),
                        Match.object_like({"Prefix": "deleted/", "ExpirationInDays": 30}),
                        Match.object_like({"NoncurrentVersionExpiration": Match.any_value()}),
                    ]
                )
            },
        },
    )
    for bucket_id in _resources(storage, "AWS::S3::Bucket"):
        storage.has_resource_properties(
            "AWS::S3::BucketPolicy",
            {
                "Bucket": {"Ref": bucket_id},
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Action": "s3:*",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                },
            },
        )


def _resource_paths(api: Template) -> dict[str, str]:
    resources = _resources(api, "AWS::ApiGateway::Resource")
    rest_apis = _resources(api, "AWS::ApiGateway::RestApi")
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id in rest_apis:
            return ""
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = props["ParentId"]
            parent_id = parent["Ref"] if "Ref" in parent else parent["Fn::GetAtt"][0]
            paths[logical_id] = f"{path_of(parent_id)}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of(logical_id)
    return paths


def test_rest_api_methods_use_the_authorizer_except_public(templates: dict[str, Template]) -> None:
    api = templates["Api"]
    authorizers = _resources(api, "AWS::ApiGateway::Authorizer")
    assert len(authorizers) == 1
    authorizer_id, authorizer = next(iter(authorizers.items()))
    assert authorizer["Properties"]["Type"] == "REQUEST"
    assert authorizer["Properties"]["IdentitySource"] == "method.request.header.Authorization"
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 300

    paths = _resource_paths(api)
    seen_public: set[str] = set()
    authorized = 0
    for logical_id, method in _resources(api, "AWS::ApiGateway::Method").items():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = paths.get(resource.get("Ref", ""), "/") if "Ref" in resource else "/"
        if props["HttpMethod"] == "OPTIONS":
            assert props["AuthorizationType"] == "NONE"  # CORS preflight
            continue
        if path in PUBLIC_PATHS:
            seen_public.add(path)
            assert props["AuthorizationType"] == "NONE", path
            continue
        authorized += 1
        assert props["AuthorizationType"] == "CUSTOM", (logical_id, path)
        assert props["AuthorizerId"] == {"Ref": authorizer_id}, (logical_id, path)
    assert {"/v1/health", "/v1/health/ready", "/v1/signup", "/v1/auth/{proxy+}"} <= seen_public
    assert authorized >= 2 * len(DOMAINS)
    assert "/v1/me/{proxy+}" in paths.values()


def test_rest_api_stage_logging_tracing_throttling(sd: ServicedeskApp, templates: dict) -> None:
    api = templates["Api"]
    api.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "TracingEnabled": True,
            "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.any_value()},
            "MethodSettings": Match.array_with(
                [
                    Match.object_like(
                        {
                            "ThrottlingRateLimit": sd.config.api_throttle_rate_limit,
                            "ThrottlingBurstLimit": sd.config.api_throttle_burst_limit,
                        }
                    )
                ]
            ),
        },
    )
    api.resource_count_is("AWS::ApiGateway::UsagePlan", 1)
    api.resource_count_is("AWS::ApiGateway::ApiKey", 1)
    api.has_resource_properties(
        "AWS::Lambda::Function",
        {"ReservedConcurrentExecutions": sd.config.reserved_concurrency},
    )


def test_aurora_is_serverless_v2_postgres(sd: ServicedeskApp, templates: dict) -> None:
    data = templates["Data"]
    data.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "Engine": "aurora-postgresql",
            "EngineVersion": Match.string_like_regexp(r"^16\."),
            "ServerlessV2ScalingConfiguration": {
                "MinCapacity": sd.config.aurora_min_acu,
                "MaxCapacity": sd.config.aurora_max_acu,
            },
            "StorageEncrypted": True,
            "EnableIAMDatabaseAuthentication": True,
        },
    )
    instances = _resources(data, "AWS::RDS::DBInstance")
    assert instances
    assert all(i["Properties"]["DBInstanceClass"] == "db.serverless" for i in instances.values())
    # owner and app secrets, each rotated
    data.resource_count_is("AWS::SecretsManager::RotationSchedule", 2)
    data.resource_count_is("Custom::ServicedeskMigrations", 1)


def test_rds_proxy_requires_tls_and_iam(templates: dict[str, Template]) -> None:
    templates["Data"].has_resource_properties(
        "AWS::RDS::DBProxy",
        {
            "EngineFamily": "POSTGRESQL",
            "RequireTLS": True,
            "Auth": [Match.object_like({"IAMAuth": "REQUIRED"})],
        },
    )


def test_schedules_exist_for_existing_scheduled_functions(templates: dict) -> None:
    schedules = _resources(templates["Async"], "AWS::Scheduler::Schedule")
    functions = _resources(templates["Async"], "AWS::Lambda::Function")
    expected = {name for name in SCHEDULED_JOBS if function_exists(name)}
    targeted = set()
    for schedule in schedules.values():
        target = schedule["Properties"]["Target"]
        assert "DeadLetterConfig" in target
        assert "RetryPolicy" in target
        fn_id = target["Arn"]["Fn::GetAtt"][0]
        env = functions[fn_id]["Properties"]["Environment"]["Variables"]
        targeted.add(env["POWERTOOLS_SERVICE_NAME"].removeprefix("servicedesk-").replace("-", "_"))
    assert targeted == expected
    templates["Async"].resource_count_is("AWS::Scheduler::ScheduleGroup", 1)


def test_cdk_nag_reports_no_unacknowledged_findings(sd: ServicedeskApp) -> None:
    app = sd.data.node.scope
    assert app is not None
    report = AwsSolutionsChecks().validate_scope(app)
    findings = [
        f"{v.severity} {v.rule_name}: {[r.construct_path for r in v.violating_resources]}"
        for v in report.violations
    ]
    errors = [f for f in findings if f.startswith("error")]
    assert errors == []
    # `cdk synth` fails on warnings too (policy-validation plugin), so keep those at zero.
    assert findings == []


def test_app_synthesizes_with_the_nag_plugin(tmp_path: Path) -> None:
    """What app.py does: the policy-validation plugin would raise on any finding."""
    app = App(context=CONTEXT, outdir=str(tmp_path))
    build_app(app, nag=True)
    assembly = app.synth()
    assert len(assembly.stacks) >= 5


def test_config_reads_context_object_and_cli_overrides() -> None:
    from stacks.config import load_config

    app = App(context={**CONTEXT, "stage": "prod", "auroraMaxAcu": "8", "alarmEmail": ""})
    config = load_config(app.node)
    assert config.stage == "prod"
    assert config.is_prod
    assert config.aurora_max_acu == 8
    assert config.alarm_email is None
    assert config.dlq_max_receive_count == CONTEXT["servicedesk"]["dlqMaxReceiveCount"]
    with pytest.raises(ValueError, match="auroraMinAcu"):
        load_config(App(context={"auroraMinAcu": "9", "auroraMaxAcu": "8"}).node)
