"""WebSocket API ($connect / $disconnect / $default) for realtime pushes.

Built only once ``functions/ws_connect/handler.py`` exists (``build_realtime`` returns None until
then). The route handlers keep the connection registry in Postgres, so they run in the VPC and
reach RDS Proxy like the REST domain functions.
"""

from __future__ import annotations

from aws_cdk import CfnElement, Duration, Environment, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_apigatewayv2_integrations import WebSocketLambdaIntegration
from constructs import Construct

from stacks.config import DeploymentConfig
from stacks.constructs import DomainFunction, SharedLayers, function_exists
from stacks.constructs.domain_function import log_retention
from stacks.constructs.nag import acknowledge
from stacks.data import DataStack

# route key -> function name; a route is added when its handler exists.
WS_ROUTES: dict[str, str] = {
    "$connect": "ws_connect",
    "$disconnect": "ws_disconnect",
    "$default": "ws_default",
}
WS_STAGE = "ws"
# Pushes outbox "realtime" events to subscribed connections (created when its handler exists).
CONSUMER = "realtime_consumer"


class RealtimeStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        data: DataStack,
        queue: sqs.IQueue,
        env: Environment | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description="Servicedesk WebSocket API")
        layers = SharedLayers(self, "Layers")
        self.functions: dict[str, DomainFunction] = {}
        for route, fn_name in WS_ROUTES.items():
            if not function_exists(fn_name):
                continue
            fn = DomainFunction(
                self,
                "".join(p.capitalize() for p in fn_name.split("_")),
                name=fn_name,
                config=config,
                layers=layers,
                environment=data.db_environment(),
                vpc=data.vpc,
                security_groups=[data.db_client_sg],
                reserved_concurrency=config.reserved_concurrency,
            )
            data.grant_db_connect(fn.role)
            self.functions[route] = fn

        route_options = {
            key: apigwv2.WebSocketRouteOptions(
                integration=WebSocketLambdaIntegration(f"{key[1:]}Integration", fn.function)
            )
            for key, fn in self.functions.items()
        }
        self.api = apigwv2.WebSocketApi(
            self,
            "WebSocketApi",
            api_name=f"servicedesk-{config.stage}-ws",
            connect_route_options=route_options.get("$connect"),
            disconnect_route_options=route_options.get("$disconnect"),
            default_route_options=route_options.get("$default"),
        )
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(config.log_retention_days),
            removal_policy=config.removal,
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=WS_STAGE,
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
        # The $default handler answers subscribe/unsubscribe messages on the socket.
        if "$default" in self.functions:
            self._grant_push(self.functions["$default"])

        # NOTE: @connections is a public endpoint; from isolated subnets it needs a NAT
        # gateway (there is no VPC endpoint for the management API). Open item.
        self.consumer: DomainFunction | None = None
        if function_exists(CONSUMER):
            self.consumer = DomainFunction(
                self,
                "RealtimeConsumer",
                name=CONSUMER,
                config=config,
                layers=layers,
                environment=data.db_environment(),
                vpc=data.vpc,
                security_groups=[data.db_client_sg],
                timeout=Duration.seconds(60),
                reserved_concurrency=config.reserved_concurrency,
            )
            data.grant_db_connect(self.consumer.role)
            self.consumer.function.add_event_source(
                event_sources.SqsEventSource(queue, batch_size=10, report_batch_item_failures=True)
            )
            self._grant_push(self.consumer)

    def _grant_push(self, fn: DomainFunction) -> None:
        self.grant_manage_connections(fn.role)
        fn.function.add_environment("SERVICEDESK_WEBSOCKET_CALLBACK_URL", self.callback_url)

        acknowledge(
            self.api,
            {
                "AwsSolutions-APIG4": "$connect verifies the JWT (query string) in ws_connect "
                "and rejects the upgrade; later frames ride the authenticated connection.",
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
        api_id = self.get_logical_id(api_resource)
        acknowledge(
            role,
            {
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:"
                f"<AWS::AccountId>:<{api_id}>/*/*/@connections/*]": "Connection ids are "
                "created at runtime; the grant is limited to this API's @connections.",
            },
        )


def build_realtime(
    scope: Construct,
    construct_id: str,
    *,
    config: DeploymentConfig,
    data: DataStack,
    queue: sqs.IQueue,
    env: Environment | None = None,
) -> RealtimeStack | None:
    """The realtime stack, or None while ``functions/ws_connect/handler.py`` is not written."""
    if not function_exists(WS_ROUTES["$connect"]):
        # Placeholder: no WebSocket API until the $connect handler exists. Nothing to build.
        return None
    return RealtimeStack(scope, construct_id, config=config, data=data, queue=queue, env=env)
