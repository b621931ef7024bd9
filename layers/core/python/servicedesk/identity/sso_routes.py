"""Sign-in providers: admins' configuration (``/v1/identity-providers``) and the sign-in
flow (``/v1/auth/sso/...``). Thin: parse, call, shape (identity/sso.py, providers.py)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Cookie, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

import servicedesk.identity.oidc  # noqa: F401  (registers the oidc kind)
from servicedesk.identity import directory_login, providers, saml, saml_kind, sso
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
from servicedesk.platform.errors import PayloadTooLarge, ValidationProblem, field_error
from servicedesk.platform.logging import get_logger
from servicedesk.platform.rbac import Permission, public
from servicedesk.platform.schemas import Slug

router = APIRouter(prefix="/v1")
provider_routes = Resource(
    router,
    "/identity-providers",
    "provider_id",
    "identity_provider",
    ProviderPublic,
    Permission.ADMIN_IDENTITY,
    Permission.ADMIN_IDENTITY,
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
    user_names = tenant is not None and directory_login.offers_user_names(tx, tenant)
    return JSONResponse(
        SsoOffers(providers=offers, directory_user_names=user_names).model_dump(),
        headers={"Cache-Control": "no-store"},
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
    url, browser, kind = sso.begin(
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
        samesite=cookie_same_site(kind, secure=settings.cookie_secure),
    )
    return response


def cookie_same_site(kind: str, *, secure: bool) -> Literal["lax", "none"]:
    """OIDC's IdP redirects back with a top-level GET, which carries a Lax cookie. SAML's
    posts a form cross-site, which carries only a SameSite=None cookie (and browsers keep
    those only when Secure). Over plain local http the IdP on 127.0.0.1 is same-site: Lax."""
    return "none" if kind == "saml" and secure else "lax"


def finish(
    tx: Tx, *, kind: str, state: str | None, browser: str | None, params: dict[str, str]
) -> RedirectResponse:
    """The end of every kind's callback: the web app with a one-time code, or with the
    reason of a refusal (logged with its detail; the state used up either way)."""
    return _finished(
        kind,
        lambda: sso.complete(
            tx, kind=kind, state=state, browser=browser, params=params, settings=get_settings()
        ),
    )


def _finished(kind: str, run: Callable[[], str]) -> RedirectResponse:
    try:
        code = run()
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


SAML_FORM_BYTES = 512 * 1024
SAML_FIELDS = ("SAMLResponse", "RelayState")


async def saml_form(request: Request) -> dict[str, str]:
    """The ACS's ``application/x-www-form-urlencoded`` body (HTTP-POST binding), read
    within a cap and parsed here (no multipart dependency): SAMLResponse and RelayState,
    each at most once; other fields are ignored."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise ValidationProblem(
            "the identity provider's answer is a form post",
            errors=[field_error("content-type", "must be application/x-www-form-urlencoded")],
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > SAML_FORM_BYTES:
            raise PayloadTooLarge(
                errors=[field_error("SAMLResponse", f"larger than {SAML_FORM_BYTES} bytes")]
            )
    try:
        pairs = urllib.parse.parse_qsl(
            bytes(body).decode("ascii"), keep_blank_values=True, max_num_fields=20
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationProblem(errors=[field_error("body", "not a URL-encoded form")]) from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name not in SAML_FIELDS:
            continue
        if name in form:
            raise ValidationProblem(errors=[field_error(name, "given more than once")])
        form[name] = value
    if not form.get("SAMLResponse"):
        raise ValidationProblem(errors=[field_error("SAMLResponse", "required")])
    if len(form.get("RelayState", "")) > 200:
        raise ValidationProblem(errors=[field_error("RelayState", "at most 200 characters")])
    return form


SAML_FORM_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["SAMLResponse"],
                    "properties": {
                        "SAMLResponse": {
                            "type": "string",
                            "description": "The base64 samlp:Response",
                        },
                        "RelayState": {
                            "type": "string",
                            "maxLength": 200,
                            "description": "The state of the sign-in this answers "
                            "(absent in an IdP-initiated sign-in)",
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "/auth/sso/saml/callback",
    status_code=302,
    response_class=RedirectResponse,
    dependencies=[public("the IdP's signed answer; state and the browser cookie are checked")],
    tags=["auth"],
    summary="The SAML assertion consumer service (register this ACS URL at the IdP)",
    description=(
        "The HTTP-POST binding: verifies the signed response against the provider's "
        "metadata certificates (audience, recipient, validity, InResponseTo, replay), "
        "provisions the person and sends the browser to the web app's "
        f"`{LANDING}` with a one-time code in the fragment (or `error=`). Without a "
        "RelayState of a sign-in started here, the response is IdP-initiated: accepted only "
        "when the provider of its Issuer allows it."
    ),
    openapi_extra=SAML_FORM_SCHEMA,
)
def saml_callback(
    tx: Tx,
    form: Annotated[dict[str, str], Depends(saml_form)],
    sd_sso: SsoCookie = None,
) -> RedirectResponse:
    params = {"SAMLResponse": form["SAMLResponse"]}
    relay = form.get("RelayState") or None
    if relay is None or (sd_sso is None and not sso.pending_state(tx, relay)):
        return _finished("saml", lambda: _unsolicited(tx, params))
    return finish(tx, kind="saml", state=relay, browser=sd_sso, params=params)


def _unsolicited(tx: Tx, params: dict[str, str]) -> str:
    issuer = saml_kind.response_issuer(params["SAMLResponse"])
    if not issuer:
        raise sso.Refusal("assertion", "the response names no Issuer")
    return sso.complete_unsolicited(
        tx, kind="saml", issuer=issuer, params=params, settings=get_settings()
    )


@router.get(
    "/auth/sso/saml/metadata",
    response_class=Response,
    dependencies=[public("the service provider's public metadata, the same for everyone")],
    tags=["auth"],
    summary="Our SAML service provider metadata (give it, or its URL, to the IdP)",
    description=(
        "An md:EntityDescriptor: our entity id, the ACS URL (HTTP-POST) and, when the "
        "deployment has an SP key, the certificate signed AuthnRequests are checked with."
    ),
    responses={
        200: {
            "content": {"application/samlmetadata+xml": {"schema": {"type": "string"}}},
            "description": "The SP metadata",
        }
    },
)
def saml_metadata() -> Response:
    settings = get_settings()
    document = saml.sp_metadata(
        saml_kind.service_provider(settings), sign_requests=saml_kind.can_sign(settings)
    )
    return Response(
        document,
        media_type="application/samlmetadata+xml",
        headers={"Cache-Control": "public, max-age=300"},
    )


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
