"""The caller's own account: name, time zone and locale, password change, and the
organisations they belong to (by name, for the organisation switcher).

No HTTP here and no commit.
"""

from __future__ import annotations

from sqlalchemy import text

from servicedesk.identity import recovery, sessions
from servicedesk.identity.models import User
from servicedesk.identity.schemas import MyTenant, PasswordChange, ProfileUpdate
from servicedesk.identity.service import check_password_policy
from servicedesk.identity.throttle import PasswordGate
from servicedesk.platform import audit
from servicedesk.platform.config import Settings
from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import ProblemError, ValidationProblem, field_error
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext


def me(ctx: RequestContext) -> User:
    user = ctx.session.get(User, ctx.user_id)
    assert user is not None  # the principal was resolved from this row
    return user


def update(ctx: RequestContext, data: ProfileUpdate) -> User:
    """The fields sent, and only those (``null`` time zone or locale: the browser's)."""
    user = me(ctx)
    changed = data.model_dump(exclude_unset=True)
    before = {k: getattr(user, k) for k in changed}
    for key, value in changed.items():
        setattr(user, key, value)
    ctx.session.flush()
    audit.record(
        ctx,
        action="user.profile_updated",
        entity_type="user",
        entity_id=ctx.user_id,
        data={"before": before, "after": changed},
    )
    return user


def my_tenants(ctx: RequestContext) -> list[MyTenant]:
    rows = ctx.session.execute(
        text("SELECT tenant_id, tenant_slug, tenant_name, role FROM auth_my_tenants()")
    ).all()
    return [
        MyTenant(
            slug=r.tenant_slug,
            name=r.tenant_name,
            role=Role(r.role),
            current=r.tenant_id == ctx.tenant_id,
        )
        for r in sorted(rows, key=lambda r: (r.tenant_name.lower(), r.tenant_slug))
    ]


def change_password(
    ctx: RequestContext,
    data: PasswordChange,
    *,
    gate: PasswordGate,
    settings: Settings,
    device: sessions.Device = sessions.NO_DEVICE,
) -> sessions.IssuedTokens | ProblemError:
    """The current password, then the new one: every session of the person ends (as a
    reset does: refresh families, access tokens issued before now, magic and reset links),
    and this one goes on with new tokens. A wrong current password is returned, not raised,
    so the attempt count (the login's lockout) commits with the answer."""
    user = me(ctx)
    if user.password_hash is None:
        return ValidationProblem(
            "this account signs in through an identity provider and has no password",
            errors=[field_error("current_password", "this account has no password")],
        )
    if not gate.check(
        ctx.session, email=user.email, password_hash=user.password_hash,
        password=data.current_password,
    ):  # fmt: skip
        return ValidationProblem(
            errors=[field_error("current_password", "not the account's current password")]
        )
    check_password_policy(data.new_password, email=user.email, field="new_password")
    tenants = recovery.set_own_password(ctx.session, password=data.new_password)
    recovery.audit_everywhere(
        ctx.session,
        user_id=ctx.user_id,
        tenants=tenants,
        action="auth.password_changed",
        request_id=ctx.request_id,
    )
    set_tenant(ctx.session, tenant_id=ctx.tenant_id, user_id=ctx.user_id)
    return sessions.start(
        ctx.session,
        tenant_id=ctx.tenant_id,
        user_id=ctx.user_id,
        role=ctx.role.value,
        settings=settings,
        device=device,
    )
