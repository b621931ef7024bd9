"""Password reset and e-mail verification: hashed single-use links mailed through the outbox.

A request never tells whether the address has an account: it stores a token row and writes
one outbox row whatever the address (the row's "to" is null, and nobody is mailed, when
there is no account, or for a verification, when the address is verified already), so the
answer, its status and the work done are the same. Following a link proves control of the
address, so both flows also mark it verified.

A reset sets the password of whoever owns the address, an identity-provider-only person
included (they gain a password beside their IdP sign-in: no tenant is SSO-only yet; when one
is, its members must be refused here). It ends every session of the person in every tenant,
their magic links and their other reset links (`auth_set_own_password`, migration 0015).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.identity import passwords, sessions, sso, throttle
from servicedesk.identity.service import audit_user, check_password_policy, mark_email_verified
from servicedesk.identity.signup import PLATFORM_TENANT_ID
from servicedesk.platform import outbox
from servicedesk.platform.config import Settings
from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import NotFound, TooManyRequests, field_error


@dataclass(frozen=True)
class Purpose:
    name: str  # account_tokens.purpose
    event: str  # the outbox event (account mail, routed to e-mail only)
    page: str  # the web app's page the link opens
    only_unverified: bool  # mail only an address that is not verified yet


RESET = Purpose("password_reset", "account.password_reset", "/reset-password", False)
VERIFY = Purpose("email_verification", "account.email_verification", "/verify-email", True)


def _ttl(purpose: Purpose, settings: Settings) -> int:
    if purpose is RESET:
        return settings.password_reset_ttl_seconds
    return settings.email_verification_ttl_seconds


def _retry_after(
    session: Session, *, purpose: Purpose, email: str, address: str | None, settings: Settings
) -> int:
    window = settings.account_mail_window_seconds
    row = session.execute(
        text(
            "SELECT by_email, email_oldest, by_address, address_oldest"
            " FROM auth_account_token_recent(:p, :e, :a, :w)"
        ),
        {"p": purpose.name, "e": email, "a": address or "", "w": window},
    ).one()
    return throttle.window_wait(
        row,
        window=window,
        per_email=settings.account_mail_max_per_email,
        per_address=settings.account_mail_max_per_address,
        address=address,
    )


def request(
    session: Session, *, purpose: Purpose, email: str, client_ip: str | None, settings: Settings
) -> None:
    """Store a token and write its mail; the same statements whoever owns the address."""
    wait = _retry_after(session, purpose=purpose, email=email, address=client_ip, settings=settings)
    if wait > 0:
        raise TooManyRequests(
            "too many requests for this address; try again later", retry_after=wait
        )
    raw = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(seconds=_ttl(purpose, settings))
    row = session.execute(
        text("SELECT id, has_account, verified FROM auth_account_token_create(:p, :h, :e, :a, :x)"),
        {
            "p": purpose.name,
            "h": sessions.token_hash(raw),
            "e": email,
            "a": client_ip,
            "x": expires_at,
        },
    ).one()
    # An account that signs in nowhere with a password (SSO-only organisations) gets no
    # reset link; the statements are the same whoever owns the address.
    sso_only = sso.sso_only_email(session, email)
    deliver = row.has_account and not (purpose.only_unverified and row.verified)
    deliver = deliver and not (purpose is RESET and sso_only)
    url = f"{settings.web_origin.rstrip('/')}{purpose.page}#token={raw}"
    set_tenant(session, tenant_id=PLATFORM_TENANT_ID, user_id=None)
    # The e-mail carries the one-time token; the API response never does.
    outbox.emit(
        session,
        tenant_id=PLATFORM_TENANT_ID,
        event_type=purpose.event,
        aggregate_type="account_token",
        aggregate_id=row.id,
        payload={
            "to": email.lower() if deliver else None,
            "token": raw if deliver else None,
            "url": url if deliver else None,
            "expires_at": expires_at,
        },
    )


def _claim(
    session: Session, *, purpose: Purpose, token: str, now: datetime | None
) -> tuple[uuid.UUID, str]:
    claimed = session.execute(
        text("SELECT user_id, email FROM auth_account_token_claim(:p, :h, :n)"),
        {"p": purpose.name, "h": sessions.token_hash(token), "n": now or datetime.now(UTC)},
    ).one_or_none()
    if claimed is None:
        raise NotFound(
            "this link is not valid", errors=[field_error("token", "unknown, used or expired")]
        )
    user_id = uuid.UUID(str(claimed.user_id))
    set_tenant(session, tenant_id=None, user_id=user_id)
    return user_id, str(claimed.email)


def audit_everywhere(
    session: Session,
    *,
    user_id: uuid.UUID,
    tenants: list[uuid.UUID],
    action: str,
    request_id: str | None,
) -> None:
    """The person's own act, recorded in each tenant they belong to."""
    for tenant_id in tenants:
        set_tenant(session, tenant_id=tenant_id, user_id=user_id)
        audit_user(
            session, tenant_id=tenant_id, user_id=user_id, action=action, request_id=request_id
        )


def set_own_password(session: Session, *, password: str) -> list[uuid.UUID]:
    """The transaction's person (app.user_id) gets this password; every session, magic
    link and reset link of theirs ends. Returns their tenants."""
    password_hash = passwords.hash_password(password)
    rows = session.execute(text("SELECT auth_set_own_password(:h)"), {"h": password_hash})
    return [uuid.UUID(str(t)) for t in rows.scalars()]


def reset(
    session: Session,
    *,
    token: str,
    password: str,
    request_id: str | None,
    now: datetime | None = None,
) -> None:
    """Use a reset link once. A refused password rolls the claim back with it, so the link
    still works for a better one."""
    user_id, email = _claim(session, purpose=RESET, token=token, now=now)
    if sso.sso_only_email(session, email):
        # A link mailed before the organisation became SSO-only: no password to set.
        raise NotFound(
            "this link is not valid", errors=[field_error("token", "unknown, used or expired")]
        )
    check_password_policy(password, email=email)
    tenants = set_own_password(session, password=password)
    audit_everywhere(
        session,
        user_id=user_id,
        tenants=tenants,
        action="auth.password_reset",
        request_id=request_id,
    )


def verify(
    session: Session, *, token: str, request_id: str | None, now: datetime | None = None
) -> None:
    user_id, _ = _claim(session, purpose=VERIFY, token=token, now=now)
    tenants = mark_email_verified(session)
    audit_everywhere(
        session,
        user_id=user_id,
        tenants=tenants,
        action="auth.email_verified",
        request_id=request_id,
    )
