"""Self-registration: an employee registers as a requester of an existing organisation.

The organisation allows it or not (``portal.self_registration``, default off), for any
address or only for some e-mail domains (``portal.allowed_domains``). The setting is not a
secret: a refusal says why. Whether an address has an account is: a request does the same
work and gives the same answer whoever owns the address (as ``identity.signup`` does),
stores a pending registration (``pending_signups`` with ``kind = 'requester'``, migration
0040; the sign-up throttle counts it) and mails its single-use link through the outbox
(``account.registration``, in the organisation's branding). Following the link creates the
person with the password chosen at registration, or, for an address that already has an
account, adds the membership and keeps their own password; the role is always requester.
An organisation nobody can find by that slug answers as one with registration off.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicedesk.identity import passwords, sessions, signup, sso
from servicedesk.identity.models import Membership, User
from servicedesk.identity.service import check_password_policy, mark_email_verified
from servicedesk.platform import audit, outbox
from servicedesk.platform.config import Settings
from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    field_error,
)
from servicedesk.platform.permissions import Permission
from servicedesk.platform.roles import Role
from servicedesk.platform.tenant_settings import Section

EVENT = "account.registration"
MAX_DOMAINS = 50

Domain = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=253,
        pattern=r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$",
    ),
]


def _unique(domains: list[str]) -> list[str]:
    return list(dict.fromkeys(domains))


class PortalSettings(BaseModel):
    """Who may register themselves as a requester (``/v1/settings/portal``)."""

    model_config = ConfigDict(extra="forbid")

    self_registration: bool = Field(
        default=False,
        description="Anyone with an allowed address may register as a requester (by e-mail"
        " confirmation); off: only invitations and admins add people",
    )
    allowed_domains: Annotated[list[Domain], AfterValidator(_unique)] = Field(
        default_factory=list,
        max_length=MAX_DOMAINS,
        description="E-mail domains allowed to register (e.g. example.com); empty: any",
    )

    def allows(self, email: str) -> bool:
        domain = email.rsplit("@", 1)[-1].lower()
        return not self.allowed_domains or domain in self.allowed_domains


SECTION = Section("portal", PortalSettings, read=Permission.ADMIN_SETTINGS, what="portal settings")

_PORTAL = text("SELECT tenant_id, name, portal FROM tenant_portal(:slug)")


def portal_by_slug(session: Session, slug: str) -> tuple[Any, PortalSettings]:
    """The organisation's id/name row (None when no organisation has the slug) and its
    portal settings (the defaults for an unknown slug: registration off)."""
    row = session.execute(_PORTAL, {"slug": slug}).one_or_none()
    if row is None:
        return None, PortalSettings()
    return row, PortalSettings.model_validate(row.portal or {})


def _closed() -> Forbidden:
    # The same words for "off" and for a slug no organisation has.
    return Forbidden(
        "this organisation does not allow registration: ask it for an invitation",
        errors=[field_error("tenant", "self-registration is off for this organisation")],
    )


def _check_allowed(portal: PortalSettings, email: str) -> None:
    if not portal.self_registration:
        raise _closed()
    if not portal.allows(email):
        raise Forbidden(
            "this organisation accepts registrations from its own e-mail domains only",
            errors=[
                field_error(
                    "email",
                    "this address's domain is not allowed; allowed: "
                    + ", ".join(portal.allowed_domains),
                )
            ],
        )


def request(
    session: Session,
    *,
    tenant: str,
    email: str,
    name: str,
    password: str,
    client_ip: str | None,
    settings: Settings,
) -> None:
    """Store a pending registration and mail its link; the same statements whoever owns
    the address (the password is hashed either way)."""
    row, portal = portal_by_slug(session, tenant)
    if row is None:
        raise _closed()
    _check_allowed(portal, email)
    sso.refuse_password_join(session, row.tenant_id, role=Role.REQUESTER.value, field="tenant")
    check_password_policy(password, email=email)
    wait = signup._retry_after(session, email=email, address=client_ip, settings=settings)
    if wait > 0:
        raise TooManyRequests("too many registrations; try again later", retry_after=wait)
    existing = session.execute(
        text("SELECT user_id FROM auth_password_hash(:e)"), {"e": email}
    ).first()
    password_hash = passwords.hash_password(password)
    raw = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.signup_ttl_seconds)
    pending_id = session.execute(
        text("SELECT auth_registration_create(:h, :e, :a, :t, :n, :p, :x)"),
        {
            "h": sessions.token_hash(raw),
            "e": email,
            "a": client_ip,
            "t": row.tenant_id,
            "n": name,
            "p": password_hash if existing is None else None,
            "x": expires_at,
        },
    ).scalar_one()
    tenant_id = uuid.UUID(str(row.tenant_id))
    set_tenant(session, tenant_id=tenant_id, user_id=None)
    # In the organisation's name and branding; the token only in the e-mail.
    outbox.emit(
        session,
        tenant_id=tenant_id,
        event_type=EVENT,
        aggregate_type="registration",
        aggregate_id=pending_id,
        payload={
            "to": email.lower(),
            "organization": {"name": row.name, "slug": tenant},
            "token": raw,
            "confirm_url": f"{settings.web_origin.rstrip('/')}/register/confirm#token={raw}",
            "expires_at": expires_at,
        },
    )


_MEMBERSHIP = text("SELECT active FROM memberships WHERE tenant_id = :t AND user_id = :u")


def confirm(
    session: Session, *, token: str, settings: Settings, request_id: str | None
) -> sessions.IssuedTokens:
    """The requester of a confirmed registration, signed in. Refused (and the link kept)
    when the organisation has turned registration off or narrowed its domains since."""
    pending = session.execute(
        text("SELECT id, email, tenant_id, name, password_hash FROM auth_registration_claim(:h)"),
        {"h": sessions.token_hash(token)},
    ).one_or_none()
    if pending is None:
        raise NotFound(
            "this confirmation link is not valid",
            errors=[field_error("token", "unknown, used or expired")],
        )
    tenant_id = uuid.UUID(str(pending.tenant_id))
    existing = session.execute(
        text("SELECT user_id FROM auth_password_hash(:e)"), {"e": pending.email}
    ).first()
    if existing is None and pending.password_hash is None:
        raise NotFound(
            "this confirmation link is not valid; register again",
            errors=[field_error("token", "no account to add the organisation to")],
        )
    user_id = uuid.UUID(str(existing.user_id)) if existing is not None else uuid.uuid4()
    set_tenant(session, tenant_id=tenant_id, user_id=user_id)
    _check_allowed(SECTION.load(session, tenant_id), str(pending.email))
    sso.refuse_password_join(session, tenant_id, role=Role.REQUESTER.value, field="token")
    # Following the link proved control of the address, so saying the account is a
    # member already tells the person nothing about anyone else.
    member = session.execute(_MEMBERSHIP, {"t": tenant_id, "u": user_id}).one_or_none()
    if member is not None:
        if not member.active:
            raise Forbidden("your membership of this organisation was ended by an admin")
        raise Conflict("you already belong to this organisation: sign in")
    try:
        with session.begin_nested():
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
            session.add(Membership(tenant_id=tenant_id, user_id=user_id, role=Role.REQUESTER.value))
            session.flush()
    except IntegrityError as exc:  # a concurrent confirmation or sign-up took the address
        raise Conflict("this account was just created; sign in") from exc
    mark_email_verified(session)
    audit.write(
        session,
        tenant_id=tenant_id,
        actor_id=user_id,
        action="user.registered",
        entity_type="user",
        entity_id=user_id,
        request_id=request_id,
        data={"existing_account": existing is not None, "role": Role.REQUESTER.value},
    )
    return sessions.start(
        session, tenant_id=tenant_id, user_id=user_id, role=Role.REQUESTER.value, settings=settings
    )
