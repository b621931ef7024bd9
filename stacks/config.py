"""Deployment configuration, read from CDK context.

Every field can be set in ``cdk.json`` under the ``servicedesk`` context object, or overridden
on the command line with its camelCase name: ``npx cdk deploy -c stage=prod -c auroraMaxAcu=8``.
Command-line values arrive as strings; pydantic coerces them.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from constructs import Node
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

CONTEXT_KEY = "servicedesk"


class DeploymentConfig(BaseModel):
    """What differs between one deployment (stage) and another."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    stage: str = Field(default="dev", pattern=r"^[a-z][a-z0-9-]{1,20}$")
    # Origin of the web app: CORS on the REST API and on the attachments bucket.
    web_origin: str = "http://localhost:5173"
    # Aurora Serverless v2 capacity (ACU). 0 lets the writer pause when idle (engine >= 16.3).
    aurora_min_acu: float = Field(default=0.5, ge=0, le=256)
    aurora_max_acu: float = Field(default=4, ge=1, le=256)
    aurora_readers: int = Field(default=0, ge=0, le=15)
    deletion_protection: bool = True
    # SQS: deliveries before a message moves to its DLQ.
    dlq_max_receive_count: int = Field(default=5, ge=1, le=1000)
    log_retention_days: int = 30
    # Reserved concurrency for each DB-bound function (caps connections to RDS Proxy).
    # Null disables it (new accounts with a 10-execution quota cannot reserve any).
    reserved_concurrency: int | None = Field(default=20, ge=1)
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
    jwt_issuer: str = "servicedesk"
    jwt_audience: str = "servicedesk-api"
    vpc_max_azs: int = Field(default=2, ge=2, le=3)
    log_level: str = "INFO"
    # SERVICEDESK_ENVIRONMENT for the functions. The app's "dev" means a laptop (placeholders
    # allowed); every deployed stage runs as "prod" unless told otherwise.
    app_environment: Literal["dev", "test", "prod"] = "prod"

    @field_validator("alarm_email", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", "null", "none") else value

    @field_validator("reserved_concurrency", mode="before")
    @classmethod
    def _reserved_none(cls, value: object) -> object:
        return None if value in ("", "null", "none", "0", 0) else value

    @model_validator(mode="after")
    def _acu_order(self) -> DeploymentConfig:
        if self.aurora_min_acu > self.aurora_max_acu:
            msg = "auroraMinAcu must not exceed auroraMaxAcu"
            raise ValueError(msg)
        return self

    @property
    def prefix(self) -> str:
        """Name prefix for stacks and named resources, e.g. ``Servicedesk-dev``."""
        return f"Servicedesk-{self.stage}"

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"


def _parse(value: Any) -> Any:
    """Context from ``-c key=value`` is a string; accept JSON literals there too."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def load_config(node: Node) -> DeploymentConfig:
    """Merge the ``servicedesk`` context object with top-level per-field overrides."""
    raw: dict[str, Any] = dict(_parse(node.try_get_context(CONTEXT_KEY)) or {})
    for name, field in DeploymentConfig.model_fields.items():
        alias = field.alias or name
        override = node.try_get_context(alias)
        if override is not None:
            raw[alias] = _parse(override)
    if isinstance(raw.get("stage"), int | float):
        raw["stage"] = str(raw["stage"])
    return DeploymentConfig.model_validate(raw)
