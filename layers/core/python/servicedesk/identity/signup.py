"""Sign-up by e-mail confirmation.

`request` never verifies a password nor tells whether the address has an account: it
stores a pending sign-up (a hashed single-use token, the organisation, and the new person's
name and password hash when the address is new) and mails the link through the outbox.
`confirm` then creates the tenant and its admin. For an address that already has an account
the password given at sign-up is ignored (never checked, never replacing theirs): following
the link proves control of the address, and that is what lets the person add an
organisation to their account.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicedesk.identity import mfa, passwords, sessions, throttle
from servicedesk.identity.models import Membership, Tenant, User
from servicedesk.identity.schemas import SignupConfirm, SignupRequest
from servicedesk.identity.service import check_password_policy, mark_email_verified
from servicedesk.platform import audit, outbox
from servicedesk.platform.config import Settings
from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import Conflict, NotFound, TooManyRequests, field_error
from servicedesk.platform.roles import Role

# The tenant that owns platform mail (migration 0011); it has no members and no slug a
# token or sign-in can name.
PLATFORM_TENANT_ID = uuid.UUID("00000000-0000-0000-0000-000000000001")
EVENT = "signup.requested"


def _slug_taken(session: Session, slug: str) -> Conflict | None:
    if session.execute(text("SELECT tenant_slug_taken(:s)"), {"s": slug}).scalar():
        return Conflict("this slug is taken", errors=[field_error("slug", "already taken")])
    return None


def _retry_after(session: Session, *, email: str, address: str | None, settings: Settings) -> int:
    """Seconds until another sign-up is allowed for this e-mail and this client address."""
    window = settings.signup_window_seconds
    row = session.execute(
        text(
            "SELECT by_email, email_oldest, by_address, address_oldest"
            " FROM auth_signup_recent(:e, :a, :w)"
        ),
        {"e": email, "a": address or "", "w": window},
    ).one()
    return throttle.window_wait(
        row,
        window=window,
        per_email=settings.signup_max_per_email,
        per_address=settings.signup_max_per_address,
        address=address,
    )


def request(
    session: Session,
    *,
    data: SignupRequest,
    client_ip: str | None,
    settings: Settings,
) -> None:
    """Store a pending sign-up and mail its link; the same work whether or not the address
    has an account (the password is hashed either way)."""
    check_password_policy(data.password, email=data.email)
    wait = _retry_after(session, email=data.email, address=client_ip, settings=settings)
    if wait > 0:
        raise TooManyRequests("too many sign-ups; try again later", retry_after=wait)
    taken = _slug_taken(session, data.slug)
    if taken is not None:
        raise taken
    existing = session.execute(
        text("SELECT user_id FROM auth_password_hash(:e)"), {"e": data.email}
    ).first()
    password_hash = passwords.hash_password(data.password)
    raw = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.signup_ttl_seconds)
    signup_id = session.execute(
        text("SELECT auth_signup_create(:h, :e, :a, :o, :s, :n, :p, :x)"),
        {
            "h": sessions.token_hash(raw),
            "e": data.email,
            "a": client_ip,
            "o": data.organization_name,
            "s": data.slug,
            "n": data.name,
            "p": password_hash if existing is None else None,
            "x": expires_at,
        },
    ).scalar_one()
    set_tenant(session, tenant_id=PLATFORM_TENANT_ID, user_id=None)
    # The e-mail carries the one-time token; the API response never does.
    outbox.emit(
        session,
        tenant_id=PLATFORM_TENANT_ID,
        event_type=EVENT,
        aggregate_type="signup",
        aggregate_id=signup_id,
        payload={
            "to": data.email,
            "organization": {"name": data.organization_name, "slug": data.slug},
            "existing_account": existing is not None,
            "token": raw,
            "confirm_url": f"{settings.web_origin.rstrip('/')}/signup/confirm#token={raw}",
            "expires_at": expires_at,
        },
    )


def confirm(
    session: Session,
    *,
    data: SignupConfirm,
    settings: Settings,
    request_id: str | None,
    device: sessions.Device = sessions.NO_DEVICE,
) -> sessions.IssuedTokens:
    """The tenant and its admin from a pending sign-up; signs the person in."""
    pending = session.execute(
        text(
            "SELECT id, email, organization_name, slug, name, password_hash"
            " FROM auth_signup_claim(:h)"
        ),
        {"h": sessions.token_hash(data.token)},
    ).one_or_none()
    if pending is None:
        raise NotFound(
            "this confirmation link is not valid",
            errors=[field_error("token", "unknown, used or expired")],
        )
    # Taken meanwhile: the claim rolls back with this refusal, so the link still works
    # with another slug.
    slug = data.slug or pending.slug
    taken = _slug_taken(session, slug)
    if taken is not None:
        raise taken
    existing = session.execute(
        text("SELECT user_id FROM auth_password_hash(:e)"), {"e": pending.email}
    ).first()
    if existing is None and pending.password_hash is None:
        raise NotFound(
            "this confirmation link is not valid; sign up again",
            errors=[field_error("token", "no account to add the organisation to")],
        )
    tenant_id = uuid.uuid4()
    # Ids are chosen here so the context can name the new rows before they exist: an
    # INSERT ... RETURNING must already pass the SELECT policy.
    user_id = existing.user_id if existing is not None else uuid.uuid4()
    set_tenant(session, tenant_id=tenant_id, user_id=user_id)
    try:
        with session.begin_nested():
            session.add(Tenant(id=tenant_id, slug=slug, name=pending.organization_name))
            if existing is None:
                session.add(
                    User(
                        id=user_id,
                        email=pending.email,
                        name=pending.name,
                        password_hash=pending.password_hash,
                    )
                )
            session.flush()
    except IntegrityError as exc:  # a concurrent confirmation took the slug or the address
        raise Conflict(
            "this slug or account was just taken; try again",
            errors=[field_error("slug", "already taken")],
        ) from exc
    session.add(Membership(tenant_id=tenant_id, user_id=user_id, role=Role.ADMIN.value))
    session.flush()
    mark_email_verified(session)  # the link was mailed to the address
    audit.write(
        session,
        tenant_id=tenant_id,
        actor_id=user_id,
        action="tenant.signup",
        entity_type="user",
        entity_id=user_id,
        request_id=request_id,
        data={"existing_account": existing is not None},
    )
    if existing is not None:  # an account with two-step verification signs in with a code
        mfa.check_sign_in(
            session, tenant_id=tenant_id, user_id=user_id, role=Role.ADMIN.value, settings=settings
        )
    return sessions.start(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        role=Role.ADMIN.value,
        settings=settings,
        device=device,
    )
