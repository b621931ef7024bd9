"""Inbound e-mail infrastructure (stacks/mail.py): SES receiving into the mail bucket, the
topic and the intake queue, the intake and IMAP-poller functions, and what every function
that touches inbound mail may do (least privilege)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Match
from cdk_nag import AwsSolutionsChecks

from stacks import build_app
from stacks.constructs.domain_function import FUNCTIONS_DIR
from stacks.mail import INTAKE, POLLER
from tests.infra.conftest import (
    CONTEXT,
    MAIL_DOMAIN,
    MAIL_FORWARDED_DOMAIN,
    Synthesized,
    template_key,
)
from tests.infra.test_stacks import (
    _all_resources,
    _as_list,
    _logical_id,
    _resources,
    _roles_of_functions,
)

pytestmark = pytest.mark.infra

INTAKE_EXISTS = (FUNCTIONS_DIR / INTAKE / "handler.py").is_file()


def _statements(sd: Synthesized) -> dict[str, list[dict[str, Any]]]:
    """Function name -> the statements of its role's identity policies."""
    roles = _roles_of_functions(sd.templates)
    found: dict[str, list[dict[str, Any]]] = {}
    for stack, _, policy in _all_resources(sd.templates, "AWS::IAM::Policy"):
        for role in policy["Properties"].get("Roles", []):
            name = roles.get((stack, role.get("Ref")))
            if name is not None:
                found.setdefault(name, []).extend(
                    policy["Properties"]["PolicyDocument"]["Statement"]
                )
    return found


def _grants(statements: list[dict[str, Any]], prefix: str) -> dict[str, set[str]]:
    """Action (of a service) -> the resources it is allowed on, rendered."""
    grants: dict[str, set[str]] = {}
    for statement in statements:
        for action in _as_list(statement["Action"]):
            if action.startswith(prefix) or action == "*":
                grants.setdefault(action, set()).add(json.dumps(statement["Resource"]))
    return grants


