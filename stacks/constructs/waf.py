"""``ApiWaf``: the regional WAF web ACL (per-IP rate limit, AWS managed rule groups) on the
REST API's stage."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2

from stacks.config import DeploymentConfig
from stacks.constructs.nag import acknowledge


class ApiWaf:
    """Built in ``stack``'s own scope (stacks/constructs/__init__.py says why).

    With ``wafEnabled`` off, nothing is created and cdk-nag's finding is acknowledged.
    """

    def __init__(self, stack: Stack, *, config: DeploymentConfig, api: apigw.RestApi) -> None:
        self.web_acl: wafv2.CfnWebACL | None = None
        if not config.waf_enabled:
            acknowledge(
                api,
                {"AwsSolutions-APIG3": "WAF turned off for this stage (context wafEnabled)."},
            )
            return
        self.web_acl = wafv2.CfnWebACL(
            stack,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"servicedesk-{config.stage}-api"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="PerIpRateLimit",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP", limit=config.waf_rate_limit_per_5min
                        )
                    ),
                    visibility_config=_visibility("PerIpRateLimit"),
                ),
                # Ticket text legitimately holds code, markup and logs, and bodies up to the
                # app's own limit: those two rules only count.
                _managed(
                    "AWSManagedRulesCommonRuleSet",
                    1,
                    count=("SizeRestrictions_BODY", "CrossSiteScripting_BODY"),
                ),
                _managed("AWSManagedRulesKnownBadInputsRuleSet", 2),
            ],
        )
        wafv2.CfnWebACLAssociation(
            stack,
            "WebAclAssociation",
            resource_arn=api.deployment_stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )


def _managed(name: str, priority: int, count: Sequence[str] = ()) -> wafv2.CfnWebACL.RuleProperty:
    """An AWS managed rule group, with the rules in ``count`` only counted, not blocked."""
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=name,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule,
                        action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}),
                    )
                    for rule in count
                ]
                or None,
            )
        ),
        visibility_config=_visibility(name),
    )


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )
