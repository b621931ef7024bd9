"""Tracing and log retention for the Lambda functions CDK itself adds.

Two kinds appear in this app: the ``custom_resources.Provider`` framework function
(``lambda_.Function``; its log group is passed to the Provider) and singleton
``CustomResourceProvider`` handlers such as the VPC's restrict-default-security-group one
(a raw ``AWS::Lambda::Function`` whose log group Lambda would create with no expiry).
"""

from __future__ import annotations

from aws_cdk import CfnResource, CustomResourceProviderBase, Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import IConstruct

from stacks.config import DeploymentConfig
from stacks.constructs.domain_function import log_group

XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]


def trace_provider_framework(provider: cr.Provider) -> None:
    """Active X-Ray tracing on the Provider framework's onEvent function."""
    on_event = provider.node.find_child("framework-onEvent")
    if not isinstance(on_event, lambda_.Function):  # pragma: no cover - CDK internals moved
        msg = f"{provider.node.path}: no framework-onEvent function"
        raise TypeError(msg)
    on_event.add_to_role_policy(iam.PolicyStatement(actions=XRAY_ACTIONS, resources=["*"]))
    cfn = on_event.node.default_child
    if isinstance(cfn, lambda_.CfnFunction):
        cfn.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")


def harden_singleton_provider(
    stack: Stack,
    provider_id: str,
    *,
    users: list[IConstruct],
    config: DeploymentConfig,
) -> logs.LogGroup | None:
    """Tracing and a retained-for-N-days log group for a ``CustomResourceProvider``.

    The log group is named after the handler (``/aws/lambda/<function name>``) and every
    custom resource in ``users`` waits for it, so Lambda never creates it first.
    """
    provider = stack.node.try_find_child(provider_id)
    if not isinstance(provider, CustomResourceProviderBase):
        return None
    handler = provider.node.find_child("Handler")
    if not isinstance(handler, CfnResource):  # pragma: no cover - CDK internals moved
        msg = f"{provider.node.path}: no Handler resource"
        raise TypeError(msg)
    provider.add_to_role_policy({"Effect": "Allow", "Action": XRAY_ACTIONS, "Resource": "*"})
    handler.add_property_override("TracingConfig", {"Mode": "Active"})
    group = log_group(
        stack,
        f"{provider_id.removeprefix('Custom::')}Logs",
        config,
        name=Fn.join("", ["/aws/lambda/", handler.ref]),
    )
    for user in users:
        user.node.add_dependency(group)
    return group
