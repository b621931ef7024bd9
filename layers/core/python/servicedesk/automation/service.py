"""Automation rules: CRUD, order, dry run, run log. No HTTP here, and never a commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text

from servicedesk.actions import executor
from servicedesk.actions.schemas import dump as dump_actions
from servicedesk.automation import conditions, engine, timed
from servicedesk.automation.models import Rule, RunRow
from servicedesk.automation.schemas import DryRun, RuleCreate, RuleUpdate
from servicedesk.platform import audit, crud, outbox
from servicedesk.platform.errors import NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets.models import Ticket

UNIQUE_NAME = "uq_automation_rules_name"
RUNS_NEWEST = Keyset([Key(RunRow.at, TIMESTAMP), Key(RunRow.id, UUID)], descending=True)
DRY_RUN_TIMEOUT_MS = 5000
# An inexact dry run (regexes, business hours) checks at most this many SQL candidates.
DRY_RUN_MAX_CANDIDATES = 20_000


def _validate(
    ctx: RequestContext, kind: str, triggers: list[Any], raw_conditions: Any, actions: list[Any]
) -> conditions.Node:
    """Everything a rule must be to be saved; every problem at once, as field errors."""
    errors: list[dict[str, Any]] = []
    if kind == "event" and not triggers:
        errors.append(field_error("triggers", "an event rule needs at least one trigger"))
    if kind == "time" and triggers:
        errors.append(field_error("triggers", "a time rule has no triggers: the schedule runs it"))
    node, problems = conditions.parse(raw_conditions, kind=kind)
    errors += problems
    if not problems:
        errors += engine.condition_problems(ctx, node)
    for i, action in enumerate(actions):
        if action.type == "assign" and getattr(action, "assignee_rule", None) == "current_user":
            errors.append(
                field_error(f"actions.{i}.assignee_rule", "no person applies a rule: not here")
            )
    errors += executor.check(ctx, actions)
    if errors:
        raise ValidationProblem("the rule is not valid", errors=errors)
    return node


def _public(ctx: RequestContext, rule: Rule, last_run: datetime | None = None) -> dict[str, Any]:
    node, parse_errors = conditions.parse(rule.conditions, kind=rule.kind)
    problems = parse_errors or engine.condition_problems(ctx, node)
    try:
        actions = engine.ACTIONS.validate_python(rule.actions)
        problems += executor.check(ctx, actions)
    except ValueError:
        problems.append(field_error("actions", "no longer valid"))
    return {
        **{
            c: getattr(rule, c)
            for c in (
                "id",
                "name",
                "description",
                "kind",
                "triggers",
                "conditions",
                "actions",
                "position",
                "active",
                "loop_limit",
                "version",
                "created_at",
                "updated_at",
            )
        },
        "last_run_at": last_run,
        "problems": [
            {"field": p.get("field", ""), "detail": p.get("detail", "")} for p in problems
        ],
    }


def _last_runs(ctx: RequestContext, ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    if not ids:
        return {}
    rows = ctx.session.execute(
        text(
            "SELECT r.id, (SELECT max(x.at) FROM automation_runs x WHERE x.tenant_id = :t"
            " AND x.rule_id = r.id) AS last FROM automation_rules r"
            " WHERE r.tenant_id = :t AND r.id = ANY(:ids)"
        ),
        {"t": ctx.tenant_id, "ids": ids},
    ).all()
    return {r.id: r.last for r in rows if r.last is not None}


def list_rules(ctx: RequestContext, *, kind: str | None = None) -> list[dict[str, Any]]:
    query = select(Rule).where(Rule.tenant_id == ctx.tenant_id)
    if kind is not None:
        query = query.where(Rule.kind == kind)
    rules = list(ctx.session.scalars(query.order_by(Rule.kind, Rule.position, Rule.id)))
    last = _last_runs(ctx, [r.id for r in rules])
    return [_public(ctx, r, last.get(r.id)) for r in rules]


def _get(ctx: RequestContext, rule_id: uuid.UUID, *, lock: bool = False) -> Rule:
    query = select(Rule).where(Rule.tenant_id == ctx.tenant_id, Rule.id == rule_id)
    if lock:
        query = query.with_for_update()
    rule = ctx.session.scalars(query).one_or_none()
    if rule is None:
        raise NotFound("no such automation rule")
    return rule


def get_rule(ctx: RequestContext, *, rule_id: uuid.UUID) -> dict[str, Any]:
    rule = _get(ctx, rule_id)
    return _public(ctx, rule, _last_runs(ctx, [rule.id]).get(rule.id))


def _emit(ctx: RequestContext, rule: Rule, event_type: str) -> None:
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=event_type,
        aggregate_type="automation_rule",
        aggregate_id=rule.id,
        payload={"rule_id": rule.id, "name": rule.name, "kind": rule.kind, "actor_id": ctx.user_id},
    )


def create_rule(ctx: RequestContext, *, data: RuleCreate) -> dict[str, Any]:
    node = _validate(ctx, data.kind, data.triggers, data.conditions, data.actions)
    # Serialise positions per tenant: two creations at once do not take the same place.
    ctx.session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('automation:' || :t, 0))"),
        {"t": str(ctx.tenant_id)},
    )
    count = ctx.session.execute(
        select(func.count()).where(Rule.tenant_id == ctx.tenant_id, Rule.kind == data.kind)
    ).scalar_one()
    position = count if data.position is None else min(data.position, count)
    ctx.session.execute(
        text(
            "UPDATE automation_rules SET position = position + 1 WHERE tenant_id = :t"
            " AND kind = :k AND position >= :p"
        ),
        {"t": ctx.tenant_id, "k": data.kind, "p": position},
    )
    rule = Rule(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        name=data.name,
        description=data.description,
        kind=data.kind,
        triggers=[t.model_dump(exclude_none=True) for t in data.triggers],
        conditions=conditions.dump(node),
        actions=dump_actions(data.actions),
        position=position,
        active=data.active,
        loop_limit=data.loop_limit,
        created_by=ctx.user_id,
    )
    after = {"name": data.name, "kind": data.kind, "position": position}
    crud.created(
        ctx,
        rule,
        crud.unique_name(ctx.session, constraint=UNIQUE_NAME, what="rule"),
        "automation_rule",
        after=after,
    )
    engine.forget(ctx.session)
    _emit(ctx, rule, "automation.rule_created")
    return _public(ctx, rule)


def update_rule(
    ctx: RequestContext, *, rule_id: uuid.UUID, data: RuleUpdate, if_match: int | None
) -> dict[str, Any]:
    rule, diff = crud.changes(
        lambda: _get(ctx, rule_id, lock=True), data, if_match, "automation rule", "json"
    )
    sent = data.model_fields_set
    triggers = data.triggers if "triggers" in sent and data.triggers is not None else None
    actions = data.actions if "actions" in sent and data.actions is not None else None
    node = _validate(
        ctx,
        rule.kind,
        triggers if triggers is not None else (rule.triggers or []),
        data.conditions if data.conditions is not None else rule.conditions,
        actions if actions is not None else engine.ACTIONS.validate_python(rule.actions),
    )
    after: dict[str, Any] = {}
    for name in ("name", "description", "active", "loop_limit"):
        value = getattr(data, name)
        if name in sent and value is not None and getattr(rule, name) != value:
            after[name] = value
    if triggers is not None:
        after["triggers"] = [t.model_dump(exclude_none=True) for t in triggers]
    if data.conditions is not None:
        after["conditions"] = conditions.dump(node)
    if actions is not None:
        after["actions"] = dump_actions(actions)
    after = {k: v for k, v in after.items() if getattr(rule, k) != v}
    if not after:
        return get_rule(ctx, rule_id=rule_id)
    before = {k: getattr(rule, k) for k in after}
    crud.changed(
        ctx, rule, after, guard=crud.unique_name(ctx.session, constraint=UNIQUE_NAME, what="rule")
    )
    audit.record(
        ctx,
        action="automation_rule.updated",
        entity_type="automation_rule",
        entity_id=rule.id,
        data={"before": before, "after": after},
    )
    del diff
    engine.forget(ctx.session)
    _emit(ctx, rule, "automation.rule_updated")
    return get_rule(ctx, rule_id=rule_id)


def delete_rule(ctx: RequestContext, *, rule_id: uuid.UUID) -> None:
    rule = _get(ctx, rule_id, lock=True)
    ctx.session.execute(
        text(
            "UPDATE automation_rules SET position = position - 1 WHERE tenant_id = :t"
            " AND kind = :k AND position > :p"
        ),
        {"t": ctx.tenant_id, "k": rule.kind, "p": rule.position},
    )
    ctx.session.delete(rule)
    ctx.session.flush()
    audit.record(
        ctx,
        action="automation_rule.deleted",
        entity_type="automation_rule",
        entity_id=rule_id,
        data={"before": {"name": rule.name, "kind": rule.kind}},
    )
    engine.forget(ctx.session)
    _emit(ctx, rule, "automation.rule_deleted")


def reorder(ctx: RequestContext, *, kind: str, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Set the evaluation order of the tenant's rules of ``kind``: ``ids`` lists every one
    of them, once, first evaluated first."""
    rules = list(
        ctx.session.scalars(
            select(Rule).where(Rule.tenant_id == ctx.tenant_id, Rule.kind == kind).with_for_update()
        )
    )
    if len(set(ids)) != len(ids) or {r.id for r in rules} != set(ids):
        raise ValidationProblem(
            errors=[field_error("ids", f"list every {kind} rule of the tenant exactly once")]
        )
    order = {rule_id: i for i, rule_id in enumerate(ids)}
    before = {str(r.id): r.position for r in rules}
    for rule in rules:
        if rule.position != order[rule.id]:
            rule.position = order[rule.id]
            rule.version += 1
            rule.updated_at = datetime.now(UTC)
    ctx.session.flush()
    audit.record(
        ctx,
        action="automation_rule.reordered",
        entity_type="automation_rule",
        entity_id=None,
        data={"kind": kind, "before": before, "after": {str(k): v for k, v in order.items()}},
    )
    engine.forget(ctx.session)
    return list_rules(ctx, kind=kind)


