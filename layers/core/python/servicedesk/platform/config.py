"""The one place configuration is read (DESIGN invariant 10).

Settings come from environment variables prefixed ``SERVICEDESK_`` and are validated once,
at cold start, by :func:`get_settings`. In AWS, secrets are referenced by ARN and fetched
from Secrets Manager (cached); locally they come straight from the environment.
"""

from __future__ import annotations

import enum
import functools
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "placeholder", "dev"})


class Environment(enum.StrEnum):
    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEDESK_", extra="ignore", frozen=True)

    environment: Environment = Environment.PROD
    service_name: str = "servicedesk"
    log_level: str = "INFO"
    # One access line per request: at this level when it succeeded (< 400) within
    # access_log_slow_ms; INFO for 4xx, WARNING for 5xx and slow requests.
    access_log_level: Literal["DEBUG", "INFO"] = "DEBUG"
    access_log_slow_ms: int = Field(default=1000, ge=1)
    # The share of execution environments that log at DEBUG whatever log_level says
    # (Powertools' sampling, decided once per cold start): detail from a few, cheaply.
    log_debug_sample_rate: float = Field(default=0.0, ge=0, le=1)
    # Optional error reporting to Sentry (platform/sentry.py): off unless a DSN is given,
    # directly or (on Lambda) as a Secrets Manager secret.
    sentry_dsn: SecretStr | None = None
    sentry_dsn_secret_arn: str | None = None
    # Each SQL statement a subsegment of the function's X-Ray segment when the invocation
    # is sampled and a daemon listens (platform/xray.py); off: the hooks are not installed.
    trace_sql: bool = True

    # Database: the application role's connection. Migrations use the owner's.
    database_url: SecretStr | None = None
    database_secret_arn: str | None = None
    migration_database_url: SecretStr | None = None
    # Behind RDS Proxy with IAM auth the URL carries no password: each new connection
    # gets a fresh 15-minute IAM token instead.
    database_iam_auth: bool = False
    database_region: str | None = None
    # Per process. Lambda serves one request at a time per instance (RDS Proxy multiplexes
    # the instances' connections), so 2 + 2 covers a request plus a consumer's side
    # transactions; the local uvicorn process serves dozens at once and sets more
    # (local/asgi.py). No free connection within the checkout timeout answers 503 with
    # Retry-After (platform.db.transaction) instead of queueing for SQLAlchemy's 30 s.
    db_pool_size: int = Field(default=2, ge=1, le=100)
    db_max_overflow: int = Field(default=2, ge=0, le=100)
    db_pool_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    db_statement_timeout_ms: int = Field(default=10_000, ge=100)
    # Test each pooled connection with a round trip before handing it out. Off behind RDS
    # Proxy (stacks/data.py), which keeps its own connections to the database alive and
    # reconnects them; on where the app talks to PostgreSQL directly (a restarted local
    # server would otherwise cost the first request after it).
    db_pool_pre_ping: bool = True

    # Access tokens: EdDSA (Ed25519) private key in PEM, from env or Secrets Manager.
    jwt_private_key: SecretStr | None = None
    jwt_private_key_secret_arn: str | None = None
    jwt_key_id: str = "sd-1"
    jwt_issuer: str = "servicedesk"
    jwt_audience: str = "servicedesk-api"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    refresh_token_ttl_seconds: int = Field(default=14 * 86400, ge=3600)
    cookie_secure: bool = True

    # External OIDC issuer (Cognito, Keycloak, Entra ID); optional.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_algorithms: Annotated[list[str], NoDecode] = ["RS256", "ES256"]
    oidc_role_claim: str = "servicedesk_role"
    oidc_tenant_claim: str = "servicedesk_tenant"
    oidc_default_tenant: str | None = None
    oidc_jwks_cache_seconds: int = Field(default=600, ge=0)
    # An unknown kid refetches the key set at most this often (a flood of forged kids
    # must not become a flood of requests to the issuer).
    oidc_jwks_refetch_cooldown_seconds: float = Field(default=30.0, ge=0)

    # Per-tenant sign-in providers (identity/sso.py, identity/oidc.py). Client secrets live
    # in Secrets Manager under <identity_secret_prefix>/<tenant id>/... (the identity
    # function's IAM policy is scoped to it). A sign-in in flight expires after
    # sso_request_ttl_seconds; the one-time code the web app exchanges, after
    # sso_grant_ttl_seconds. Discovery documents and key sets: fetched with this timeout and
    # size cap, kept sso_metadata_cache_seconds. https only; plain http to 127.0.0.1 only
    # with sso_allow_http_loopback (tests and the local stack's test IdP; ignored in prod).
    identity_secret_prefix: str = Field(
        default="servicedesk/local/identity", pattern=r"^[A-Za-z0-9/_+=.@-]{1,200}$"
    )
    sso_request_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    sso_grant_ttl_seconds: int = Field(default=60, ge=10, le=600)
    sso_http_timeout_seconds: float = Field(default=5.0, gt=0, le=20)
    sso_max_document_bytes: int = Field(default=256 * 1024, ge=1024, le=4 * 1024 * 1024)
    sso_metadata_cache_seconds: int = Field(default=300, ge=0, le=86400)
    sso_allow_http_loopback: bool = False
    # The SAML kind (identity/saml_kind.py): our service provider's entity id (default: the
    # URL of our SP metadata, <web_origin>/v1/auth/sso/saml/metadata). Signed AuthnRequests
    # need the SP's RSA key (PEM, from env or Secrets Manager) and its certificate (public,
    # published in the SP metadata); without them a provider cannot ask for signed requests.
    saml_sp_entity_id: str | None = Field(default=None, max_length=1024)
    saml_sp_private_key: SecretStr | None = None
    saml_sp_private_key_secret_arn: str | None = None
    saml_sp_certificate: str | None = None

    # SCIM provisioning (servicedesk/scim): requests per tenant and minute, and the most
    # resources one list answers.
    scim_requests_per_minute: int = Field(default=600, ge=1)
    scim_max_count: int = Field(default=200, ge=1, le=1000)

    # Login throttling, counted in Postgres per account and per client address.
    login_max_failures_account: int = Field(default=5, ge=1)
    login_max_failures_address: int = Field(default=20, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=60)
    login_lockout_base_seconds: int = Field(default=30, ge=1)
    login_lockout_max_seconds: int = Field(default=900, ge=1)

    # Sign-up confirmations: a link valid this long; at most so many sign-ups an hour (the
    # window) per e-mail address and per client address, since each one sends an e-mail.
    signup_ttl_seconds: int = Field(default=86400, ge=600)
    signup_max_per_email: int = Field(default=3, ge=1)
    signup_max_per_address: int = Field(default=10, ge=1)
    signup_window_seconds: int = Field(default=3600, ge=60)

    # Account mail (identity/recovery.py): a password-reset link valid this long, an
    # e-mail verification link this long; at most so many requests of each kind per window
    # per e-mail address and per client address, since each one sends an e-mail.
    password_reset_ttl_seconds: int = Field(default=3600, ge=300, le=86400)
    email_verification_ttl_seconds: int = Field(default=86400, ge=600, le=7 * 86400)
    account_mail_max_per_email: int = Field(default=3, ge=1)
    account_mail_max_per_address: int = Field(default=10, ge=1)
    account_mail_window_seconds: int = Field(default=3600, ge=60)
    # Magic links in a requester's ticket mail (identity/magic.py): valid this long after
    # the mail was made; the session one gives lasts access_token_ttl_seconds.
    magic_link_ttl_seconds: int = Field(default=7 * 86400, ge=3600, le=30 * 86400)

    # Ticket search ranks only the newest this many matches the caller may see (ranking
    # reads each match's tsvector); fewer matches than this rank exactly as a full ranking.
    search_rank_window: int = Field(default=1000, ge=1, le=100_000)
    # Exports answered synchronously: at most this many rows (over it is 422; large exports
    # will run as a job), read from the database this many at a time.
    export_max_rows: int = Field(default=10_000, ge=1, le=1_000_000)
    export_page_size: int = Field(default=500, ge=1, le=5_000)
    # Asynchronous exports (servicedesk/exports): at most this many rows a job; the file is
    # kept this many days (the bucket's lifecycle rule says the same); a download link is
    # valid this many seconds.
    export_job_max_rows: int = Field(default=1_000_000, ge=1, le=10_000_000)
    export_retention_days: int = Field(default=7, ge=1, le=90)
    # The reports consumer's processed event ids are kept this many days (the report
    # scheduler prunes older ones): at least SQS's retention (14 days) plus one.
    report_processed_retention_days: int = Field(default=15, ge=15, le=365)
    export_link_seconds: int = Field(default=300, ge=30, le=3600)
    # AWS discovery of the CMDB (servicedesk/cmdb/aws_discovery.py): the principal tenants'
    # discovery roles trust (our account; CDK sets it), the resources one run reads at
    # most, and the seconds a run needing more than what is left of the invocation is
    # not started with.
    discovery_trust_principal: str = "arn:aws:iam::123456789012:root"
    discovery_max_resources: int = Field(default=1000, ge=1, le=20_000)
    discovery_min_run_seconds: float = Field(default=10.0, ge=0, le=600)
    exports_bucket: str = "servicedesk-exports-local"
    # CMDB import jobs (servicedesk/cmdb/import_jobs.py): the largest CSV a member may
    # upload to the exports bucket, and how long the upload form is valid.
    cmdb_import_max_bytes: int = Field(default=200 * 1024 * 1024, ge=1024, le=5 * 1024**3)
    cmdb_import_upload_seconds: int = Field(default=900, ge=60, le=3600)
    exports_queue_url: str | None = None
    automation_queue_url: str | None = None
    # GitHub and Slack (servicedesk/integrations): their outbound calls' queue; tenants'
    # tokens and signing secrets live in Secrets Manager under
    # <integrations_secret_prefix>/<tenant id>/...; the APIs' base URLs (GitHub Enterprise
    # sets its own per integration; tests point these at local fakes); every outbound
    # call's timeout; an inbound body's cap; Slack's signed-request window and how long an
    # install's state is valid.
    integrations_queue_url: str | None = None
    integrations_secret_prefix: str = Field(
        default="servicedesk/local/integrations", pattern=r"^[A-Za-z0-9/_+=.@-]{1,200}$"
    )
    github_api_url: str = "https://api.github.com"
    slack_api_url: str = "https://slack.com/api"
    slack_authorize_url: str = "https://slack.com/oauth/v2/authorize"
    integrations_timeout_seconds: float = Field(default=10.0, gt=0, le=30)
    integrations_max_body_bytes: int = Field(default=512 * 1024, ge=1024, le=1024 * 1024)
    # How long an inbound delivery id is remembered (invariant 9's dedupe); older rows are
    # pruned as new deliveries arrive (integrations/service.first_delivery).
    integrations_dedupe_days: int = Field(default=30, ge=1, le=365)
    slack_signature_window_seconds: int = Field(default=300, ge=30, le=900)
    slack_install_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    # A scheduled report is attached to its e-mail up to this size; larger, the mail links
    # to the file (an export job of each recipient's).
    report_attachment_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=9 * 1024 * 1024)

    invitation_ttl_seconds: int = Field(default=7 * 86400, ge=3600)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # A body that does not arrive in full within this many seconds is refused (408), so a
    # Content-Length larger than what is sent cannot hold a worker.
    body_read_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    web_origin: str = "http://127.0.0.1:8000"
    # Other origins the web app is served from (comma-separated, e.g. a vanity domain): a
    # browser's WebSocket handshake must come from web_origin or one of these (CSWSH).
    web_extra_origins: Annotated[list[str], NoDecode] = []
    # Breached passwords (identity.breached): the k-anonymity range API of Have I Been
    # Pwned (``https://api.pwnedpasswords.com``), asked with a SHA-1's first five hex
    # characters only. None, unreachable or slower than the timeout: the bundled list.
    breached_passwords_api_url: str | None = None
    breached_passwords_timeout_seconds: float = Field(default=1.5, gt=0, le=10)
    # Attachments: the bucket presigned uploads and downloads point at.
    attachments_bucket: str = "servicedesk-attachments-local"

    # Outbox delivery: one SQS queue per channel (each with a DLQ, in the infra).
    email_queue_url: str | None = None
    webhook_queue_url: str | None = None
    realtime_queue_url: str | None = None
    outbox_grace_seconds: int = Field(default=60, ge=1, le=3600)
    outbox_sweep_batch: int = Field(default=500, ge=1, le=10_000)
    # The request's publish-after-commit handed to a bounded background worker instead of
    # done before the response (platform.publisher.publish_after_commit). Off: AWS
    # behaviour (a Lambda instance may freeze once it has answered). On in the local
    # runtime (local/asgi.py), where one server process answers every request.
    publish_in_background: bool = False
    email_sender: str = "Servicedesk <no-reply@servicedesk.local>"
    # Replies thread by a token in the Reply-To address: reply+<number>.<hmac>@<domain>.
    email_reply_domain: str | None = None
    email_token_secret: SecretStr | None = None
    # In AWS the key lives in Secrets Manager (the stacks' mail-key secret); read at first use.
    email_token_secret_arn: str | None = None
    # Two-step verification (identity/mfa.py): the key that encrypts each person's TOTP
    # secret (AES-GCM) and signs the short-lived second-step tokens (HMAC), each through
    # its own HKDF label. Any long random string; in AWS from Secrets Manager by ARN.
    # Dev and test fall back to a fixed key; elsewhere, without it, enrolment and the
    # second step answer 503.
    mfa_secret_key: SecretStr | None = None
    mfa_secret_key_secret_arn: str | None = None
    # How long the second step may take after the password (and enrolment when a tenant's
    # policy requires it).
    mfa_token_ttl_seconds: int = Field(default=300, ge=60, le=1800)
    # Outbound webhooks and inbound hooks.
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    webhook_disable_after: int = Field(default=10, ge=1)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=29)
    webhook_retry_base_seconds: float = Field(default=10, ge=0)
    webhook_retry_cap_seconds: float = Field(default=900, ge=0, le=900)
    inbound_hook_secret: SecretStr | None = None
    # Inbound e-mail (servicedesk/mail/inbox.py): the raw MIME lands in this bucket (SES
    # receiving's S3 action, or the local SMTP server, IMAP poller and provider hooks), and
    # a notification in SES's shape on the intake queue. Tenants receive at
    # <slug>@<email_inbound_domain>.
    email_inbound_bucket: str = "servicedesk-mail-local"
    email_intake_queue_url: str | None = None
    email_inbound_domain: str = "inbound.servicedesk.local"
    # A raw message larger than this is refused at every door (SES itself caps at 40 MB).
    email_max_message_bytes: int = Field(
        default=30 * 1024 * 1024, ge=64 * 1024, le=40 * 1024 * 1024
    )
    # The other doors (servicedesk/mail/hooks.py, mail/imap.py): provider hooks' secrets and
    # IMAP passwords live in Secrets Manager under <mail_secret_prefix>/<tenant id>/...
    # (the functions' IAM policies are scoped to that prefix).
    mail_secret_prefix: str = Field(
        default="servicedesk/local/mail", pattern=r"^[A-Za-z0-9/_+=.@-]{1,200}$"
    )
    # IMAP polling: messages taken per mailbox per run, and each connection's timeout.
    imap_batch_size: int = Field(default=50, ge=1, le=1000)
    imap_timeout_seconds: float = Field(default=20.0, gt=0, le=120)
    # A PEM bundle of CA certificates trusted for IMAP besides the system's (a mailbox
    # behind a private CA; the tests' own CA). Certificates and host names are always checked.
    imap_ca_file: str | None = None
    # Dev only: e-mails are written here as .eml files instead of being sent.
    mail_catcher_dir: str | None = None
    # Realtime (WebSocket): the @connections management endpoint the broadcaster posts to
    # (https://{domain}/{stage} in AWS; the local gateway in `make dev`), and the limits.
    websocket_management_url: str | None = None
    websocket_max_frame_bytes: int = Field(default=32 * 1024, ge=256, le=128 * 1024)
    websocket_max_push_bytes: int = Field(default=32 * 1024, ge=1024, le=128 * 1024)
    websocket_max_subscriptions: int = Field(default=50, ge=2, le=1000)
    websocket_max_connections_per_user: int = Field(default=20, ge=1, le=1000)
    websocket_frames_per_minute: int = Field(default=120, ge=10)
    websocket_typing_interval_seconds: float = Field(default=2.0, ge=0.1, le=60)
    websocket_push_concurrency: int = Field(default=16, ge=1, le=64)

    # Knowledge base (issue 18). The knowledge queue carries article changes (embedding) and
    # resolved tickets (drafts) to the knowledge consumer.
    knowledge_queue_url: str | None = None
    # Reports (issue 19): ticket events to the reports consumer, which keeps the facts.
    reports_queue_url: str | None = None
    # Embeddings (servicedesk/ai/embeddings.py): "local" (the model packaged in the
    # wordllama wheel, 256-d; make dev and tests), "bedrock" (Titan Text Embeddings v2) or
    # "openai" (any OpenAI-compatible /v1/embeddings endpoint).
    embedding_provider: Literal["local", "bedrock", "openai"] = "local"
    embedding_model: str = Field(default="", max_length=200)  # the provider's default if empty
    embedding_dimensions: int | None = Field(default=None, ge=1, le=4096)
    embedding_base_url: str | None = None
    embedding_api_key: SecretStr | None = None
    embedding_api_key_secret_arn: str | None = None
    embedding_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Knowledge base searches and suggestions per user per minute (servicedesk/kb/search.py).
    kb_search_per_minute: int = Field(default=120, ge=1, le=10_000)
    # The language model (servicedesk/ai/chat.py): "openai" (any OpenAI-compatible
    # /chat/completions endpoint, e.g. Groq) or "bedrock" (the Converse API); none when
    # llm_provider is unset (drafts are extractive, the assistant is unavailable).
    llm_provider: Literal["openai", "bedrock"] | None = None
    llm_model: str = Field(default="openai/gpt-oss-20b", max_length=200)
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_api_key_secret_arn: str | None = None
    llm_timeout_seconds: float = Field(default=30.0, gt=0, le=120)
    llm_max_output_tokens: int = Field(default=1024, ge=16, le=32768)
    # An assistant turn starts another model call only if it can end (llm_timeout_seconds)
    # within this many seconds of the turn's start; else the turn fails as a timeout (503)
    # instead of outliving the request (API Gateway ends REST requests at 29 s).
    assistant_turn_seconds: float = Field(default=120.0, gt=0, le=900)

    # GraphQL (servicedesk/graphql, docs/graphql.md): introspection (off outside dev unless
    # set), refusing queries past these limits before any resolver runs, and whether only the
    # registered persisted queries (servicedesk/graphql/persisted.json) are accepted.
    graphql_introspection: bool | None = None
    graphql_max_depth: int = Field(default=10, ge=2, le=30)
    graphql_max_cost: int = Field(default=10_000, ge=10, le=1_000_000)
    graphql_max_query_bytes: int = Field(default=16 * 1024, ge=256, le=256 * 1024)
    graphql_persisted_only: bool = False
    # Subscriptions over the WebSocket API (graphql-transport-ws), per connection.
    graphql_max_subscriptions_per_connection: int = Field(default=20, ge=1, le=200)
    # A GraphQL socket that sends no connection_init this long is closed by the sweep (which
    # runs every minute).
    graphql_ws_init_timeout_seconds: int = Field(default=10, ge=1, le=3600)

    demo_password: SecretStr = SecretStr("demo-password-123")

    @field_validator("oidc_algorithms", mode="before")
    @classmethod
    def _split_algorithms(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("web_extra_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("oidc_algorithms")
    @classmethod
    def _no_symmetric_algorithms(cls, value: list[str]) -> list[str]:
        # Symmetric algorithms would let anyone holding the public JWKS forge tokens.
        allowed = {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "EdDSA"}
        bad = [alg for alg in value if alg not in allowed]
        if bad:
            raise ValueError(f"unsupported or symmetric algorithms: {bad}")
        return value

    @model_validator(mode="after")
    def _refuse_placeholders_outside_dev(self) -> Settings:
        # Which secrets a function needs depends on the function (the authorizer has no
        # database, the evaluator signs no token): absence fails where the secret is used
        # (get_keyset, database_url). What is refused here, at cold start, is a placeholder.
        if self.environment is Environment.DEV:
            return self
        key = self.jwt_private_key.get_secret_value() if self.jwt_private_key else None
        if key is not None and key.strip().lower() in PLACEHOLDERS:
            raise ValueError("jwt_private_key is a placeholder; set a real key")
        url = self.database_url.get_secret_value() if self.database_url else None
        if url is not None and url.strip().lower() in PLACEHOLDERS:
            raise ValueError("database_url is a placeholder")
        if self.oidc_issuer and not (self.oidc_audience and self.oidc_jwks_url):
            raise ValueError("oidc_issuer needs oidc_audience and oidc_jwks_url")
        return self

    @property
    def sso_http_loopback(self) -> bool:
        """Plain http to a loopback IdP: tests and the local stack only, never in prod."""
        return self.sso_allow_http_loopback and self.environment is not Environment.PROD

    @property
    def is_dev(self) -> bool:
        return self.environment is Environment.DEV

    @property
    def graphql_introspection_on(self) -> bool:
        """GraphQL introspection: as set, else only in dev."""
        if self.graphql_introspection is not None:
            return self.graphql_introspection
        return self.is_dev


@functools.cache
def get_settings() -> Settings:
    """Validated settings, read once per process (cold start)."""
    return Settings()


def resolve_secret(value: SecretStr | None, secret_arn: str | None) -> str | None:
    """A secret from the environment, or from Secrets Manager (cached for five minutes)."""
    if value is not None:
        return value.get_secret_value()
    if secret_arn is None:
        return None
    from aws_lambda_powertools.utilities import parameters

    secret = parameters.get_secret(secret_arn, max_age=300)
    return secret if isinstance(secret, str) else str(secret)
