"""CDK assertions and cdk-nag over the whole app (two syntheses per session: see conftest)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_cdk import App, CfnElement, Stack
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from stacks.api import BUCKET_DOMAINS, DOMAINS, METHOD_OVERRIDES, PUBLIC_PATHS, ROOT_ROUTES
from stacks.asyncq import CONSUMERS, QUEUES, SCHEDULED_JOBS
from stacks.config import CONTEXT_KEY, PRESETS, load_config
from stacks.constructs import DomainFunction, SharedLayers
from stacks.data import DB_PORT
from tests.infra.conftest import ASYNC_FUNCTIONS, CONTEXT, PROD_EMAIL_SENDER, Synthesized

pytestmark = pytest.mark.infra

# Functions CDK itself adds (custom-resource providers); they are not ours to pin.
CDK_FRAMEWORK_HANDLERS = {"framework.onEvent", "__entrypoint__.handler", "index.handler"}
S3_READ_ACTIONS = {"s3:GetObject", "s3:GetObject*", "s3:Get*", "s3:*", "*"}


def _resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {k: dict(v) for k, v in template.find_resources(kind).items()}


def _all_resources(
    templates: dict[str, Template], kind: str
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, template in templates.items():
        for logical_id, resource in _resources(template, kind).items():
            yield name, logical_id, resource


def _logical_id(construct: IConstruct) -> str:
    resource = construct.node.default_child
    assert isinstance(resource, CfnElement), construct.node.path
    return Stack.of(construct).get_logical_id(resource)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _service_of(fn: dict[str, Any]) -> str | None:
    env = fn["Properties"].get("Environment", {}).get("Variables", {})
    service = env.get("POWERTOOLS_SERVICE_NAME")
    return service.removeprefix("servicedesk-").replace("-", "_") if service else None


# --- functions ------------------------------------------------------------------------


def test_every_function_is_python312_on_arm64(dev: Synthesized) -> None:
    ours = set()
    for where, logical_id, fn in _all_resources(dev.templates, "AWS::Lambda::Function"):
        props = fn["Properties"]
        if props["Handler"] in CDK_FRAMEWORK_HANDLERS and props["Runtime"].startswith("nodejs"):
            continue
        ours.add(_service_of(fn))
        assert props["Runtime"] == "python3.12", (where, logical_id)
        assert props["Architectures"] == ["arm64"], (where, logical_id)
        assert len(props["Layers"]) == 2, (where, logical_id)
    assert {"authorizer", "migrate", *DOMAINS, *ASYNC_FUNCTIONS} <= ours


def test_every_function_has_tracing_and_log_retention(dev: Synthesized) -> None:
    """Ours and CDK's alike: X-Ray active, and a log group that expires."""
    retention = dev.sd.config.log_retention_days
    checked = 0
    for stack, logical_id, fn in _all_resources(dev.templates, "AWS::Lambda::Function"):
        where = f"{stack}/{logical_id}"
        props = fn["Properties"]
        assert props.get("TracingConfig") == {"Mode": "Active"}, where
        log_groups = _resources(dev.templates[stack], "AWS::Logs::LogGroup")
        configured = props.get("LoggingConfig", {}).get("LogGroup")
        if configured is not None:
            group = log_groups[configured["Ref"]]
        else:
            # A group Lambda would otherwise create itself: /aws/lambda/<function name>.
            expected_name = {"Fn::Join": ["", ["/aws/lambda/", {"Ref": logical_id}]]}
            named = [
                g
                for g in log_groups.values()
                if g["Properties"].get("LogGroupName") == expected_name
            ]
            retained = [
                r
                for r in _resources(dev.templates[stack], "Custom::LogRetention").values()
                if r["Properties"].get("LogGroupName") == expected_name
            ]
            assert named or retained, f"{where}: no log group with a retention"
            group = named[0] if named else retained[0]
        assert group["Properties"]["RetentionInDays"] == retention, where
        checked += 1
    assert checked >= 2 + len(DOMAINS) + len(ASYNC_FUNCTIONS)
    # And no log group anywhere keeps logs forever.
    for stack, logical_id, group in _all_resources(dev.templates, "AWS::Logs::LogGroup"):
        assert "RetentionInDays" in group["Properties"], f"{stack}/{logical_id}"


# --- storage --------------------------------------------------------------------------


def test_attachments_bucket_private_and_tls_only(dev: Synthesized) -> None:
    storage = dev.templates["Storage"]
    storage.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": Match.any_value(),
            "VersioningConfiguration": {"Status": "Enabled"},
            "CorsConfiguration": {
                "CorsRules": [Match.object_like({"AllowedOrigins": [dev.sd.config.web_origin]})]
            },
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
    buckets = _resources(storage, "AWS::S3::Bucket")
    assert _logical_id(dev.sd.storage.bucket) in buckets
    for bucket_id in buckets:
        # The bucket policy denies every request that does not arrive over TLS.
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
                                    "Principal": {"AWS": "*"},
                                    "Action": "s3:*",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                },
            },
        )


def _roles_of_functions(templates: dict[str, Template]) -> dict[tuple[str, str], str]:
    """(stack, role logical id) -> function name."""
    roles: dict[tuple[str, str], str] = {}
    for stack, _, fn in _all_resources(templates, "AWS::Lambda::Function"):
        role = fn["Properties"].get("Role", {})
        name = _service_of(fn)
        if isinstance(role, dict) and "Fn::GetAtt" in role and name:
            roles[(stack, role["Fn::GetAtt"][0])] = name
    return roles


def _bucket_statements(
    templates: dict[str, Template], bucket_marker: str
) -> Iterator[tuple[str, str, set[str]]]:
    """(stack, role logical id, actions) for each identity-policy statement on the bucket."""
    for stack, _, policy in _all_resources(templates, "AWS::IAM::Policy"):
        props = policy["Properties"]
        for statement in props["PolicyDocument"]["Statement"]:
            if statement.get("Effect") != "Allow":
                continue
            actions = set(_as_list(statement.get("Action", [])))
            if not any(a == "*" or a.startswith("s3:") for a in actions):
                continue
            resources = json.dumps(statement.get("Resource"))
            if bucket_marker not in resources and resources != '"*"':
                continue
            for role in props.get("Roles", []):
                yield stack, role.get("Ref"), actions


def test_only_functions_that_need_it_touch_the_attachments_bucket(dev: Synthesized) -> None:
    marker = f"sd-{dev.sd.config.stage}-att-"
    roles = _roles_of_functions(dev.templates)
    touching: dict[str, set[str]] = {}
    for stack, role, actions in _bucket_statements(dev.templates, marker):
        name = roles.get((stack, role), f"{stack}/{role}")
        touching.setdefault(name, set()).update(actions)

    # The mail API stores held mail's files as attachments when staff accept a message.
    allowed = (
        set(BUCKET_DOMAINS) | {"mail"} | {n for n, job in SCHEDULED_JOBS.items() if job.bucket}
    )
    assert set(touching) <= allowed, touching
    # The ones that exist do get what they need.
    assert set(touching) == allowed
    # No AWS managed S3 policy on any role either.
    for stack, logical_id, role_resource in _all_resources(dev.templates, "AWS::IAM::Role"):
        managed = json.dumps(role_resource["Properties"].get("ManagedPolicyArns", []))
        assert "S3" not in managed, f"{stack}/{logical_id}"


