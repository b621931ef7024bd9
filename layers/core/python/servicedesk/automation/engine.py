"""Event rules: evaluated in the transaction of the ticket change that fires them.

The tickets services report every change through ``timeline.audited`` (and a creation
through ``timeline.changed``), which calls ``on_change`` here. The change becomes a
``Change`` (trigger and the fields' before/after); the tenant's active event rules are read
once per transaction and evaluated in ``position`` order against the ticket as the previous
rules left it. A rule whose trigger and conditions match applies its actions through the
actions executor in lenient mode, as the tenant's Automation actor, before the request
commits; side effects (notify, webhook) go through the outbox.

Chains and loops. A rule's actions change the ticket, which reports new changes: these are
queued (not evaluated inside the service call that made them) and evaluated after the
current rule, breadth first, one level deeper than the change that caused them. Per
originating change (the one a person, the mail intake, the SLA consumer or a time rule
made), a rule fires at most ``loop_limit`` times, and a change deeper than
``MAX_CHAIN_DEPTH`` fires nothing; both are written to the run log (``loop_limit``,
``depth_limit``) instead of firing. The property test (tests/integration/
test_automation_property.py) holds this to a reference evaluator.
"""

from __future__ import annotations

import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.actions import executor
from servicedesk.actions.schemas import ActionList
from servicedesk.automation import (
    conditions,
    side_effects,  # noqa: F401 - registers notify, webhook
)
from servicedesk.automation.conditions import Change, Facts
from servicedesk.platform.db import jsonable
from servicedesk.platform.logging import get_logger
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import timeline
from servicedesk.tickets.models import Ticket

MAX_CHAIN_DEPTH = 5
ACTIONS: TypeAdapter[list[Any]] = TypeAdapter(ActionList)
_RULES = "automation_rules"
_STATE = "automation_state"
_ACTOR = "automation_actor"
ACTOR_NAME = "Automation"
ACTOR_DOMAIN = "automation.invalid"
_ACTOR_NAMESPACE = uuid.UUID("5b0f7c8e-4a8e-4c55-9d0e-6a9b1f0d2a11")


# --- compiled rules ------------------------------------------------------------------------


@dataclass(frozen=True)
class Compiled:
    id: uuid.UUID
    name: str
    kind: str
    triggers: tuple[dict[str, Any], ...]
    node: conditions.Node
    predicate: conditions.Py
    actions: tuple[Any, ...]
    loop_limit: int

    def triggered_by(self, change: Change) -> bool:
        return any(trigger_matches(t, change) for t in self.triggers)


def trigger_matches(trigger: dict[str, Any], change: Change) -> bool:
    if trigger.get("event") != change.trigger:
        return False
    fields = trigger.get("fields")
    if fields and not any(change.field_change(f) is not None for f in fields):
        return False
    if trigger.get("visibility") and trigger["visibility"] != change.visibility:
        return False
    return not (trigger.get("by") and trigger["by"] != change.by)


def compile_rule(row: Any) -> Compiled:
    node, _ = conditions.parse(row.conditions, kind=row.kind)
    return Compiled(
        id=row.id,
        name=row.name,
        kind=row.kind,
        triggers=tuple(row.triggers or ()),
        node=node,
        predicate=conditions.compile_py(node),
        actions=tuple(ACTIONS.validate_python(row.actions)),
        loop_limit=int(row.loop_limit),
    )


def rules_for(session: Session, tenant_id: uuid.UUID, kind: str) -> list[Compiled]:
    """The tenant's active rules of ``kind`` in evaluation order, read once per transaction
    (the rules' own writes drop the cache: ``forget``)."""
    cache: dict[tuple[uuid.UUID, str], list[Compiled]] = session.info.setdefault(_RULES, {})
    key = (tenant_id, kind)
    if key not in cache:
        rows = session.execute(
            text(
                "SELECT id, version, name, kind, triggers, conditions, actions, loop_limit"
                " FROM automation_rules WHERE tenant_id = :t AND kind = :k AND active"
                " ORDER BY position, id"
            ),
            {"t": tenant_id, "k": kind},
        ).all()
        cache[key] = [_compiled(r) for r in rows]
    return cache[key]


