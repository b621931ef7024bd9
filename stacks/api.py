"""REST API ``/v1``: one Lambda per domain behind a Lambda REQUEST authorizer.

Adding a domain is one line in ``DOMAINS``: its function is ``functions/<domain>/handler.py``
(FastAPI + Mangum) and each prefix ``p`` routes ``/v1/p`` and ``/v1/p/{proxy+}`` to it.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, Environment, Fn, NestedStack, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.asyncq import (
    AsyncStack,
    discovery_trust_principal,
    grant_integration_secrets,
    integrations_secret_prefix,
)
from stacks.config import DeploymentConfig
from stacks.constructs import DomainFunction, SharedLayers
from stacks.constructs.embeddings import embedding_environment, grant_embeddings
from stacks.constructs.jwt_auth import JwtAuth
from stacks.constructs.llm import grant_llm
from stacks.constructs.nag import acknowledge
from stacks.constructs.rest_api import RestApi
from stacks.constructs.waf import ApiWaf
from stacks.data import DataStack
from stacks.mail import MailStack, grant_mail_secrets, grant_tenant_secrets, mail_secret_prefix
from stacks.realtime import RealtimeStack, websocket_api_export
from stacks.storage import StorageStack

# domain (function name) -> path prefixes under /v1 routed to it.
DOMAINS: dict[str, tuple[str, ...]] = {
    "identity": (
        "signup",
        "auth",
        "me",
        "users",
        "roles",
        "health",
        ".well-known",
        "identity-providers",
    ),
    "tickets": (
        "tickets",
        "ticket-invitations",
        "settings",
        "calendars",
        "sla-policies",
        "csat",
        "views",
    ),
    "reports": ("reports",),
    "admin": ("teams", "categories", "ticket-types", "audit-events"),
    # The public branding by slug signs the logo's link.
    # ... and the avatars by their random id (attachments/avatars.py).
    "attachments": ("attachments", "branding", "avatars"),
    "notifications": ("notifications", "notification-preferences", "dev"),
    # ... and GitHub and Slack (servicedesk/integrations): the admins' configuration under
    # /v1/integrations, GitHub's and Slack's signed requests under the public /v1/hooks.
    # Not a function of their own (written when the Api stack was near 500 resources).
    "webhooks": ("webhooks", "hooks", "integrations"),
    "mail": ("mail",),
    "kb": ("kb",),
    "assistant": ("assistant",),
    # Asynchronous exports and scheduled report subscriptions (servicedesk/exports).
    "exports": ("exports", "report-subscriptions"),
    # Macros and canned responses (servicedesk/macros); their use on a ticket: overrides.
    "macros": ("macros",),
    # Automation rules (servicedesk/automation).
    "automation": ("automations",),
    # SCIM provisioning: the admin's settings, token and group mappings under /v1/scim;
    # the identity providers' /scim/v2 is ROOT_ROUTES'.
    "scim": ("scim",),
    # Approvals (servicedesk/approvals): the inbox and decisions, flows, delegations.
    # Flows and delegations live under /v1/approvals: each prefix costs the Api stack two
    # resources and four methods. Change management (servicedesk/changes) rides here too:
    # it opens its approvals on this engine.
    "approvals": ("approvals", "approval-links", "changes"),
    # GraphQL (servicedesk/graphql): POST /v1/graphql over the REST routes' services; GET
    # answers 405 (GraphiQL in make dev only).
    "graphql": ("graphql",),
    # Projects and tasks (servicedesk/projects): everything under the one prefix /v1/projects.
    "projects": ("projects",),
    # The CMDB (servicedesk/cmdb): configuration items and their classes, import jobs
    # included; the CIs of a ticket are served by tickets.
    "cmdb": ("cis", "ci-classes"),
}

# Domains whose function lives in the nested stack ``Domains`` (routes stay in the Api
# stack): CloudFormation allows 500 resources per template, and each domain function costs
# the template holding it ~7 (function, role, policy, version, alias, log group, permission).
# The functions the infra tests read from the Api template (identity, tickets, webhooks,
# mail, assistant) stay there; a new domain goes here.
NESTED_DOMAINS: frozenset[str] = frozenset(
    {
        "admin",
        "reports",
        "attachments",
        "notifications",
        "kb",
        "exports",
        "macros",
        "automation",
        "scim",
        "approvals",
        "graphql",
        "projects",
        "cmdb",
    }
)

# Paths outside /v1 routed to a domain's function without the authorizer: the protocol
# brings its own credential, which the function checks (SCIM: the tenant's SCIM token).
ROOT_ROUTES: dict[str, str] = {"/scim/v2": "scim"}

# Domains whose function runs in the egress subnets (NAT): the mail API's "test connection"
# reaches the tenants' IMAP servers (servicedesk/mail/imap.py vets the address first); the
# knowledge base embeds search queries (Bedrock or an OpenAI-compatible endpoint, issue 18);
# the assistant reaches the language model's endpoint, embeds its searches, and posts its
# answer's deltas to the caller's WebSocket connections (@connections has no VPC endpoint);
# identity asks the breached-password range API about every new password (only a 5-hex
# prefix of its SHA-1 leaves; identity/breached.py) and reaches the tenants' identity
# providers (OIDC discovery, key sets, token endpoints: identity/oidc.py; https only).
EGRESS_DOMAINS: frozenset[str] = frozenset({"mail", "kb", "assistant", "identity"})


def identity_secret_prefix(config: DeploymentConfig) -> str:
    """``SERVICEDESK_IDENTITY_SECRET_PREFIX``: sign-in providers' client secrets."""
    return f"servicedesk/{config.stage}/identity"


