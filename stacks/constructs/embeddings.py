"""What a function that embeds text needs: the provider's settings and the right to call it.

The knowledge consumer embeds articles; the kb function embeds search queries. Bedrock:
``bedrock:InvokeModel`` on the one foundation model configured, nothing wider. An
OpenAI-compatible endpoint: read access to its key's secret, when one is configured.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from stacks.config import DeploymentConfig


def embedding_environment(config: DeploymentConfig) -> dict[str, str]:
    env = {
        "SERVICEDESK_EMBEDDING_PROVIDER": config.embedding_provider,
        "SERVICEDESK_EMBEDDING_MODEL": config.embedding_model,
        "SERVICEDESK_EMBEDDING_DIMENSIONS": str(config.embedding_dimensions),
    }
    if config.embedding_base_url:
        env["SERVICEDESK_EMBEDDING_BASE_URL"] = config.embedding_base_url
    if config.embedding_api_key_secret_arn:
        env["SERVICEDESK_EMBEDDING_API_KEY_SECRET_ARN"] = config.embedding_api_key_secret_arn
    return env


def grant_embeddings(config: DeploymentConfig, role: iam.IRole, stack: Stack) -> None:
    if config.embedding_provider == "bedrock":
        model = stack.format_arn(
            service="bedrock",
            account="",
            resource="foundation-model",
            resource_name=config.embedding_model,
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=[model])
        )
    elif config.embedding_api_key_secret_arn:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"],
                resources=[config.embedding_api_key_secret_arn],
            )
        )
