"""Sign-in providers: admins' configuration (``/v1/identity-providers``) and the sign-in
flow (``/v1/auth/sso/...``). Thin: parse, call, shape (identity/sso.py, providers.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse

import servicedesk.identity.oidc  # noqa: F401  (registers the oidc kind)
from servicedesk.identity import providers, sso
from servicedesk.identity.routes import ClientDevice, _tokens
from servicedesk.identity.sso_schemas import (
    OidcCallback,
    ProviderCreate,
    ProviderPublic,
    ProviderSlug,
    ProviderUpdate,
    SsoExchange,
    SsoOffer,
    SsoOffers,
    SsoSession,
)
from servicedesk.platform.config import get_settings
from servicedesk.platform.context import Tx, request_id
from servicedesk.platform.endpoints import Resource
from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.platform.logging import get_logger
from servicedesk.platform.rbac import Role, public
from servicedesk.platform.schemas import Slug

router = APIRouter(prefix="/v1")
provider_routes = Resource(
    router,
    "/identity-providers",
    "provider_id",
    "identity_provider",
    ProviderPublic,
    Role.ADMIN,
    Role.ADMIN,
    ("identity-providers",),
)
provider_routes.list("List the organisation's sign-in providers", providers.list_providers)
provider_routes.create(
    "Add a sign-in provider (OIDC: the issuer's discovery document is checked now; the "
    "client secret is stored, never returned)",
    ProviderCreate,
    providers.create_provider,
    redact={"client_secret"},
)
provider_routes.get("Get a sign-in provider", providers.get_provider)
provider_routes.update(
    "Change a sign-in provider (needs If-Match or version; config is replaced whole)",
    ProviderUpdate,
    providers.update_provider,
)
provider_routes.delete("Remove a sign-in provider", providers.delete_provider)

SSO_COOKIE = "sd_sso"
SSO_COOKIE_PATH = "/v1/auth/sso"
SsoCookie = Annotated[str | None, Cookie(alias=SSO_COOKIE, max_length=200)]
LANDING = "/login/sso"


def _landing(fragment: str) -> RedirectResponse:
    """Back to the web app's sign-in page: the one-time code (or the failure's reason)
    in the fragment, which no server and no Referer sees."""
    origin = get_settings().web_origin.rstrip("/")
    response = RedirectResponse(f"{origin}{LANDING}#{fragment}", status_code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.delete_cookie(SSO_COOKIE, path=SSO_COOKIE_PATH, secure=True, httponly=True)
    return response


@router.get(
    "/auth/sso/discover",
    response_model=SsoOffers,
    dependencies=[public("pre-authentication; says nothing about accounts")],
    tags=["auth"],
    summary="The sign-in providers to offer for an e-mail's domain or an organisation",
    description=(
        "Give `email` or `tenant` (the organisation's slug). The answer depends only on "
        "the organisations' configuration, never on whether the address has an account."
    ),
)
def discover(
    tx: Tx,
    email: Annotated[str | None, Query(max_length=254)] = None,
    tenant: Annotated[Slug | None, Query()] = None,
) -> JSONResponse:
    if not email and not tenant:
        raise ValidationProblem(
            "give email or tenant",
            errors=[field_error("email", "required without tenant")],
        )
    offers = [
        SsoOffer(
            tenant=o.tenant,
            tenant_name=o.tenant_name,
            provider=o.provider,
            name=o.name,
            kind=o.kind,
            start_url=f"/v1/auth/sso/{o.tenant}/{o.provider}/start",
        )
        for o in sso.discover(tx, email=email, tenant=tenant)
    ]
    return JSONResponse(
        SsoOffers(providers=offers).model_dump(), headers={"Cache-Control": "no-store"}
    )


@router.get(
    "/auth/sso/{tenant}/{provider}/start",
    status_code=302,
    response_class=RedirectResponse,
    dependencies=[public("starts a sign-in at the organisation's identity provider")],
    tags=["auth"],
    summary="Go to the organisation's identity provider to sign in",
    description=(
        "302 to the IdP (OIDC: its authorization endpoint, with state, nonce and PKCE "
        "S256), with a cookie binding the sign-in to this browser. 404 naming `provider` "
        "for an unknown or disabled provider. `return_to`: a path of the web app to go "
        "back to afterwards."
    ),
)
def start(
    tenant: Slug,
    provider: ProviderSlug,
    tx: Tx,
    return_to: Annotated[str | None, Query(max_length=500)] = None,
) -> RedirectResponse:
    if return_to is not None and (not return_to.startswith("/") or return_to.startswith("//")):
        raise ValidationProblem(errors=[field_error("return_to", "must be a path of the app")])
    settings = get_settings()
    url, browser = sso.begin(
        tx, tenant_slug=tenant, provider_slug=provider, return_to=return_to, settings=settings
    )
    response = RedirectResponse(url, status_code=302)
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        SSO_COOKIE,
        browser,
        max_age=settings.sso_request_ttl_seconds,
        path=SSO_COOKIE_PATH,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",  # sent on the IdP's top-level redirect back
    )
    return response


def finish(
    tx: Tx, *, kind: str, state: str | None, browser: str | None, params: dict[str, str]
) -> RedirectResponse:
    """The end of every kind's callback: the web app with a one-time code, or with the
    reason of a refusal (logged with its detail; the state used up either way)."""
    try:
        code = sso.complete(
            tx, kind=kind, state=state, browser=browser, params=params, settings=get_settings()
        )
    except sso.Refusal as refusal:
        get_logger().warning(
            "sso sign-in refused",
            extra={"kind": kind, "reason": refusal.reason, "detail": refusal.detail[:500]},
        )
        return _landing(f"error={refusal.reason}")
    return _landing(f"code={code}")


@router.get(
    "/auth/sso/oidc/callback",
    status_code=302,
    response_class=RedirectResponse,
    dependencies=[public("the IdP's redirect back; state and the browser cookie are checked")],
    tags=["auth"],
    summary="Where an OIDC provider sends the browser back (register this redirect URI)",
    description=(
        "Exchanges the code (with the PKCE verifier and the client secret), verifies the "
        "ID token with the issuer's keys, provisions the person and sends the browser to "
        f"the web app's `{LANDING}` with a one-time code in the fragment (or `error=`)."
    ),
)
def oidc_callback(
    tx: Tx, query: Annotated[OidcCallback, Query()], sd_sso: SsoCookie = None
) -> RedirectResponse:
    params = {
        k: v
        for k, v in (("code", query.code), ("error", query.error), ("iss", query.iss))
        if v is not None
    }
    return finish(tx, kind="oidc", state=query.state, browser=sd_sso, params=params)


@router.post(
    "/auth/sso/exchange",
    responses={200: {"model": SsoSession, "description": "Signed in; refresh cookie set"}},
    dependencies=[public("authenticated by the one-time code of a verified sign-in")],
    tags=["auth"],
    summary="Exchange the one-time code of an identity provider's sign-in for a session",
    description="401 naming `code` for an unknown, used or expired code (the same for each).",
)
def exchange(body: SsoExchange, request: Request, tx: Tx, client: ClientDevice) -> JSONResponse:
    tokens, return_to = sso.exchange(
        tx, code=body.code, settings=get_settings(), device=client, request_id=request_id(request)
    )
    answer = SsoSession(
        access_token=tokens.access_token, expires_in=tokens.expires_in, return_to=return_to
    )
    return _tokens(tokens, body=answer)