def _mail_secret_grants(statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The Secrets Manager grants on the doors' secrets (the JWT secret's are elsewhere)."""
    grants = _grants(statements, "secretsmanager:")
    return {
        a: {r for r in rs if "/mail/" in r}
        for a, rs in grants.items()
        if any("/mail/" in r for r in rs)
    }


def _env(sd: Synthesized, fn: Any) -> dict[str, Any]:
    resource = sd.templates[template_key(fn.function)].to_json()["Resources"][
        _logical_id(fn.function)
    ]
    return dict(resource["Properties"]["Environment"]["Variables"])


def test_without_an_inbound_domain_nothing_inbound_is_created(dev: Synthesized) -> None:
    assert dev.sd.mail is None and "Mail" not in dev.templates
    for template in dev.templates.values():
        assert not template.find_resources("AWS::SES::ReceiptRuleSet")
        assert not template.find_resources("AWS::SES::ReceiptRule")
    env = _env(dev, dev.sd.api.functions["webhooks"])
    assert "SERVICEDESK_EMAIL_INTAKE_QUEUE_URL" not in env
    assert not any("-mail-" in json.dumps(s) for s in _statements(dev).get("webhooks", []))


def test_a_receipt_rule_per_domain_stores_under_inbound_ses_and_notifies_the_topic(
    mail: Synthesized,
) -> None:
    template = mail.templates["Mail"]
    stack = mail.sd.mail
    assert stack is not None
    template.has_resource_properties(
        "AWS::SES::ReceiptRuleSet", {"RuleSetName": "servicedesk-prod"}
    )
    rules = _resources(template, "AWS::SES::ReceiptRule")
    by_domain = {r["Properties"]["Rule"]["Recipients"][0]: r["Properties"] for r in rules.values()}
    assert set(by_domain) == {MAIL_DOMAIN, MAIL_FORWARDED_DOMAIN}
    topic = _logical_id(stack.topic)
    for props in by_domain.values():
        rule = props["Rule"]
        assert rule["Enabled"] is True and rule["ScanEnabled"] is True
        [action] = rule["Actions"]
        assert action["S3Action"]["ObjectKeyPrefix"] == "inbound/ses/"
        assert action["S3Action"]["TopicArn"] == {"Ref": topic}
        assert "Fn::Join" in json.dumps(action["S3Action"]["BucketName"]) or action["S3Action"][
            "BucketName"
        ] == {"Ref": _logical_id(stack.bucket)}


def test_the_mail_bucket_is_private_encrypted_unversioned_and_expires_raw_mail(
    mail: Synthesized,
) -> None:
    template = mail.templates["Mail"]
    stack = mail.sd.mail
    assert stack is not None
    bucket = _resources(template, "AWS::S3::Bucket")[_logical_id(stack.bucket)]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "VersioningConfiguration" not in bucket
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    expiry = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}["expire-raw-mail"]
    assert (expiry["Prefix"], expiry["ExpirationInDays"]) == ("inbound/", 7)
    assert "LoggingConfiguration" in bucket
    [policy] = _resources(template, "AWS::S3::BucketPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    ses = [s for s in statements if s.get("Principal") == {"Service": "ses.amazonaws.com"}]
    assert len(ses) == 1
    assert ses[0]["Action"] == "s3:PutObject" and ses[0]["Effect"] == "Allow"
    assert "inbound/ses/*" in json.dumps(ses[0]["Resource"])
    assert ses[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    tls = [s for s in statements if s["Effect"] == "Deny"]
    assert tls and tls[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_topic_is_encrypted_and_feeds_the_intake_queue_which_has_a_dlq(
    mail: Synthesized,
) -> None:
    template = mail.templates["Mail"]
    stack = mail.sd.mail
    assert stack is not None
    topic = _resources(template, "AWS::SNS::Topic")[_logical_id(stack.topic)]["Properties"]
    assert "KmsMasterKeyId" in topic
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "sqs",
            "TopicArn": {"Ref": _logical_id(stack.topic)},
            "Endpoint": {"Fn::GetAtt": [_logical_id(stack.queue), "Arn"]},
        },
    )
    [topic_policy] = _resources(template, "AWS::SNS::TopicPolicy").values()
    publish = [
        s
        for s in topic_policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "ses.amazonaws.com"}
    ]
    assert publish and publish[0]["Action"] == "sns:Publish"
    assert "aws:SourceAccount" in json.dumps(publish[0]["Condition"])
    queue = _resources(template, "AWS::SQS::Queue")[_logical_id(stack.queue)]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": [_logical_id(stack.dlq), "Arn"]
    }
    assert queue["SqsManagedSseEnabled"] is True
    # The queue admits the topic only.
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in _resources(template, "AWS::SQS::QueuePolicy").values()
        if {"Ref": _logical_id(stack.queue)} in p["Properties"]["Queues"]
    ]
    sends = [s for statements in policies for s in statements if s["Effect"] == "Allow"]
    assert sends and all(s["Principal"] == {"Service": "sns.amazonaws.com"} for s in sends)
    assert all(
        s["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Ref": _logical_id(stack.topic)}
        for s in sends
    )


def test_the_intake_queue_and_the_dlqs_are_alarmed(mail: Synthesized) -> None:
    stack = mail.sd.mail
    assert stack is not None
    alarms = _resources(mail.templates["Observability"], "AWS::CloudWatch::Alarm")
    described = {a["Properties"]["AlarmDescription"]: a["Properties"] for a in alarms.values()}
    assert any(d.startswith("intake queue: oldest message") for d in described)
    assert any(d.startswith("intake DLQ holds messages") for d in described)
    assert any(d.startswith("imap DLQ holds messages") for d in described)
    for props in described.values():
        assert props["AlarmActions"]


@pytest.mark.skipif(not INTAKE_EXISTS, reason="h-mailin's functions/email_intake not merged")
def test_the_intake_consumes_the_queue_reads_the_bucket_and_writes_attachments(
    mail: Synthesized,
) -> None:
    stack = mail.sd.mail
    assert stack is not None
    fn = stack.functions[INTAKE]
    template = mail.templates["Mail"]
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": _logical_id(fn.function)},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )
    resource = template.to_json()["Resources"][_logical_id(fn.function)]["Properties"]
    assert resource["Handler"] == "handler.handler"
    assert "SubnetIds" in json.dumps(resource["VpcConfig"])
    env = resource["Environment"]["Variables"]
    assert env["SERVICEDESK_EMAIL_SENDER"] == mail.sd.config.email_sender
    assert env["SERVICEDESK_EMAIL_INBOUND_DOMAIN"] == MAIL_DOMAIN
    assert "SERVICEDESK_ATTACHMENTS_BUCKET" in env and "SERVICEDESK_EMAIL_QUEUE_URL" in env
    grants = _grants(_statements(mail)[INTAKE], "s3:")
    assert set(grants) >= {"s3:GetObject", "s3:PutObject"}
    assert all("-mail-" not in r or r.endswith('/inbound/*"]]}') for r in grants["s3:GetObject"])
    assert not any("-mail-" in r for r in grants["s3:PutObject"])  # attachments only


def test_without_the_intake_entry_point_no_consumer_is_built(mail: Synthesized) -> None:
    stack = mail.sd.mail
    assert stack is not None
    assert (INTAKE in stack.functions) == INTAKE_EXISTS
    mappings = _resources(mail.templates["Mail"], "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == int(INTAKE_EXISTS)


def test_the_poller_runs_on_a_schedule_in_the_egress_subnets_with_least_privilege(
    mail: Synthesized,
) -> None:
    stack = mail.sd.mail
    assert stack is not None
    fn = stack.functions[POLLER]
    template = mail.templates["Mail"]
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "GroupName": Match.any_value(),
            "ScheduleExpression": "rate(5 minutes)",
            "Target": Match.object_like({"Arn": {"Fn::GetAtt": [_logical_id(fn.function), "Arn"]}}),
        },
    )
    template.has_resource_properties(
        "AWS::Scheduler::ScheduleGroup", {"Name": "servicedesk-prod-mail"}
    )
    resource = template.to_json()["Resources"][_logical_id(fn.function)]["Properties"]
    assert resource["Handler"] == "handler.handler"
    assert resource["ReservedConcurrentExecutions"] == 1
    statements = _statements(mail)[POLLER]
    s3 = _grants(statements, "s3:")
    assert set(s3) == {"s3:PutObject"}
    [resources] = s3.values()
    assert "/inbound/imap/*" in resources.pop() and not resources
    secrets = _grants(statements, "secretsmanager:")
    assert set(secrets) == {"secretsmanager:GetSecretValue"}
    assert all(
        ":secret:servicedesk/prod/mail/*" in r for r in secrets["secretsmanager:GetSecretValue"]
    )
    sqs = _grants(statements, "sqs:")
    assert all(_logical_id(stack.queue) in r for rs in sqs.values() for r in rs)
    assert "sqs:ReceiveMessage" not in sqs
    env = _env(mail, fn)
    assert env["SERVICEDESK_EMAIL_INBOUND_DOMAIN"] == MAIL_DOMAIN
    assert env["SERVICEDESK_MAIL_SECRET_PREFIX"] == "servicedesk/prod/mail"


def test_the_poller_and_the_mail_api_reach_the_internet_the_hook_does_not(
    mail: Synthesized,
) -> None:
    """Egress subnets (NAT) for what connects to tenants' IMAP servers; isolated otherwise."""

    def subnets(fn: Any) -> str:
        resource = mail.templates[template_key(fn.function)].to_json()["Resources"][
            _logical_id(fn.function)
        ]
        return json.dumps(resource["Properties"]["VpcConfig"]["SubnetIds"])

    mail_stack = mail.sd.mail
    assert mail_stack is not None
    for fn in (mail_stack.functions[POLLER], mail.sd.api.functions["mail"]):
        rendered = subnets(fn)
        assert "Vpcegress" in rendered and "Vpcisolated" not in rendered
    for name in ("webhooks", "tickets"):
        rendered = subnets(mail.sd.api.functions[name])
        assert "Vpcisolated" in rendered and "Vpcegress" not in rendered