# Domains that embed text (semantic search: the kb routes, the assistant's search tool):
# the embedding provider's settings and the right to call it (stacks/constructs/embeddings).
EMBEDDING_DOMAINS: frozenset[str] = frozenset({"kb", "assistant"})

# Domains whose function signs presigned S3 URLs for attachments (PUT upload, GET download).
# Only these roles get object access to the attachments bucket, and the bucket name.
BUCKET_DOMAINS: frozenset[str] = frozenset({"attachments"})
# Domains whose function signs presigned GETs of finished exports: read only, the exports
# bucket only.
EXPORT_BUCKET_DOMAINS: frozenset[str] = frozenset({"exports"})
# Domains whose function signs upload forms into the exports bucket and reads what was
# uploaded: a CMDB import job's CSV (servicedesk/cmdb/import_jobs.py, under imports/).
IMPORT_BUCKET_DOMAINS: frozenset[str] = frozenset({"cmdb"})

# Single methods served by another domain than the one owning the path prefix:
# (path, HTTP method) -> domain. The upload start lives under the ticket it belongs to but
# must run in the attachments function, the only one allowed to sign S3 forms; GET on the
# same path (the list) stays with tickets. A prefix with overrides is routed through an
# explicit ``/{var}`` level (``/v1/tickets/{ticket_id}`` and ``.../{proxy+}``) because API
# Gateway allows no static sibling beside a greedy ``{proxy+}`` at the same level.
METHOD_OVERRIDES: dict[tuple[str, str], str] = {
    ("/v1/tickets/{ticket_id}/attachments", "POST"): "attachments",
    ("/v1/kb/articles/{article_id}/attachments", "POST"): "attachments",
    # A task's upload start and its completion (S3: HEAD, the bytes streamed, a refused
    # object removed); the list and the removal on the same paths stay with projects.
    ("/v1/projects/{project_id}/tasks/{task_id}/attachments", "POST"): "attachments",
    (
        "/v1/projects/{project_id}/tasks/{task_id}/attachments/{attachment_id}/complete",
        "POST",
    ): "attachments",
    # A macro applied to, previewed on or rendered for a ticket runs in the macros function.
    ("/v1/tickets/{ticket_id}/macros/preview", "POST"): "macros",
    ("/v1/tickets/{ticket_id}/macros/{macro_id}/apply", "POST"): "macros",
    ("/v1/tickets/{ticket_id}/macros/{macro_id}/preview", "POST"): "macros",
    ("/v1/tickets/{ticket_id}/macros/{macro_id}/render", "POST"): "macros",
    # The directory (LDAP) settings run in the identity function: the one whose security
    # group reaches the directory, and which reads the service password at sign-in.
    ("/v1/settings/ldap", "GET"): "identity",
    ("/v1/settings/ldap", "PUT"): "identity",
    ("/v1/settings/ldap/test", "POST"): "identity",
    # A ticket's GitHub issue and links run in the webhooks function, which serves the
    # integrations (servicedesk/integrations) and reads their secrets.
    ("/v1/tickets/{ticket_id}/github-issue", "POST"): "webhooks",
    ("/v1/tickets/{ticket_id}/integration-links", "GET"): "webhooks",
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
        # The CSAT survey link: the signed, single-use token is the credential
        # (servicedesk/csat/links.py).
        "/v1/csat/{proxy+}",
        # An approver's e-mailed approve/reject link: the signed token is the credential
        # (servicedesk/approvals/links.py); a seat decides once.
        "/v1/approval-links/{proxy+}",
        # An organisation's public branding and logo, for the login page and e-mail
        # clients (servicedesk/branding/routes.py): public fields only.
        "/v1/branding/{proxy+}",
        # A member's avatar in an <img>: its random id is the capability (attachments/avatars.py).
        "/v1/avatars/{proxy+}",
    }
)

