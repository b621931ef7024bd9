"""Deny by default: every route names the permission it needs, or says why it is public."""

from __future__ import annotations

from local.app import build_app
from servicedesk.platform.app import api_routes, route_permission
from servicedesk.platform.permissions import Permission
from servicedesk.platform.rbac import PUBLIC

# Routes that are public on purpose; anything else public is a mistake.
EXPECTED_PUBLIC = {
    ("POST", "/v1/signup"),
    ("POST", "/v1/signup/confirm"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/logout"),
    ("POST", "/v1/auth/accept-invitation"),
    # Account recovery: enumeration-safe requests, and the mailed tokens as credentials.
    ("POST", "/v1/auth/password/forgot"),
    ("POST", "/v1/auth/password/reset"),
    ("POST", "/v1/auth/verify-email/request"),
    ("POST", "/v1/auth/verify-email"),
    ("POST", "/v1/auth/magic"),
    # Self-registration of requesters where the organisation allows it; its confirmation's
    # credential is the e-mailed single-use token (identity/registration.py).
    ("POST", "/v1/signup/requester"),
    ("POST", "/v1/signup/requester/confirm"),
    # Two-step verification after a verified password: the short-lived mfa_token is the
    # credential (identity/mfa.py); the enrolment pair only with an enrolment's token.
    ("POST", "/v1/auth/mfa"),
    ("POST", "/v1/auth/mfa/totp"),
    ("POST", "/v1/auth/mfa/totp/confirm"),
    # Sign-in through an organisation's identity provider (identity/sso.py): discovery says
    # nothing about accounts; start only redirects; the callback's credentials are the
    # state bound to the browser's cookie and the IdP's signed answer; the exchange's is
    # the one-time code.
    ("GET", "/v1/auth/sso/discover"),
    ("GET", "/v1/auth/sso/{tenant}/{provider}/start"),
    ("GET", "/v1/auth/sso/oidc/callback"),
    # SAML's ACS (the signed response and, for a started sign-in, the state bound to the
    # browser) and our SP metadata (public by nature: the IdP imports it).
    ("POST", "/v1/auth/sso/saml/callback"),
    ("GET", "/v1/auth/sso/saml/metadata"),
    ("POST", "/v1/auth/sso/exchange"),
    ("GET", "/v1/.well-known/jwks.json"),
    ("GET", "/v1/health"),
    ("GET", "/v1/health/ready"),
    ("POST", "/v1/hooks/{provider}"),
    # Inbound mail from providers: each request carries the hook's credentials (mail/hooks.py).
    ("POST", "/v1/hooks/email/{provider}/{hook_id}"),
    ("POST", "/v1/hooks/email/{provider}/{hook_id}/mime"),
    # RFC 8058 one-click unsubscribe: the signed token is the credential; GET only redirects.
    ("POST", "/v1/notifications/unsubscribe"),
    ("GET", "/v1/notifications/unsubscribe"),
    # The CSAT survey link: the signed, single-use token is the credential; GET records nothing.
    ("GET", "/v1/csat/{token}"),
    ("POST", "/v1/csat/{token}"),
    ("GET", "/v1/approval-links/{token}"),
    ("POST", "/v1/approval-links/{token}"),
    # An organisation's public branding (login page, e-mail clients): public fields only.
    ("GET", "/v1/branding/{slug}"),
    ("GET", "/v1/branding/{slug}/logo"),
    # An avatar in an <img>: its random id is the capability (attachments/avatars.py).
    ("GET", "/v1/avatars/{attachment_id}"),
    # SCIM for identity providers: the tenant's SCIM token is the credential, checked by
    # the route's own pipeline (servicedesk/scim/auth.py), not by the desk's JWT.
    *{(method, f"/scim/v2/{kind}") for kind in ("Users", "Groups") for method in ("GET", "POST")},
    *{
        (method, f"/scim/v2/{kind}/{{resource_id}}")
        for kind in ("Users", "Groups")
        for method in ("GET", "PUT", "PATCH", "DELETE")
    },
    ("GET", "/scim/v2/ServiceProviderConfig"),
    ("GET", "/scim/v2/ResourceTypes"),
    ("GET", "/scim/v2/ResourceTypes/{name}"),
    ("GET", "/scim/v2/Schemas"),
    ("GET", "/scim/v2/Schemas/{schema_id}"),
    # GitHub's and Slack's requests carry their own signatures, checked before any read;
    # Slack's install callback, the single-use state bound to the installing admin
    # (servicedesk/integrations).
    ("POST", "/v1/hooks/github/{integration_id}"),
    ("POST", "/v1/hooks/slack/{integration_id}/commands"),
    ("POST", "/v1/hooks/slack/{integration_id}/interactions"),
    ("POST", "/v1/hooks/slack/{integration_id}/events"),
    ("GET", "/v1/hooks/slack/oauth/callback"),
    # GraphiQL in dev (the page holds no data; its queries send the bearer); 405 elsewhere.
    ("GET", "/v1/graphql"),
}


def test_every_route_names_a_permission():
    app = build_app()
    undeclared, public = [], set()
    routes = api_routes(app)
    assert len(routes) >= 15
    for route in routes:
        policy = route_permission(route)
        for method in route.methods:
            if policy != PUBLIC and not isinstance(policy, Permission):
                undeclared.append((method, route.path))
            elif policy == PUBLIC:
                public.add((method, route.path))
    assert undeclared == []
    assert public == EXPECTED_PUBLIC


def test_openapi_documents_security_and_roles():
    schema = build_app().openapi()
    users = schema["paths"]["/v1/users"]["post"]
    assert users["security"] == [{"bearer": []}] and users["x-min-role"] == "admin"
    assert users["x-permission"] == "admin:users"
    assert schema["paths"]["/v1/auth/login"]["post"]["security"] == []
    assert "Problem" in schema["components"]["schemas"]


def test_every_operation_is_in_a_section():
    """Swagger UI and the generated clients (docs/clients) group operations by tag: one
    without a tag lands in a "default" section, away from its resource's."""
    schema = build_app().openapi()
    untagged = [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if not operation.get("tags")
    ]
    assert untagged == []


def test_every_success_response_has_a_schema():
    """The OpenAPI document is what integrators and the web app's types are built from: a
    2xx JSON answer typed as 'anything' (a route returning Any without response_model) is
    a hole in it."""
    schema = build_app().openapi()
    untyped = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                for content_type, content in (response.get("content") or {}).items():
                    if content_type.endswith("json") and set(content.get("schema", {})) <= {
                        "title",
                        "description",
                    }:
                        untyped.append((method.upper(), path, status))
    assert untyped == []