def test_the_hook_deposits_and_reads_secrets_the_mail_api_manages_them(
    mail: Synthesized,
) -> None:
    statements = _statements(mail)
    hook = statements["webhooks"]
    s3 = _grants(hook, "s3:")
    assert set(s3) == {"s3:PutObject"} and all("/inbound/hook/*" in r for r in s3["s3:PutObject"])
    assert set(_mail_secret_grants(hook)) == {"secretsmanager:GetSecretValue"}
    api = statements["mail"]
    assert set(_mail_secret_grants(api)) == {
        "secretsmanager:GetSecretValue",
        "secretsmanager:CreateSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:DeleteSecret",
        "secretsmanager:TagResource",
    }
    assert all(
        ":secret:servicedesk/prod/mail/*" in r
        for rs in _mail_secret_grants(api).values()
        for r in rs
    )
    # Held mail: the API reads originals (inbound/* only) and, when staff accept a message,
    # stores its files as attachments; it never writes the mail bucket.
    api_s3 = _grants(api, "s3:")
    mail_reads = {r for action, rs in api_s3.items() for r in rs if "-mail-" in r}
    assert mail_reads and all("/inbound/*" in r for r in mail_reads)
    assert {a for a, rs in api_s3.items() if any("-mail-" in r for r in rs)} == {"s3:GetObject"}
    assert all("-att-" in r for r in api_s3["s3:PutObject"])
    env = _env(mail, mail.sd.api.functions["webhooks"])
    assert env["SERVICEDESK_EMAIL_INBOUND_DOMAIN"] == MAIL_DOMAIN
    assert "SERVICEDESK_EMAIL_INTAKE_QUEUE_URL" in env
    # Nobody else writes the mail bucket or reads the doors' secrets.
    for name, found in statements.items():
        rendered = json.dumps(found)
        if "-mail-" in rendered:
            assert name in {"webhooks", POLLER, INTAKE, "mail"}, name
        if "secretsmanager" in rendered and "/mail/" in rendered:
            assert name in {"webhooks", POLLER, "mail"}, name


