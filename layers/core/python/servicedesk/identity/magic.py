"""Magic links: a requester without a password follows their ticket from the mail.

The link (platform/mail_links.py, minted by notifications/templates.py) is exchanged for an
access token scoped to that one ticket (`scope: ticket:<id>`), with no refresh cookie: when
it expires the person follows the link again. The token never carries staff rights: the
exchange refuses any membership but an active requester's, and so does every request
(platform.tenancy). Setting a password bumps the person's link generation, which ends every
link they hold; from then on they sign in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.identity import recovery, sso
from servicedesk.identity.service import check_password_policy, mark_email_verified
from servicedesk.platform import audit, mail_links
from servicedesk.platform.config import Settings
from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import Forbidden, Unauthorized, field_error
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.tokens import issue_access_token


@dataclass(frozen=True)
class MagicGrant:
    access_token: str
    expires_in: int
    ticket_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    email: str


def _refused() -> Unauthorized:
    # One answer for every reason (expired, altered, ended, another ticket, staff).
    return Unauthorized(
        "this link does not open the ticket any more: sign in, or use the newest e-mail",
        errors=[field_error("token", "expired, altered or no longer valid")],
    )


_PERSON = text(
    "SELECT u.email, u.name, u.link_generation, m.role, m.active,"
    " u.password_hash IS NULL AND u.idp_subject IS NULL AS passwordless"
    " FROM memberships m JOIN users u ON u.id = m.user_id"
    " WHERE m.tenant_id = :t AND m.user_id = :u"
)


def exchange(
    session: Session,
    *,
    token: str,
    settings: Settings,
    request_id: str | None,
    now: float | None = None,
) -> MagicGrant:
    key = mail_links.mail_key(settings)
    link = mail_links.read_token(key, token, now=now) if key is not None else None
    if link is None:
        raise _refused()
    set_tenant(session, tenant_id=link.tenant_id, user_id=link.user_id)
    person = session.execute(_PERSON, {"t": link.tenant_id, "u": link.user_id}).one_or_none()
    if (
        person is None
        or not person.active
        or person.role != Role.REQUESTER.value  # never staff rights, whatever the link says
        or not person.passwordless  # they sign in instead
        or person.link_generation != link.generation
        or sso.sso_only_tenants(session, [link.tenant_id])  # they sign in through SSO
    ):
        raise _refused()
    # The ticket itself is not looked at here (identity imports no tickets): every request
    # of the session passes the visibility rule, so a ticket that is not, or no longer,
    # theirs answers 404 as for anyone.
    mark_email_verified(session)  # the link came by mail to the address
    audit.write(
        session,
        tenant_id=link.tenant_id,
        actor_id=link.user_id,
        action="auth.magic_link",
        entity_type="ticket",
        entity_id=link.ticket_id,
        request_id=request_id,
    )
    access, ttl = issue_access_token(
        user_id=link.user_id,
        tenant_id=link.tenant_id,
        role=Role.REQUESTER.value,
        settings=settings,
        scope=f"ticket:{link.ticket_id}",
    )
    return MagicGrant(
        access, ttl, link.ticket_id, link.user_id, str(person.name), str(person.email)
    )


def set_password(ctx: RequestContext, *, password: str) -> None:
    """A magic-link session's person chooses a password: their links end, they sign in.
    Only from a scoped session (a full session changes a password through a reset, which
    proves control of the address)."""
    if ctx.ticket_scope is None:
        raise Forbidden("only a ticket link's session sets a first password here")
    person = ctx.session.execute(
        text("SELECT email, password_hash IS NULL AS passwordless FROM users WHERE id = :u"),
        {"u": ctx.user_id},
    ).one()
    if not person.passwordless:
        raise Forbidden("this account has a password: sign in, or reset it")
    check_password_policy(password, email=str(person.email))
    tenants = recovery.set_own_password(ctx.session, password=password)
    recovery.audit_everywhere(
        ctx.session,
        user_id=ctx.user_id,
        tenants=tenants,
        action="auth.password_set",
        request_id=ctx.request_id,
    )
    set_tenant(ctx.session, tenant_id=ctx.tenant_id, user_id=ctx.user_id)
