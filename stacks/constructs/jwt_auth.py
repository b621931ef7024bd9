"""``JwtAuth``: the JWT signing-key secret and the Lambda REQUEST authorizer that verifies
the service's own tokens for the REST API."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_secretsmanager as secretsmanager

from stacks.config import DeploymentConfig
from stacks.constructs.domain_function import DomainFunction, SharedLayers
from stacks.constructs.nag import acknowledge

AUTHORIZER_CACHE_TTL = Duration.seconds(300)


def jwt_environment(config: DeploymentConfig, secret_arn: str) -> dict[str, str]:
    """What every function that issues or verifies tokens needs."""
    return {
        "SERVICEDESK_JWT_PRIVATE_KEY_SECRET_ARN": secret_arn,
        "SERVICEDESK_JWT_ISSUER": config.jwt_issuer,
        "SERVICEDESK_JWT_AUDIENCE": config.jwt_audience,
        "SERVICEDESK_JWT_KEY_ID": config.jwt_key_id,
        **config.oidc_environment(),
    }


class JwtAuth:
    """Built in ``stack``'s own scope (stacks/constructs/__init__.py says why)."""

    def __init__(
        self,
        stack: Stack,
        *,
        config: DeploymentConfig,
        layers: SharedLayers,
        database_url: str,
    ) -> None:
        # JWT signing key (PEM). CloudFormation creates a random placeholder; the operator
        # puts the real key (docs/deploy.md). Retained: deleting it logs everyone out.
        self.secret = secretsmanager.Secret(
            stack,
            "JwtSigningKey",
            secret_name=f"servicedesk/{config.stage}/jwt-private-key",
            description="Servicedesk JWT signing key (PEM); replace the generated placeholder",
            removal_policy=config.removal,
        )
        acknowledge(
            self.secret,
            {
                "AwsSolutions-SMG4": "A signing key is rolled over with a new kid while the old "
                "one still verifies live tokens; single-value rotation cannot do that.",
            },
        )
        self.environment = jwt_environment(config, self.secret.secret_arn)

        # The authorizer verifies the JWT only, no database, so it runs outside the VPC.
        self.function = DomainFunction(
            stack,
            "Authorizer",
            name="authorizer",
            config=config,
            layers=layers,
            # The URL only satisfies settings validation (a DB is required outside dev); the
            # authorizer has no network path or IAM grant to the database.
            environment={**self.environment, "SERVICEDESK_DATABASE_URL": database_url},
            timeout=Duration.seconds(10),
            memory_size=256,
            description="Servicedesk REST API Lambda authorizer (JWT)",
        )
        self.secret.grant_read(self.function.role)
        # Cached per Authorization header value: the policy the authorizer returns must
        # therefore cover the whole API, not only the method that triggered it.
        self.authorizer = apigw.RequestAuthorizer(
            stack,
            "JwtAuthorizer",
            handler=self.function.function,
            identity_sources=[apigw.IdentitySource.header("Authorization")],
            results_cache_ttl=AUTHORIZER_CACHE_TTL,
        )
