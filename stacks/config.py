"""Deployment configuration, read from CDK context.

Precedence, lowest first:

1. the field defaults below;
2. the **preset** of the stage (``PRESETS``): ``prod`` for the stage ``prod``, ``dev`` for any
   other stage unless ``-c preset=prod`` (e.g. a ``staging`` stage that should look like prod);
3. the ``servicedesk`` context object in ``cdk.json`` (stage-independent values);
4. the ``servicedesk:<stage>`` context object, if any (e.g. ``servicedesk:prod`` in
   ``cdk.json`` or ``cdk.context.json``);
5. a top-level context value with the field's camelCase name, e.g.
   ``npx cdk deploy -c stage=prod -c auroraMaxAcu=8``. Command-line values arrive as strings;
   pydantic coerces them.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any, Literal

from aws_cdk import RemovalPolicy
from constructs import Node
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

CONTEXT_KEY = "servicedesk"

RemovalChoice = Literal["destroy", "retain"]
DatabaseRemovalChoice = Literal["destroy", "snapshot", "retain"]

# What differs between a throwaway stage and production. Keep these keys out of the
# ``servicedesk`` object in cdk.json, or they override the preset in every stage.
PRESETS: dict[str, dict[str, Any]] = {
    "dev": {
        "removalPolicy": "destroy",
        "databaseRemovalPolicy": "destroy",
        "deletionProtection": False,
        # 0.5, not 0: the per-minute SLA evaluator and outbox sweeper connect every minute,
        # so an auto-pausing writer (min 0) would never pause anyway.
        "auroraMinAcu": 0.5,
        "auroraMaxAcu": 2,
        "auroraReaders": 0,
        "backupRetentionDays": 1,
        "logRetentionDays": 14,
        # Internet egress for the webhook consumer: one NAT gateway, shared by the AZs.
        "natGateways": 1,
    },
    "prod": {
        "removalPolicy": "retain",
        "databaseRemovalPolicy": "snapshot",
        "deletionProtection": True,
        "auroraMinAcu": 0.5,
        "auroraMaxAcu": 16,
        # One reader in another AZ, scaling with the writer: failover in ~30 s, not minutes.
        "auroraReaders": 1,
        "backupRetentionDays": 14,
        "logRetentionDays": 90,
        # One NAT gateway per AZ: losing an AZ does not stop webhook deliveries elsewhere.
        "natGateways": "per-az",
    },
}


class DeploymentConfig(BaseModel):
    """What differs between one deployment (stage) and another."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    stage: str = Field(default="dev", pattern=r"^[a-z][a-z0-9-]{1,20}$")
    # Which entry of PRESETS filled the stage-dependent defaults.
    preset: Literal["dev", "prod"] = "dev"
    # Stateful resources when their stack is deleted or they are replaced: log groups,
    # secrets, the alarm topic key. "retain" keeps them (docs/deploy.md, teardown).
    removal_policy: RemovalChoice = "destroy"
    # The Aurora cluster: "snapshot" takes a final snapshot before deleting it.
    database_removal_policy: DatabaseRemovalChoice = "destroy"
    backup_retention_days: int = Field(default=1, ge=1, le=35)
    # Origin of the web app: CORS on the REST API and on the attachments bucket.
    web_origin: str = "http://localhost:5173"
    # New passwords are checked against breached ones through this k-anonymity range API
    # (only a 5-hex SHA-1 prefix is sent); null: the bundled list only (docs/identity.md).
    breached_passwords_api: str | None = Field(
        default="https://api.pwnedpasswords.com", pattern=r"^https://[^\s/]+(/[^\s]*)?$"
    )
    # Optional error reporting (platform/sentry.py, docs/operations.md "Error reporting"):
    # the name of an existing Secrets Manager secret whose value is the Sentry DSN. Every
    # function may read it, and the functions in the VPC run in the egress subnets (NAT):
    # Sentry is outside AWS. Null (the default): off, and the isolated subnets stay isolated.
    sentry_dsn_secret: str | None = Field(default=None, pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")
    # The tenants' LDAP / Active Directory servers (docs/identity.md): the identity
    # function's security group may open connections to these networks on these ports
    # (636 LDAPS, 389 StartTLS), reached over VPC peering, a VPN or Direct Connect.
    ldap_directory_cidrs: tuple[str, ...] = Field(default=(), max_length=50)
    ldap_directory_ports: tuple[int, ...] = Field(default=(636, 389), min_length=1, max_length=4)
    # Aurora Serverless v2 capacity (ACU). 0 lets the writer pause when idle (engine >= 16.3).
    aurora_min_acu: float = Field(default=0.5, ge=0, le=256)
    aurora_max_acu: float = Field(default=2, ge=1, le=256)
    aurora_readers: int = Field(default=0, ge=0, le=15)
    deletion_protection: bool = False
    # SQS: deliveries before a message moves to its DLQ.
    dlq_max_receive_count: int = Field(default=5, ge=1, le=1000)
    # Every log group: functions, API access logs, VPC flow logs, PostgreSQL logs.
    log_retention_days: int = 14
    # Reserved concurrency for each DB-bound function (caps connections to RDS Proxy).
    # Null disables it (new accounts with a 10-execution quota cannot reserve any).
    reserved_concurrency: int | None = Field(default=20, ge=1)
    # The API functions (FastAPI domains) start from a SnapStart snapshot of their published
    # version, taken after the imports (docs/deploy.md, cold starts). Lambda does not combine
    # it with provisioned concurrency: set snapStart false to use provisionedConcurrency.
    snap_start: bool = True
    # Instances kept initialized on each API function's `live` alias (billed while idle).
    provisioned_concurrency: int = Field(default=0, ge=0)
    # REST API stage throttling defaults.
    api_throttle_rate_limit: float = 100
    api_throttle_burst_limit: int = 200
    # Usage plan for integrator API keys.
    integrator_rate_limit: float = 20
    integrator_burst_limit: int = 40
    integrator_daily_quota: int = 50_000
    # When true every authorized method also demands an x-api-key header.
    require_api_key: bool = False
    # Alarm when the share of 5xx answers over 5 minutes passes this fraction.
    api_5xx_rate_threshold: float = Field(default=0.05, gt=0, le=1)
    # AWS WAF web ACL on the REST API stage (managed common + bad-inputs rules, per-IP rate).
    waf_enabled: bool = True
    waf_rate_limit_per_5min: int = Field(default=2000, ge=100)
    # Optional e-mail subscribed to the alarm topic.
    alarm_email: str | None = None
    # Alarm when the oldest message of a main queue (email, webhook, realtime) is older.
    queue_age_alarm_seconds: int = Field(default=900, ge=60)
    jwt_issuer: str = "servicedesk"
    jwt_audience: str = "servicedesk-api"
    # "kid" of the current signing key (SERVICEDESK_JWT_KEY_ID); a new key gets a new id.
    jwt_key_id: str = Field(default="sd-1", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    # External OIDC issuer (SERVICEDESK_OIDC_*); all three or none.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_role_claim: str | None = None
    oidc_tenant_claim: str | None = None
    oidc_default_tenant: str | None = None
    # Verified SES identity (address or domain) that outgoing mail is sent from.
    email_sender: str | None = None
    # Inbound e-mail (docs/deploy.md, "Receiving e-mail"). Unset: nothing inbound is created
    # (no mail bucket, topic, intake queue or functions, no receipt rules). Set: tenants
    # receive at <slug>@<inboundMailDomain>; provider hooks and IMAP polling work.
    inbound_mail_domain: str | None = Field(
        default=None,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    )
    # SES receiving: a receipt rule per domain (each verified in SES, its MX pointing at
    # inbound-smtp.<region>.amazonaws.com). Unset: [inboundMailDomain]. [] : no SES receiving
    # (a region without it); hooks and IMAP only.
    ses_receiving_domains: list[str] | None = None
    # The domain of the signed reply addresses (reply+<number>.<hmac>@<domain>) put in
    # ticket mail's Reply-To; its mail must reach the intake (an SES receiving domain or a
    # forward). Unset: inboundMailDomain; with neither, mail goes out without a Reply-To
    # domain of ours (the sender's domain is used, as before).
    email_reply_domain: str | None = Field(
        default=None,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    )
    # Raw inbound messages are deleted from the mail bucket after this many days.
    inbound_mail_retention_days: int = Field(default=30, ge=1, le=3650)
    # How often the IMAP poller runs (minutes).
    imap_poll_minutes: int = Field(default=5, ge=3, le=60)
    vpc_max_azs: int = Field(default=2, ge=2, le=3)
    # NAT gateways for the egress subnets (outbound webhooks): a number, or "per-az".
    # At least one: the webhook consumer has no other way to the internet.
    nat_gateways: int | Literal["per-az"] = Field(default=1)
    log_level: str = "INFO"
    # Embeddings in AWS (servicedesk/ai/providers.py; the packaged local model is not in the
    # layer): Bedrock's Titan Text Embeddings v2 (256, 512 or 1024 dimensions), or an
    # OpenAI-compatible endpoint at embeddingBaseUrl with its key in Secrets Manager.
    embedding_provider: Literal["bedrock", "openai"] = "bedrock"
    embedding_model: str = Field(default="amazon.titan-embed-text-v2:0", max_length=200)
    embedding_dimensions: int = Field(default=1024, ge=1, le=4096)
    embedding_base_url: str | None = None
    embedding_api_key_secret_arn: str | None = None
    # SERVICEDESK_ENVIRONMENT for the functions. The app's "dev" means a laptop (placeholders
    # allowed); every deployed stage runs as "prod" unless told otherwise.
    app_environment: Literal["dev", "test", "prod"] = "prod"
    # The assistant's language model (issue 18, docs/assistant.md): "openai" (any
    # OpenAI-compatible chat-completions endpoint at llmBaseUrl, e.g. Groq's
    # https://api.groq.com/openai/v1; its key goes into the secret
    # servicedesk/<stage>/llm-api-key) or "bedrock" (the Converse API in the stack's region,
    # llmModel a Bedrock model id such as openai.gpt-oss-20b-1:0). Unset: no assistant.
    llm_provider: Literal["openai", "bedrock"] | None = None
    llm_model: str = Field(default="openai/gpt-oss-20b", min_length=1, max_length=200)
    llm_base_url: str | None = Field(default=None, pattern=r"^https://[^\s]+$")
    # Per model call: a turn of a few rounds must end inside API Gateway's 29 seconds.
    llm_timeout_seconds: float = Field(default=12, gt=0, le=25)

    @field_validator(
        "alarm_email",
        "oidc_issuer",
        "oidc_audience",
        "oidc_jwks_url",
        "oidc_role_claim",
        "oidc_tenant_claim",
        "oidc_default_tenant",
        "email_sender",
        "inbound_mail_domain",
        "email_reply_domain",
        "llm_provider",
        "llm_base_url",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", "null", "none") else value

    @field_validator("ldap_directory_cidrs")
    @classmethod
    def _directory_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(ipaddress.ip_network(cidr, strict=True)) for cidr in value)

    @field_validator("ldap_directory_ports")
    @classmethod
    def _directory_ports(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= port <= 65535 for port in value):
            msg = "ports are 1-65535"
            raise ValueError(msg)
        return value

    @field_validator("reserved_concurrency", mode="before")
    @classmethod
    def _reserved_none(cls, value: object) -> object:
        return None if value in ("", "null", "none", "0", 0) else value

    @model_validator(mode="after")
    def _acu_order(self) -> DeploymentConfig:
        if self.aurora_min_acu > self.aurora_max_acu:
            msg = "auroraMinAcu must not exceed auroraMaxAcu"
            raise ValueError(msg)
        if self.nat_gateways != "per-az" and not 1 <= self.nat_gateways <= self.vpc_max_azs:
            msg = f"natGateways must be 1..vpcMaxAzs ({self.vpc_max_azs}) or 'per-az'"
            raise ValueError(msg)
        if self.snap_start and self.provisioned_concurrency:
            msg = (
                "provisionedConcurrency and snapStart exclude each other (Lambda refuses both "
                "on one version): add -c snapStart=false"
            )
            raise ValueError(msg)
        if self.reserved_concurrency is not None and (
            self.provisioned_concurrency > self.reserved_concurrency
        ):
            msg = "provisionedConcurrency must not exceed reservedConcurrency"
            raise ValueError(msg)
        if self.llm_provider == "openai" and not self.llm_base_url:
            msg = "llmProvider=openai needs llmBaseUrl (the chat-completions base URL)"
            raise ValueError(msg)
        oidc = (self.oidc_issuer, self.oidc_audience, self.oidc_jwks_url)
        if any(oidc) and not all(oidc):
            msg = "oidcIssuer, oidcAudience and oidcJwksUrl go together"
            raise ValueError(msg)
        return self

    @field_validator("ses_receiving_domains")
    @classmethod
    def _domains(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        pattern = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
        bad = [domain for domain in value if not pattern.fullmatch(domain)]
        if bad:
            msg = f"sesReceivingDomains: not lower-case domain names: {bad}"
            raise ValueError(msg)
        return list(dict.fromkeys(value))

    @property
    def inbound_mail(self) -> bool:
        return self.inbound_mail_domain is not None

    @property
    def receiving_domains(self) -> list[str]:
        """The domains SES receives for (empty without inbound mail)."""
        if self.inbound_mail_domain is None:
            return []
        if self.ses_receiving_domains is None:
            return [self.inbound_mail_domain]
        return self.ses_receiving_domains

    @property
    def prefix(self) -> str:
        """Name prefix for stacks and named resources, e.g. ``Servicedesk-dev``."""
        return f"Servicedesk-{self.stage}"

    @property
    def is_prod(self) -> bool:
        return self.preset == "prod"

    @property
    def nat_gateway_count(self) -> int:
        return self.vpc_max_azs if self.nat_gateways == "per-az" else self.nat_gateways

    @property
    def removal(self) -> RemovalPolicy:
        """Removal policy of log groups, secrets and keys."""
        return RemovalPolicy.RETAIN if self.removal_policy == "retain" else RemovalPolicy.DESTROY

    @property
    def database_removal(self) -> RemovalPolicy:
        return {
            "destroy": RemovalPolicy.DESTROY,
            "snapshot": RemovalPolicy.SNAPSHOT,
            "retain": RemovalPolicy.RETAIN,
        }[self.database_removal_policy]

    def oidc_environment(self) -> dict[str, str]:
        """``SERVICEDESK_OIDC_*`` for the functions that verify tokens (empty when unset)."""
        values = {
            "SERVICEDESK_OIDC_ISSUER": self.oidc_issuer,
            "SERVICEDESK_OIDC_AUDIENCE": self.oidc_audience,
            "SERVICEDESK_OIDC_JWKS_URL": self.oidc_jwks_url,
            "SERVICEDESK_OIDC_ROLE_CLAIM": self.oidc_role_claim,
            "SERVICEDESK_OIDC_TENANT_CLAIM": self.oidc_tenant_claim,
            "SERVICEDESK_OIDC_DEFAULT_TENANT": self.oidc_default_tenant,
        }
        return {key: value for key, value in values.items() if value}


def _parse(value: Any) -> Any:
    """Context from ``-c key=value`` is a string; accept JSON literals there too."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _context_object(node: Node, key: str) -> dict[str, Any]:
    value = _parse(node.try_get_context(key))
    if value is None:
        return {}
    if not isinstance(value, dict):
        msg = f"context {key!r} must be an object"
        raise TypeError(msg)
    return dict(value)


def load_config(node: Node) -> DeploymentConfig:
    """Preset of the stage < ``servicedesk`` < ``servicedesk:<stage>`` < top-level overrides."""
    common = _context_object(node, CONTEXT_KEY)
    overrides: dict[str, Any] = {}
    for name, field in DeploymentConfig.model_fields.items():
        alias = field.alias or name
        override = node.try_get_context(alias)
        if override is not None:
            overrides[alias] = _parse(override)
    stage = str(overrides.get("stage", common.get("stage", "dev")))
    per_stage = _context_object(node, f"{CONTEXT_KEY}:{stage}")
    preset = str(
        overrides.get("preset")
        or per_stage.get("preset")
        or common.get("preset")
        or ("prod" if stage == "prod" else "dev")
    )
    if preset not in PRESETS:
        msg = f"preset={preset!r}: use one of {sorted(PRESETS)}"
        raise ValueError(msg)
    raw: dict[str, Any] = {**PRESETS[preset], **common, **per_stage, **overrides}
    raw["stage"] = stage
    raw["preset"] = preset
    return DeploymentConfig.model_validate(raw)
