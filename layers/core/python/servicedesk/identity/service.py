"""Accounts and sessions: login, refresh, tenant switch, invitations accepted.

Keyword-only functions taking a Session; they never commit (the request does).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from servicedesk.identity import breached, directory_login, mfa, passwords, sessions, sso
from servicedesk.identity.models import Invitation, Membership, User
from servicedesk.identity.schemas import AcceptInvitation, LoginRequest
from servicedesk.identity.throttle import PasswordGate, Refused
from servicedesk.platform import audit
from servicedesk.platform.config import Settings
from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationProblem,
    field_error,
)

INVALID_CREDENTIALS = "invalid e-mail or password"
__all__ = [
    "Refused",
    "accept_invitation",
    "audit_user",
    "check_password_policy",
    "login",
    "mark_email_verified",
    "refresh",
]


BREACHED = "appears in a list of breached passwords; choose another"


def check_password_policy(password: str, *, email: str, field: str = "password") -> None:
    """A new password (sign-up, reset, change, invitation, a link's first password, an
    admin's initial one): the rules, then the breached-password data (identity.breached)."""
    problem = passwords.policy_problem(password, email=email)
    if problem is None and breached.check(password).breached:
        problem = BREACHED
    if problem:
        raise ValidationProblem(f"{field} {problem}", errors=[field_error(field, problem)])


def mark_email_verified(session: Session) -> list[uuid.UUID]:
    """The transaction's person (app.user_id) followed a link mailed to their address (an
    invitation, a sign-up, a verification, a reset or a magic link): it is theirs. Returns
    their tenants."""
    rows = session.execute(text("SELECT auth_mark_own_email_verified()")).scalars()
    return [uuid.UUID(str(t)) for t in rows]


def audit_user(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID | None,
    action: str,
    request_id: str | None,
) -> None:
    audit.write(
        session,
        tenant_id=tenant_id,
        actor_id=user_id,
        action=action,
        entity_type="user",
        entity_id=user_id,
        request_id=request_id,
    )


def login(
    session: Session,
    *,
    data: LoginRequest,
    gate: PasswordGate,
    settings: Settings,
    request_id: str | None,
    device: sessions.Device = sessions.NO_DEVICE,
) -> sessions.IssuedTokens:
    found = directory_login.target(session, data)
    if found is not None and sso.sso_only_tenants(session, [found.tenant_id]):
        # An SSO-only organisation signs in through its providers, not its directory: the
        # password sign-in below applies its rule (break-glass admins keep their password).
        found = None
    if found is not None:
        tokens = directory_login.login(
            session,
            data=data,
            found=found,
            gate=gate,
            settings=settings,
            request_id=request_id,
            device=device,
        )
        if tokens is not None:
            return tokens
        set_tenant(session, tenant_id=None, user_id=None)
    candidates = session.execute(
        text(
            "SELECT user_id, password_hash, tenant_id, tenant_slug, role, active"
            " FROM auth_login_candidates(:e)"
        ),
        {"e": data.email},
    ).all()
    password_hash = candidates[0].password_hash if candidates else None
    verified = gate.check(
        session, email=data.email, password_hash=password_hash, password=data.password
    )
    usable = [c for c in candidates if c.active and (data.tenant in (None, c.tenant_slug))]
    # An SSO-only organisation's members sign in there through its providers (admins keep
    # their password: break-glass). Refused as a wrong password is: nothing said about
    # the account.
    sso_only = sso.sso_only_tenants(session, [c.tenant_id for c in usable])
    usable = [c for c in usable if c.tenant_id not in sso_only or c.role == "admin"]
    if not verified or not usable:
        raise Refused(Unauthorized(INVALID_CREDENTIALS))
    if len(usable) > 1:
        names: dict[uuid.UUID, str] = dict(
            session.execute(
                text("SELECT tenant_id, tenant_name FROM auth_tenant_names(:ids)"),
                {"ids": [c.tenant_id for c in usable]},
            ).all()
        )
        raise Refused(
            BadRequest(
                "this account belongs to several tenants; name one",
                errors=[field_error("tenant", "required: one of the listed tenants")],
                tenants=sorted(c.tenant_slug for c in usable),
                # The same, with the names people know them by (the sign-in page shows these).
                organisations=sorted(
                    (
                        {"slug": c.tenant_slug, "name": names.get(c.tenant_id, c.tenant_slug)}
                        for c in usable
                    ),
                    key=lambda o: (o["name"].lower(), o["slug"]),
                ),
            )
        )
    chosen = usable[0]
    set_tenant(session, tenant_id=chosen.tenant_id, user_id=chosen.user_id)
    mfa.check_sign_in(
        session,
        tenant_id=chosen.tenant_id,
        user_id=chosen.user_id,
        role=chosen.role,
        settings=settings,
    )
    audit_user(
        session,
        tenant_id=chosen.tenant_id,
        user_id=chosen.user_id,
        action="auth.login",
        request_id=request_id,
    )
    return sessions.start(
        session,
        tenant_id=chosen.tenant_id,
        user_id=chosen.user_id,
        role=chosen.role,
        settings=settings,
        device=device,
    )


def refresh(
    session: Session,
    *,
    raw_token: str | None,
    settings: Settings,
    device: sessions.Device = sessions.NO_DEVICE,
) -> sessions.IssuedTokens:
    if not raw_token:
        raise Refused(Unauthorized("missing refresh cookie", cookie="sd_refresh"))
    try:
        return sessions.rotate(session, raw=raw_token, settings=settings, device=device)
    except sessions.RefreshRefused as exc:
        raise Refused(Unauthorized("refresh token is not valid", cookie="sd_refresh")) from exc


def switch_tenant(
    session: Session,
    *,
    user_id: uuid.UUID,
    slug: str,
    settings: Settings,
    request_id: str | None,
    device: sessions.Device = sessions.NO_DEVICE,
    session_id: uuid.UUID | None = None,
) -> sessions.IssuedTokens:
    """A session in another of the account's organisations. Only from a session the
    person's own password started: one that an organisation's identity provider or
    directory vouched for is that organisation's credential, and another organisation's
    data is not theirs to give (403 naming ``tenant``; sign in there directly)."""
    if session_id is not None and sessions.sign_in_of(session, session_id) not in (
        None,
        "password",
    ):
        raise Forbidden(
            "this session was started by your organisation's own sign-in; sign in to the"
            " other organisation directly",
            errors=[field_error("tenant", "sign in to this organisation directly")],
        )
    rows = session.execute(
        text("SELECT tenant_id, tenant_slug, role, active FROM auth_user_tenants(:u)"),
        {"u": user_id},
    ).all()
    target = next((r for r in rows if r.tenant_slug == slug and r.active), None)
    if target is None:
        raise NotFound("no such tenant for this account", errors=[field_error("tenant", "unknown")])
    set_tenant(session, tenant_id=target.tenant_id, user_id=user_id)
    mfa.check_switch(session, tenant_id=target.tenant_id, user_id=user_id, role=target.role)
    audit_user(
        session,
        tenant_id=target.tenant_id,
        user_id=user_id,
        action="auth.switch_tenant",
        request_id=request_id,
    )
    return sessions.start(
        session,
        tenant_id=target.tenant_id,
        user_id=user_id,
        role=target.role,
        settings=settings,
        device=device,
    )


def accept_invitation(
    session: Session,
    *,
    data: AcceptInvitation,
    gate: PasswordGate,
    settings: Settings,
    request_id: str | None,
    device: sessions.Device = sessions.NO_DEVICE,
) -> sessions.IssuedTokens:
    """Join the inviting tenant: a new account, or an existing one by its password (checked
    through the gate, so it shares login's lockout)."""
    digest = sessions.token_hash(data.token)
    tenant_id = session.execute(text("SELECT auth_invitation_tenant(:h)"), {"h": digest}).scalar()
    invalid = NotFound(
        "this invitation is not valid", errors=[field_error("token", "unknown or used")]
    )
    if tenant_id is None:
        raise invalid
    set_tenant(session, tenant_id=tenant_id, user_id=None)
    invitation = session.scalars(
        select(Invitation).where(Invitation.token_hash == digest).with_for_update()
    ).one()
    now = datetime.now(UTC)
    if invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= now:
        raise invalid
    sso.refuse_password_join(session, tenant_id, role=invitation.role, field="token")
    existing = session.execute(
        text("SELECT user_id, password_hash FROM auth_password_hash(:e)"), {"e": invitation.email}
    ).one_or_none()
    if existing is not None:
        if not gate.check(
            session,
            email=invitation.email,
            password_hash=existing.password_hash,
            password=data.password,
        ):
            raise Refused(
                Unauthorized(
                    "this e-mail already has an account: give its password",
                    errors=[field_error("password", "does not match the existing account")],
                )
            )
        user_id = existing.user_id
    else:
        if not data.name:
            raise ValidationProblem(errors=[field_error("name", "required for a new account")])
        check_password_policy(data.password, email=invitation.email)
        user_id = uuid.uuid4()
        set_tenant(session, tenant_id=tenant_id, user_id=user_id)
        session.add(
            User(
                id=user_id,
                email=invitation.email,
                name=data.name,
                password_hash=passwords.hash_password(data.password),
            )
        )
        session.flush()
    set_tenant(session, tenant_id=tenant_id, user_id=user_id)
    membership = session.get(Membership, (tenant_id, user_id))
    if membership is None:
        membership = Membership(tenant_id=tenant_id, user_id=user_id, role=invitation.role)
        session.add(membership)
    elif not membership.active:
        raise Conflict("this account was deactivated in the tenant")
    invitation.accepted_at = now
    session.flush()
    mark_email_verified(session)
    audit_user(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        action="invitation.accepted",
        request_id=request_id,
    )
    mfa.check_sign_in(
        session, tenant_id=tenant_id, user_id=user_id, role=membership.role, settings=settings
    )
    return sessions.start(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        role=membership.role,
        settings=settings,
        device=device,
    )