# Mangum/FastAPI functions: API Gateway gives up after 29 s anyway.
DOMAIN_TIMEOUT = Duration.seconds(29)


class ApiStack(Stack):
    """The JWT authorizer, the REST API and its WAF (constructs in ``stacks/constructs/``),
    and one function per domain routed from its prefixes."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        data: DataStack,
        storage: StorageStack,
        queues: AsyncStack,
        mail: MailStack | None = None,
        realtime: RealtimeStack | None = None,
        env: Environment | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description="Servicedesk REST API")
        self.config = config
        self.llm_secret = queues.llm_secret  # the language model's key (stacks/constructs/llm)
        layers = SharedLayers(self, "Layers")

        auth = JwtAuth(self, config=config, layers=layers, database_url=data.database_url)
        self.jwt_secret = auth.secret
        self.authorizer_function = auth.function
        self.authorizer = auth.authorizer

        rest = RestApi(
            self,
            config=config,
            authorizer=self.authorizer,
            public_paths=PUBLIC_PATHS,
            overridden_paths=(path for path, _ in METHOD_OVERRIDES),
        )
        self.api = rest.api
        self.validator = rest.validator
        self.v1 = rest.v1

        # --- one function per domain ---------------------------------------------------
        self.functions: dict[str, DomainFunction] = {"authorizer": self.authorizer_function}
        self.domains = NestedStack(
            self, "Domains", description="Servicedesk REST API: domain functions"
        )
        for domain, prefixes in DOMAINS.items():
            fn = DomainFunction(
                self.domains if domain in NESTED_DOMAINS else self,
                "".join(p.capitalize() for p in domain.split("_")),
                name=domain,
                config=config,
                layers=layers,
                environment={
                    **data.db_environment(),
                    **auth.environment,
                    **queues.queue_environment(),
                    "SERVICEDESK_WEB_ORIGIN": config.web_origin,
                    **(
                        {"SERVICEDESK_BREACHED_PASSWORDS_API_URL": config.breached_passwords_api}
                        if domain == "identity" and config.breached_passwords_api
                        else {}
                    ),
                    # AWS discovery sources show their trust policy (servicedesk/cmdb).
                    **(
                        {"SERVICEDESK_DISCOVERY_TRUST_PRINCIPAL": discovery_trust_principal()}
                        if domain == "cmdb"
                        else {}
                    ),
                },
                vpc=data.vpc,
                security_groups=[data.identity_sg if domain == "identity" else data.db_client_sg],
                vpc_subnets=data.egress_subnets if domain in EGRESS_DOMAINS else None,
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
            if domain in EXPORT_BUCKET_DOMAINS | IMPORT_BUCKET_DOMAINS:
                storage.grant_exports(
                    fn.role,
                    write=domain in IMPORT_BUCKET_DOMAINS,
                    list_=domain in IMPORT_BUCKET_DOMAINS,
                )
                for key, value in storage.export_environment().items():
                    fn.function.add_environment(key, value)
            # Identity exchanges magic links, notifications checks unsubscribe links,
            # tickets and the mail API (held mail) check reply addresses: every API function
            # may sign or check what ticket mail carries.
            data.grant_mail_key(fn)
            if domain == "identity":  # two-step verification (servicedesk/identity/mfa.py)
                data.grant_mfa_key(fn)
                # Sign-in providers' client secrets (servicedesk/identity/providers.py).
                grant_tenant_secrets(
                    fn.role,
                    identity_secret_prefix(config),
                    manage=True,
                    reason="One client secret per tenant sign-in provider, created at run "
                    "time under the stage's identity prefix; nothing outside it.",
                )
                fn.function.add_environment(
                    "SERVICEDESK_IDENTITY_SECRET_PREFIX", identity_secret_prefix(config)
                )
            if domain == "webhooks":  # GitHub and Slack credentials (servicedesk/integrations)
                grant_integration_secrets(config, fn.role, manage=True)
                fn.function.add_environment(
                    "SERVICEDESK_INTEGRATIONS_SECRET_PREFIX", integrations_secret_prefix(config)
                )
            self._wire_mail(domain, fn, mail, storage)
            if domain in EMBEDDING_DOMAINS:
                # Semantic search embeds the query (kb/search.py).
                for key, value in embedding_environment(config).items():
                    fn.function.add_environment(key, value)
                grant_embeddings(config, fn.role, self)
            if domain == "assistant":
                self._wire_assistant(fn, realtime)
            self.functions[domain] = fn
            # On the `live` alias: the published version with its SnapStart snapshot.
            rest.route(fn.target, prefixes)
        self._route_extras(rest)

        rest.add_integrator_plan()
        self.usage_plan = rest.usage_plan
        self.integrator_key = rest.integrator_key
        self.waf = ApiWaf(self, config=config, api=self.api)
        rest.acknowledge_findings()

    def _route_extras(self, rest: RestApi) -> None:
        """The single methods served by another function than their prefix's, and the
        paths outside /v1."""
        for (path, http_method), domain in METHOD_OVERRIDES.items():
            rest.add_method(path, http_method, self.functions[domain].target)
        for path, domain in ROOT_ROUTES.items():
            rest.route_root(self.functions[domain].target, path)

    def _wire_mail(
        self, domain: str, fn: DomainFunction, mail: MailStack | None, storage: StorageStack
    ) -> None:
        """The mail API manages the doors' secrets, shows held mail's originals and, when
        staff accept held mail, stores its files as attachments; the webhooks function's
        provider hook reads the secrets and deposits into the intake (only with inbound
        mail)."""
        if domain == "mail":
            grant_mail_secrets(self.config, fn.role, manage=True)
            storage.grant_objects(fn.role)
            fn.function.add_environment(
                "SERVICEDESK_ATTACHMENTS_BUCKET", storage.attachments_bucket_name
            )
            if mail is not None:
                mail.grant_read_mail(fn.role)
            fn.function.add_environment(
                "SERVICEDESK_MAIL_SECRET_PREFIX", mail_secret_prefix(self.config)
            )
            if mail is not None:
                for key, value in mail.mail_environment().items():
                    fn.function.add_environment(key, value)
        if domain == "webhooks" and mail is not None:
            grant_mail_secrets(self.config, fn.role, manage=False)
            mail.grant_deposit(fn.role, door="hook")
            for key, value in mail.mail_environment().items():
                fn.function.add_environment(key, value)

    def _wire_assistant(self, fn: DomainFunction, realtime: RealtimeStack | None) -> None:
        """The assistant streams its answers to the caller's own connections (the one
        function besides the broadcaster that may post to @connections), and calls the
        configured language model: an OpenAI-compatible endpoint with its key in Secrets
        Manager, or Bedrock's Converse API on the configured model only."""
        config = self.config
        if realtime is not None:
            self._grant_post_to_connections(fn)
            fn.function.add_environment(
                "SERVICEDESK_WEBSOCKET_MANAGEMENT_URL", realtime.callback_url
            )
        environment = grant_llm(config, fn.role, self.llm_secret, timeout_seconds=25)
        if environment:
            # Inside API Gateway's 29 s, with room for the tools and the commit.
            environment["SERVICEDESK_ASSISTANT_TURN_SECONDS"] = "26"
        for key, value in environment.items():
            fn.function.add_environment(key, value)

    def _grant_post_to_connections(self, fn: DomainFunction) -> None:
        """POST on @connections of the stage's WebSocket API (the API's id by its export
        name, so that the grant and its acknowledgment name the same resource)."""
        export = websocket_api_export(self.config)
        api_id = Fn.import_value(export)
        fn.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["execute-api:ManageConnections"],
                resources=[
                    f"arn:{Aws.PARTITION}:execute-api:{Aws.REGION}:{Aws.ACCOUNT_ID}:{api_id}"
                    "/*/POST/@connections/*"
                ],
            )
        )
        acknowledge(
            fn.role,
            {
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:"
                f"<AWS::AccountId>:{export}/*/POST/@connections/*]": (
                    "Connection ids are created at run time; POST only (no close), on this"
                    " stage's WebSocket API only: the assistant streams to its caller."
                ),
            },
        )