def dry_run(ctx: RequestContext, *, data: DryRun) -> dict[str, Any]:
    """Which tickets the conditions match now: the exact count and the first page (most
    recently updated first). Nothing is written; the statements run under a timeout. A
    change test (event rules) is about an event, not a ticket: the dry run reads it as
    true and says so."""
    node, errors = conditions.parse(data.conditions, kind=data.kind)
    if errors:
        raise ValidationProblem("the conditions are not valid", errors=errors)
    now = datetime.now(UTC)
    previous = ctx.session.execute(text("SELECT current_setting('statement_timeout')")).scalar()
    ctx.session.execute(
        text("SELECT set_config('statement_timeout', :v, true)"), {"v": str(DRY_RUN_TIMEOUT_MS)}
    )
    try:
        count, ids = _dry_count(ctx, node, now, data.limit)
        rows = (
            list(
                ctx.session.scalars(
                    select(Ticket)
                    .where(Ticket.tenant_id == ctx.tenant_id, Ticket.id.in_(ids))
                    .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
                )
            )
            if ids
            else []
        )
    finally:
        ctx.session.execute(
            text("SELECT set_config('statement_timeout', :v, true)"), {"v": str(previous)}
        )
    note = (
        "change tests (changed, changed_from, changed_to) are read as true: they are about an"
        " event, not a ticket"
        if conditions.uses_change(node)
        else None
    )
    return {"count": count, "items": rows, "note": note}


