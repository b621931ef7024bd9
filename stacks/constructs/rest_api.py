"""``RestApi``: the regional REST API (stage, access logs, CORS on ``/v1``, problem-document
gateway responses, the integrators' usage plan) and its routes to the domain functions."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from stacks.config import DeploymentConfig
from stacks.constructs.domain_function import log_group
from stacks.constructs.nag import acknowledge

API_VERSION = "v1"
BINARY_MEDIA_TYPES = ["multipart/form-data", "message/rfc822", "application/octet-stream"]
CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Api-Key",
    "X-Request-Id",
]


class RestApi:
    """Built in ``stack``'s own scope (stacks/constructs/__init__.py says why).

    Every method goes through ``authorizer`` but those on ``public_paths``. A path in
    ``overridden_paths`` has one method served by another function (``add_method``), so its
    prefix is routed through explicit levels instead of a greedy ``{proxy+}``.
    """

    def __init__(
        self,
        stack: Stack,
        *,
        config: DeploymentConfig,
        authorizer: apigw.IAuthorizer,
        public_paths: frozenset[str],
        overridden_paths: Iterable[str],
    ) -> None:
        self._stack = stack
        self._config = config
        self._authorizer = authorizer
        self._public_paths = public_paths
        self._overridden_paths = frozenset(overridden_paths)
        self._integrations: dict[str, apigw.Integration] = {}
        access_logs = log_group(stack, "AccessLogs", config)
        self.api = apigw.RestApi(
            stack,
            "RestApi",
            rest_api_name=f"servicedesk-{config.stage}",
            description=f"Servicedesk REST API ({config.stage})",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            api_key_source_type=apigw.ApiKeySourceType.HEADER,
            # Passed to the functions base64-encoded, byte for byte: the inbound-mail hooks'
            # forms and raw messages may carry 8-bit text in any charset.
            binary_media_types=BINARY_MEDIA_TYPES,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                throttling_rate_limit=config.api_throttle_rate_limit,
                throttling_burst_limit=config.api_throttle_burst_limit,
            ),
        )
        self.validator = self.api.add_request_validator(
            "BasicValidator", validate_request_body=True, validate_request_parameters=True
        )
        self._add_problem_gateway_responses()
        self.v1 = self.api.root.add_resource(
            API_VERSION,
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=[config.web_origin],
                allow_methods=apigw.Cors.ALL_METHODS,
                allow_headers=CORS_HEADERS,
                allow_credentials=True,
                max_age=Duration.hours(1),
            ),
        )

    # --- routes ---------------------------------------------------------------------------
    def route(self, handler: lambda_.IFunction, prefixes: Iterable[str]) -> None:
        """``/v1/p`` and ``/v1/p/{proxy+}`` (ANY) to ``handler`` for each prefix ``p``."""
        integration = self._integration(handler)
        for prefix in prefixes:
            resource = self.v1.add_resource(prefix)
            self._method(resource, integration)
            overridden = sorted(
                path for path in self._overridden_paths if path.startswith(f"{resource.path}/")
            )
            if not overridden:
                self._method(resource.add_resource("{proxy+}"), integration)
            for path in overridden:
                # The owner keeps every method of the explicit levels (ANY); the override
                # adds its one method on the leaf after all functions exist.
                for node in _explicit_levels(resource.path, path):
                    explicit = self._resource(node)
                    if explicit.node.try_find_child("ANY") is None:
                        self._method(explicit, integration)
            # Public paths below this prefix that the greedy route would otherwise authorize.
            for path in sorted(self._public_paths):
                if not path.startswith(f"{resource.path}/"):
                    continue
                public = self._resource(path)
                if public.node.try_find_child("ANY") is None:
                    self._method(public, integration)

    def route_root(self, handler: lambda_.IFunction, path: str) -> None:
        """``/path`` and ``/path/{proxy+}`` (ANY) to ``handler``, outside /v1 and without
        the authorizer: a protocol whose clients bring their own credential, checked by the
        function (SCIM's ``/scim/v2`` and the tenant's SCIM token: servicedesk/scim/auth.py).
        """
        integration = self._integration(handler)
        resource: apigw.IResource = self.api.root
        for part in path.strip("/").split("/"):
            existing = resource.get_resource(part)
            resource = existing if existing is not None else resource.add_resource(part)
        for target in (resource, resource.add_resource("{proxy+}")):
            method = target.add_method(
                "ANY",
                integration,
                authorization_type=apigw.AuthorizationType.NONE,
                request_validator=self.validator,
            )
            acknowledge(
                method,
                {
                    "AwsSolutions-APIG4": f"{target.path}: the protocol's own bearer token "
                    "(the tenant's SCIM token) is verified by the function.",
                },
            )

    def add_method(self, path: str, http_method: str, handler: lambda_.IFunction) -> None:
        """One method on ``path`` (a method override) served by ``handler``."""
        self._method(self._resource(path), self._integration(handler), http_method=http_method)

    def _integration(self, handler: lambda_.IFunction) -> apigw.Integration:
        """The Lambda proxy integration of ``handler``, and ONE invoke permission for it
        from this API (any stage, method and path). ``LambdaIntegration`` would add a
        permission per method (a hundred resources: CloudFormation allows 500 per stack);
        the function serves nothing but this API, so the API-wide grant is no wider."""
        key = handler.node.path
        if key not in self._integrations:
            handler.add_permission(
                f"ApiInvoke{len(self._integrations)}",
                principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                source_arn=self.api.arn_for_execute_api("*", "/*", "*"),
            )
            self._integrations[key] = apigw.Integration(
                type=apigw.IntegrationType.AWS_PROXY,
                integration_http_method="POST",
                uri=(
                    f"arn:{Aws.PARTITION}:apigateway:{Aws.REGION}:lambda:path/2015-03-31"
                    f"/functions/{handler.function_arn}/invocations"
                ),
            )
        return self._integrations[key]

    def _resource(self, path: str) -> apigw.IResource:
        """The resource at ``path`` below /v1, creating the missing levels."""
        parent: apigw.IResource = self.v1
        for part in path.removeprefix(f"{self.v1.path}/").split("/"):
            existing = parent.get_resource(part)
            parent = existing if existing is not None else parent.add_resource(part)
        return parent

    def _method(
        self, resource: apigw.IResource, integration: apigw.Integration, http_method: str = "ANY"
    ) -> None:
        if resource.path in self._public_paths:
            method = resource.add_method(
                http_method,
                integration,
                authorization_type=apigw.AuthorizationType.NONE,
                request_validator=self.validator,
            )
            acknowledge(
                method,
                {
                    "AwsSolutions-APIG4": f"{resource.path} is public by design (pre-auth or "
                    "probe): signup, login/refresh/logout/accept-invitation, health, hooks, "
                    "one-click unsubscribe (signed token).",
                },
            )
            return
        resource.add_method(
            http_method,
            integration,
            authorizer=self._authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM,
            api_key_required=self._config.require_api_key,
            request_validator=self.validator,
        )

    # --- integrators ----------------------------------------------------------------------
    def add_integrator_plan(self) -> None:
        """API keys under a usage plan (throttle and daily quota), with a first key."""
        config = self._config
        self.usage_plan = self.api.add_usage_plan(
            "IntegratorPlan",
            name=f"servicedesk-{config.stage}-integrators",
            description="Throttle and daily quota for integrator API keys",
            throttle=apigw.ThrottleSettings(
                rate_limit=config.integrator_rate_limit,
                burst_limit=config.integrator_burst_limit,
            ),
            quota=apigw.QuotaSettings(limit=config.integrator_daily_quota, period=apigw.Period.DAY),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
        )
        self.integrator_key = self.api.add_api_key(
            "IntegratorKey",
            api_key_name=f"servicedesk-{config.stage}-integrator",
            description="First integrator key; add more to the usage plan as integrators join",
        )
        self.usage_plan.add_api_key(self.integrator_key)

    # --- gateway responses and cdk-nag ----------------------------------------------------
    def _add_problem_gateway_responses(self) -> None:
        """Errors API Gateway answers itself (401 from the authorizer, throttling, ...) are
        RFC 9457 problem documents with CORS headers, like the application's own."""
        headers = {
            "Access-Control-Allow-Origin": f"'{self._config.web_origin}'",
            "Access-Control-Allow-Credentials": "'true'",
            "Content-Type": "'application/problem+json'",
        }
        template = (
            '{"type":"urn:servicedesk:problem:gateway:$context.error.responseType",'
            '"title":$context.error.messageString,'
            '"request_id":"$context.requestId"}'
        )
        for name, kind in (
            ("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
            ("Default5xx", apigw.ResponseType.DEFAULT_5_XX),
        ):
            self.api.add_gateway_response(
                name,
                type=kind,
                response_headers=headers,
                templates={"application/json": template},
            )

    def acknowledge_findings(self) -> None:
        """cdk-nag: CORS preflights and the account-level role. Call once every route exists."""
        for method in self.api.methods:
            if method.http_method == "OPTIONS":
                acknowledge(
                    method,
                    {
                        "AwsSolutions-APIG4": "CORS preflight: browsers send OPTIONS without "
                        "credentials.",
                    },
                )
        acknowledge(
            self.api,
            {
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]": "API Gateway's account-level "
                "CloudWatch role takes the AWS managed policy API Gateway documents.",
                "AwsSolutions-COG4": "Authentication is the service's own JWT, verified by the "
                "Lambda REQUEST authorizer; Cognito is not used.",
            },
        )


def _explicit_levels(prefix: str, path: str) -> list[str]:
    """The resources that route everything below ``prefix`` to its owner when ``path`` (a
    method override) must be its own resource. A greedy ``{proxy+}`` may not sit beside a
    ``{var}`` sibling, but may beside static ones: below a static level the greedy route
    stays (``/v1/kb/{proxy+}`` beside ``/v1/kb/articles``), a variable level gets its own
    greedy route (``/v1/tickets/{ticket_id}/{proxy+}``), and the leaf is the override's."""
    levels: list[str] = []
    current = prefix
    parts = path.removeprefix(f"{prefix}/").split("/")
    for part in parts[:-1]:
        if not part.startswith("{"):
            levels.append(f"{current}/{{proxy+}}")
        current = f"{current}/{part}"
        levels.append(current)
        if part.startswith("{"):
            levels.append(f"{current}/{{proxy+}}")
    levels.append(path)
    return levels
