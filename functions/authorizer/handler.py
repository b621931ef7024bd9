"""REST API Lambda authorizer: verify the bearer token, pass the principal in the context.

Kept lean for cold start: tokens and config only; no database, no web framework.
"""

from __future__ import annotations

from typing import Any

from servicedesk.platform.logging import get_logger, log_invocation
from servicedesk.platform.tokens import InvalidToken, verify_token

logger = get_logger()


def _token(event: dict[str, Any]) -> str | None:
    raw = event.get("authorizationToken")
    if raw is None:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        raw = headers.get("authorization")
    if not raw:
        return None
    scheme, _, token = str(raw).partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _wildcard_arn(method_arn: str) -> str:
    # The decision is cached per token for every method, so grant the whole stage.
    arn, _, path = method_arn.partition("/")
    stage = path.split("/", 1)[0]
    return f"{arn}/{stage}/*/*"


@log_invocation
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    token = _token(event)
    if token is None:
        raise Exception("Unauthorized")
    try:
        claims = verify_token(token)
    except InvalidToken as exc:
        logger.info("token refused", extra={"reason": str(exc)})
        raise Exception("Unauthorized") from exc
    return {
        "principalId": claims.subject,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": _wildcard_arn(str(event.get("methodArn", ""))),
                }
            ],
        },
        "context": claims.to_context(),
    }