def test_only_the_export_functions_touch_the_exports_bucket(dev: Synthesized) -> None:
    """Write: the export worker and the report scheduler; read: the exports API (presigned
    GETs) and the e-mail consumer (attaching scheduled reports); the CMDB function signs
    import uploads and reads them back (and lists: a missing upload is 404, not 403).
    Nobody deletes."""
    marker = f"sd-{dev.sd.config.stage}-exp-"
    roles = _roles_of_functions(dev.templates)
    touching: dict[str, set[str]] = {}
    for stack, role, actions in _bucket_statements(dev.templates, marker):
        name = roles.get((stack, role), f"{stack}/{role}")
        touching.setdefault(name, set()).update(actions)
    write = {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}
    assert touching == {
        "export_worker": write,
        "report_scheduler": write,
        "exports": {"s3:GetObject"},
        "email_consumer": {"s3:GetObject"},
        "cmdb": write | {"s3:ListBucket"},
    }
    bucket = _resources(dev.templates["Storage"], "AWS::S3::Bucket")[
        _logical_id(dev.sd.storage.exports_bucket)
    ]["Properties"]
    # The browser posts a CMDB import's CSV from the web app's origin only.
    (cors,) = bucket["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["POST"]
    assert cors["AllowedOrigins"] == [dev.sd.config.web_origin]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert bucket["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-exports"]["ExpirationInDays"] == 7
    assert rules["abort-incomplete-multipart"]["AbortIncompleteMultipartUpload"]
    # The worker has the time a million-row export takes, one job at a time.
    worker = dev.templates["Async"].to_json()["Resources"][
        _logical_id(dev.sd.asyncq.functions["export_worker"].function)
    ]["Properties"]
    assert worker["Timeout"] == 900
    assert worker["Environment"]["Variables"]["SERVICEDESK_EXPORT_RETENTION_DAYS"] == "7"


def test_tickets_function_cannot_read_the_bucket(dev: Synthesized) -> None:
    tickets = dev.sd.api.functions["tickets"]
    role_id = _logical_id(tickets.role)
    marker = f"sd-{dev.sd.config.stage}-att-"
    for stack, role, actions in _bucket_statements(dev.templates, marker):
        if (stack, role) == ("Api", role_id):
            assert not actions & S3_READ_ACTIONS, actions
    env = dev.templates["Api"].to_json()["Resources"][_logical_id(tickets.function)]
    assert "SERVICEDESK_ATTACHMENTS_BUCKET" not in env["Properties"]["Environment"]["Variables"]


# --- queues ---------------------------------------------------------------------------


def test_queues_redrive_to_their_dlq(dev: Synthesized) -> None:
    stack = dev.sd.asyncq
    queues = _resources(dev.templates["Async"], "AWS::SQS::Queue")
    max_receive = dev.sd.config.dlq_max_receive_count
    for name in QUEUES:
        props = queues[_logical_id(stack.queues[name])]["Properties"]
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [_logical_id(stack.dlqs[name]), "Arn"]},
            "maxReceiveCount": max_receive,
        }
        assert props["SqsManagedSseEnabled"] is True
    # every queue is either redriven or is itself a DLQ
    dlq_ids = {_logical_id(q) for q in stack.dlqs.values()}
    for logical_id, queue in queues.items():
        assert "RedrivePolicy" in queue["Properties"] or logical_id in dlq_ids, logical_id
    # and every queue refuses plain HTTP
    policies = _resources(dev.templates["Async"], "AWS::SQS::QueuePolicy")
    assert len(policies) == len(queues)


def _queue_of_alarm(alarm: dict[str, Any], outputs: dict[str, Any]) -> str | None:
    """Logical id (in the Async stack) of the queue an alarm watches."""
    for dimension in alarm["Properties"].get("Dimensions", []):
        if dimension["Name"] != "QueueName":
            continue
        value = dimension["Value"]
        # Cross-stack reference: an output of the Async stack, by name.
        if "Fn::GetStackOutput" in value:
            value = outputs[value["Fn::GetStackOutput"]["OutputName"]]["Value"]
        elif "Fn::ImportValue" in value:
            export = value["Fn::ImportValue"]
            value = next(
                o["Value"] for o in outputs.values() if o.get("Export", {}).get("Name") == export
            )
        return str(value["Fn::GetAtt"][0])
    return None


def test_each_queue_has_a_dlq_and_an_alarm(dev: Synthesized) -> None:
    async_template = dev.templates["Async"].to_json()
    queues = {k for k, v in async_template["Resources"].items() if v["Type"] == "AWS::SQS::Queue"}
    outputs = async_template.get("Outputs", {})
    topic_ids = set(_resources(dev.templates["Observability"], "AWS::SNS::Topic"))
    alarmed: dict[str, set[str]] = {}
    for alarm in _resources(dev.templates["Observability"], "AWS::CloudWatch::Alarm").values():
        queue = _queue_of_alarm(alarm, outputs)
        if queue is None:
            continue
        props = alarm["Properties"]
        assert props["AlarmActions"] and all(a["Ref"] in topic_ids for a in props["AlarmActions"])
        alarmed.setdefault(queue, set()).add(props["MetricName"])

    stack = dev.sd.asyncq
    dlq_ids = {_logical_id(q) for q in stack.dlqs.values()}
    main_ids = {_logical_id(q) for q in stack.queues.values()}
    assert queues == dlq_ids | main_ids
    for queue in main_ids:
        # Main queue: redriven to a DLQ (above) and alarmed on the age of its oldest message.
        assert "ApproximateAgeOfOldestMessage" in alarmed.get(queue, set()), queue
    for queue in dlq_ids:
        assert "ApproximateNumberOfMessagesVisible" in alarmed.get(queue, set()), queue
    # DLQ alarms fire on the first message.
    dev.templates["Observability"].has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    )


