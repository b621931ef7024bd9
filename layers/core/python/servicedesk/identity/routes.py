"""Identity API: accounts, sessions, the caller, and user management. Thin: parse, call, shape."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from servicedesk.identity import magic, recovery, service, sessions, signup, users
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
    PasswordForgot,
    PasswordReset,
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
from servicedesk.identity.sessions import IssuedTokens
from servicedesk.identity.throttle import PasswordGate
from servicedesk.platform import idempotency
from servicedesk.platform.app import problem_response
from servicedesk.platform.config import get_settings
from servicedesk.platform.context import Ctx, Tx, client_ip, request_id
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.rbac import Role, public, requires
from servicedesk.platform.tokens import get_keyset
from servicedesk.platform.versioning import parse_if_match

router = APIRouter(prefix="/v1")


def password_gate(request: Request) -> PasswordGate:
    """The login's lockout for this client: every route that checks a password takes it."""
    return PasswordGate(client_ip=client_ip(request), settings=get_settings())


PasswordCheck = Annotated[PasswordGate, Depends(password_gate)]

REFRESH_COOKIE = "sd_refresh"
COOKIE_PATH = "/v1/auth"
RefreshCookie = Annotated[str | None, Cookie(alias=REFRESH_COOKIE, max_length=200)]


def _tokens(tokens: IssuedTokens, *, status: int = 200) -> JSONResponse:
    settings = get_settings()
    body = TokenResponse(access_token=tokens.access_token, expires_in=tokens.expires_in)
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


TOKEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": TokenResponse, "description": "Access token; refresh token set as cookie"}
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
    responses={201: {"model": TokenResponse, "description": "Signed in as the new admin"}},
    dependencies=[public("authenticated by the e-mailed sign-up token")],
    tags=["auth"],
    summary="Create the organization of a confirmed sign-up and sign in as its admin",
    description=(
        "For an address that already had an account, the organization is added to that "
        "account; the password given at sign-up is ignored. 404 for an unknown, used or "
        "expired token; 409 if the slug was taken meanwhile (send another `slug`)."
    ),
)
def confirm_signup(body: SignupConfirm, request: Request, tx: Tx) -> JSONResponse:
    tokens = signup.confirm(tx, data=body, settings=get_settings(), request_id=request_id(request))
    return _tokens(tokens, status=201)


@router.post(
    "/auth/login",
    responses=TOKEN_RESPONSES,
    dependencies=[public("pre-authentication")],
    tags=["auth"],
    summary="Sign in with e-mail and password",
)
def login(body: LoginRequest, request: Request, tx: Tx, gate: PasswordCheck) -> JSONResponse:
    try:
        tokens = service.login(
            tx, data=body, gate=gate, settings=get_settings(), request_id=request_id(request)
        )
    except service.Refused as refused:
        return _refusal(request, refused)  # attempt counts still commit
    return _tokens(tokens)


@router.post(
    "/auth/refresh",
    responses=TOKEN_RESPONSES,
    dependencies=[public("authenticated by the refresh cookie")],
    tags=["auth"],
    summary="Rotate the refresh cookie and get a new access token",
)
def refresh(request: Request, tx: Tx, sd_refresh: RefreshCookie = None) -> JSONResponse:
    try:
        tokens = service.refresh(tx, raw_token=sd_refresh, settings=get_settings())
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


@router.post(
    "/auth/switch-tenant",
    responses=TOKEN_RESPONSES,
    dependencies=[requires(Role.REQUESTER)],
    tags=["auth"],
    summary="Switch to another tenant the caller belongs to",
)
def switch_tenant(body: SwitchTenantRequest, request: Request, ctx: Ctx) -> JSONResponse:
    tokens = service.switch_tenant(
        ctx.session,
        user_id=ctx.user_id,
        slug=body.tenant,
        settings=get_settings(),
        request_id=ctx.request_id,
    )
    return _tokens(tokens)


@router.post(
    "/auth/accept-invitation",
    responses=TOKEN_RESPONSES,
    dependencies=[public("authenticated by the invitation token")],
    tags=["auth"],
    summary="Accept an invitation (new account, or an existing one by its password)",
)
def accept_invitation(
    body: AcceptInvitation, request: Request, tx: Tx, gate: PasswordCheck
) -> JSONResponse:
    try:
        tokens = service.accept_invitation(
            tx, data=body, gate=gate, settings=get_settings(), request_id=request_id(request)
        )
    except service.Refused as refused:
        return _refusal(request, refused)  # attempt counts still commit
    return _tokens(tokens)


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


