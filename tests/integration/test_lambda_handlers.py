"""The Lambda entry points, invoked with the sample API Gateway events in ``events/``.

The identity function must answer an event exactly as the local ASGI app answers the same
request (same routers, same pipeline; DESIGN invariant 13), with the principal taken from the
context that the authorizer function produced for a real token. The authorizer must allow
our tokens (here, issued by sign-in) and refuse every forgery with the exact ``Unauthorized``
API Gateway expects (tests/unit/test_authorizer.py).
"""

from __future__ import annotations

import base64
import json
from http.cookies import SimpleCookie
from typing import Any

import pytest

from local.app import load_function
from servicedesk.platform.errors import PROBLEM_JSON
from servicedesk.platform.tokens import verify_token
from tests.conftest import PASSWORD, login
from tests.events import (
    AUTHORIZE,
    authorize_request,
    drop_header,
    invoke,
    load_event,
    set_header,
    set_json_body,
)

STAGE_WILDCARD = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/*/*"

# The identity function's Powertools Metrics warns on every invocation that adds no metric.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


# --- fixtures and helpers ---------------------------------------------------------------


@pytest.fixture(scope="module")
def identity(database: Any) -> Any:
    """functions/identity/handler.py, imported after the test database is configured."""
    return load_function("identity")


def body_text(response: dict[str, Any]) -> str:
    """The body a client receives if API Gateway decodes base64 (it only does so when the
    API has binaryMediaTypes; see test_problem_json_reaches_the_client_as_text)."""
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        return base64.b64decode(body).decode()
    return str(body)


def body_json(response: dict[str, Any]) -> Any:
    return json.loads(body_text(response))


def headers_of(response: dict[str, Any]) -> dict[str, list[str]]:
    """Lambda proxy response headers, single- and multi-value, by lower-case name."""
    out: dict[str, list[str]] = {}
    for name, value in (response.get("headers") or {}).items():
        out.setdefault(name.lower(), []).append(value)
    for name, values in (response.get("multiValueHeaders") or {}).items():
        out.setdefault(name.lower(), []).extend(values)
    return out


def me_event(authorizer: Any, token: str) -> dict[str, Any]:
    """GET /v1/me as API Gateway passes it on after the REQUEST authorizer allowed ``token``."""
    policy = authorize_request(authorizer, f"Bearer {token}")
    event = load_event("apigw_rest_get_me")
    set_header(event, "Authorization", f"Bearer {token}")
    # API Gateway adds principalId and integrationLatency to the context the authorizer set.
    event["requestContext"]["authorizer"] = {
        "principalId": policy["principalId"],
        "integrationLatency": 37,
        **policy["context"],
    }
    return event


def login_event(email: str, password: str) -> dict[str, Any]:
    return set_json_body(
        load_event("apigw_rest_post_login"), {"email": email, "password": password}
    )


def refresh_cookie(set_cookie_values: list[str]) -> Any:
    jar: SimpleCookie = SimpleCookie()
    for value in set_cookie_values:
        jar.load(value)
    return jar["sd_refresh"]


# --- the identity function answers as the local app does ------------------------------------


def test_get_me_event_matches_local_app(client, tenant, identity, authorizer):
    for role, actor in tenant.members.items():
        local = client.get("/v1/me", headers=actor.headers)
        response = invoke(identity, me_event(authorizer, actor.token))

        assert response["statusCode"] == local.status_code == 200, body_text(response)
        assert headers_of(response)["content-type"] == ["application/json"]
        assert body_json(response) == local.json()
        assert body_json(response)["role"] == role
        assert body_json(response)["user"]["id"] == actor.user_id


def test_get_me_event_trusts_authorizer_context_without_the_header(
    client, tenant, identity, authorizer
):
    """On Lambda the principal comes from the authorizer context, not from the header."""
    actor = tenant.members["agent"]
    event = drop_header(me_event(authorizer, actor.token), "Authorization")

    response = invoke(identity, event)

    assert response["statusCode"] == 200, body_text(response)
    assert body_json(response) == client.get("/v1/me", headers=actor.headers).json()


def test_login_event_matches_local_app(client, tenant, identity):
    actor = tenant.members["agent"]
    local = login(client, actor.email)
    response = invoke(identity, login_event(actor.email, PASSWORD))

    assert response["statusCode"] == local.status_code == 200, body_text(response)
    body, local_body = body_json(response), local.json()
    # Tokens differ (jti, iat); everything else is the same, and both name the same principal.
    assert set(body) == set(local_body)
    assert {k: v for k, v in body.items() if k != "access_token"} == {
        k: v for k, v in local_body.items() if k != "access_token"
    }
    lambda_claims = verify_token(body["access_token"])
    local_claims = verify_token(local_body["access_token"])
    assert (
        (lambda_claims.subject, lambda_claims.tenant, lambda_claims.role)
        == (
            local_claims.subject,
            local_claims.tenant,
            local_claims.role,
        )
        == (actor.user_id, actor.tenant_id, "agent")
    )

    headers = headers_of(response)
    assert headers["content-type"] == [local.headers["content-type"]]
    assert headers["cache-control"] == [local.headers["cache-control"]] == ["no-store"]
    cookie = refresh_cookie(headers["set-cookie"])
    local_cookie = refresh_cookie([local.headers["set-cookie"]])
    for attribute in ("path", "httponly", "samesite", "max-age", "secure"):
        assert cookie[attribute] == local_cookie[attribute], attribute
    assert cookie["path"] == "/v1/auth"
    assert cookie["httponly"] is True


def test_refused_login_event_matches_local_app(client, tenant, identity):
    actor = tenant.members["requester"]
    local = login(client, actor.email, "not-the-password-at-all")
    response = invoke(identity, login_event(actor.email, "not-the-password-at-all"))

    assert response["statusCode"] == local.status_code == 401, body_text(response)
    assert headers_of(response)["content-type"] == [PROBLEM_JSON]
    assert body_json(response) == local.json()


@pytest.mark.parametrize("path", ["/v1/health", "/v1/health/ready"])
def test_health_event_matches_local_app(client, identity, path):
    event = load_event("apigw_rest_get_health")
    event["path"] = event["resource"] = event["requestContext"]["resourcePath"] = path
    event["requestContext"]["path"] = f"/prod{path}"
    local = client.get(path)

    response = invoke(identity, event)

    assert response["statusCode"] == local.status_code == 200, body_text(response)
    assert body_json(response) == local.json()
    assert body_json(response)["status"] == "ok"


def test_event_without_authorizer_context_or_header_is_401_problem(client, identity):
    event = drop_header(load_event("apigw_rest_get_me"), "Authorization")
    del event["requestContext"]["authorizer"]
    local = client.get("/v1/me")

    response = invoke(identity, event)

    assert response["statusCode"] == local.status_code == 401
    headers = headers_of(response)
    assert headers["content-type"] == [PROBLEM_JSON]
    assert headers["www-authenticate"] == ['Bearer realm="servicedesk"']
    problem = body_json(response)
    assert problem == local.json()
    assert problem["type"].endswith("/unauthorized")
    assert problem["status"] == 401
    assert problem["instance"] == "/v1/me"


def test_event_with_an_authorizer_context_for_no_member_is_401(identity):
    """A valid token whose user is not (or no longer) a member: refused per request."""
    event = load_event("apigw_rest_get_me")  # the sample's all-zero principal
    drop_header(event, "Authorization")

    response = invoke(identity, event)

    assert response["statusCode"] == 401
    assert body_json(response)["type"].endswith("/unauthorized")


def test_problem_json_reaches_the_client_as_text(identity):
    event = drop_header(load_event("apigw_rest_get_me"), "Authorization")
    del event["requestContext"]["authorizer"]

    response = invoke(identity, event)

    assert response["statusCode"] == 401
    assert response["isBase64Encoded"] is False
    assert json.loads(response["body"])["status"] == 401


# --- the authorizer -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(AUTHORIZE))
def test_authorizer_allows_a_real_token(tenant, authorizer, kind):
    actor = tenant.members["agent"]

    policy = AUTHORIZE[kind](authorizer, f"Bearer {actor.token}")

    assert policy["principalId"] == actor.user_id
    [statement] = policy["policyDocument"]["Statement"]
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": STAGE_WILDCARD,
    }
    context = policy["context"]
    assert context["kind"] == "internal"
    assert context["sub"] == actor.user_id
    assert context["tenant"] == actor.tenant_id
    assert context["role"] == "agent"
    # API Gateway accepts only string, number and boolean context values.
    assert all(isinstance(value, str | int | float | bool) for value in context.values())


def test_authorizer_policy_covers_the_stage_whatever_method_triggered_it(tenant, authorizer):
    """The decision is cached per Authorization header for every method of the stage."""
    event = set_header(
        load_event("authorizer_request"), "Authorization", tenant.admin.headers["Authorization"]
    )
    event["methodArn"] = (
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/PATCH/v1/users/"
        + tenant.members["agent"].user_id
    )

    policy = invoke(authorizer, event)

    assert policy["policyDocument"]["Statement"][0]["Resource"] == STAGE_WILDCARD


def test_authorizer_accepts_a_lowercase_header_name(tenant, authorizer):
    event = load_event("authorizer_request")
    drop_header(event, "Authorization")
    event["headers"]["authorization"] = f"Bearer {tenant.admin.token}"

    policy = invoke(authorizer, event)

    assert policy["context"]["role"] == "admin"


def test_cached_authorizer_context_of_an_expired_token_is_refused(tenant, identity, authorizer):
    """API Gateway may replay a cached Allow after the token's exp; the handler still refuses."""
    actor = tenant.members["agent"]
    event = drop_header(me_event(authorizer, actor.token), "Authorization")
    event["requestContext"]["authorizer"]["exp"] = "1000"

    response = invoke(identity, event)

    assert response["statusCode"] == 401
    assert body_json(response)["detail"] == "access token expired"


def test_gateway_request_id_is_the_request_id(tenant, identity, authorizer):
    event = me_event(authorizer, tenant.members["agent"].token)
    event["requestContext"]["requestId"] = "gw-request-123456"
    drop = {k for k in event["headers"] if k.lower() == "x-request-id"}
    for key in drop:
        event = drop_header(event, key)

    response = invoke(identity, event)

    assert headers_of(response)["x-request-id"] == ["gw-request-123456"]
