"""Self-registration API. Thin.

- ``POST /v1/signup/requester`` and ``/v1/signup/requester/confirm`` (``router``, the
  identity function with the other sign-up routes): public.
- ``GET/PUT /v1/settings/portal`` (``settings_router``, the tickets function with the
  other settings): admins.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from servicedesk.identity import registration
from servicedesk.identity.schemas import (
    RegistrationAccepted,
    RegistrationConfirm,
    RegistrationRequest,
    TokenResponse,
)
from servicedesk.platform.config import get_settings
from servicedesk.platform.context import Tx, client_ip, request_id
from servicedesk.platform.rbac import public
from servicedesk.platform.settings_routes import add_settings_routes

router = APIRouter(prefix="/v1/signup", tags=["auth"])
settings_router = APIRouter(prefix="/v1/settings", tags=["settings"])
add_settings_routes(settings_router, registration.SECTION)


@router.post(
    "/requester",
    status_code=202,
    response_model=RegistrationAccepted,
    responses={403: {"description": "The organisation does not allow it (or not for this domain)"}},
    dependencies=[public("an employee registers where the organisation allows it")],
    summary="Register as a requester of an organisation: a confirmation link goes to the e-mail",
    description=(
        "Only where the organisation allows self-registration (`/v1/settings/portal`), and "
        "for its allowed e-mail domains: otherwise 403 naming `tenant` or `email`. Creates "
        "nothing yet and says nothing about the address: the answer is the same whether or "
        "not it has an account. The link leads to `POST /v1/signup/requester/confirm`. "
        "Limited per e-mail and per client address with the sign-ups (429)."
    ),
)
def request_registration(body: RegistrationRequest, request: Request, tx: Tx) -> JSONResponse:
    registration.request(
        tx,
        tenant=body.tenant,
        email=body.email,
        name=body.name,
        password=body.password,
        client_ip=client_ip(request),
        settings=get_settings(),
    )
    accepted = RegistrationAccepted(email=body.email)
    return JSONResponse(
        accepted.model_dump(), status_code=202, headers={"Cache-Control": "no-store"}
    )


@router.post(
    "/requester/confirm",
    status_code=201,
    responses={201: {"model": TokenResponse, "description": "Signed in as the new requester"}},
    dependencies=[public("authenticated by the e-mailed registration token")],
    summary="Finish a registration: the requester's membership, signed in",
    description=(
        "For an address that already had an account, the organisation is added to it and "
        "the password given at registration is ignored. 404 for an unknown, used or expired "
        "token; 403 when the organisation turned registration off since; 409 when the "
        "account already belongs to the organisation (sign in)."
    ),
)
def confirm_registration(body: RegistrationConfirm, request: Request, tx: Tx) -> JSONResponse:
    from servicedesk.identity.routes import _tokens  # the identity function's own cookie

    tokens = registration.confirm(
        tx, token=body.token, settings=get_settings(), request_id=request_id(request)
    )
    return _tokens(tokens, status=201)
