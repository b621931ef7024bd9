"""WebSocket API ($connect / $disconnect / $default) for realtime pushes.

The route handlers keep the connection registry in Postgres, so they run in the VPC and
reach RDS Proxy like the REST domain functions.

Least privilege: only the broadcaster (``realtime_consumer``) may call the @connections
management API. ``$default`` answers on the caller's own socket through its route response
(no management call), and hands typing indicators to the realtime queue for the
broadcaster to fan out. ``$connect`` alone reads the JWT signing key. EventBridge Scheduler
invokes the broadcaster every minute to close expired connections (same function, so the
ManageConnections grant stays with one role).
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.config import DeploymentConfig
from stacks.constructs import DomainFunction, SharedLayers
from stacks.constructs.jwt_auth import jwt_environment
from stacks.constructs.schedules import acknowledge_invoke, scheduler_role
from stacks.constructs.websocket_api import WebSocketApi
from stacks.data import DataStack

# route key -> function name; a route is added when its handler exists.
WS_ROUTES: dict[str, str] = {
    "$connect": "ws_connect",
    "$disconnect": "ws_disconnect",
    "$default": "ws_default",
}
WS_STAGE = "ws"
# Pushes outbox "realtime" events to subscribed connections.
CONSUMER = "realtime_consumer"
# How often the broadcaster sweeps expired connections. A missed run is caught by the next
# one (and the broadcaster closes any expired connection an event reaches meanwhile).
SWEEP_RATE = Duration.minutes(1)


def websocket_api_export(config: DeploymentConfig) -> str:
    return f"{config.prefix}-WebSocketApiId"


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
        self._grant_verify_tokens(self.functions["$connect"], config)
        # Typing and presence go to the broadcaster through the realtime queue ($disconnect:
        # "left" for the tickets a closed tab showed).
        for route in ("$default", "$disconnect"):
            fn = self.functions[route]
            queue.grant_send_messages(fn.role)
            fn.function.add_environment("SERVICEDESK_REALTIME_QUEUE_URL", queue.queue_url)

        self.websocket = WebSocketApi(
            self,
            config=config,
            stage_name=WS_STAGE,
            routes={key: fn.function for key, fn in self.functions.items()},
        )
        self.api = self.websocket.api
        self.stage = self.websocket.stage
        # Exported by a fixed name: the assistant (Api stack) posts to its caller's
        # connections and names this API in its grant (stacks/api.py).
        CfnOutput(
            self, "WebSocketApiId", value=self.api.api_id, export_name=websocket_api_export(config)
        )

        # @connections is a public endpoint with no VPC endpoint: the broadcaster runs in the
        # egress subnets (NAT), like the webhook consumer; the route handlers stay isolated.
        self.consumer = DomainFunction(
            self,
            "RealtimeConsumer",
            name=CONSUMER,
            config=config,
            layers=layers,
            environment=data.db_environment(),
            vpc=data.vpc,
            security_groups=[data.db_client_sg],
            vpc_subnets=data.egress_subnets,
            timeout=Duration.seconds(60),
            # One post costs ~0.3-0.6 ms of CPU; 1 GB (~0.6 vCPU) keeps a 50-recipient
            # chunk well inside the latency target.
            memory_size=1024,
            reserved_concurrency=config.reserved_concurrency,
        )
        data.grant_db_connect(self.consumer.role)
        # A large fan-out is split into chunks re-queued here, so several invocations
        # post in parallel (servicedesk.realtime.fanout).
        queue.grant_send_messages(self.consumer.role)
        self.consumer.function.add_environment("SERVICEDESK_REALTIME_QUEUE_URL", queue.queue_url)
        self.consumer.function.add_event_source(
            event_sources.SqsEventSource(queue, batch_size=10, report_batch_item_failures=True)
        )
        self.grant_manage_connections(self.consumer.role)
        self.consumer.function.add_environment(
            "SERVICEDESK_WEBSOCKET_MANAGEMENT_URL", self.callback_url
        )
        self._schedule_sweep(self.consumer, config)

    def _grant_verify_tokens(self, fn: DomainFunction, config: DeploymentConfig) -> None:
        """The JWT key (the Api stack owns the secret; it is found by its fixed name)."""
        secret = secretsmanager.Secret.from_secret_name_v2(
            self, "JwtSigningKey", f"servicedesk/{config.stage}/jwt-private-key"
        )
        secret.grant_read(fn.role)
        for key, value in jwt_environment(config, secret.secret_arn).items():
            fn.function.add_environment(key, value)

    def _schedule_sweep(self, fn: DomainFunction, config: DeploymentConfig) -> None:
        """EventBridge Scheduler → the broadcaster: close and forget expired connections."""
        role = scheduler_role(
            self,
            "SweepSchedulerRole",
            description=f"Servicedesk {config.stage}: EventBridge Scheduler runs the WS sweep",
        )
        self.sweep_schedule = scheduler.Schedule(
            self,
            "SweepSchedule",
            schedule=scheduler.ScheduleExpression.rate(SWEEP_RATE),
            description=f"Servicedesk {config.stage}: close expired WebSocket connections",
            # No retries and no DLQ: the next run, a minute later, does the same work.
            target=targets.LambdaInvoke(
                fn.function, role=role, retry_attempts=0, max_event_age=Duration.seconds(60)
            ),
        )
        acknowledge_invoke(self, role, fn.function)

    @property
    def callback_url(self) -> str:
        """HTTPS endpoint of the @connections management API."""
        return self.websocket.callback_url

    def grant_manage_connections(self, role: iam.Role) -> None:
        """POST/GET/DELETE on @connections of this API (push to any connection)."""
        self.websocket.grant_manage_connections(role)