def test_consumers_report_batch_item_failures(dev: Synthesized) -> None:
    mappings = _resources(dev.templates["Async"], "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(CONSUMERS)
    for mapping in mappings.values():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def _ref_id(value: Any) -> str:
    """The logical id a Ref, a GetAtt or a Join of an alias ARN points at."""
    if "Ref" in value:
        return str(value["Ref"]).split(".")[0]
    return str(value["Fn::GetAtt"][0])


def test_each_queue_outlasts_its_consumer_six_times(dev: Synthesized) -> None:
    """A queue's visibility timeout is at least six times its consumer's Lambda timeout
    (AWS guidance; a shorter one redelivers records a slow batch is still working on)."""
    template = dev.templates["Async"]
    functions = _resources(template, "AWS::Lambda::Function")
    queues = _resources(template, "AWS::SQS::Queue")
    mappings = _resources(template, "AWS::Lambda::EventSourceMapping")
    checked: dict[str, tuple[int, int]] = {}
    for mapping in mappings.values():
        props = mapping["Properties"]
        queue = queues[_ref_id(props["EventSourceArn"])]["Properties"]
        function = functions[_ref_id(props["FunctionName"])]["Properties"]
        service = _service_of({"Properties": function})
        checked[str(service)] = (queue["VisibilityTimeout"], function["Timeout"])
        assert queue["VisibilityTimeout"] >= 6 * function["Timeout"], service
    assert set(checked) == set(CONSUMERS)
    # The knowledge consumer waits on a language model: its batch gets the time it needs.
    assert checked["knowledge_consumer"][1] >= 5 * 30 + 60


# --- REST API -------------------------------------------------------------------------


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


def _get_atts(value: Any) -> Iterator[tuple[str, str]]:
    """Every ``Fn::GetAtt`` (logical id, attribute) inside a CloudFormation value."""
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            target, attribute = value["Fn::GetAtt"]
            yield str(target), str(attribute)
        for item in value.values():
            yield from _get_atts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _get_atts(item)


def _nested_outputs(sd: Synthesized) -> dict[str, str]:
    """``Outputs.<name>`` of the Api stack's nested stacks -> the logical id (in the nested
    template) the output refers to: how a method names a function of the nested "Domains"."""
    found: dict[str, str] = {}
    for key, template in sd.templates.items():
        if key.startswith("Api."):
            for name, output in template.to_json().get("Outputs", {}).items():
                value = output["Value"]
                if isinstance(value, dict) and "Ref" in value:
                    found[f"Outputs.{name}"] = value["Ref"]
    return found


def _api_resources(sd: Synthesized, kind: str) -> dict[str, dict[str, Any]]:
    """Resources of ``kind`` in the Api stack and its nested stacks (logical ids differ)."""
    found: dict[str, dict[str, Any]] = {}
    for key, template in sd.templates.items():
        if key == "Api" or key.startswith("Api."):
            found |= _resources(template, kind)
    return found


def _integration_function(
    method: dict[str, Any], nested: dict[str, str] | None = None
) -> str | None:
    """The logical id of the function (``GetAtt .Arn``) or alias (``Ref``) a method invokes;
    through ``nested`` (``_nested_outputs``), one in a nested stack (``GetAtt Outputs.x``)."""
    integration_uri = method["Properties"].get("Integration", {}).get("Uri", {})
    for target, attribute in _get_atts(integration_uri):
        if attribute.startswith("Outputs."):
            return (nested or {}).get(attribute)
        return target
    uri = json.dumps(integration_uri)
    refs = [r.split('"', 1)[0] for r in uri.split('{"Ref": "')[1:]]
    targets = [r for r in refs if not r.startswith("AWS::")]
    return targets[0] if targets else None


@dataclass
class _Methods:
    public: set[str]
    authorized: dict[str, str]  # path -> function logical id of its ANY method
    overrides: dict[tuple[str, str], str]  # (path, method) -> function logical id
    # Outside /v1, without the authorizer (the protocol's own token): path -> function.
    root: dict[str, str] = field(default_factory=dict)


def _methods(api: Template, authorizer_id: str, nested: dict[str, str]) -> _Methods:
    """Every method of the REST API, checked for its authorization on the way."""
    paths = _resource_paths(api)
    found = _Methods(public=set(), authorized={}, overrides={})
    for logical_id, method in _resources(api, "AWS::ApiGateway::Method").items():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = paths.get(resource.get("Ref", ""), "/") if "Ref" in resource else "/"
        if props["HttpMethod"] == "OPTIONS":
            assert props["AuthorizationType"] == "NONE"  # CORS preflight
            continue
        if path in PUBLIC_PATHS:
            found.public.add(path)
            assert props["AuthorizationType"] == "NONE", path
            continue
        if any(path == r or path.startswith(f"{r}/") for r in ROOT_ROUTES):
            assert props["AuthorizationType"] == "NONE", path
            found.root[path] = _integration_function(method, nested) or ""
            continue
        assert props["AuthorizationType"] == "CUSTOM", (logical_id, path)
        assert props["AuthorizerId"] == {"Ref": authorizer_id}, (logical_id, path)
        target = _integration_function(method, nested) or ""
        if props["HttpMethod"] == "ANY":
            found.authorized[path] = target
        else:
            found.overrides[(path, props["HttpMethod"])] = target
    return found


# Prefixes routed through an explicit variable level for their method overrides: tickets
# (the upload start), projects (a task's upload start and completion).
EXPLICIT_LEVELS = {
    "tickets": ["/v1/tickets/{ticket_id}", "/v1/tickets/{ticket_id}/{proxy+}"],
    "projects": ["/v1/projects/{project_id}", "/v1/projects/{project_id}/{proxy+}"],
}


def test_rest_api_methods_use_the_authorizer_except_public(dev: Synthesized) -> None:
    api = dev.templates["Api"]
    authorizers = _resources(api, "AWS::ApiGateway::Authorizer")
    assert len(authorizers) == 1
    authorizer_id, authorizer = next(iter(authorizers.items()))
    assert authorizer["Properties"]["Type"] == "REQUEST"
    assert authorizer["Properties"]["IdentitySource"] == "method.request.header.Authorization"
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 300

    # Each method invokes its domain function's `live` alias (SnapStart versions).
    function_ids = {name: _logical_id(fn.target) for name, fn in dev.sd.api.functions.items()}
    methods = _methods(api, authorizer_id, _nested_outputs(dev))
    authorized, overrides = methods.authorized, methods.overrides
    assert {"/v1/health", "/v1/health/ready", "/v1/signup", "/v1/auth/{proxy+}"} <= methods.public
    assert "/v1/signup/{proxy+}" in methods.public
    assert "/v1/.well-known/{proxy+}" in methods.public
    # One-click unsubscribe (RFC 8058) is public, and only that path below notifications.
    assert "/v1/notifications/unsubscribe" in methods.public
    assert authorized["/v1/notifications/{proxy+}"] == function_ids["notifications"]
    # A CSAT survey link: the signed token is the credential (servicedesk/csat/links.py).
    assert "/v1/csat/{proxy+}" in methods.public

    # Every domain prefix (identity, tickets, admin, ...) is guarded, at the prefix and below,
    # unless the prefix itself is public; and it reaches its own domain's function.
    for domain, prefixes in DOMAINS.items():
        for prefix in prefixes:
            below = EXPLICIT_LEVELS.get(prefix, [f"/v1/{prefix}/{{proxy+}}"])
            for path in (f"/v1/{prefix}", *below):
                if path in PUBLIC_PATHS:
                    continue
                assert path in authorized, f"{path} has no authorized method"
                assert authorized[path] == function_ids[domain], path
    # Methods served by another function than their prefix's: an upload start signs an S3
    # form, so it runs in the attachments function; the list on the same path stays put.
    upload = "/v1/tickets/{ticket_id}/attachments"
    article_upload = "/v1/kb/articles/{article_id}/attachments"
    task_upload = "/v1/projects/{project_id}/tasks/{task_id}/attachments"
    task_complete = f"{task_upload}/{{attachment_id}}/complete"
    # A macro applied to, previewed on or rendered for a ticket runs in the macros function.
    macro_paths = [
        "/v1/tickets/{ticket_id}/macros/preview",
        *(
            f"/v1/tickets/{{ticket_id}}/macros/{{macro_id}}/{verb}"
            for verb in ("apply", "preview", "render")
        ),
    ]
    assert overrides == {
        (upload, "POST"): function_ids["attachments"],
        (article_upload, "POST"): function_ids["attachments"],
        (task_upload, "POST"): function_ids["attachments"],
        (task_complete, "POST"): function_ids["attachments"],
        **{(path, "POST"): function_ids["macros"] for path in macro_paths},
        # The directory (LDAP) settings run where the directory is reachable.
        ("/v1/settings/ldap", "GET"): function_ids["identity"],
        ("/v1/settings/ldap", "PUT"): function_ids["identity"],
        ("/v1/settings/ldap/test", "POST"): function_ids["identity"],
        # A ticket's GitHub issue and links: the webhooks function serves the integrations.
        ("/v1/tickets/{ticket_id}/github-issue", "POST"): function_ids["webhooks"],
        ("/v1/tickets/{ticket_id}/integration-links", "GET"): function_ids["webhooks"],
    }
    assert authorized[upload] == function_ids["tickets"]
    assert authorized[article_upload] == function_ids["kb"]
    # A task's files: listed and removed by the projects function, and everything else
    # below a task (GET /v1/projects/tasks too, through /{project_id}) stays there.
    assert authorized[task_upload] == function_ids["projects"]
    for path in (
        f"{task_upload}/{{attachment_id}}",
        "/v1/projects/{project_id}/tasks/{task_id}/{proxy+}",
        "/v1/projects/{project_id}/{proxy+}",
    ):
        assert authorized[path] == function_ids["projects"], path
    # SCIM for identity providers: outside /v1, the function checks the tenant's token.
    assert methods.root == {
        "/scim/v2": function_ids["scim"],
        "/scim/v2/{proxy+}": function_ids["scim"],
    }
    for path in ("/v1/kb/articles", "/v1/kb/articles/{article_id}/{proxy+}"):
        assert authorized[path] == function_ids["kb"]
    assert set(METHOD_OVERRIDES) == set(overrides)
    for path in ("/v1/tickets", "/v1/ticket-invitations/{proxy+}", "/v1/settings"):
        assert path in authorized
    for path in ("/v1/teams/{proxy+}", "/v1/categories", "/v1/me", "/v1/users/{proxy+}"):
        assert path in authorized


def test_api_functions_start_from_snapstart_versions_behind_the_live_alias(
    dev: Synthesized,
) -> None:
    api = dev.templates["Api"]
    functions = _api_resources(dev, "AWS::Lambda::Function")
    versions = _api_resources(dev, "AWS::Lambda::Version")
    aliases = _api_resources(dev, "AWS::Lambda::Alias")
    alias_ids = set()
    for domain in DOMAINS:
        fn = dev.sd.api.functions[domain]
        function_id = _logical_id(fn.function)
        assert functions[function_id]["Properties"]["SnapStart"] == {
            "ApplyOn": "PublishedVersions"
        }, domain
        assert fn.alias is not None
        alias_id = _logical_id(fn.alias)
        alias = aliases[alias_id]["Properties"]
        assert alias["Name"] == "live"
        assert alias["FunctionName"] == {"Ref": function_id}
        assert "ProvisionedConcurrencyConfig" not in alias  # SnapStart instead (the default)
        version_id = alias["FunctionVersion"]["Fn::GetAtt"][0]
        assert versions[version_id]["Properties"]["FunctionName"] == {"Ref": function_id}
        assert versions[version_id]["DeletionPolicy"] == "Delete"  # no stale snapshots billed
        alias_ids.add(alias_id)
    # The authorizer (no database, no framework) and every non-API function run $LATEST.
    authorizer = _logical_id(dev.sd.api.functions["authorizer"].function)
    assert "SnapStart" not in functions[authorizer]["Properties"]
    for name, logical_id, resource in _all_resources(dev.templates, "AWS::Lambda::Function"):
        if name != "Api" and not name.startswith("Api."):
            assert "SnapStart" not in resource["Properties"], logical_id
    assert len(aliases) == len(versions) == len(DOMAINS)

    # API Gateway invokes the aliases, never $LATEST, and may invoke nothing else.
    nested = _nested_outputs(dev)
    targets = {
        _integration_function(method, nested)
        for method in _resources(api, "AWS::ApiGateway::Method").values()
        if method["Properties"]["HttpMethod"] != "OPTIONS"
    }
    assert targets == alias_ids
    permitted = {
        p["Properties"]["FunctionName"]["Ref"]
        for p in _api_resources(dev, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
        and "Ref" in p["Properties"]["FunctionName"]
    }
    assert permitted == alias_ids


def test_provisioned_concurrency_is_the_alternative_to_snapstart() -> None:
    with pytest.raises(ValueError, match="snapStart"):
        load_config(App(context={**CONTEXT, "provisionedConcurrency": "2"}).node)
    with pytest.raises(ValueError, match="reservedConcurrency"):
        load_config(
            App(
                context={
                    **CONTEXT,
                    "snapStart": "false",
                    "provisionedConcurrency": "30",
                    "reservedConcurrency": "20",
                }
            ).node
        )
    app = App(context={**CONTEXT, "snapStart": "false", "provisionedConcurrency": "2"})
    config = load_config(app.node)
    assert (config.snap_start, config.provisioned_concurrency) == (False, 2)

    stack = Stack(app, "Pc")
    layers = SharedLayers(stack, "Layers")
    fn = DomainFunction(
        stack,
        "Identity",
        name="identity",
        config=config,
        layers=layers,
        live_alias=True,
        snap_start=config.snap_start,
        provisioned_concurrency=config.provisioned_concurrency,
    )
    template = Template.from_stack(stack)
    function = _resources(template, "AWS::Lambda::Function")[_logical_id(fn.function)]
    assert "SnapStart" not in function["Properties"]
    assert fn.alias is not None and fn.target is fn.alias
    alias = _resources(template, "AWS::Lambda::Alias")[_logical_id(fn.alias)]["Properties"]
    assert alias["Name"] == "live"
    assert alias["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": 2}


def test_rest_api_stage_logging_tracing_throttling(dev: Synthesized) -> None:
    config = dev.sd.config
    api = dev.templates["Api"]
    api.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "TracingEnabled": True,
            "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.any_value()},
            "MethodSettings": Match.array_with(
                [
                    Match.object_like(
                        {
                            "ThrottlingRateLimit": config.api_throttle_rate_limit,
                            "ThrottlingBurstLimit": config.api_throttle_burst_limit,
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
        {"ReservedConcurrentExecutions": config.reserved_concurrency},
    )


# --- database -------------------------------------------------------------------------


def test_aurora_is_serverless_v2_postgres(dev: Synthesized) -> None:
    config = dev.sd.config
    data = dev.templates["Data"]
    data.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "Engine": "aurora-postgresql",
            "EngineVersion": Match.string_like_regexp(r"^16\."),
            "ServerlessV2ScalingConfiguration": {
                "MinCapacity": config.aurora_min_acu,
                "MaxCapacity": config.aurora_max_acu,
            },
            "StorageEncrypted": True,
            "EnableIAMDatabaseAuthentication": True,
        },
    )
    instances = _resources(data, "AWS::RDS::DBInstance")
    assert len(instances) == 1 + config.aurora_readers
    assert all(i["Properties"]["DBInstanceClass"] == "db.serverless" for i in instances.values())
    # owner and app secrets, each rotated
    data.resource_count_is("AWS::SecretsManager::RotationSchedule", 2)
    data.resource_count_is("Custom::ServicedeskMigrations", 1)


def test_rds_proxy_requires_tls_and_iam(dev: Synthesized) -> None:
    dev.templates["Data"].has_resource_properties(
        "AWS::RDS::DBProxy",
        {
            "EngineFamily": "POSTGRESQL",
            "RequireTLS": True,
            "Auth": [Match.object_like({"IAMAuth": "REQUIRED"})],
        },
    )


def _ingress_rules(template: Mapping[str, Any], sg_id: str) -> list[dict[str, Any]]:
    resources = template["Resources"]
    rules = list(resources[sg_id]["Properties"].get("SecurityGroupIngress", []))
    for resource in resources.values():
        if resource["Type"] != "AWS::EC2::SecurityGroupIngress":
            continue
        if resource["Properties"]["GroupId"] == {"Fn::GetAtt": [sg_id, "GroupId"]}:
            rules.append(resource["Properties"])
    return rules


def test_database_is_not_publicly_reachable(dev: Synthesized) -> None:
    data = dev.sd.data
    template = dev.templates["Data"].to_json()
    resources = template["Resources"]

    # Instances are not publicly accessible; the cluster and proxy sit in isolated subnets.
    for instance in _resources(dev.templates["Data"], "AWS::RDS::DBInstance").values():
        assert instance["Properties"]["PubliclyAccessible"] is False
    isolated = {
        logical_id
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::EC2::Subnet"
        and {"Key": "aws-cdk:subnet-type", "Value": "Isolated"} in r["Properties"]["Tags"]
        and r["Properties"]["MapPublicIpOnLaunch"] is False
    }
    assert isolated
    # No way in from the internet, and no way out from the isolated subnets: their route
    # tables have no route at all (egress goes through NAT from the egress subnets only),
    # and the only public addresses are the NAT gateways' Elastic IPs.
    routed = {r["Properties"]["RouteTableId"]["Ref"] for r in _typed(resources, "AWS::EC2::Route")}
    assert not {_route_table_of(resources, subnet) for subnet in isolated} & routed
    eips = {k for k, _ in _typed_items(resources, "AWS::EC2::EIP")}
    nat_eips = {
        n["Properties"]["AllocationId"]["Fn::GetAtt"][0]
        for n in _typed(resources, "AWS::EC2::NatGateway")
    }
    assert eips == nat_eips
    subnet_groups = _resources(dev.templates["Data"], "AWS::RDS::DBSubnetGroup")
    assert subnet_groups
    for group in subnet_groups.values():
        assert {s["Ref"] for s in group["Properties"]["SubnetIds"]} <= isolated
    for proxy in _resources(dev.templates["Data"], "AWS::RDS::DBProxy").values():
        assert {s["Ref"] for s in proxy["Properties"]["VpcSubnetIds"]} <= isolated

    # The cluster's security group admits only the proxy and the admin Lambdas, on 5432.
    (cluster,) = _resources(dev.templates["Data"], "AWS::RDS::DBCluster").values()
    (cluster_sg,) = cluster["Properties"]["VpcSecurityGroupIds"]
    allowed = {_logical_id(data.proxy_sg), _logical_id(data.db_admin_sg)}
    rules = _ingress_rules(template, cluster_sg["Fn::GetAtt"][0])
    assert cluster["Properties"]["Port"] == DB_PORT
    cluster_port = {"Fn::GetAtt": [_logical_id(data.cluster), "Endpoint.Port"]}
    assert rules
    sources = set()
    for rule in rules:
        assert "CidrIp" not in rule and "CidrIpv6" not in rule, rule
        assert rule["IpProtocol"] == "tcp", rule
        assert rule["FromPort"] in (DB_PORT, cluster_port), rule
        assert rule["ToPort"] == rule["FromPort"], rule
        sources.add(rule["SourceSecurityGroupId"]["Fn::GetAtt"][0])
    assert sources == allowed
    # The proxy admits only the functions' client group and the identity function's own
    # group, on 5432.
    proxy_rules = _ingress_rules(template, _logical_id(data.proxy_sg))
    assert sorted(r["SourceSecurityGroupId"]["Fn::GetAtt"][0] for r in proxy_rules) == sorted(
        [_logical_id(data.db_client_sg), _logical_id(data.identity_sg)]
    )
    assert all((r["FromPort"], r["ToPort"]) == (DB_PORT, DB_PORT) for r in proxy_rules)


def _typed_items(resources: Mapping[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    return ((k, r) for k, r in resources.items() if r["Type"] == kind)


def _typed(resources: Mapping[str, Any], kind: str) -> Iterator[dict[str, Any]]:
    return (r for _, r in _typed_items(resources, kind))


def _route_table_of(resources: Mapping[str, Any], subnet: str) -> str:
    (table,) = [
        a["Properties"]["RouteTableId"]["Ref"]
        for a in _typed(resources, "AWS::EC2::SubnetRouteTableAssociation")
        if a["Properties"]["SubnetId"] == {"Ref": subnet}
    ]
    return str(table)


def _subnet_type(resources: Mapping[str, Any], subnet: str) -> str:
    tags = resources[subnet]["Properties"]["Tags"]
    return str(next(t["Value"] for t in tags if t["Key"] == "aws-cdk:subnet-type"))


def _data_ref(data: Mapping[str, Any], value: Any) -> str:
    """Logical id in the Data stack behind a cross-stack reference from another stack."""
    outputs = data.get("Outputs", {})
    if "Fn::GetStackOutput" in value:
        exported = outputs[value["Fn::GetStackOutput"]["OutputName"]]["Value"]
    else:
        name = value["Fn::ImportValue"]
        exported = next(o["Value"] for o in outputs.values() if o["Export"]["Name"] == name)
    return str(exported["Ref"] if "Ref" in exported else exported["Fn::GetAtt"][0])


def _default_route(resources: Mapping[str, Any], table: str) -> dict[str, Any]:
    (route,) = [
        r["Properties"]
        for r in _typed(resources, "AWS::EC2::Route")
        if r["Properties"]["RouteTableId"] == {"Ref": table}
        and r["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"
    ]
    return dict(route)


def test_consumers_run_in_the_vpc_and_only_the_model_webhook_and_integration_consumers_reach_the_internet(
    dev: Synthesized, prod: Synthesized
) -> None:
    for synthesized in (dev, prod):
        data = synthesized.templates["Data"].to_json()
        resources = data["Resources"]
        functions = synthesized.templates["Async"].to_json()["Resources"]
        client_sg = _logical_id(synthesized.sd.data.db_client_sg)
        subnet_types: dict[str, set[str]] = {}
        for name in CONSUMERS:
            fn = functions[_logical_id(synthesized.sd.asyncq.functions[name].function)]
            vpc = fn["Properties"]["VpcConfig"]
            assert [_data_ref(data, g) for g in vpc["SecurityGroupIds"]] == [client_sg], name
            subnets = [_data_ref(data, s) for s in vpc["SubnetIds"]]
            assert len(subnets) == synthesized.sd.config.vpc_max_azs, name  # one per AZ
            subnet_types[name] = {_subnet_type(resources, s) for s in subnets}
            # In the VPC means through RDS Proxy, with IAM auth.
            env = fn["Properties"]["Environment"]["Variables"]
            assert env["SERVICEDESK_DATABASE_IAM_AUTH"] == "true", name
            # An egress subnet's default route leads to a NAT gateway in a public subnet,
            # whose own default route is the internet gateway.
            for subnet in subnets:
                if _subnet_type(resources, subnet) != "Private":
                    continue
                route = _default_route(resources, _route_table_of(resources, subnet))
                nat = resources[route["NatGatewayId"]["Ref"]]["Properties"]
                public = nat["SubnetId"]["Ref"]
                assert _subnet_type(resources, public) == "Public"
                upstream = _default_route(resources, _route_table_of(resources, public))
                assert upstream["GatewayId"]["Ref"] in dict(
                    _typed_items(resources, "AWS::EC2::InternetGateway")
                ), name
        assert subnet_types == {
            "email_consumer": {"Isolated"},
            "webhook_consumer": {"Private"},
            "knowledge_consumer": {"Private"},  # embedding and language model endpoints
            "reports_consumer": {"Isolated"},  # the database only
            "automation_consumer": {"Isolated"},  # the database only; side effects via the outbox
            "export_worker": {"Isolated"},  # S3 through the gateway endpoint
            "integrations_consumer": {"Private"},  # GitHub's and Slack's APIs
        }
        # NAT gateways as the preset says: dev one, prod one per AZ.
        nats = list(_typed(resources, "AWS::EC2::NatGateway"))
        assert len(nats) == synthesized.sd.config.nat_gateway_count
        # SES from the isolated subnets: the SES API has an interface endpoint.
        services = [
            json.dumps(r["Properties"]["ServiceName"])
            for r in _typed(resources, "AWS::EC2::VPCEndpoint")
        ]
        assert any(s.endswith('.email"]]}') or s.endswith('.email"') for s in services), services
        # The webhook consumer schedules its retries on its own queue, and may.
        webhook = functions[
            _logical_id(synthesized.sd.asyncq.functions["webhook_consumer"].function)
        ]
        env = webhook["Properties"]["Environment"]["Variables"]
        assert "SERVICEDESK_WEBHOOK_QUEUE_URL" in env
    assert dev.sd.config.nat_gateway_count == 1
    assert prod.sd.config.nat_gateway_count == prod.sd.config.vpc_max_azs


def test_functions_behind_rds_proxy_skip_the_pool_pre_ping(
    dev: Synthesized, prod: Synthesized
) -> None:
    """RDS Proxy keeps its own connections alive: no pre-ping round trip per request there,
    while the migrate function (straight to the cluster) keeps the default (on)."""
    for synthesized in (dev, prod):
        behind_proxy: list[str] = []
        direct: list[str] = []
        for _, logical_id, fn in _all_resources(synthesized.templates, "AWS::Lambda::Function"):
            env = fn["Properties"].get("Environment", {}).get("Variables", {})
            if env.get("SERVICEDESK_DATABASE_IAM_AUTH") == "true":
                assert env.get("SERVICEDESK_DB_POOL_PRE_PING") == "false", logical_id
                behind_proxy.append(logical_id)
            elif "SERVICEDESK_DATABASE_SECRET_ARN" in env:
                assert "SERVICEDESK_DB_POOL_PRE_PING" not in env, logical_id
                direct.append(logical_id)
        assert len(behind_proxy) >= len(CONSUMERS) + len(DOMAINS), behind_proxy
        assert direct, "the migrate function connects to the cluster directly"


def test_config_nat_gateways_are_one_per_az_at_most() -> None:
    assert load_config(App(context={**CONTEXT, "natGateways": "2"}).node).nat_gateway_count == 2
    for bad in ("0", "3"):
        with pytest.raises(ValueError, match="natGateways"):
            load_config(App(context={**CONTEXT, "natGateways": bad}).node)


# --- schedules ------------------------------------------------------------------------


def test_schedules_exist_for_existing_scheduled_functions(dev: Synthesized) -> None:
    """Every scheduled job has its schedule."""
    async_stack = dev.templates["Async"]
    schedules = _resources(async_stack, "AWS::Scheduler::Schedule")
    functions = _resources(async_stack, "AWS::Lambda::Function")
    dlq_arn = {"Fn::GetAtt": [_logical_id(dev.sd.asyncq.scheduler_dlq), "Arn"]}
    rates: dict[str, str] = {}
    for schedule in schedules.values():
        props = schedule["Properties"]
        target = props["Target"]
        assert target["DeadLetterConfig"] == {"Arn": dlq_arn}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
        assert props["State"] == "ENABLED"
        name = _service_of(functions[target["Arn"]["Fn::GetAtt"][0]])
        assert name is not None
        rates[name] = props["ScheduleExpression"]
    assert set(rates) == set(SCHEDULED_JOBS)
    assert rates["sla_evaluator"] == "rate(1 minute)"
    assert rates["outbox_sweeper"] == "rate(1 minute)"
    assert rates["report_scheduler"] == "rate(5 minutes)"
    async_stack.resource_count_is("AWS::Scheduler::ScheduleGroup", 1)
    # The evaluator has its own error alarm.
    dev.templates["Observability"].has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "Errors", "Namespace": "AWS/Lambda"}
    )


# --- realtime -------------------------------------------------------------------------


def _statements_by_function(
    synthesized: Synthesized, wanted: Any
) -> dict[str, list[dict[str, Any]]]:
    """function name -> identity-policy statements with an action matching ``wanted``."""
    roles = _roles_of_functions(synthesized.templates)
    found: dict[str, list[dict[str, Any]]] = {}
    for stack, _, policy in _all_resources(synthesized.templates, "AWS::IAM::Policy"):
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if any(wanted(a) for a in _as_list(statement["Action"])):
                for role in policy["Properties"].get("Roles", []):
                    name = roles.get((stack, role["Ref"]), role["Ref"])
                    found.setdefault(name, []).append(statement)
    return found


def test_only_the_discovery_job_assumes_roles_and_only_servicedesk_discovery_ones(
    dev: Synthesized,
) -> None:
    """Tenants' discovery roles (docs/cmdb.md, "AWS discovery"): sts:AssumeRole is the
    scheduled discovery's alone, on roles named servicedesk-discovery* of any account."""
    assumers = _statements_by_function(dev, lambda a: a == "sts:AssumeRole" or a == "sts:*")
    assert set(assumers) == {"cmdb_discovery"}
    [statement] = assumers["cmdb_discovery"]
    resource = json.dumps(statement["Resource"])
    assert ":iam::*:role/servicedesk-discovery*" in resource


def test_realtime_websocket_routes_and_route_response(dev: Synthesized) -> None:
    assert dev.sd.realtime is not None, "functions/ws_connect exists: the stack must too"
    realtime = dev.templates["Realtime"]
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in _resources(realtime, "AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    # $default answers on the caller's socket (route response), not through @connections.
    assert routes["$default"].get("RouteResponseSelectionExpression") == "$default"
    assert "RouteResponseSelectionExpression" not in routes["$connect"]
    realtime.resource_count_is("AWS::ApiGatewayV2::RouteResponse", 1)
    realtime.has_resource_properties("AWS::ApiGatewayV2::Stage", {"StageName": "ws"})
    mappings = _resources(realtime, "AWS::Lambda::EventSourceMapping")
    assert [m["Properties"]["FunctionResponseTypes"] for m in mappings.values()] == [
        ["ReportBatchItemFailures"]
    ]


def test_only_the_broadcaster_may_call_the_management_api(dev: Synthesized) -> None:
    managers = _statements_by_function(dev, lambda a: a.startswith("execute-api:") or a == "*")
    # The assistant streams its answer to the caller's own connections (docs/assistant.md).
    assert set(managers) == {"realtime_consumer", "assistant"}
    consumer = dev.sd.realtime.consumer if dev.sd.realtime else None
    assert consumer is not None
    env = dev.templates["Realtime"].to_json()["Resources"][_logical_id(consumer.function)]
    assert "SERVICEDESK_WEBSOCKET_MANAGEMENT_URL" in env["Properties"]["Environment"]["Variables"]


def test_the_broadcaster_reaches_the_public_management_api_through_nat(
    dev: Synthesized,
) -> None:
    """@connections has no VPC endpoint: the broadcaster runs in the egress subnets; the
    route handlers, which only read and write Postgres, stay isolated."""
    assert dev.sd.realtime is not None
    data = dev.templates["Data"].to_json()
    resources = dev.templates["Realtime"].to_json()["Resources"]
    kinds = {}
    for route, fn in dev.sd.realtime.functions.items():
        props = resources[_logical_id(fn.function)]["Properties"]
        subnets = [_data_ref(data, s) for s in props["VpcConfig"]["SubnetIds"]]
        kinds[route] = {_subnet_type(data["Resources"], s) for s in subnets}
    consumer = dev.sd.realtime.consumer
    assert consumer is not None
    props = resources[_logical_id(consumer.function)]["Properties"]
    subnets = [_data_ref(data, s) for s in props["VpcConfig"]["SubnetIds"]]
    kinds["realtime_consumer"] = {_subnet_type(data["Resources"], s) for s in subnets}
    assert kinds == {
        "$connect": {"Isolated"},
        "$disconnect": {"Isolated"},
        "$default": {"Isolated"},
        "realtime_consumer": {"Private"},
    }


def test_realtime_functions_get_only_what_their_route_needs(dev: Synthesized) -> None:
    secrets = _statements_by_function(dev, lambda a: a.startswith("secretsmanager:Get"))
    realtime_readers = {n for n in secrets if n.startswith(("ws_", "realtime_"))}
    assert realtime_readers == {"ws_connect"}  # the only one that verifies tokens
    senders = _statements_by_function(dev, lambda a: a == "sqs:SendMessage")
    realtime_senders = {n for n in senders if n.startswith(("ws_", "realtime_"))}
    # typing and presence, "left" for the tickets a closed tab showed, and the broadcaster's
    # fan-out chunks, to the realtime queue
    assert realtime_senders == {"ws_default", "ws_disconnect", "realtime_consumer"}


def test_the_broadcaster_sweeps_expired_connections_every_minute(dev: Synthesized) -> None:
    realtime = dev.templates["Realtime"]
    (schedule,) = _resources(realtime, "AWS::Scheduler::Schedule").values()
    assert schedule["Properties"]["ScheduleExpression"] == "rate(1 minute)"
    target_fn = schedule["Properties"]["Target"]["Arn"]["Fn::GetAtt"][0]
    functions = _resources(realtime, "AWS::Lambda::Function")
    assert _service_of(functions[target_fn]) == "realtime_consumer"


# --- cdk-nag --------------------------------------------------------------------------


def test_cdk_nag_reports_no_unacknowledged_findings(dev: Synthesized) -> None:
    app = dev.sd.data.node.scope
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


# --- environments ---------------------------------------------------------------------


def test_prod_app_synthesizes_with_the_nag_plugin(prod: Synthesized) -> None:
    """What app.py does with -c stage=prod: the plugin would have raised on any finding."""
    assert prod.sd.config.stage == "prod"
    assert prod.sd.config.preset == "prod"
    assert len(prod.templates) >= 5


def test_only_the_email_consumer_sends_mail_and_only_as_the_sender(
    dev: Synthesized, prod: Synthesized
) -> None:
    def senders(synthesized: Synthesized) -> dict[str, list[Any]]:
        roles = _roles_of_functions(synthesized.templates)
        found: dict[str, list[Any]] = {}
        for stack, _, policy in _all_resources(synthesized.templates, "AWS::IAM::Policy"):
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = _as_list(statement["Action"])
                if any(a.startswith("ses:") or a == "*" for a in actions):
                    for role in policy["Properties"]["Roles"]:
                        name = roles.get((stack, role["Ref"]), role["Ref"])
                        found.setdefault(name, []).extend(_as_list(statement["Resource"]))
        return found

    assert senders(dev) == {}  # no emailSender configured: nobody may send
    prod_senders = senders(prod)
    assert set(prod_senders) == {"email_consumer"}
    domain = PROD_EMAIL_SENDER.rsplit("@", 1)[1]
    rendered = json.dumps(prod_senders["email_consumer"])
    assert f":identity/{PROD_EMAIL_SENDER}" in rendered and f":identity/{domain}" in rendered
    email_fn = prod.sd.asyncq.functions["email_consumer"]
    env = prod.templates["Async"].to_json()["Resources"][_logical_id(email_fn.function)]
    assert env["Properties"]["Environment"]["Variables"]["SERVICEDESK_EMAIL_SENDER"] == (
        PROD_EMAIL_SENDER
    )


def test_config_presets_dev_and_prod() -> None:
    dev = load_config(App(context=CONTEXT).node)
    prod = load_config(App(context={**CONTEXT, "stage": "prod"}).node)
    assert (dev.stage, dev.preset, prod.stage, prod.preset) == ("dev", "dev", "prod", "prod")
    assert (dev.removal_policy, prod.removal_policy) == ("destroy", "retain")
    assert (dev.database_removal_policy, prod.database_removal_policy) == ("destroy", "snapshot")
    assert (dev.deletion_protection, prod.deletion_protection) == (False, True)
    assert dev.log_retention_days < prod.log_retention_days
    assert dev.aurora_max_acu < prod.aurora_max_acu
    assert prod.aurora_readers >= 1
    # Another stage may borrow the prod preset; any single value still overrides it.
    staging = load_config(App(context={**CONTEXT, "stage": "staging", "preset": "prod"}).node)
    assert (staging.stage, staging.deletion_protection, staging.aurora_readers) == (
        "staging",
        True,
        PRESETS["prod"]["auroraReaders"],
    )
    lean = load_config(App(context={**CONTEXT, "stage": "prod", "auroraReaders": "0"}).node)
    assert lean.aurora_readers == 0 and lean.deletion_protection
    # cdk.json's common object must not pin what the presets decide.
    assert not set(CONTEXT[CONTEXT_KEY]) & {k for p in PRESETS.values() for k in p}


def test_config_per_stage_context_object() -> None:
    context = {**CONTEXT, "stage": "prod", f"{CONTEXT_KEY}:prod": {"auroraMaxAcu": 32}}
    assert load_config(App(context=context).node).aurora_max_acu == 32


def _deletion_policies(templates: dict[str, Template], kind: str) -> set[str]:
    return {r.get("DeletionPolicy", "Delete") for _, _, r in _all_resources(templates, kind)}


def test_dev_and_prod_templates_differ_where_the_presets_say(
    dev: Synthesized, prod: Synthesized
) -> None:
    (dev_cluster,) = _resources(dev.templates["Data"], "AWS::RDS::DBCluster").values()
    (prod_cluster,) = _resources(prod.templates["Data"], "AWS::RDS::DBCluster").values()
    assert dev_cluster["DeletionPolicy"] == "Delete"
    assert dev_cluster["Properties"]["DeletionProtection"] is False
    assert prod_cluster["DeletionPolicy"] == "Snapshot"
    assert prod_cluster["Properties"]["DeletionProtection"] is True
    assert prod_cluster["Properties"]["BackupRetentionPeriod"] == 14
    assert prod_cluster["Properties"]["ServerlessV2ScalingConfiguration"]["MaxCapacity"] == 16
    assert len(_resources(prod.templates["Data"], "AWS::RDS::DBInstance")) == 2

    # Log groups: deleted with a dev stack, kept with a prod one; retention per preset.
    assert _deletion_policies(dev.templates, "AWS::Logs::LogGroup") == {"Delete"}
    assert _deletion_policies(prod.templates, "AWS::Logs::LogGroup") == {"Retain"}
    for synthesized in (dev, prod):
        days = {
            g["Properties"]["RetentionInDays"]
            for _, _, g in _all_resources(synthesized.templates, "AWS::Logs::LogGroup")
        }
        assert days == {synthesized.sd.config.log_retention_days}
    # The JWT signing key outlives a prod stack only.
    dev_secret = dev.templates["Api"].find_resources("AWS::SecretsManager::Secret")
    prod_secret = prod.templates["Api"].find_resources("AWS::SecretsManager::Secret")
    assert {r.get("DeletionPolicy") for r in dev_secret.values()} == {"Delete"}
    assert {r.get("DeletionPolicy") for r in prod_secret.values()} == {"Retain"}
    # The attachments bucket is customer data: retained in every stage.
    assert _deletion_policies(dev.templates, "AWS::S3::Bucket") == {"Retain"}
    assert _deletion_policies(prod.templates, "AWS::S3::Bucket") == {"Retain"}


def test_config_reads_context_object_and_cli_overrides() -> None:
    app = App(context={**CONTEXT, "stage": "prod", "auroraMaxAcu": "8", "alarmEmail": ""})
    config = load_config(app.node)
    assert config.stage == "prod"
    assert config.is_prod
    assert config.aurora_max_acu == 8
    assert config.alarm_email is None
    assert config.dlq_max_receive_count == CONTEXT["servicedesk"]["dlqMaxReceiveCount"]
    with pytest.raises(ValueError, match="auroraMinAcu"):
        load_config(App(context={"auroraMinAcu": "9", "auroraMaxAcu": "8"}).node)
    with pytest.raises(ValueError, match="oidc"):
        load_config(App(context={"oidcIssuer": "https://idp.example.com"}).node)


def test_identity_reaches_the_breached_password_range_api_through_nat(dev: Synthesized) -> None:
    """New passwords are checked against the range API (identity/breached.py): the identity
    function has its address and runs in the egress subnets; no other API function does."""
    data = dev.templates["Data"].to_json()
    resources = _api_resources(dev, "AWS::Lambda::Function")
    for name, fn in dev.sd.api.functions.items():
        if name == "authorizer":
            continue
        props = resources[_logical_id(fn.function)]["Properties"]
        env = props["Environment"]["Variables"]
        kinds = {
            _subnet_type(data["Resources"], _data_ref(data, s))
            for s in props["VpcConfig"]["SubnetIds"]
        }
        if name == "identity":
            assert env["SERVICEDESK_BREACHED_PASSWORDS_API_URL"] == "https://api.pwnedpasswords.com"
            assert kinds == {"Private"}
        else:
            assert "SERVICEDESK_BREACHED_PASSWORDS_API_URL" not in env, name


def test_identity_reaches_https_the_proxy_and_the_directories_only(
    dev: Synthesized, prod: Synthesized
) -> None:
    """The identity function has a security group of its own (not the shared database
    client group, which allows all outbound): HTTPS out, the RDS Proxy's port to the proxy,
    and with ``ldapDirectoryCidrs`` those networks on 636 and 389. It manages the service
    passwords under the identity secret prefix (with the sign-in providers' secrets)."""
    from tests.infra.conftest import PROD_DIRECTORY_CIDR

    for synthesized, directories in ((prod, [PROD_DIRECTORY_CIDR]), (dev, [])):
        data = synthesized.templates["Data"].to_json()["Resources"]
        groups = {
            key: r
            for key, r in data.items()
            if r["Type"] == "AWS::EC2::SecurityGroup"
            and r["Properties"]["GroupDescription"].startswith("Identity function")
        }
        assert len(groups) == 1
        (key, group) = next(iter(groups.items()))
        egress = group["Properties"]["SecurityGroupEgress"]
        assert sorted((e["CidrIp"], e["FromPort"], e["ToPort"]) for e in egress) == sorted(
            [("0.0.0.0/0", 443, 443)]
            + [(cidr, port, port) for cidr in directories for port in (389, 636)]
        )
        # The proxy's port, to the proxy's group only (a rule of its own: a group peer).
        to_proxy = [
            r["Properties"]
            for r in data.values()
            if r["Type"] == "AWS::EC2::SecurityGroupEgress"
            and r["Properties"]["GroupId"] == {"Fn::GetAtt": [key, "GroupId"]}
        ]
        assert [(p["FromPort"], p["ToPort"]) for p in to_proxy] == [(5432, 5432)]
        assert "DestinationSecurityGroupId" in to_proxy[0]
        api = synthesized.templates["Api"].to_json()["Resources"]
        identity = api[_logical_id(synthesized.sd.api.functions["identity"].function)]
        sg_ids = identity["Properties"]["VpcConfig"]["SecurityGroupIds"]
        assert len(sg_ids) == 1 and key in str(sg_ids[0])
    prod_api = prod.templates["Api"].to_json()["Resources"]
    identity = prod_api[_logical_id(prod.sd.api.functions["identity"].function)]
    env = identity["Properties"]["Environment"]["Variables"]
    assert env["SERVICEDESK_IDENTITY_SECRET_PREFIX"] == "servicedesk/prod/identity"
    assert "SERVICEDESK_MAIL_SECRET_PREFIX" not in env  # the doors' secrets are not its own


def test_every_stack_stays_below_cloudformations_resource_limit(
    prod: Synthesized, mail: Synthesized
) -> None:
    """CloudFormation refuses a template of more than 500 resources at deploy time, not at
    synth: this catches it in CI, with a margin for the next domain (the Api stack is the
    one that grows: a method, a resource and its CORS preflight per route level)."""
    for synthesized in (prod, mail):
        for name, template in synthesized.templates.items():
            count = len(template.to_json()["Resources"])
            assert count <= 480, f"{name}: {count} resources; split the stack before 500"
