"""Identity API: accounts, sessions, the caller, and user management. Thin: parse, call, shape."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from servicedesk.identity import magic, mfa, profile, recovery, service, sessions, signup, users
from servicedesk.identity.models import Tenant
from servicedesk.identity.schemas import (
    AcceptInvitation,
    AccountMailAccepted,
    InvitationCreate,
    InvitationPublic,
    LoginRequest,
    MagicExchange,
    MagicPassword,
    MagicSession,
    MeResponse,
    MyTenant,
    PasswordChange,
    PasswordForgot,
    PasswordReset,
    ProfileUpdate,
    SessionPublic,
    SessionsRevoked,
    SignupAccepted,
    SignupConfirm,
    SignupRequest,
    SwitchTenantRequest,
    TeamRef,
    TenantPublic,
    TokenResponse,
    UserCreate,
    UserPublic,
    UserUpdate,
    VerifyEmail,
    VerifyEmailRequest,
)
from servicedesk.identity.sessions import Device, IssuedTokens
from servicedesk.identity.throttle import PasswordGate
from servicedesk.platform.app import problem_response
from servicedesk.platform.config import get_settings
from servicedesk.platform.context import Ctx, Tx, client_ip, request_id
from servicedesk.platform.endpoints import Resource, operation, route
from servicedesk.platform.rbac import Permission, public
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.tokens import get_keyset

router = APIRouter(prefix="/v1")
USERS = ("users",)
user_routes = Resource(
    router,
    "/users",
    "user_id",
    "user",
    UserPublic,
    Permission.DIRECTORY_READ,
    Permission.ADMIN_USERS,
    USERS,
)
invitation_routes = Resource(
    router,
    "/users/invitations",
    "invitation_id",
    "invitation",
    InvitationPublic,
    Permission.ADMIN_USERS,
    Permission.ADMIN_USERS,
    USERS,
)


def password_gate(request: Request) -> PasswordGate:
    """The login's lockout for this client: every route that checks a password takes it."""
    return PasswordGate(client_ip=client_ip(request), settings=get_settings())


PasswordCheck = Annotated[PasswordGate, Depends(password_gate)]


def device(request: Request) -> Device:
    """Where a sign-in comes from, for the person's list of sessions."""
    return Device.of(request.headers.get("user-agent"), client_ip(request))


ClientDevice = Annotated[Device, Depends(device)]

REFRESH_COOKIE = "sd_refresh"
COOKIE_PATH = "/v1/auth"
RefreshCookie = Annotated[str | None, Cookie(alias=REFRESH_COOKIE, max_length=200)]


def _tokens(
    tokens: IssuedTokens, *, status: int = 200, body: BaseModel | None = None
) -> JSONResponse:
    """The access token (or ``body``, which carries it) and the refresh cookie."""
    settings = get_settings()
    body = body or TokenResponse(access_token=tokens.access_token, expires_in=tokens.expires_in)
    response = JSONResponse(
        body.model_dump(), status_code=status, headers={"Cache-Control": "no-store"}
    )
    response.set_cookie(
        REFRESH_COOKIE,
        tokens.refresh_token,
        max_age=settings.refresh_token_ttl_seconds,
        path=COOKIE_PATH,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
    )
    return response


def _refusal(
    request: Request, refused: service.Refused, *, clear_cookie: bool = False
) -> JSONResponse:
    problem = refused.problem
    response = problem_response(problem.status, problem.body(request.url.path), problem.headers)
    if clear_cookie:
        response.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH, secure=True, httponly=True)
    return response


def _checked_password(
    sign_in: Callable[..., IssuedTokens],
    body: Any,
    request: Request,
    tx: Session,
    gate: PasswordGate,
) -> JSONResponse:
    """The tokens of a sign-in that checks a password (login, accepting an invitation with
    an existing account), or its refusal, whose attempt counts still commit."""
    try:
        tokens = sign_in(
            tx,
            data=body,
            gate=gate,
            settings=get_settings(),
            request_id=request_id(request),
            device=device(request),
        )
    except service.Refused as refused:
        return _refusal(request, refused)
    except mfa.SecondStep as step:  # the password was right; a code (or enrolment) next
        return JSONResponse(step.body, headers={"Cache-Control": "no-store"})
    return _tokens(tokens)


TOKEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": TokenResponse, "description": "Access token; refresh token set as cookie"}
}
# A password sign-in may answer the second step instead (identity/mfa.py).
SIGN_IN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": TokenResponse | mfa.MfaChallenge,
        "description": "Access token (refresh token set as cookie), or, for a person with "
        "two-step verification (or whom the organisation requires to set it up), "
        "`{mfa_required | mfa_enrolment_required: true, mfa_token}` and no session yet",
    }
}


@router.post(
    "/signup",
    status_code=202,
    response_model=SignupAccepted,
    dependencies=[public("anyone may create an organization")],
    tags=["auth"],
    summary="Ask to create an organization: a confirmation link goes to the e-mail",
    description=(
        "Creates nothing yet and says nothing about the address: the answer is the same "
        "whether or not it has an account. The link in the e-mail leads to "
        "`POST /v1/signup/confirm`. Limited per e-mail and per client address (429)."
    ),
)
def request_signup(body: SignupRequest, request: Request, tx: Tx) -> JSONResponse:
    signup.request(tx, data=body, client_ip=client_ip(request), settings=get_settings())
    accepted = SignupAccepted(email=body.email)
    return JSONResponse(
        accepted.model_dump(), status_code=202, headers={"Cache-Control": "no-store"}
    )


@router.post(
    "/signup/confirm",
    status_code=201,
    responses={
        201: {"model": TokenResponse, "description": "Signed in as the new admin"},
        200: {
            "model": mfa.MfaChallenge,
            "description": "Created, for an existing account with two-step verification: "
            "sign in through its second step",
        },
    },
    dependencies=[public("authenticated by the e-mailed sign-up token")],
    tags=["auth"],
    summary="Create the organization of a confirmed sign-up and sign in as its admin",
    description=(
        "For an address that already had an account, the organization is added to that "
        "account; the password given at sign-up is ignored. 404 for an unknown, used or "
        "expired token; 409 if the slug was taken meanwhile (send another `slug`)."
    ),
)
def confirm_signup(
    body: SignupConfirm, request: Request, tx: Tx, client: ClientDevice
) -> JSONResponse:
    try:
        tokens = signup.confirm(
            tx, data=body, settings=get_settings(), request_id=request_id(request), device=client
        )
    except mfa.SecondStep as step:  # an existing account with two-step verification
        return JSONResponse(step.body, headers={"Cache-Control": "no-store"})
    return _tokens(tokens, status=201)


@router.post(
    "/auth/login",
    responses=SIGN_IN_RESPONSES,
    dependencies=[public("pre-authentication")],
    tags=["auth"],
    summary="Sign in with e-mail and password",
)
def login(body: LoginRequest, request: Request, tx: Tx, gate: PasswordCheck) -> JSONResponse:
    return _checked_password(service.login, body, request, tx, gate)


@router.post(
    "/auth/refresh",
    responses=TOKEN_RESPONSES,
    dependencies=[public("authenticated by the refresh cookie")],
    tags=["auth"],
    summary="Rotate the refresh cookie and get a new access token",
)
def refresh(
    request: Request, tx: Tx, client: ClientDevice, sd_refresh: RefreshCookie = None
) -> JSONResponse:
    try:
        tokens = service.refresh(tx, raw_token=sd_refresh, settings=get_settings(), device=client)
    except service.Refused as refused:
        return _refusal(request, refused, clear_cookie=True)  # a reuse revocation commits
    return _tokens(tokens)


@router.post(
    "/auth/logout",
    status_code=204,
    dependencies=[public("authenticated by the refresh cookie")],
    tags=["auth"],
    summary="End the session of the refresh cookie",
)
def logout(tx: Tx, sd_refresh: RefreshCookie = None) -> Response:
    if sd_refresh:
        sessions.revoke_by_token(tx, raw=sd_refresh)
    response = Response(status_code=204)
    response.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH, secure=True, httponly=True)
    return response


@route(
    router.post,
    "/auth/switch-tenant",
    Permission.DESK_ACCESS,
    "Switch to another tenant the caller belongs to",
    responses=TOKEN_RESPONSES,
    tags=["auth"],
)
def switch_tenant(
    body: SwitchTenantRequest, request: Request, ctx: Ctx, client: ClientDevice
) -> JSONResponse:
    tokens = service.switch_tenant(
        ctx.session,
        user_id=ctx.user_id,
        slug=body.tenant,
        settings=get_settings(),
        request_id=ctx.request_id,
        device=client,
        session_id=ctx.session_id,
    )
    return _tokens(tokens)


@router.post(
    "/auth/accept-invitation",
    responses=SIGN_IN_RESPONSES,
    dependencies=[public("authenticated by the invitation token")],
    tags=["auth"],
    summary="Accept an invitation (new account, or an existing one by its password)",
)
def accept_invitation(
    body: AcceptInvitation, request: Request, tx: Tx, gate: PasswordCheck
) -> JSONResponse:
    return _checked_password(service.accept_invitation, body, request, tx, gate)


def _account_mail(purpose: recovery.Purpose, email: str, request: Request, tx: Tx) -> JSONResponse:
    recovery.request(
        tx, purpose=purpose, email=email, client_ip=client_ip(request), settings=get_settings()
    )
    return JSONResponse(
        AccountMailAccepted().model_dump(), status_code=202, headers={"Cache-Control": "no-store"}
    )


ACCOUNT_MAIL = (
    "The answer, its status and the work done are the same whether or not the address has "
    "an account. Limited per e-mail and per client address (429 with Retry-After)."
)


@router.post(
    "/auth/password/forgot",
    status_code=202,
    response_model=AccountMailAccepted,
    dependencies=[public("pre-authentication; says nothing about the address")],
    tags=["auth"],
    summary="Ask for a password-reset link by e-mail",
    description=f"{ACCOUNT_MAIL} The link (valid one hour, once) leads to "
    "`POST /v1/auth/password/reset`.",
)
def forgot_password(body: PasswordForgot, request: Request, tx: Tx) -> JSONResponse:
    return _account_mail(recovery.RESET, body.email, request, tx)


@router.post(
    "/auth/password/reset",
    status_code=204,
    dependencies=[public("authenticated by the e-mailed reset token")],
    tags=["auth"],
    summary="Choose a new password with a reset link; ends every session of the account",
    description=(
        "404 naming `token` for an unknown, used or expired link (the same answer for each); "
        "422 naming `password` when it breaks the password rules (the link still works). "
        "Every session of the person, in every organisation, ends; sign in again."
    ),
)
def reset_password(body: PasswordReset, request: Request, tx: Tx) -> Response:
    recovery.reset(tx, token=body.token, password=body.password, request_id=request_id(request))
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


@router.post(
    "/auth/verify-email/request",
    status_code=202,
    response_model=AccountMailAccepted,
    dependencies=[public("pre-authentication; says nothing about the address")],
    tags=["auth"],
    summary="Ask for a link that verifies an e-mail address",
    description=f"{ACCOUNT_MAIL} Only an address of an account that is not verified yet "
    "is mailed; the link leads to `POST /v1/auth/verify-email`.",
)
def request_verification(body: VerifyEmailRequest, request: Request, tx: Tx) -> JSONResponse:
    return _account_mail(recovery.VERIFY, body.email, request, tx)


@router.post(
    "/auth/verify-email",
    status_code=204,
    dependencies=[public("authenticated by the e-mailed verification token")],
    tags=["auth"],
    summary="Verify an e-mail address with its link",
    description="404 naming `token` for an unknown, used or expired link.",
)
def verify_email(body: VerifyEmail, request: Request, tx: Tx) -> Response:
    recovery.verify(tx, token=body.token, request_id=request_id(request))
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


@router.post(
    "/auth/magic",
    response_model=MagicSession,
    dependencies=[public("authenticated by the signed link from a ticket e-mail")],
    tags=["auth"],
    summary="Open one ticket from a requester's e-mail link, without a password",
    description=(
        "A session limited to the link's ticket: read it, its public conversation and files, "
        "reply and attach; every other route answers 403. No refresh cookie: follow the link "
        "again when it expires. 401 naming `token` when the link expired, was altered, or "
        "ended because the person set a password, and for a staff membership."
    ),
)
def magic_link(body: MagicExchange, request: Request, tx: Tx) -> JSONResponse:
    grant = magic.exchange(
        tx, token=body.token, settings=get_settings(), request_id=request_id(request)
    )
    session = MagicSession(
        access_token=grant.access_token,
        expires_in=grant.expires_in,
        ticket_id=grant.ticket_id,
        user_id=grant.user_id,
        name=grant.name,
        email=grant.email,
    )
    return JSONResponse(session.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@route(
    router.post,
    "/auth/magic/password",
    Permission.DESK_ACCESS,
    "From a ticket link's session: choose a password (ends the person's links)",
    ticket_scope=True,
    status_code=204,
    tags=["auth"],
    description=(
        "Only a ticket link's session, of a person without a password (403 otherwise). "
        "Every session and link of the person ends; sign in with the e-mail and this password."
    ),
)
def magic_set_password(body: MagicPassword, ctx: Ctx) -> Response:
    magic.set_password(ctx, password=body.password)
    return Response(status_code=204)


@router.get(
    "/.well-known/jwks.json",
    dependencies=[public("public keys are public")],
    tags=["auth"],
    summary="Public keys that verify our access tokens",
)
def jwks() -> dict[str, Any]:
    return get_keyset().jwks()


def _me(ctx: RequestContext) -> MeResponse:
    user = users.get_user(ctx, user_id=ctx.user_id)
    tenant = ctx.session.get(Tenant, ctx.tenant_id)
    own = profile.me(ctx)
    return MeResponse(
        user=UserPublic.model_validate(user),
        tenant=TenantPublic.model_validate(tenant),
        role=ctx.role,
        permissions=[p.value for p in Permission if ctx.can(p)],
        teams=[TeamRef(id=team_id, name=name) for team_id, name in users.my_teams(ctx)],
        time_zone=own.time_zone,
        locale=own.locale,
    )


@route(router.get, "/me", Permission.DESK_ACCESS, "The caller", tags=["users"])
def me(ctx: Ctx) -> MeResponse:
    return _me(ctx)


@route(
    router.patch,
    "/me",
    Permission.DESK_ACCESS,
    "Change your own name, time zone or locale",
    tags=["users"],
    name="update_me",
)
def update_me(body: ProfileUpdate, ctx: Ctx) -> MeResponse:
    profile.update(ctx, body)
    return _me(ctx)


@route(
    router.get,
    "/me/tenants",
    Permission.DESK_ACCESS,
    "Your organisations by name (the organisation switcher); switch with /v1/auth/switch-tenant",
    tags=["users"],
)
def my_tenants(ctx: Ctx) -> list[MyTenant]:
    return profile.my_tenants(ctx)


@route(
    router.post,
    "/me/password",
    Permission.DESK_ACCESS,
    "Change your password (the current one required): every other session ends",
    responses=TOKEN_RESPONSES,
    tags=["users"],
)
def change_password(
    body: PasswordChange, request: Request, ctx: Ctx, gate: PasswordCheck, client: ClientDevice
) -> JSONResponse:
    try:
        result = profile.change_password(
            ctx, body, gate=gate, settings=get_settings(), device=client
        )
    except service.Refused as refused:
        return _refusal(request, refused)
    if isinstance(result, IssuedTokens):
        return _tokens(result)
    # Returned, not raised: the failed attempt's count commits with the answer.
    return problem_response(result.status, result.body(request.url.path), result.headers)


SESSIONS_NOTE = (
    "A session is one sign-in: its refresh cookie, rotated at every refresh. Revoking it "
    "ends it at once: its refresh cookie is refused, its access tokens are refused at the "
    "next request, and its WebSocket connections are forgotten and closed."
)


@route(
    router.get,
    "/me/sessions",
    Permission.DESK_ACCESS,
    "Your sessions in this organisation, the most recently used first (this one marked)",
    tags=["users"],
    description=SESSIONS_NOTE,
)
def my_sessions(ctx: Ctx) -> list[SessionPublic]:
    return [SessionPublic.model_validate(s) for s in sessions.list_mine(ctx)]


@route(
    router.post,
    "/me/sessions/revoke-others",
    Permission.DESK_ACCESS,
    "Sign out everywhere else: end every session of yours here but this one",
    tags=["users"],
    description=f"{SESSIONS_NOTE} 409 for an access token that names no session.",
)
def revoke_other_sessions(ctx: Ctx) -> SessionsRevoked:
    return SessionsRevoked(revoked=sessions.revoke_others(ctx))


operation(
    router.delete,
    "/me/sessions/{session_id}",
    Permission.DESK_ACCESS,
    "End one of your sessions (404 naming `session_id` for anyone else's)",
    sessions.revoke_mine,
    name="revoke_my_session",
    tags=["users"],
    description=SESSIONS_NOTE,
)


@route(
    router.post,
    "/users/{user_id}/sessions/revoke",
    Permission.ADMIN_USERS,
    "End every session of a member in this organisation",
    tags=["users"],
    description=(
        f"{SESSIONS_NOTE} Every access token of the member issued before now is refused "
        "too. Their sessions in other organisations are not touched. 404 for a non-member."
    ),
)
def revoke_user_sessions(user_id: uuid.UUID, ctx: Ctx) -> SessionsRevoked:
    return SessionsRevoked(revoked=sessions.revoke_user(ctx, user_id=user_id))


invitation_routes.list("List invitations, newest first", users.list_invitations)


def _invite(ctx: RequestContext, *, data: InvitationCreate) -> Any:
    return users.invite(ctx, data=data, settings=get_settings())


invitation_routes.create(
    "Invite someone by e-mail (one-time token, sent by e-mail)", InvitationCreate, _invite
)


operation(
    router.delete,
    "/users/invitations/{invitation_id}",
    Permission.ADMIN_USERS,
    "Revoke a pending invitation",
    users.revoke_invitation,
    tags=["users"],
)


user_routes.list(
    "List users",
    users.list_users,
    query={
        "role": Role | None,
        "active": bool | None,
        "q": Annotated[str | None, Query(max_length=100, description="E-mail or name prefix")],
    },
)


def _create_user(ctx: RequestContext, *, data: UserCreate) -> Any:
    return users.create_user(ctx, data=data, settings=get_settings())


# Never keep a password (or its hash) in the key table.
user_routes.create(
    "Create a user with an initial password", UserCreate, _create_user, redact={"password"}
)
user_routes.get("Get a user", users.get_user)
user_routes.update(
    "Change a user's role or deactivate them (needs If-Match or version)",
    UserUpdate,
    users.update_user,
)