@router.post(
    "/auth/magic/password",
    status_code=204,
    dependencies=[requires(Role.REQUESTER, ticket_scope=True)],
    tags=["auth"],
    summary="From a ticket link's session: choose a password (ends the person's links)",
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


@router.get("/me", dependencies=[requires(Role.REQUESTER)], tags=["users"], summary="The caller")
def me(ctx: Ctx) -> MeResponse:
    user = users.get_user(ctx, user_id=ctx.user_id)
    tenant = ctx.session.get(Tenant, ctx.tenant_id)
    return MeResponse(
        user=UserPublic.model_validate(user),
        tenant=TenantPublic.model_validate(tenant),
        role=ctx.role,
        teams=[TeamRef(id=team_id, name=name) for team_id, name in users.my_teams(ctx)],
    )


@router.get(
    "/users/invitations",
    dependencies=[requires(Role.ADMIN)],
    tags=["users"],
    summary="List invitations, newest first",
)
def list_invitations(ctx: Ctx, limit: Limit = 50, cursor: Cursor = None) -> Page[InvitationPublic]:
    rows, nxt = users.list_invitations(ctx, limit=limit, cursor=cursor)
    return Page(items=[InvitationPublic.model_validate(r) for r in rows], next_cursor=nxt)


@router.post(
    "/users/invitations",
    status_code=201,
    dependencies=[requires(Role.ADMIN)],
    tags=["users"],
    summary="Invite someone by e-mail (one-time token, sent by e-mail)",
    response_model=InvitationPublic,
)
def create_invitation(
    body: InvitationCreate, request: Request, ctx: Ctx, key: idempotency.IdempotencyKey = None
) -> InvitationPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: InvitationPublic.model_validate(
            users.invite(ctx, data=body, settings=get_settings())
        ),
    )


@router.delete(
    "/users/invitations/{invitation_id}",
    status_code=204,
    dependencies=[requires(Role.ADMIN)],
    tags=["users"],
    summary="Revoke a pending invitation",
)
def revoke_invitation(invitation_id: uuid.UUID, ctx: Ctx) -> Response:
    users.revoke_invitation(ctx, invitation_id=invitation_id)
    return Response(status_code=204)


@router.get("/users", dependencies=[requires(Role.AGENT)], tags=["users"], summary="List users")
def list_users(
    ctx: Ctx,
    limit: Limit = 50,
    cursor: Cursor = None,
    role: Role | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="E-mail or name prefix")] = None,
) -> Page[UserPublic]:
    rows, nxt = users.list_users(ctx, role=role, active=active, q=q, limit=limit, cursor=cursor)
    return Page(items=[UserPublic.model_validate(r) for r in rows], next_cursor=nxt)


@router.post(
    "/users",
    status_code=201,
    dependencies=[requires(Role.ADMIN)],
    tags=["users"],
    summary="Create a user with an initial password",
    response_model=UserPublic,
)
def create_user(
    body: UserCreate, request: Request, ctx: Ctx, key: idempotency.IdempotencyKey = None
) -> UserPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: UserPublic.model_validate(
            users.create_user(ctx, data=body, settings=get_settings())
        ),
        redact={"password"},  # never keep a password (or its hash) in the key table
    )


@router.get(
    "/users/{user_id}", dependencies=[requires(Role.AGENT)], tags=["users"], summary="Get a user"
)
def get_user(user_id: uuid.UUID, ctx: Ctx, response: Response) -> UserPublic:
    user = UserPublic.model_validate(users.get_user(ctx, user_id=user_id))
    response.headers["ETag"] = f'"{user.version}"'
    return user


@router.patch(
    "/users/{user_id}",
    dependencies=[requires(Role.ADMIN)],
    tags=["users"],
    summary="Change a user's role or deactivate them (needs If-Match or version)",
)
def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> UserPublic:
    updated = UserPublic.model_validate(
        users.update_user(ctx, user_id=user_id, data=body, if_match=parse_if_match(if_match))
    )
    response.headers["ETag"] = f'"{updated.version}"'
    return updated
