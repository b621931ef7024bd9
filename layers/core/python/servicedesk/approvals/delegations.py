"""Delegations: a user's approval decisions taken by another member within a window (a
holiday). Anyone delegates their own; admins anyone's. No HTTP here, never a commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import or_, select, text

from servicedesk.approvals.models import ApprovalDelegation
from servicedesk.approvals.schemas import DelegationCreate
from servicedesk.platform import audit, crud
from servicedesk.platform.errors import Forbidden, NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext

BY_END = Keyset(
    [Key(ApprovalDelegation.ends_at, TIMESTAMP), Key(ApprovalDelegation.id, UUID)],
    descending=True,
)


def _active_member(ctx: RequestContext, user_id: uuid.UUID, field: str) -> None:
    found = ctx.session.execute(
        text("SELECT 1 FROM memberships WHERE tenant_id = :t AND user_id = :u AND active"),
        {"t": ctx.tenant_id, "u": user_id},
    ).first()
    if found is None:
        raise ValidationProblem(errors=[field_error(field, "not an active member")])


def _mine(ctx: RequestContext) -> object:
    if ctx.can(Permission.ADMIN_USERS):
        return ApprovalDelegation.tenant_id == ctx.tenant_id
    return or_(
        ApprovalDelegation.user_id == ctx.user_id, ApprovalDelegation.delegate_id == ctx.user_id
    )


def list_delegations(
    ctx: RequestContext, *, current: bool | None, limit: int, cursor: str | None
) -> tuple[list[ApprovalDelegation], str | None]:
    """Yours (given or received; admins: all), latest end first; ``current``: not ended."""
    query = select(ApprovalDelegation).where(
        ApprovalDelegation.tenant_id == ctx.tenant_id,
        _mine(ctx),  # type: ignore[arg-type]
    )
    if current:
        query = query.where(ApprovalDelegation.ends_at > datetime.now(UTC))
    return paginate(ctx.session, query, BY_END, limit=limit, cursor=cursor)


def create_delegation(ctx: RequestContext, *, data: DelegationCreate) -> ApprovalDelegation:
    user_id = data.user_id or ctx.user_id
    if user_id != ctx.user_id and not ctx.can(Permission.ADMIN_USERS):
        raise Forbidden(errors=[field_error("user_id", "only admins delegate for others")])
    if data.delegate_id == user_id:
        raise ValidationProblem(errors=[field_error("delegate_id", "cannot be the delegator")])
    _active_member(ctx, data.delegate_id, "delegate_id")
    starts_at = data.starts_at or datetime.now(UTC)
    if data.ends_at <= starts_at:
        raise ValidationProblem(errors=[field_error("ends_at", "must be after starts_at")])
    delegation = ApprovalDelegation(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        user_id=user_id,
        delegate_id=data.delegate_id,
        starts_at=starts_at,
        ends_at=data.ends_at,
        reason=data.reason,
    )
    after = data.model_dump(mode="json") | {"user_id": str(user_id)}
    return crud.created(
        ctx, delegation, crud.flushed(ctx.session), "approval_delegation", after=after
    )


def delete_delegation(ctx: RequestContext, *, delegation_id: uuid.UUID) -> None:
    """Its delegator (or an admin) ends it; the delegate cannot (404/403 as usual)."""
    found = ctx.session.scalars(
        select(ApprovalDelegation).where(
            ApprovalDelegation.tenant_id == ctx.tenant_id,
            ApprovalDelegation.id == delegation_id,
            _mine(ctx),  # type: ignore[arg-type]
        )
    ).one_or_none()
    if found is None:
        raise NotFound("no such delegation")
    if found.user_id != ctx.user_id and not ctx.can(Permission.ADMIN_USERS):
        raise Forbidden("only the delegator ends a delegation")
    ctx.session.delete(found)
    ctx.session.flush()
    audit.record(
        ctx,
        action="approval_delegation.deleted",
        entity_type="approval_delegation",
        entity_id=delegation_id,
    )


def set_manager(
    ctx: RequestContext, *, user_id: uuid.UUID, manager_id: uuid.UUID | None
) -> dict[str, object]:
    """A member's manager (approvers "the requester's manager"), set by an admin; null
    clears it. Both active members of the tenant; nobody manages themselves."""
    _active_member(ctx, user_id, "user_id")
    if manager_id is not None:
        if manager_id == user_id:
            raise ValidationProblem(errors=[field_error("manager_id", "cannot be the member")])
        _active_member(ctx, manager_id, "manager_id")
    key = {"t": ctx.tenant_id, "u": user_id}
    before = ctx.session.execute(
        text("SELECT manager_id FROM memberships WHERE tenant_id = :t AND user_id = :u FOR UPDATE"),
        key,
    ).scalar()
    ctx.session.execute(
        text(
            "UPDATE memberships SET manager_id = :mgr, updated_at = now()"
            " WHERE tenant_id = :t AND user_id = :u"
        ),
        {**key, "mgr": manager_id},
    )
    audit.record(
        ctx,
        action="membership.manager_changed",
        entity_type="user",
        entity_id=user_id,
        data={"before": {"manager_id": before}, "after": {"manager_id": manager_id}},
    )
    return {"user_id": user_id, "manager_id": manager_id}
