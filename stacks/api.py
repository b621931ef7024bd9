"""REST API ``/v1``: one Lambda per domain behind a Lambda REQUEST authorizer.

Adding a domain is one line in ``DOMAINS``: its function is ``functions/<domain>/handler.py``
(FastAPI + Mangum) and each prefix ``p`` routes ``/v1/p`` and ``/v1/p/{proxy+}`` to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Environment, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stacks.asyncq import AsyncStack
from stacks.config import DeploymentConfig
from stacks.constructs import DomainFunction, SharedLayers
from stacks.constructs.domain_function import log_retention
from stacks.constructs.nag import acknowledge
from stacks.data import DataStack
from stacks.storage import StorageStack

API_VERSION = "v1"

# domain (function name) -> path prefixes under /v1 routed to it.
DOMAINS: dict[str, tuple[str, ...]] = {
    "identity": ("signup", "auth", "me", "users", "health", ".well-known"),
    "tickets": (
        "tickets",
        "ticket-invitations",
        "settings",
        "calendars",
        "sla-policies",
        "reports",
    ),
    "admin": ("teams", "categories"),
    "attachments": ("attachments",),
    "notifications": ("notifications", "notification-preferences", "dev"),
    "webhooks": ("webhooks", "hooks"),
}

# Domains whose function signs presigned S3 URLs for attachments (PUT upload, GET download).
# Only these roles get object access to the attachments bucket, and the bucket name.
BUCKET_DOMAINS: frozenset[str] = frozenset({"attachments"})

# Single methods served by another domain than the one owning the path prefix:
# (path, HTTP method) -> domain. The upload start lives under the ticket it belongs to but
# must run in the attachments function, the only one allowed to sign S3 forms; GET on the
# same path (the list) stays with tickets. A prefix with overrides is routed through an
# explicit ``/{var}`` level (``/v1/tickets/{ticket_id}`` and ``.../{proxy+}``) because API
# Gateway allows no static sibling beside a greedy ``{proxy+}`` at the same level.
METHOD_OVERRIDES: dict[tuple[str, str], str] = {
    ("/v1/tickets/{ticket_id}/attachments", "POST"): "attachments",
}

# Resource paths whose methods do not go through the authorizer (pre-auth and probes). A path
# below a domain prefix that the prefix routes do not create (e.g. /v1/health/ready) is added
# as its own resource. /v1/hooks: inbound webhooks verify their own signature.
# tests/unit/test_route_policies.py lists the app's public routes these must cover.
PUBLIC_PATHS: frozenset[str] = frozenset(
    {
        "/v1/health",
        "/v1/health/ready",
        "/v1/signup",
        "/v1/signup/{proxy+}",
        "/v1/auth/{proxy+}",
        "/v1/.well-known/{proxy+}",
        "/v1/hooks",
        "/v1/hooks/{proxy+}",
        # RFC 8058 one-click unsubscribe from a mail client: the signed token is the
        # credential (servicedesk/notifications/unsubscribe.py).
        "/v1/notifications/unsubscribe",
    }
)

CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Api-Key",
    "X-Request-Id",
]
AUTHORIZER_CACHE_TTL = Duration.seconds(300)
# Mangum/FastAPI functions: API Gateway gives up after 29 s anyway.
DOMAIN_TIMEOUT = Duration.seconds(29)


class ApiStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        data: DataStack,
        storage: StorageStack,
        queues: AsyncStack,
        env: Environment | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description="Servicedesk REST API")
        self.config = config
        layers = SharedLayers(self, "Layers")

        # JWT signing key (PEM). CloudFormation creates a random placeholder; the operator
        # puts the real key (docs/deploy.md). Retained: deleting it logs everyone out.
        self.jwt_secret = secretsmanager.Secret(
            self,
            "JwtSigningKey",
            secret_name=f"servicedesk/{config.stage}/jwt-private-key",
            description="Servicedesk JWT signing key (PEM); replace the generated placeholder",
            removal_policy=config.removal,
        )
        acknowledge(
            self.jwt_secret,
            {
                "AwsSolutions-SMG4": "A signing key is rolled over with a new kid while the old "
                "one still verifies live tokens; single-value rotation cannot do that.",
            },
        )
        jwt_env = {
            "SERVICEDESK_JWT_PRIVATE_KEY_SECRET_ARN": self.jwt_secret.secret_arn,
            "SERVICEDESK_JWT_ISSUER": config.jwt_issuer,
            "SERVICEDESK_JWT_AUDIENCE": config.jwt_audience,
            "SERVICEDESK_JWT_KEY_ID": config.jwt_key_id,
            **config.oidc_environment(),
        }

        # --- authorizer: verifies the JWT only, no database, so outside the VPC ---------
        self.authorizer_function = DomainFunction(
            self,
            "Authorizer",
            name="authorizer",
            config=config,
            layers=layers,
            # The URL only satisfies settings validation (a DB is required outside dev); the
            # authorizer has no network path or IAM grant to the database.
            environment={**jwt_env, "SERVICEDESK_DATABASE_URL": data.database_url},
            timeout=Duration.seconds(10),
            memory_size=256,
            description="Servicedesk REST API Lambda authorizer (JWT)",
        )
        self.jwt_secret.grant_read(self.authorizer_function.role)
        # Cached per Authorization header value: the policy the authorizer returns must
        # therefore cover the whole API, not only the method that triggered it.
        self.authorizer = apigw.RequestAuthorizer(
            self,
            "JwtAuthorizer",
            handler=self.authorizer_function.function,
            identity_sources=[apigw.IdentitySource.header("Authorization")],
            results_cache_ttl=AUTHORIZER_CACHE_TTL,
        )

        # --- REST API ------------------------------------------------------------------
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(config.log_retention_days),
            removal_policy=config.removal,
        )
        self.api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"servicedesk-{config.stage}",
            description=f"Servicedesk REST API ({config.stage})",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            api_key_source_type=apigw.ApiKeySourceType.HEADER,
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

        # --- one function per domain ---------------------------------------------------
        self.functions: dict[str, DomainFunction] = {"authorizer": self.authorizer_function}
        for domain, prefixes in DOMAINS.items():
            fn = DomainFunction(
                self,
                "".join(p.capitalize() for p in domain.split("_")),
                name=domain,
                config=config,
                layers=layers,
                environment={
                    **data.db_environment(),
                    **jwt_env,
                    **queues.queue_environment(),
                    "SERVICEDESK_WEB_ORIGIN": config.web_origin,
                },
                vpc=data.vpc,
                security_groups=[data.db_client_sg],
                timeout=DOMAIN_TIMEOUT,
                memory_size=1024,
                reserved_concurrency=config.reserved_concurrency,
                live_alias=True,
                snap_start=config.snap_start,
                provisioned_concurrency=config.provisioned_concurrency,
            )
            data.grant_db_connect(fn.role)
            queues.grant_publish(fn.role)
            self.jwt_secret.grant_read(fn.role)
            if domain in BUCKET_DOMAINS:
                # Presigned PUT/GET are signed with this role.
                # Rejected uploads are deleted at complete time. ListBucket: without it S3
                # answers 403, not 404, for a missing object, and complete (nothing uploaded
                # yet: 409) and download (the object is gone: 410) must tell them apart.
                storage.grant_objects(fn.role, delete=True, list_=True)
                fn.function.add_environment(
                    "SERVICEDESK_ATTACHMENTS_BUCKET", storage.attachments_bucket_name
                )
            self.functions[domain] = fn
            self._route(fn, prefixes)
        for (path, http_method), domain in METHOD_OVERRIDES.items():
            self._method(
                self._resource(path),
                apigw.LambdaIntegration(
                    self.functions[domain].target, proxy=True, allow_test_invoke=False
                ),
                http_method=http_method,
            )

        # --- integrators: API keys under a usage plan ------------------------------------
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

        self._add_waf()
        self._suppress()

    # ----------------------------------------------------------------------------------
    def _route(self, fn: DomainFunction, prefixes: tuple[str, ...]) -> None:
        # On the `live` alias: the published version with its SnapStart snapshot.
        integration = apigw.LambdaIntegration(fn.target, proxy=True, allow_test_invoke=False)
        for prefix in prefixes:
            resource = self.v1.add_resource(prefix)
            self._method(resource, integration)
            overridden = sorted(
                path for path, _ in METHOD_OVERRIDES if path.startswith(f"{resource.path}/")
            )
            if not overridden:
                self._method(resource.add_resource("{proxy+}"), integration)
            for path in overridden:
                # The owner keeps every method of the explicit levels (ANY); the override
                # adds its one method on the leaf after all functions exist.
                variable = path.rsplit("/", 1)[0]
                for node in (variable, f"{variable}/{{proxy+}}", path):
                    explicit = self._resource(node)
                    if explicit.node.try_find_child("ANY") is None:
                        self._method(explicit, integration)
            # Public paths below this prefix that the greedy route would otherwise authorize.
            for path in sorted(PUBLIC_PATHS):
                if not path.startswith(f"{resource.path}/"):
                    continue
                public = self._resource(path)
                if public.node.try_find_child("ANY") is None:
                    self._method(public, integration)

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
        if resource.path in PUBLIC_PATHS:
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
            authorizer=self.authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM,
            api_key_required=self.config.require_api_key,
            request_validator=self.validator,
        )

    def _add_problem_gateway_responses(self) -> None:
        """Errors API Gateway answers itself (401 from the authorizer, throttling, ...) are
        RFC 9457 problem documents with CORS headers, like the application's own."""
        headers = {
            "Access-Control-Allow-Origin": f"'{self.config.web_origin}'",
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

    def _add_waf(self) -> None:
        if not self.config.waf_enabled:
            acknowledge(
                self.api,
                {"AwsSolutions-APIG3": "WAF turned off for this stage (context wafEnabled)."},
            )
            return

        def managed(
            name: str, priority: int, count: Sequence[str] = ()
        ) -> wafv2.CfnWebACL.RuleProperty:
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

        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"servicedesk-{self.config.stage}-api"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="PerIpRateLimit",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP", limit=self.config.waf_rate_limit_per_5min
                        )
                    ),
                    visibility_config=_visibility("PerIpRateLimit"),
                ),
                # Ticket text legitimately holds code, markup and logs, and bodies up to the
                # app's own limit: those two rules only count.
                managed(
                    "AWSManagedRulesCommonRuleSet",
                    1,
                    count=("SizeRestrictions_BODY", "CrossSiteScripting_BODY"),
                ),
                managed("AWSManagedRulesKnownBadInputsRuleSet", 2),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=acl.attr_arn,
        )

    def _suppress(self) -> None:
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


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )
