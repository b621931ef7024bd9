"""SLA policies: CRUD, and which policy applies to a ticket."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text

from servicedesk.platform import audit, crud
from servicedesk.platform.constraints import unique_or_conflict
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import INTEGER, TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version
from servicedesk.sla.engine import Clock
from servicedesk.sla.models import Calendar, Policy
from servicedesk.sla.schemas import PolicyCreate, PolicyUpdate

REORDER = "reorder them with PUT /v1/sla-policies/order"
# The database decides under concurrency: of two writers of one name or position in a
# tenant, the second waits for the first to commit and then gets the 409.
UNIQUE = {
    "uq_sla_policies_name": ("name", "already taken (names ignore case)"),
    "uq_sla_policies_position": (
        "position",
        f"another policy holds this position; choose a free one or {REORDER}",
    ),
}


def matches(
    policy: Policy,
    *,
    priority: str,
    category_id: uuid.UUID | None,
    team_id: uuid.UUID | None,
    requester_tags: list[str],
    ticket_type: str = "incident",
) -> bool:
    c = policy.conditions or {}
    checks: list[tuple[list[Any] | None, Any]] = [
        (c.get("priorities"), priority),
        (c.get("category_ids"), str(category_id) if category_id else None),
        (c.get("team_ids"), str(team_id) if team_id else None),
        (c.get("types"), ticket_type),
    ]
    for allowed, value in checks:
        if allowed is not None and value not in allowed:
            return False
    tags = c.get("requester_tags")
    return tags is None or bool(set(tags) & {t.lower() for t in requester_tags})


def applicable(
    ctx: RequestContext,
    *,
    priority: str,
    category_id: uuid.UUID | None,
    team_id: uuid.UUID | None,
    requester_id: uuid.UUID,
    ticket_type: str = "incident",
) -> Policy | None:
    """The first active policy, in precedence order, whose conditions match."""
    policies = ctx.session.scalars(
        select(Policy)
        .where(Policy.tenant_id == ctx.tenant_id, Policy.active.is_(True))
        .order_by(Policy.position, Policy.created_at)
    ).all()
    if not policies:
        return None
    tags = (
        ctx.session.execute(
            text("SELECT tags FROM memberships WHERE tenant_id = :t AND user_id = :u"),
            {"t": ctx.tenant_id, "u": requester_id},
        ).scalar()
        or []
    )
    for policy in policies:
        if matches(
            policy,
            priority=priority,
            category_id=category_id,
            team_id=team_id,
            requester_tags=list(tags),
            ticket_type=ticket_type,
        ):
            return policy
    return None


def _reference_errors(ctx: RequestContext, data: PolicyCreate) -> list[dict[str, Any]]:
    errors = []
    conditions = data.conditions.model_dump(exclude_none=True)
    for name, values in conditions.items():
        if values == []:
            errors.append(field_error(f"conditions.{name}", "an empty list never matches"))
    refs = [
        (f"conditions.category_ids.{n}", "categories", ref)
        for n, ref in enumerate(data.conditions.category_ids or [])
    ]
    refs += [
        (f"conditions.team_ids.{n}", "teams", ref)
        for n, ref in enumerate(data.conditions.team_ids or [])
    ]
    refs += [
        (f"escalations.{n}.team_id", "teams", e.team_id)
        for n, e in enumerate(data.escalations)
        if e.team_id is not None
    ]
    for field, table, ref in refs:
        found = ctx.session.execute(
            text(f"SELECT 1 FROM {table} WHERE tenant_id = :t AND id = :id"),
            {"t": ctx.tenant_id, "id": ref},
        ).first()
        if found is None:
            errors.append(field_error(field, "no such item in this tenant"))
    for n, key in enumerate(data.conditions.types or []):
        found = ctx.session.execute(
            text("SELECT 1 FROM ticket_types WHERE tenant_id = :t AND key = :k"),
            {"t": ctx.tenant_id, "k": key},
        ).first()
        if found is None:
            errors.append(field_error(f"conditions.types.{n}", "no such ticket type"))
    if data.calendar_id is not None and ctx.session.get(Calendar, data.calendar_id) is None:
        errors.append(field_error("calendar_id", "no such calendar"))
    return errors


def _shadowing(ctx: RequestContext, data: PolicyCreate, exclude: uuid.UUID | None) -> str | None:
    """An earlier active policy without conditions takes every ticket before this one."""
    if not data.active:
        return None
    catch_all = select(Policy.name).where(
        Policy.tenant_id == ctx.tenant_id,
        Policy.active.is_(True),
        Policy.position < data.position,
        Policy.conditions == {},
    )
    if exclude is not None:
        catch_all = catch_all.where(Policy.id != exclude)
    return ctx.session.scalars(catch_all).first()


def _check(ctx: RequestContext, data: PolicyCreate, *, exclude: uuid.UUID | None = None) -> None:
    """Refuse what could never apply: empty condition lists, unknown references, a policy
    shadowed by an earlier catch-all; and a position already held (the name is the unique
    index's to refuse: a check here would race a concurrent writer)."""
    errors = _reference_errors(ctx, data)
    shadow = _shadowing(ctx, data, exclude)
    if shadow is not None:
        errors.append(
            field_error(
                "position", f"the earlier policy {shadow!r} matches every ticket; this never would"
            )
        )
    if errors:
        raise ValidationProblem("the policy could never apply as given", errors=errors)
    holder = select(Policy.name).where(
        Policy.tenant_id == ctx.tenant_id, Policy.position == data.position
    )
    if exclude is not None:
        holder = holder.where(Policy.id != exclude)
    held_by = ctx.session.scalars(holder).first()
    if held_by is not None:
        raise Conflict(
            f"the policy {held_by!r} holds position {data.position}",
            errors=[
                field_error("position", f"held by {held_by!r}; choose a free position or {REORDER}")
            ],
        )


def _values(data: PolicyCreate) -> dict[str, Any]:
    values = data.model_dump(mode="json", exclude={"version"})
    values["conditions"] = data.conditions.model_dump(mode="json", exclude_none=True)
    values["escalations"] = [e.model_dump(mode="json", exclude_none=True) for e in data.escalations]
    values["calendar_id"] = data.calendar_id
    return values


IN_PRECEDENCE = Keyset(
    [Key(Policy.position, INTEGER), Key(Policy.created_at, TIMESTAMP), Key(Policy.id, UUID)]
)


def list_policies(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[Policy], str | None]:
    query = select(Policy).where(Policy.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, IN_PRECEDENCE, limit=limit, cursor=cursor)


def get(ctx: RequestContext, policy_id: uuid.UUID, *, lock: bool = False) -> Policy:
    query = select(Policy).where(Policy.tenant_id == ctx.tenant_id, Policy.id == policy_id)
    found = ctx.session.scalars(query.with_for_update() if lock else query).one_or_none()
    if found is None:
        raise NotFound("no such policy")
    return found


def create(ctx: RequestContext, *, data: PolicyCreate) -> Policy:
    _check(ctx, data)
    policy = Policy(id=uuid.uuid4(), tenant_id=ctx.tenant_id, **_values(data))
    return crud.created(
        ctx,
        policy,
        unique_or_conflict(ctx.session, UNIQUE, title="another SLA policy has this value"),
        "sla_policy",
        action="sla.policy_created",
        after=_values(data),
    )


def replace(
    ctx: RequestContext, *, policy_id: uuid.UUID, data: PolicyUpdate, if_match: int | None
) -> Policy:
    policy = get(ctx, policy_id, lock=True)
    check_version(policy.version, expected_version(data.version, if_match), what="policy")
    _check(ctx, data, exclude=policy.id)
    clock = Clock(ctx.session, ctx.tenant_id)
    now = datetime.now(UTC)
    running = clock.running_under(policy_ids=[policy.id])
    for target in running:
        clock.settle(target, now)  # on the old calendar, up to the change
    before = {k: getattr(policy, k) for k in _values(data)}
    guard = unique_or_conflict(ctx.session, UNIQUE, title="another SLA policy has this value")
    crud.changed(ctx, policy, _values(data), guard=guard)
    audit.record(
        ctx,
        action="sla.policy_updated",
        entity_type="sla_policy",
        entity_id=policy.id,
        data={"before": before, "after": _values(data)},
    )
    ctx.session.flush()
    # Tickets under this policy continue on its new rules, their elapsed time carried over.
    clock.rules_changed(running, now)
    ctx.session.refresh(policy)
    return policy


def delete(ctx: RequestContext, *, policy_id: uuid.UUID) -> None:
    """Deactivate rather than delete: running targets keep pointing at it."""
    policy = get(ctx, policy_id, lock=True)
    policy.active = False
    policy.version += 1
    audit.record(
        ctx, action="sla.policy_deactivated", entity_type="sla_policy", entity_id=policy.id
    )


def _order_errors(ids: list[uuid.UUID], known: set[uuid.UUID]) -> list[dict[str, Any]]:
    errors, seen = [], set()
    for n, policy_id in enumerate(ids):
        if policy_id in seen:
            errors.append(field_error(f"ids.{n}", "listed twice"))
        elif policy_id not in known:
            errors.append(field_error(f"ids.{n}", "no such policy"))
        seen.add(policy_id)
    return errors


def _shadowed_in(ordered: list[Policy]) -> list[dict[str, Any]]:
    """Active policies placed after an active catch-all, which would never apply."""
    catch_all: Policy | None = None
    errors = []
    for n, policy in enumerate(ordered):
        if not policy.active:
            continue
        if catch_all is not None:
            errors.append(
                field_error(f"ids.{n}", f"after {catch_all.name!r}, which matches every ticket")
            )
        elif not policy.conditions:
            catch_all = policy
    return errors


def reorder(ctx: RequestContext, *, ids: list[uuid.UUID]) -> list[Policy]:
    """Set the precedence in one transaction: the policies keep the positions they hold
    between them, handed out in the order given. The list names every policy of the
    tenant (one added or removed meanwhile: 409, reload)."""
    current = list(
        ctx.session.scalars(
            select(Policy)
            .where(Policy.tenant_id == ctx.tenant_id)
            .order_by(Policy.position, Policy.created_at)
            .with_for_update()
        )
    )
    by_id = {p.id: p for p in current}
    errors = _order_errors(ids, set(by_id))
    if errors:
        raise ValidationProblem("the order must name each policy once", errors=errors)
    missing = [p.name for p in current if p.id not in set(ids)]
    if missing:
        raise Conflict(
            "the order must name every policy of the tenant; reload and retry",
            errors=[field_error("ids", f"missing {len(missing)}, e.g. {missing[0]!r}")],
        )
    ordered = [by_id[i] for i in ids]
    errors = _shadowed_in(ordered)
    if errors:
        raise ValidationProblem("these policies could never apply in this order", errors=errors)
    slots = [p.position for p in current]  # ascending
    before = {str(p.id): p.position for p in current}
    if [p.position for p in ordered] == slots:
        return ordered
    with unique_or_conflict(ctx.session, UNIQUE, title="the positions changed meanwhile"):
        # The constraint is checked row by row: pass through free (negative) positions.
        for n, policy in enumerate(ordered):
            policy.position = -1 - n
        ctx.session.flush()
        for policy, slot in zip(ordered, slots, strict=True):
            policy.position = slot
            if before[str(policy.id)] != slot:
                policy.version += 1
                policy.updated_at = func.now()
    audit.record(
        ctx,
        action="sla.policies_reordered",
        entity_type="sla_policy",
        entity_id=ordered[0].id,
        data={"before": before, "after": {str(p.id): p.position for p in ordered}},
    )
    for policy in ordered:
        ctx.session.refresh(policy)
    return ordered