# Compiled rules by (id, version), shared by the transactions of a process: a rule's row is
# read per transaction, its parse and compilation only when it changed. Bounded.
_COMPILED: dict[tuple[uuid.UUID, int], Compiled] = {}
_COMPILED_MAX = 2048


def _compiled(row: Any) -> Compiled:
    key = (row.id, int(row.version))
    found = _COMPILED.get(key)
    if found is None:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        found = _COMPILED[key] = compile_rule(row)
    return found


def forget(session: Session) -> None:
    session.info.pop(_RULES, None)


# --- who acts ------------------------------------------------------------------------------


def actor_email(tenant_id: uuid.UUID) -> str:
    return f"automation-{tenant_id.hex}@{ACTOR_DOMAIN}"


def actor_id(session: Session, tenant_id: uuid.UUID) -> uuid.UUID:
    """The tenant's Automation user: a users row with no password and no identity provider
    (no way to sign in) and an inactive agent membership (never assignable, never notified,
    not listed), made on first use. Its id is derived from the tenant's, so two first uses
    at once write the same rows."""
    cached: dict[uuid.UUID, uuid.UUID] = session.info.setdefault(_ACTOR, {})
    if tenant_id in cached:
        return cached[tenant_id]
    user_id = uuid.uuid5(_ACTOR_NAMESPACE, str(tenant_id))
    exists = session.execute(
        text("SELECT 1 FROM memberships WHERE tenant_id = :t AND user_id = :u"),
        {"t": tenant_id, "u": user_id},
    ).first()
    if exists is None:
        session.execute(
            text("INSERT INTO users (id, email, name) VALUES (:u, :e, :n) ON CONFLICT DO NOTHING"),
            {"u": user_id, "e": actor_email(tenant_id), "n": ACTOR_NAME},
        )
        session.execute(
            text(
                "INSERT INTO memberships (tenant_id, user_id, role, active)"
                " VALUES (:t, :u, 'agent', false) ON CONFLICT DO NOTHING"
            ),
            {"t": tenant_id, "u": user_id},
        )
    cached[tenant_id] = user_id
    return user_id


def actor_context(
    session: Session, tenant_id: uuid.UUID, *, like: RequestContext | None = None
) -> RequestContext:
    """Rules act as the Automation user with an admin's reach (an admin wrote the rule):
    every ticket of the tenant, the transitions staff may make."""
    extra: dict[str, Any] = {"automation": True}
    if like is not None and "sla_clock" in like.extra:
        extra["sla_clock"] = like.extra["sla_clock"]
    return RequestContext(
        session,
        tenant_id,
        actor_id(session, tenant_id),
        Role.ADMIN,
        request_id=like.request_id if like is not None else None,
        extra=extra,
    )


def is_automation(ctx: RequestContext) -> bool:
    return bool(ctx.extra.get("automation"))


# --- the ticket's changes ------------------------------------------------------------------


@dataclass
class _State:
    running: bool = False
    depth: int = 0
    queue: list[tuple[uuid.UUID, Change]] = field(default_factory=list)


def _state(session: Session) -> _State:
    state = session.info.get(_STATE)
    if not isinstance(state, _State):
        state = _State()
        session.info[_STATE] = state
    return state


def change_of(
    ctx: RequestContext, ticket: Ticket, action: str, data: dict[str, Any]
) -> Change | None:
    """The change an audited ticket action is, or None for what no trigger names."""
    before, after = data.get("before") or {}, data.get("after") or {}
    if action == "ticket.created":
        return Change("created")
    if action == "ticket.updated":
        return Change("updated", {k: (before.get(k), after.get(k)) for k in after})
    if action == "ticket.status_changed":
        return Change("status_changed", {"status": (before.get("status"), after.get("status"))})
    if action == "ticket.assigned":
        return Change("assigned", {k: (before.get(k), after.get(k)) for k in after})
    if action == "comment.added":
        if is_automation(ctx):
            by = "automation"
        elif ctx.user_id == ticket.requester_id:
            by = "requester"
        elif ctx.is_staff:
            by = "agent"
        else:
            by = "other"
        return Change("commented", visibility=str(data.get("visibility")), by=by)
    return None


