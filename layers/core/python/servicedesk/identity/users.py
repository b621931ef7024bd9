"""User management inside a tenant: list, read, create, change role or deactivate, invite."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select, text, update

from servicedesk.identity import memberships, passwords, sessions
from servicedesk.identity.models import Invitation, Membership, Tenant, User
from servicedesk.identity.schemas import InvitationCreate, UserCreate, UserUpdate
from servicedesk.identity.service import check_password_policy
from servicedesk.platform import audit, outbox
from servicedesk.platform.config import Settings
from servicedesk.platform.errors import (
    Conflict,
    NotFound,
    field_error,
)
from servicedesk.platform.pagination import TEXT, TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import expected_version

USER_COLUMNS = (
    User.id,
    User.email,
    User.name,
    Membership.role,
    Membership.custom_role_id,
    Membership.active,
    Membership.version,
    Membership.created_at,
    Membership.avatar_attachment_id,
)


def _members() -> Any:
    return select(*USER_COLUMNS).join(Membership, Membership.user_id == User.id)


USERS_BY_EMAIL = Keyset([Key(User.email, TEXT)])
INVITATIONS_NEWEST = Keyset(
    [Key(Invitation.created_at, TIMESTAMP), Key(Invitation.id, UUID)], descending=True
)


def list_users(
    ctx: RequestContext,
    *,
    role: Role | None,
    active: bool | None,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Row[Any]], str | None]:
    # Not the tenant's Automation actor (servicedesk.automation.engine): it is no person.
    query = _members().where(
        Membership.tenant_id == ctx.tenant_id, User.email.not_like("%@automation.invalid")
    )
    if role is not None:
        query = query.where(Membership.role == role.value)
    if active is not None:
        query = query.where(Membership.active.is_(active))
    if q:
        pattern = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(User.email.like(pattern) | func.lower(User.name).like(pattern))
    return paginate(ctx.session, query, USERS_BY_EMAIL, limit=limit, cursor=cursor, scalars=False)


def get_user(ctx: RequestContext, *, user_id: uuid.UUID) -> Row[Any]:
    row = ctx.session.execute(
        _members().where(Membership.tenant_id == ctx.tenant_id, User.id == user_id)
    ).one_or_none()
    if row is None:
        raise NotFound("no such user")
    return row


def create_user(ctx: RequestContext, *, data: UserCreate, settings: Settings) -> Row[Any]:
    """A member with an initial password; the answer never tells whether the address
    already had an account elsewhere.

    A person who exists (in another tenant) is added as a member, as a service desk adds a
    known customer: their identity is theirs, so the given name and password are ignored
    (never replacing theirs). The password is hashed in both cases, and the audit row is
    the same, so that neither the time taken nor what the tenant can observe tells the two
    apart. Either way the person is told by e-mail (`user.added`, the same words for both).
    """
    check_password_policy(data.password, email=data.email)
    password_hash = passwords.hash_password(data.password)
    existing = ctx.session.execute(
        text("SELECT user_id FROM auth_password_hash(:e)"), {"e": data.email}
    ).first()
    if existing is None:
        user_id = uuid.uuid4()
        ctx.session.add(
            User(id=user_id, email=data.email, name=data.name, password_hash=password_hash)
        )
        ctx.session.flush()
    else:
        user_id = existing.user_id
        if ctx.session.get(Membership, (ctx.tenant_id, user_id)) is not None:
            raise Conflict("already a member", errors=[field_error("email", "already a member")])
    ctx.session.add(Membership(tenant_id=ctx.tenant_id, user_id=user_id, role=data.role.value))
    ctx.session.flush()
    tenant = ctx.session.get(Tenant, ctx.tenant_id)
    assert tenant is not None
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type="user.added",
        aggregate_type="user",
        aggregate_id=user_id,
        payload={
            "user_id": user_id,
            "actor_id": ctx.user_id,
            "role": data.role.value,
            "tenant": {"slug": tenant.slug, "name": tenant.name},
            "login_url": f"{settings.web_origin.rstrip('/')}/login",
        },
    )
    audit.record(
        ctx,
        action="user.created",
        entity_type="user",
        entity_id=user_id,
        data={"role": data.role.value},
    )
    return get_user(ctx, user_id=user_id)


def update_user(
    ctx: RequestContext, *, user_id: uuid.UUID, data: UserUpdate, if_match: int | None
) -> Row[Any]:
    """Role, custom role and/or active flag through the one guarded change
    (identity/memberships.py): 409 naming ``role``, ``active`` or ``custom_role_id`` when it
    would leave the tenant without an admin."""
    expected = expected_version(data.version, if_match)
    custom = data.custom_role_id if "custom_role_id" in data.model_fields_set else memberships.KEEP
    memberships.change(
        ctx,
        user_id,
        role=data.role,
        active=data.active,
        custom_role_id=custom,
        expected_version=expected,
    )
    ctx.session.expire_all()
    return get_user(ctx, user_id=user_id)


def invite(ctx: RequestContext, *, data: InvitationCreate, settings: Settings) -> Invitation:
    member = ctx.session.execute(
        select(Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.tenant_id == ctx.tenant_id, User.email == data.email)
    ).first()
    if member is not None:
        raise Conflict("already a member", errors=[field_error("email", "already a member")])
    now = datetime.now(UTC)
    # A newer invitation replaces any pending one for the same address.
    ctx.session.execute(
        update(Invitation)
        .where(
            Invitation.tenant_id == ctx.tenant_id,
            Invitation.email == data.email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    raw = secrets.token_urlsafe(32)
    invitation = Invitation(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        email=data.email,
        role=data.role.value,
        token_hash=sessions.token_hash(raw),
        invited_by=ctx.user_id,
        expires_at=now + timedelta(seconds=settings.invitation_ttl_seconds),
    )
    ctx.session.add(invitation)
    ctx.session.flush()
    tenant = ctx.session.get(Tenant, ctx.tenant_id)
    assert tenant is not None
    # The e-mail carries the one-time token; the API response never does.
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type="user.invited",
        aggregate_type="invitation",
        aggregate_id=invitation.id,
        payload={
            "to": data.email,
            "role": data.role.value,
            "tenant": {"slug": tenant.slug, "name": tenant.name},
            "token": raw,
            "accept_url": f"{settings.web_origin}/accept-invitation#token={raw}",
            "expires_at": invitation.expires_at,
        },
    )
    audit.record(
        ctx,
        action="invitation.created",
        entity_type="invitation",
        entity_id=invitation.id,
        data={"role": data.role.value},
    )
    return invitation


def list_invitations(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[Invitation], str | None]:
    query = select(Invitation).where(Invitation.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, INVITATIONS_NEWEST, limit=limit, cursor=cursor)


def revoke_invitation(ctx: RequestContext, *, invitation_id: uuid.UUID) -> None:
    invitation = ctx.session.get(Invitation, invitation_id, with_for_update=True)
    if invitation is None or invitation.tenant_id != ctx.tenant_id:
        raise NotFound("no such invitation")
    if invitation.accepted_at is not None:
        raise Conflict("the invitation was already accepted")
    if invitation.revoked_at is None:
        invitation.revoked_at = datetime.now(UTC)
        audit.record(
            ctx, action="invitation.revoked", entity_type="invitation", entity_id=invitation_id
        )


def my_teams(ctx: RequestContext) -> list[tuple[uuid.UUID, str]]:
    """The caller's active teams (team membership and team both active), by name. Plain SQL:
    the teams domain owns the tables; identity only reads these two columns."""
    rows = ctx.session.execute(
        text(
            "SELECT t.id, t.name FROM team_members m JOIN teams t"
            " ON t.tenant_id = m.tenant_id AND t.id = m.team_id"
            " WHERE m.tenant_id = :tenant AND m.user_id = :user AND m.active AND t.active"
            " ORDER BY t.name, t.id"
        ),
        {"tenant": ctx.tenant_id, "user": ctx.user_id},
    )
    return [(row.id, row.name) for row in rows]