def test_the_binary_bodies_of_the_hooks_reach_the_functions_intact(mail: Synthesized) -> None:
    [api] = _resources(mail.templates["Api"], "AWS::ApiGateway::RestApi").values()
    assert set(api["Properties"]["BinaryMediaTypes"]) >= {
        "multipart/form-data",
        "message/rfc822",
    }


def test_cdk_nag_reports_no_unacknowledged_findings_with_inbound_mail(
    mail: Synthesized,
) -> None:
    app = mail.sd.data.node.scope
    assert app is not None
    report = AwsSolutionsChecks().validate_scope(app)
    findings = [
        f"{v.severity} {v.rule_name}: {[r.construct_path for r in v.violating_resources]}"
        for v in report.violations
    ]
    assert findings == []


def test_hooks_and_imap_only_without_ses_receiving(tmp_path: Any) -> None:
    app = App(
        context={**CONTEXT, "inboundMailDomain": MAIL_DOMAIN, "sesReceivingDomains": []},
        outdir=str(tmp_path),
    )
    sd = build_app(app, nag=False)
    assert sd.mail is not None and sd.mail.rule_set is None
    template = sd.mail.node.scope
    assert template is not None
    from aws_cdk.assertions import Template

    mail_template = Template.from_stack(sd.mail)
    assert not mail_template.find_resources("AWS::SES::ReceiptRule")
    assert mail_template.find_resources("AWS::SQS::Queue")


@pytest.mark.parametrize(
    "context",
    [
        {"inboundMailDomain": "Not A Domain"},
        {"inboundMailDomain": MAIL_DOMAIN, "sesReceivingDomains": ["UPPER.example.com"]},
        {"inboundMailDomain": MAIL_DOMAIN, "imapPollMinutes": 1},
    ],
)
def test_inbound_mail_context_is_validated(context: dict[str, Any]) -> None:
    from pydantic import ValidationError

    from stacks.config import load_config

    app = App(context={**CONTEXT, **context})
    with pytest.raises(ValidationError):
        load_config(app.node)


def test_whoever_signs_or_checks_mailed_links_has_the_mail_key(mail: Synthesized) -> None:
    """Reply addresses, unsubscribe links and magic links are signed with one generated
    secret (the Data stack's MailKey): without it outside dev/test no Reply-To or magic
    link is made and no reply token is checked, so each function that signs (the e-mail
    consumer) or checks (the intake, every API function) gets its ARN, read access and
    the reply domain."""
    [key] = [
        logical
        for logical, r in _resources(mail.templates["Data"], "AWS::SecretsManager::Secret").items()
        if logical.startswith("MailKey")
    ]
    statements = _statements(mail)
    functions = [
        (mail.sd.asyncq.functions["email_consumer"], "email_consumer"),
        (mail.sd.mail.functions[INTAKE], INTAKE),  # type: ignore[union-attr]
        *((fn, name) for name, fn in mail.sd.api.functions.items() if name != "authorizer"),
    ]
    for fn, name in functions:
        env = _env(mail, fn)
        assert "SERVICEDESK_EMAIL_TOKEN_SECRET_ARN" in env, name
        assert env["SERVICEDESK_EMAIL_REPLY_DOMAIN"] == MAIL_DOMAIN, name
        assert "secretsmanager:GetSecretValue" in _grants(statements[name], "secretsmanager:"), name
    assert key in json.dumps(statements["email_consumer"])  # how a grant names it
    # Nothing else reads it: the realtime and webhook consumers, the authorizer, the poller.
    for name in ("webhook_consumer", "realtime_consumer", "authorizer", POLLER):
        assert key not in json.dumps(statements.get(name, [])), name


def test_only_the_identity_function_reads_the_mfa_key(mail: Synthesized) -> None:
    """Two-step verification's key (the Data stack's MfaKey: TOTP secrets encrypted, the
    second-step tokens signed) is the identity function's alone."""
    [key] = [
        logical
        for logical, r in _resources(mail.templates["Data"], "AWS::SecretsManager::Secret").items()
        if logical.startswith("MfaKey")
    ]
    statements = _statements(mail)
    for name, fn in mail.sd.api.functions.items():
        env = _env(mail, fn)
        if name == "identity":
            assert "SERVICEDESK_MFA_SECRET_KEY_SECRET_ARN" in env
            assert key in json.dumps(statements[name])
        else:
            assert "SERVICEDESK_MFA_SECRET_KEY_SECRET_ARN" not in env, name
            assert key not in json.dumps(statements.get(name, [])), name