def _dry_count(
    ctx: RequestContext, node: conditions.Node, now: datetime, limit: int
) -> tuple[int, list[uuid.UUID]]:
    params = conditions.Params()
    where, exact = conditions.to_sql(node, params, now)
    base = f"FROM tickets t WHERE t.tenant_id = :tenant AND t.merged_into_id IS NULL AND {where}"
    values = {**params.values, "tenant": ctx.tenant_id}
    if exact:
        count = ctx.session.execute(text(f"SELECT count(*) {base}"), values).scalar_one()
        ids = ctx.session.execute(
            text(f"SELECT t.id {base} ORDER BY t.updated_at DESC, t.id DESC LIMIT :n"),
            {**values, "n": limit},
        ).scalars()
        return int(count), [uuid.UUID(str(i)) for i in ids]
    # Inexact SQL (regexes, business hours): the Python predicate decides each candidate.
    candidates = int(ctx.session.execute(text(f"SELECT count(*) {base}"), values).scalar_one())
    if candidates > DRY_RUN_MAX_CANDIDATES:
        raise ValidationProblem(
            "these conditions leave too many tickets to check one by one",
            errors=[
                field_error(
                    "conditions",
                    f"{candidates} tickets to check (at most {DRY_RUN_MAX_CANDIDATES}): add a"
                    " test SQL can decide (status, team, hours since ...)",
                )
            ],
        )
    predicate = conditions.compile_py(node)
    actor = ctx
    matched: list[tuple[datetime, uuid.UUID]] = []
    after: uuid.UUID | None = None
    while True:
        batch = timed.matching(ctx.session, ctx.tenant_id, node, now, after=after, limit=500)
        for ticket_id in batch:
            ticket = ctx.session.get(Ticket, ticket_id)
            if ticket is not None and predicate(engine.facts_for(actor, ticket, now), None):
                matched.append((ticket.updated_at, ticket.id))
        if len(batch) < 500:
            break
        after = batch[-1]
    matched.sort(reverse=True)
    return len(matched), [i for _, i in matched[:limit]]


def list_runs(
    ctx: RequestContext, *, rule_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[RunRow], str | None]:
    _get(ctx, rule_id)
    query = select(RunRow).where(RunRow.tenant_id == ctx.tenant_id, RunRow.rule_id == rule_id)
    return paginate(ctx.session, query, RUNS_NEWEST, limit=limit, cursor=cursor)
