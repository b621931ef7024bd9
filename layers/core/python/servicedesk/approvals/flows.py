"""Approval flows: a tenant's named stage templates, which catalog categories reference.
Managers and admins write them; staff read them. No HTTP here, never a commit."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import func, select, text

from servicedesk.approvals.models import ApprovalFlow
from servicedesk.approvals.schemas import FlowCreate, FlowUpdate, dump_stages
from servicedesk.platform import audit, crud
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TEXT, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext

BY_NAME = Keyset(
    [
        Key(func.lower(ApprovalFlow.name), TEXT, lambda f: f.name.lower()),
        Key(ApprovalFlow.id, UUID),
    ]
)
NAME_INDEX = "uq_approval_flows_name"


def _unique_name(ctx: RequestContext) -> AbstractContextManager[None]:
    return crud.unique_name(ctx.session, constraint=NAME_INDEX, what="approval flow")


def _check_refs(
    ctx: RequestContext, stages: list[dict[str, Any]], escalation_user_id: uuid.UUID | None
) -> None:
    """Every user an active member, every team an active team of the tenant (all problems
    at once: 422)."""
    errors: list[dict[str, Any]] = []
    members = {
        str(u)
        for u in ctx.session.execute(
            text("SELECT user_id FROM memberships WHERE tenant_id = :t AND active"),
            {"t": ctx.tenant_id},
        ).scalars()
    }
    teams = {
        str(t)
        for t in ctx.session.execute(
            text("SELECT id FROM teams WHERE tenant_id = :t AND active"), {"t": ctx.tenant_id}
        ).scalars()
    }
    for i, stage in enumerate(stages):
        spec = stage["approvers"]
        for j, user in enumerate(spec.get("users") or []):
            if str(user) not in members:
                errors.append(
                    field_error(f"stages.{i}.approvers.users.{j}", "not an active member")
                )
        team = spec.get("team_id")
        if team is not None and str(team) not in teams:
            errors.append(field_error(f"stages.{i}.approvers.team_id", "not an active team"))
    if escalation_user_id is not None and str(escalation_user_id) not in members:
        errors.append(field_error("escalation_user_id", "not an active member"))
    if errors:
        raise ValidationProblem(errors=errors)


def list_flows(
    ctx: RequestContext, *, active: bool | None, limit: int, cursor: str | None
) -> tuple[list[ApprovalFlow], str | None]:
    query = select(ApprovalFlow).where(ApprovalFlow.tenant_id == ctx.tenant_id)
    if active is not None:
        query = query.where(ApprovalFlow.active.is_(active))
    return paginate(ctx.session, query, BY_NAME, limit=limit, cursor=cursor)


def get_flow(ctx: RequestContext, *, flow_id: uuid.UUID, lock: bool = False) -> ApprovalFlow:
    query = select(ApprovalFlow).where(
        ApprovalFlow.tenant_id == ctx.tenant_id, ApprovalFlow.id == flow_id
    )
    if lock:
        query = query.with_for_update()
    flow = ctx.session.scalars(query).one_or_none()
    if flow is None:
        raise NotFound("no such approval flow")
    return flow


def usable(ctx: RequestContext, flow_id: uuid.UUID, field: str) -> ApprovalFlow:
    """An active flow of the tenant, or 422 naming ``field`` (a category's reference)."""
    flow = ctx.session.scalars(
        select(ApprovalFlow).where(
            ApprovalFlow.tenant_id == ctx.tenant_id, ApprovalFlow.id == flow_id
        )
    ).one_or_none()
    if flow is None or not flow.active:
        raise ValidationProblem(errors=[field_error(field, "not an active approval flow")])
    return flow


def active(ctx: RequestContext, flow_id: uuid.UUID) -> ApprovalFlow | None:
    """The flow if it is active (a category's flow deactivated since requires nothing)."""
    flow = ctx.session.get(ApprovalFlow, flow_id)
    return flow if flow is not None and flow.active else None


def create_flow(ctx: RequestContext, *, data: FlowCreate) -> ApprovalFlow:
    stages = dump_stages(data.stages)
    _check_refs(ctx, stages, data.escalation_user_id)
    flow = ApprovalFlow(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        name=data.name,
        description=data.description,
        stages=stages,
        escalation_role=data.escalation_role,
        escalation_user_id=data.escalation_user_id,
        created_by=ctx.user_id,
    )
    after = data.model_dump(mode="json")
    return crud.created(ctx, flow, _unique_name(ctx), "approval_flow", after=after)


def update_flow(
    ctx: RequestContext, *, flow_id: uuid.UUID, data: FlowUpdate, if_match: int | None
) -> ApprovalFlow:
    flow, diff = crud.changes(
        lambda: get_flow(ctx, flow_id=flow_id, lock=True), data, if_match, "approval flow", "json"
    )
    if not diff["after"]:
        return flow
    stages = diff["after"].get("stages", flow.stages)
    escalation = diff["after"].get("escalation_user_id", flow.escalation_user_id)
    _check_refs(ctx, stages, escalation)
    crud.changed(ctx, flow, diff["after"], guard=_unique_name(ctx))
    audit.record(
        ctx,
        action="approval_flow.updated",
        entity_type="approval_flow",
        entity_id=flow_id,
        data=diff,
    )
    return flow


def delete_flow(ctx: RequestContext, *, flow_id: uuid.UUID) -> None:
    """Only a flow no category uses (409 naming ``flow_id``); requests keep their stages."""
    flow = get_flow(ctx, flow_id=flow_id, lock=True)
    used = ctx.session.execute(
        text("SELECT name FROM categories WHERE tenant_id = :t AND approval_flow_id = :f LIMIT 1"),
        {"t": ctx.tenant_id, "f": flow_id},
    ).scalar()
    if used is not None:
        raise Conflict(
            f"the category {used!r} uses this flow",
            errors=[field_error("flow_id", "used by a category; deactivate it instead")],
        )
    ctx.session.delete(flow)
    ctx.session.flush()
    audit.record(
        ctx, action="approval_flow.deleted", entity_type="approval_flow", entity_id=flow_id
    )