def on_change(ctx: RequestContext, ticket: Ticket, action: str, data: dict[str, Any]) -> None:
    """The hook: a ticket change was recorded (``timeline.audited``, ``timeline.changed``)."""
    change = change_of(ctx, ticket, action, data)
    if change is None:
        return
    state = _state(ctx.session)
    if state.running:  # caused by a rule's action: evaluated after that rule, one level down
        change.depth = state.depth + 1
        state.queue.append((ticket.id, change))
        return
    rules = rules_for(ctx.session, ctx.tenant_id, "event")
    if rules:
        process(ctx, ticket.id, change, rules)


# --- evaluation ----------------------------------------------------------------------------


def facts_for(ctx: RequestContext, ticket: Ticket, now: datetime) -> Facts:
    from servicedesk.tickets import service

    def calendar() -> Any:
        return service.clock(ctx).calendar(service.sla_policy_for(ctx, ticket))

    return Facts(ticket, now, calendar)


def process(
    ctx: RequestContext,
    ticket_id: uuid.UUID,
    origin: Change,
    rules: list[Compiled],
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[tuple[uuid.UUID, str]]:
    """Evaluate ``rules`` for one originating change and every change their actions cause;
    the (rule, status) of each run-log entry written, in order."""
    state = _state(ctx.session)
    actor = actor_context(ctx.session, ctx.tenant_id, like=ctx)
    fired: Counter[uuid.UUID] = Counter()
    problems: dict[uuid.UUID, str | None] = {}
    log: list[tuple[uuid.UUID, str]] = []
    queue: deque[tuple[uuid.UUID, Change]] = deque([(ticket_id, origin)])
    state.running = True
    try:
        while queue:
            current, change = queue.popleft()
            for rule in rules:
                if not rule.triggered_by(change):
                    continue
                ticket = ctx.session.get(Ticket, current)
                if ticket is None:
                    break
                if rule.id not in problems:
                    problems[rule.id] = broken(actor, rule)
                if problems[rule.id]:
                    record(actor, rule.id, current, change, "skipped", error=problems[rule.id])
                    log.append((rule.id, "skipped"))
                    continue
                if not rule.predicate(facts_for(actor, ticket, now()), change):
                    continue
                status = _fire(actor, rule, current, change, fired, state)
                log.append((rule.id, status))
                queue.extend(state.queue)
                state.queue.clear()
    finally:
        state.running = False
        state.queue.clear()
    return log


def _fire(
    actor: RequestContext,
    rule: Compiled,
    ticket_id: uuid.UUID,
    change: Change,
    fired: Counter[uuid.UUID],
    state: _State,
) -> str:
    if fired[rule.id] >= rule.loop_limit:
        record(
            actor,
            rule.id,
            ticket_id,
            change,
            "loop_limit",
            error=f"loop limit reached ({rule.loop_limit} per originating change)",
        )
        return "loop_limit"
    if change.depth >= MAX_CHAIN_DEPTH:
        record(
            actor,
            rule.id,
            ticket_id,
            change,
            "depth_limit",
            error=f"chain depth limit reached ({MAX_CHAIN_DEPTH})",
        )
        return "depth_limit"
    fired[rule.id] += 1
    state.depth = change.depth
    status, outcomes, error = apply_actions(actor, rule, ticket_id)
    record(actor, rule.id, ticket_id, change, status, outcomes=outcomes, error=error)
    return status


def apply_actions(
    actor: RequestContext, rule: Compiled, ticket_id: uuid.UUID
) -> tuple[str, list[dict[str, Any]], str | None]:
    """Apply the rule's actions in lenient mode; an unexpected failure rolls back the
    rule's actions alone and is logged as ``error``, never raised (no 500 for a rule)."""
    savepoint = actor.session.begin_nested()
    try:
        outcomes = executor.apply(
            actor,
            ticket_id,
            list(rule.actions),
            agent_id=None,
            mode="lenient",
            extra={"rule_id": rule.id, "rule_name": rule.name},
        )
    except Exception as exc:  # noqa: BLE001 - a rule must never fail the change that fired it
        savepoint.rollback()
        get_logger().exception(
            "automation rule failed", extra={"rule_id": str(rule.id), "ticket_id": str(ticket_id)}
        )
        return "error", [], f"{type(exc).__name__}: the rule's actions were rolled back"
    savepoint.commit()
    return (
        "fired",
        [
            {"index": o.index, "type": o.type, "status": o.status, "detail": o.detail}
            for o in outcomes
        ],
        None,
    )


def broken(ctx: RequestContext, rule: Compiled) -> str | None:
    """What the rule's conditions name that no longer exists, as one sentence (the rule is
    skipped); None when they resolve. Actions are checked one by one by the executor."""
    errors = condition_problems(ctx, rule.node)
    return "; ".join(f"{e['field']}: {e['detail']}" for e in errors) or None


def condition_problems(ctx: RequestContext, node: conditions.Node) -> list[dict[str, Any]]:
    from servicedesk.platform.errors import field_error

    refs = conditions.references(node)
    errors: list[dict[str, Any]] = []
    lookups = {
        "team": (
            "SELECT id FROM teams WHERE tenant_id = :t AND active AND id = ANY(:ids)",
            "no such active team",
        ),
        "category": (
            "SELECT id FROM categories WHERE tenant_id = :t AND active AND id = ANY(:ids)",
            "no such active category",
        ),
        "member": (
            "SELECT user_id FROM memberships WHERE tenant_id = :t AND active"
            " AND user_id = ANY(:ids)",
            "not an active member of this tenant",
        ),
    }
    for kind, (sql, detail) in lookups.items():
        wanted = refs.get(kind, [])
        if not wanted:
            continue
        found = {
            str(i)
            for i in ctx.session.execute(
                text(sql), {"t": ctx.tenant_id, "ids": [uuid.UUID(str(v)) for _, v in wanted]}
            ).scalars()
        }
        errors.extend(field_error(at, detail) for at, value in wanted if str(value) not in found)
    keys = refs.get("custom_field", [])
    if keys:
        known = set(
            ctx.session.execute(
                text(
                    "SELECT DISTINCT k FROM categories c,"
                    " jsonb_object_keys(coalesce(c.fields_schema -> 'properties', '{}'::jsonb)) k"
                    " WHERE c.tenant_id = :t AND c.active"
                    " AND jsonb_typeof(c.fields_schema -> 'properties') = 'object'"
                ),
                {"t": ctx.tenant_id},
            ).scalars()
        )
        errors.extend(
            field_error(at, f"no active category has the field {key}")
            for at, key in keys
            if key not in known
        )
    return errors


def record(
    ctx: RequestContext,
    rule_id: uuid.UUID,
    ticket_id: uuid.UUID | None,
    change: Change | str,
    status: str,
    *,
    outcomes: list[dict[str, Any]] | None = None,
    error: str | None = None,
) -> None:
    """One run-log row. (The rule's "last run" is read from the log, not written on the
    rule: concurrent changes firing one rule must not queue on its row lock.)"""
    trigger = change if isinstance(change, str) else change.trigger
    depth = 0 if isinstance(change, str) else change.depth
    ctx.session.execute(
        text(
            "INSERT INTO automation_runs"
            " (tenant_id, rule_id, ticket_id, trigger, status, outcomes, error, depth)"
            " VALUES (:t, :r, :k, :g, :s, CAST(:o AS jsonb), :e, :d)"
        ),
        {
            "t": ctx.tenant_id,
            "r": rule_id,
            "k": ticket_id,
            "g": trigger,
            "s": status,
            "o": _json(outcomes or []),
            "e": (error or None) and error[:2000],
            "d": depth,
        },
    )


def _json(value: Any) -> str:
    import json

    return json.dumps(jsonable(value))


timeline.on_change(on_change)
