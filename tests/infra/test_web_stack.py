"""The web stack: the built app behind CloudFront, /v1 on the same origin, strict headers."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

from stacks.web import API_PATH, content_security_policy
from tests.infra.conftest import Synthesized


def _one(template: Template, kind: str) -> dict[str, Any]:
    found = template.find_resources(kind)
    assert len(found) == 1, f"{kind}: {list(found)}"
    return dict(next(iter(found.values())))


def test_api_is_served_on_the_same_origin_uncached(dev: Synthesized) -> None:
    config = _one(dev.templates["Web"], "AWS::CloudFront::Distribution")["Properties"][
        "DistributionConfig"
    ]
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    api = behaviors[API_PATH]
    assert api["AllowedMethods"] == ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
    assert api["ViewerProtocolPolicy"] == "https-only"
    # CachingDisabled and AllViewerExceptHostHeader (managed policies).
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert api["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    api_origin = next(o for o in config["Origins"] if o["Id"] == api["TargetOriginId"])
    assert "execute-api" in json.dumps(api_origin["DomainName"])
    default = config["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["FunctionAssociations"][0]["EventType"] == "viewer-request"
    assert config["DefaultRootObject"] == "index.html"
    assert config["Logging"]["Prefix"] == "cloudfront/"


def test_site_bucket_is_private_behind_origin_access_control(dev: Synthesized) -> None:
    template = dev.templates["Web"]
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LoggingConfiguration": {"LogFilePrefix": "web/"},
        },
    )
    template.resource_count_is("AWS::CloudFront::OriginAccessControl", 1)
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {"Service": "cloudfront.amazonaws.com"},
                                "Action": "s3:GetObject",
                            }
                        )
                    ]
                )
            }
        },
    )


def test_every_answer_carries_the_security_headers(dev: Synthesized) -> None:
    policy = _one(dev.templates["Web"], "AWS::CloudFront::ResponseHeadersPolicy")
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = json.dumps(headers["ContentSecurityPolicy"])
    for directive in ("frame-ancestors 'none'", "script-src 'self'", "style-src 'self'"):
        assert directive in csp
    assert "wss://" in csp  # the WebSocket API, for the live updates
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ContentTypeOptions"]["Override"] is True
    config = _one(dev.templates["Web"], "AWS::CloudFront::Distribution")["Properties"]
    behaviors = [config["DistributionConfig"]["DefaultCacheBehavior"]]
    behaviors += config["DistributionConfig"]["CacheBehaviors"]
    assert all("ResponseHeadersPolicyId" in b for b in behaviors)


def test_runtime_config_is_answered_at_the_edge_without_a_lambda(dev: Synthesized) -> None:
    template = dev.templates["Web"]
    template.resource_count_is("AWS::Lambda::Function", 0)
    function = _one(template, "AWS::CloudFront::Function")["Properties"]
    code = json.dumps(function["FunctionCode"])
    assert "/config.json" in code
    assert "websocketUrl" in code
    assert "execute-api" in code  # the WebSocket API's URL, resolved at deploy time
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    outputs = template.find_outputs("*")
    assert {"WebUrl", "SiteBucket", "DistributionId"} <= set(outputs)


def test_csp_allows_only_what_the_app_talks_to() -> None:
    csp = content_security_policy(
        websocket_origin="wss://x.execute-api.eu-west-1.amazonaws.com",
        upload_origins=["https://b.s3.amazonaws.com"],
    )
    directives = dict(d.split(" ", 1) for d in csp.split("; ") if " " in d)
    assert directives["connect-src"] == (
        "'self' https://b.s3.amazonaws.com wss://x.execute-api.eu-west-1.amazonaws.com"
    )
    assert directives["default-src"] == "'self'"
    # The logo redirects to the attachments bucket (servicedesk/branding/routes.py).
    assert directives["img-src"] == "'self' data: blob: https://b.s3.amazonaws.com"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
