"""What a function that calls the language model needs: its settings and the right to call it.

Two functions do: the assistant (its answers) and the knowledge consumer (drafts from
resolved tickets). An OpenAI-compatible endpoint: the key in one Secrets Manager secret,
``servicedesk/<stage>/llm-api-key``, which only these functions read; Bedrock: the Converse
API through ``bedrock:InvokeModel`` on the one configured model, nothing wider. The secret is
made in the Async stack (the knowledge consumer's), which the API stack already follows.
"""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager

from stacks.config import DeploymentConfig
from stacks.constructs.nag import acknowledge


def llm_secret(stack: Stack, config: DeploymentConfig) -> secretsmanager.Secret | None:
    """The API key's secret, for an OpenAI-compatible provider (else None)."""
    if config.llm_provider != "openai":
        return None
    secret = secretsmanager.Secret(
        stack,
        "LlmApiKey",
        secret_name=f"servicedesk/{config.stage}/llm-api-key",
        description="Servicedesk: the language model's API key; replace the placeholder",
        removal_policy=config.removal,
    )
    acknowledge(secret, {"AwsSolutions-SMG4": "A third party's API key: rotated at that provider."})
    return secret


def grant_llm(
    config: DeploymentConfig,
    role: iam.IRole,
    secret: secretsmanager.ISecret | None,
    *,
    timeout_seconds: float | None = None,
) -> dict[str, str]:
    """Grant ``role`` the configured model; the environment its function needs (empty when
    no model is configured). ``timeout_seconds`` caps each call (the assistant's must end
    inside API Gateway's 29 seconds)."""
    if config.llm_provider is None:
        return {}
    timeout = config.llm_timeout_seconds
    environment = {
        "SERVICEDESK_LLM_PROVIDER": config.llm_provider,
        "SERVICEDESK_LLM_MODEL": config.llm_model,
        "SERVICEDESK_LLM_TIMEOUT_SECONDS": str(
            min(timeout, timeout_seconds) if timeout_seconds else timeout
        ),
    }
    if config.llm_base_url:
        environment["SERVICEDESK_LLM_BASE_URL"] = config.llm_base_url
    if secret is not None:
        secret.grant_read(role)
        environment["SERVICEDESK_LLM_API_KEY_SECRET_ARN"] = secret.secret_arn
    elif config.llm_provider == "bedrock":
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["bedrock:InvokeModel"],
                resources=[
                    f"arn:{Aws.PARTITION}:bedrock:{Aws.REGION}::foundation-model/{config.llm_model}"
                ],
            )
        )
    return environment
