"""Two-step verification API (identity/mfa.py): my enrolment, the sign-in's second step,
an admin's reset, and the tenant's security settings. Thin: parse, call, shape."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field, StringConstraints
from sqlalchemy import text

from servicedesk.identity import mfa, sessions
from servicedesk.identity.models import Tenant
from servicedesk.identity.routes import TOKEN_RESPONSES, PasswordCheck, _refusal, _tokens, device
from servicedesk.identity.service import audit_user
from servicedesk.identity.throttle import Refused
from servicedesk.platform import audit, outbox
from servicedesk.platform.app import problem_response
from servicedesk.platform.config import get_settings
from servicedesk.platform.context import Ctx, Tx, request_id
from servicedesk.platform.endpoints import route
from servicedesk.platform.errors import NotFound, ValidationProblem, field_error
from servicedesk.platform.rbac import Permission, public
from servicedesk.platform.schemas import Input, Output, Password

router = APIRouter(prefix="/v1")

Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$"),
    Field(description="The six digits the authenticator app shows"),
]
RecoveryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=10, max_length=20),
    Field(description="One of the recovery codes given at enrolment (hyphen optional)"),
]
MfaToken = Annotated[
    str,
    StringConstraints(min_length=20, max_length=200),
    Field(description="The `mfa_token` of the sign-in's answer"),
]


class MfaStatus(Output):
    enabled: bool = Field(description="Two-step verification is on")
    pending: bool = Field(description="An enrolment was started and waits for its first code")
    confirmed_at: datetime | None = None
    recovery_codes_left: int = Field(description="Unused recovery codes")
    required: bool = Field(
        description="This organisation requires it of your role (its security settings)"
    )


class MfaEnrolment(Output):
    secret: str = Field(description="The key (base32) to type into an authenticator app")
    otpauth_uri: str = Field(description="The same as an otpauth:// URI (what the QR holds)")
    qr_svg: str = Field(description="The URI as a QR code, an SVG document")


class MfaConfirm(Input):
    code: Code


class RecoveryCodes(Output):
    recovery_codes: list[str] = Field(
        description="Ten one-time codes, shown this once: each signs in once without the app"
    )


class MfaDisable(Input):
    password: Password | None = None
    code: Code | None = None
    recovery_code: RecoveryCode | None = None


class MfaSignIn(Input):
    mfa_token: MfaToken
    code: Code | None = None
    recovery_code: RecoveryCode | None = None


class MfaEnrolStart(Input):
    mfa_token: MfaToken


class MfaEnrolConfirm(Input):
    mfa_token: MfaToken
    code: Code


class EnrolledTokens(Output):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    recovery_codes: list[str]


class UserMfa(Output):
    enabled: bool
    confirmed_at: datetime | None = None


NO_STORE = {"Cache-Control": "no-store"}


def _json(model: Output, status: int = 200) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"), status_code=status, headers=NO_STORE)


def _problem(request: Request, refused: Refused) -> JSONResponse:
    return _refusal(request, refused)


# --- my enrolment ----------------------------------------------------------------------


@route(router.get, "/me/mfa", Permission.DESK_ACCESS, "Your two-step verification", tags=["users"])
def my_mfa(ctx: Ctx) -> MfaStatus:
    state = mfa.status(ctx.session, user_id=ctx.user_id)
    return MfaStatus(
        enabled=state.enabled,
        pending=state.pending,
        confirmed_at=state.confirmed_at,
        recovery_codes_left=state.recovery_codes_left,
        required=mfa.required_for(ctx.session, tenant_id=ctx.tenant_id, role=ctx.role.value),
    )


@route(
    router.post,
    "/me/mfa/totp",
    Permission.DESK_ACCESS,
    "Start setting up two-step verification (an authenticator app's key)",
    response_model=MfaEnrolment,
    tags=["users"],
    description=(
        "A new key, as text, as an otpauth:// URI and as a QR code; shown until the "
        "enrolment is confirmed, never after. 409 when it is on already, or for an account "
        "without a password. Starting again replaces an unconfirmed key."
    ),
)
def start_my_enrolment(ctx: Ctx) -> JSONResponse:
    enrolment = mfa.start_enrolment(ctx.session, user_id=ctx.user_id, settings=get_settings())
    return _json(MfaEnrolment(**enrolment.__dict__))


@route(
    router.post,
    "/me/mfa/totp/confirm",
    Permission.DESK_ACCESS,
    "Turn two-step verification on with the app's first code; answers the recovery codes",
    response_model=RecoveryCodes,
    tags=["users"],
    description=(
        "422 naming `code` for a wrong code (counted: five in a row lock for a while, 429); "
        "404 when no enrolment waits. The recovery codes are shown this once."
    ),
)
def confirm_my_enrolment(body: MfaConfirm, request: Request, ctx: Ctx) -> JSONResponse:
    try:
        codes = mfa.confirm_enrolment(
            ctx.session, user_id=ctx.user_id, code=body.code, settings=get_settings()
        )
    except Refused as refused:
        return _problem(request, refused)
    if codes is None:  # returned, not raised: the attempt's count commits
        problem = ValidationProblem(errors=[field_error("code", "not the app's current code")])
        return problem_response(problem.status, problem.body(request.url.path), problem.headers)
    audit.record(ctx, action="user.mfa_enabled", entity_type="user", entity_id=ctx.user_id)
    return _json(RecoveryCodes(recovery_codes=codes))


def _reverified(
    body: MfaDisable, request: Request, ctx: Ctx, gate: PasswordCheck
) -> JSONResponse | None:
    """The person proves it is them again (exactly one of password, code, recovery code):
    None when it passes, else the problem to answer (422 naming the field; the lockout's
    429). Returned, not raised, so a counted failure commits."""
    given = [name for name in ("password", "code", "recovery_code") if getattr(body, name)]
    if len(given) != 1:
        message = "give exactly one of password, code and recovery_code"
        named = given or ["password", "code", "recovery_code"]
        raise ValidationProblem(message, errors=[field_error(name, message) for name in named])
    settings = get_settings()
    try:
        if body.password is not None:
            person = ctx.session.execute(
                text("SELECT email, password_hash FROM users WHERE id = :u"), {"u": ctx.user_id}
            ).one()
            ok = gate.check(
                ctx.session,
                email=str(person.email),
                password_hash=person.password_hash,
                password=body.password,
            )
        else:
            ok = (
                mfa.verify(
                    ctx.session,
                    user_id=ctx.user_id,
                    code=body.code,
                    recovery_code=body.recovery_code,
                    settings=settings,
                )
                is not None
            )
    except Refused as refused:
        return _problem(request, refused)
    if not ok:
        problem = ValidationProblem(errors=[field_error(given[0], "not valid")])
        return problem_response(problem.status, problem.body(request.url.path), problem.headers)
    return None


def _not_on(request: Request) -> JSONResponse:
    missing = NotFound("two-step verification is not on")
    return problem_response(missing.status, missing.body(request.url.path), missing.headers)


@route(
    router.delete,
    "/me/mfa",
    Permission.DESK_ACCESS,
    "Turn two-step verification off (your password, a code or a recovery code)",
    status_code=204,
    tags=["users"],
    description=(
        "Exactly one of `password`, `code`, `recovery_code` (422 naming them otherwise); a "
        "wrong one is 422 naming it, counted with the sign-in's lockout (429). 404 when it "
        "is not on."
    ),
)
def disable_my_mfa(body: MfaDisable, request: Request, ctx: Ctx, gate: PasswordCheck) -> Response:
    refused = _reverified(body, request, ctx, gate)
    if refused is not None:
        return refused
    if not mfa.remove_own(ctx.session, user_id=ctx.user_id):
        return _not_on(request)
    audit.record(ctx, action="user.mfa_disabled", entity_type="user", entity_id=ctx.user_id)
    return Response(status_code=204)


@route(
    router.post,
    "/me/mfa/recovery-codes",
    Permission.DESK_ACCESS,
    "New recovery codes (your password, a code or a recovery code); the old ones stop working",
    response_model=RecoveryCodes,
    tags=["users"],
    description=(
        "Exactly one of `password`, `code`, `recovery_code`, checked as for turning it off "
        "(422 naming the field, the lockout's 429). Answers ten new codes, shown this once; "
        "every earlier code, used or not, stops working. 404 when it is not on."
    ),
)
def new_recovery_codes(
    body: MfaDisable, request: Request, ctx: Ctx, gate: PasswordCheck
) -> JSONResponse:
    refused = _reverified(body, request, ctx, gate)
    if refused is not None:
        return refused
    if not mfa.status(ctx.session, user_id=ctx.user_id).enabled:
        return _not_on(request)
    codes = mfa.new_recovery_codes(ctx.session, user_id=ctx.user_id)
    audit.record(
        ctx, action="user.mfa_recovery_codes_renewed", entity_type="user", entity_id=ctx.user_id
    )
    return _json(RecoveryCodes(recovery_codes=codes))


# --- the sign-in's second step ---------------------------------------------------------


@router.post(
    "/auth/mfa",
    responses=TOKEN_RESPONSES,
    dependencies=[public("authenticated by the sign-in's mfa_token and a code")],
    tags=["auth"],
    summary="The second step of a sign-in: a code from the app, or a recovery code",
    description=(
        "`mfa_token` from the sign-in's `{mfa_required: true}` answer, and exactly one of "
        "`code` and `recovery_code` (422 naming both otherwise). Every failure (a wrong, used "
        "or replayed code, an expired token) is the same 401 naming `code`; five in a row "
        "lock the person's second step for a while (429 with Retry-After). A code is "
        "accepted once; the app's clock may be one step (30 s) off."
    ),
)
def second_step(body: MfaSignIn, request: Request, tx: Tx) -> JSONResponse:
    mfa.code_choice(body.code, body.recovery_code)
    settings = get_settings()
    try:
        member = mfa.member_of_token(
            tx, token=body.mfa_token, purpose=mfa.SIGN_IN, settings=settings
        )
        how = mfa.verify(
            tx,
            user_id=member.user_id,
            code=body.code,
            recovery_code=body.recovery_code,
            settings=settings,
        )
        if how is None:
            raise mfa.refused()
    except Refused as refused:
        return _refusal(request, refused)
    return _tokens(_start(tx, member, how=how, request=request))


def _start(tx: Any, member: mfa.Member, *, how: str, request: Request) -> sessions.IssuedTokens:
    audit.write(
        tx,
        tenant_id=member.tenant_id,
        actor_id=member.user_id,
        action="auth.login",
        entity_type="user",
        entity_id=member.user_id,
        request_id=request_id(request),
        data={"mfa": how},
    )
    return sessions.start(
        tx,
        tenant_id=member.tenant_id,
        user_id=member.user_id,
        role=member.role,
        settings=get_settings(),
        device=device(request),  # the session list shows where this sign-in came from
        sign_in=member.sign_in,  # the first step's: a password or the directory
    )


@router.post(
    "/auth/mfa/totp",
    response_model=MfaEnrolment,
    dependencies=[public("authenticated by the sign-in's mfa_token (enrolment only)")],
    tags=["auth"],
    summary="Set up two-step verification during a sign-in the organisation requires it for",
    description=(
        "With the `mfa_token` of a `{mfa_enrolment_required: true}` answer (no other token "
        "opens it): a new key, as `POST /v1/me/mfa/totp` answers. 401 naming `code` for an "
        "expired or altered token (the same answer as the second step's)."
    ),
)
def start_required_enrolment(body: MfaEnrolStart, request: Request, tx: Tx) -> JSONResponse:
    settings = get_settings()
    try:
        member = mfa.member_of_token(tx, token=body.mfa_token, purpose=mfa.ENROL, settings=settings)
    except Refused as refused:
        return _refusal(request, refused)
    enrolment = mfa.start_enrolment(tx, user_id=member.user_id, settings=settings)
    return _json(MfaEnrolment(**enrolment.__dict__))


@router.post(
    "/auth/mfa/totp/confirm",
    response_model=EnrolledTokens,
    dependencies=[public("authenticated by the sign-in's mfa_token (enrolment only)")],
    tags=["auth"],
    summary="Confirm the required enrolment with the app's first code, and sign in",
    description=(
        "Turns two-step verification on, answers the recovery codes (shown this once) and "
        "signs in (the refresh cookie is set). 422 naming `code` for a wrong code, 401 for an "
        "expired token, 429 after five failures in a row."
    ),
)
def confirm_required_enrolment(body: MfaEnrolConfirm, request: Request, tx: Tx) -> JSONResponse:
    settings = get_settings()
    try:
        member = mfa.member_of_token(tx, token=body.mfa_token, purpose=mfa.ENROL, settings=settings)
        codes = mfa.confirm_enrolment(tx, user_id=member.user_id, code=body.code, settings=settings)
    except Refused as refused:
        return _refusal(request, refused)
    if codes is None:
        problem = ValidationProblem(errors=[field_error("code", "not the app's current code")])
        return problem_response(problem.status, problem.body(request.url.path), problem.headers)
    audit_user(
        tx,
        tenant_id=member.tenant_id,
        user_id=member.user_id,
        action="user.mfa_enabled",
        request_id=request_id(request),
    )
    tokens = _start(tx, member, how="enrolment", request=request)
    response = _json(
        EnrolledTokens(
            access_token=tokens.access_token, expires_in=tokens.expires_in, recovery_codes=codes
        )
    )
    for cookie in _tokens(tokens).headers.getlist("set-cookie"):  # the refresh cookie
        response.headers.append("set-cookie", cookie)
    return response


# --- admins ----------------------------------------------------------------------------


@route(
    router.get,
    "/users/{user_id}/mfa",
    Permission.ADMIN_USERS,
    "Whether a member has two-step verification",
    tags=["users"],
)
def user_mfa(user_id: uuid.UUID, ctx: Ctx) -> UserMfa:
    member = ctx.session.execute(
        text("SELECT 1 FROM memberships WHERE tenant_id = :t AND user_id = :u"),
        {"t": ctx.tenant_id, "u": user_id},
    ).first()
    if member is None:
        raise NotFound("no such user")
    state = mfa.status(ctx.session, user_id=user_id)
    return UserMfa(enabled=state.enabled, confirmed_at=state.confirmed_at)


@route(
    router.delete,
    "/users/{user_id}/mfa",
    Permission.ADMIN_USERS,
    "Reset a member's two-step verification (they sign in with the password alone, or set "
    "it up again if the organisation requires it)",
    status_code=204,
    tags=["users"],
    description=(
        "Audited (`user.mfa_reset`); the person is told by e-mail (event `user.mfa_reset`) "
        "when it was on. 404 for someone who is not a member; 409 for a person "
        "who belongs to other organisations too (one organisation's admin does not weaken "
        "their sign-in everywhere). 204 also when it was not on."
    ),
)
def reset_user_mfa(user_id: uuid.UUID, ctx: Ctx) -> Response:
    outcome = mfa.admin_reset(ctx.session, user_id=user_id)
    if outcome == "reset":  # the person hears of it (account mail, user.mfa_reset)
        tenant = ctx.session.get(Tenant, ctx.tenant_id)
        assert tenant is not None
        outbox.emit(
            ctx.session,
            tenant_id=ctx.tenant_id,
            event_type="user.mfa_reset",
            aggregate_type="user",
            aggregate_id=user_id,
            payload={
                "user_id": user_id,
                "actor_id": ctx.user_id,
                "tenant": {"slug": tenant.slug, "name": tenant.name},
                "login_url": f"{get_settings().web_origin.rstrip('/')}/login",
            },
        )
    audit.record(
        ctx,
        action="user.mfa_reset",
        entity_type="user",
        entity_id=user_id,
        data={"was_on": outcome == "reset"},
    )
    return Response(status_code=204)
