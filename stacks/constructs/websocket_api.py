"""``WebSocketApi``: the WebSocket API ($connect / $disconnect / $default to their functions),
its throttled stage with access logs, and the @connections management grant."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnElement, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.aws_apigatewayv2_integrations import WebSocketLambdaIntegration

from stacks.config import DeploymentConfig
from stacks.constructs.domain_function import log_group
from stacks.constructs.nag import acknowledge


class WebSocketApi:
    """Built in ``stack``'s own scope (stacks/constructs/__init__.py says why)."""

    def __init__(
        self,
        stack: Stack,
        *,
        config: DeploymentConfig,
        stage_name: str,
        routes: Mapping[str, lambda_.IFunction],
    ) -> None:
        self._stack = stack
        route_options = {
            key: apigwv2.WebSocketRouteOptions(
                integration=WebSocketLambdaIntegration(f"{key[1:]}Integration", function),
                # $default replies (acks, errors) travel as its route response.
                return_response=key == "$default" or None,
            )
            for key, function in routes.items()
        }
        self.api = apigwv2.WebSocketApi(
            stack,
            "WebSocketApi",
            api_name=f"servicedesk-{config.stage}-ws",
            connect_route_options=route_options.get("$connect"),
            disconnect_route_options=route_options.get("$disconnect"),
            default_route_options=route_options.get("$default"),
        )
        access_logs = log_group(stack, "AccessLogs", config)
        self.stage = apigwv2.WebSocketStage(
            stack,
            "Stage",
            web_socket_api=self.api,
            stage_name=stage_name,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.api_throttle_rate_limit,
                burst_limit=config.api_throttle_burst_limit,
            ),
        )
        cfn_stage = self.stage.node.default_child
        if isinstance(cfn_stage, apigwv2.CfnStage):
            cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
                destination_arn=access_logs.log_group_arn,
                format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=False,
                    ip=True,
                    protocol=False,
                    request_time=True,
                    resource_path=False,
                    response_length=False,
                    status=True,
                    user=False,
                ).to_string(),
            )
        acknowledge(
            self.api,
            {
                "AwsSolutions-APIG4": "$connect verifies the JWT (subprotocol or query string) "
                "in ws_connect and rejects the upgrade; later frames ride the authenticated "
                "connection, looked up by its id.",
            },
        )

    @property
    def callback_url(self) -> str:
        """HTTPS endpoint of the @connections management API."""
        return self.stage.callback_url

    def grant_manage_connections(self, role: iam.Role) -> None:
        """POST/GET/DELETE on @connections of this API (push to any connection)."""
        self.api.grant_manage_connections(role)
        api_resource = self.api.node.default_child
        if not isinstance(api_resource, CfnElement):  # pragma: no cover
            msg = "WebSocket API has no CloudFormation resource"
            raise TypeError(msg)
        api_id = self._stack.get_logical_id(api_resource)
        acknowledge(
            role,
            {
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:"
                f"<AWS::AccountId>:<{api_id}>/*/*/@connections/*]": "Connection ids are "
                "created at runtime; the grant is limited to this API's @connections.",
            },
        )
