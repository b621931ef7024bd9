"""Time rules, run by a schedule (EventBridge Scheduler → functions/automation_scheduler),
set-based like the SLA evaluator; and the SLA events' rules (the automation consumer).

Per tenant with an active time rule, in its own transaction: for each rule in position
order, ONE statement (the rule's conditions compiled to SQL, ``conditions.to_sql``) finds
matching tickets in keyset batches of ``BATCH`` by id, at most ``MAX_PER_RULE`` per run (the
rest next run); where the SQL is only a prefilter (regexes, business hours) the Python
predicate decides. Each ticket gets the rule's actions in lenient mode (its own savepoint:
a failure is that ticket's log entry) and a row in ``automation_fired``.

Episodes: a time rule fires once per ticket per *status stint*: the key is the instant the
ticket entered its current status (``tickets.status_changed_at``). "Pending for 5 business
days → remind" reminds once however many runs see the ticket still pending; a reply that
moves the ticket out of pending and back starts a new stint, which may be reminded again.
A second rule "pending for 7 business days → close" has its own firings. Firings of ended
stints are pruned, as are run-log rows past ``RUN_RETENTION_DAYS``.

Actions made by a time rule are ticket changes like any other: the event rules they
trigger run in the same transaction (servicedesk.automation.engine).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicedesk.automation import conditions, engine
from servicedesk.automation.conditions import Change
from servicedesk.platform.db import get_engine, transaction
from servicedesk.platform.jobs import for_each_tenant
from servicedesk.platform.publisher import publish_committed
from servicedesk.tickets.models import Ticket

BATCH = 200
MAX_PER_RULE = 1000
RUN_RETENTION_DAYS = 90
WORKERS = 2


@dataclass
class RunReport:
    tenants: int = 0
    fired: int = 0
    failed_tenants: list[str] = field(default_factory=list)


def matching(
    session: Session,
    tenant_id: uuid.UUID,
    node: conditions.Node,
    now: datetime,
    *,
    after: uuid.UUID | None,
    limit: int,
    rule_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """One keyset batch of ticket ids whose row the compiled SQL keeps (not merged; with
    ``rule_id``, not fired for the ticket's current status stint)."""
    params = conditions.Params()
    where, _ = conditions.to_sql(node, params, now)
    fired = (
        " AND NOT EXISTS (SELECT 1 FROM automation_fired f WHERE f.rule_id = :rule"
        " AND f.ticket_id = t.id AND f.episode = t.status_changed_at)"
        if rule_id is not None
        else ""
    )
    sql = (
        "SELECT t.id FROM tickets t WHERE t.tenant_id = :tenant AND t.merged_into_id IS NULL"
        f" AND (CAST(:after AS uuid) IS NULL OR t.id > :after) AND {where}{fired}"
        " ORDER BY t.id LIMIT :limit"
    )
    values: dict[str, Any] = {
        **params.values,
        "tenant": tenant_id,
        "after": after,
        "limit": limit,
        "rule": rule_id,
    }
    return [uuid.UUID(str(r)) for r in session.execute(text(sql), values).scalars()]


def evaluate_tenant(session: Session, tenant_id: uuid.UUID, now: datetime) -> int:
    """Every active time rule of the tenant, in order; the number of firings."""
    rules = engine.rules_for(session, tenant_id, "time")
    if not rules:
        return 0
    actor = engine.actor_context(session, tenant_id)
    total = 0
    for rule in rules:
        problem = engine.broken(actor, rule)
        if problem:
            _skip_once(actor, rule.id, problem)
            continue
        total += _run_rule(actor, rule, now)
    _prune(session, tenant_id, now)
    return total


def _run_rule(actor: Any, rule: engine.Compiled, now: datetime) -> int:
    session: Session = actor.session
    _, exact = conditions.to_sql(rule.node, conditions.Params(), now)
    after: uuid.UUID | None = None
    fired = seen = 0
    while seen < MAX_PER_RULE:
        batch = matching(
            session, actor.tenant_id, rule.node, now, after=after, limit=BATCH, rule_id=rule.id
        )
        if not batch:
            break
        for ticket_id in batch:
            seen += 1
            after = ticket_id
            ticket = session.get(Ticket, ticket_id, populate_existing=True)
            if ticket is None:
                continue
            if not exact and not rule.predicate(engine.facts_for(actor, ticket, now), None):
                continue
            episode = ticket.status_changed_at
            session.execute(
                text(
                    "INSERT INTO automation_fired (tenant_id, rule_id, ticket_id, episode)"
                    " VALUES (:t, :r, :k, :e) ON CONFLICT DO NOTHING"
                ),
                {"t": actor.tenant_id, "r": rule.id, "k": ticket_id, "e": episode},
            )
            status, outcomes, error = engine.apply_actions(actor, rule, ticket_id)
            engine.record(actor, rule.id, ticket_id, "time", status, outcomes=outcomes, error=error)
            fired += 1
        if len(batch) < BATCH:
            break
    return fired


def _skip_once(actor: Any, rule_id: uuid.UUID, problem: str) -> None:
    """A broken time rule is logged once per distinct problem, not every run."""
    last = actor.session.execute(
        text(
            "SELECT status, error FROM automation_runs WHERE tenant_id = :t AND rule_id = :r"
            " ORDER BY at DESC, id DESC LIMIT 1"
        ),
        {"t": actor.tenant_id, "r": rule_id},
    ).first()
    if last is None or (last.status, last.error) != ("skipped", problem[:2000]):
        engine.record(actor, rule_id, None, "time", "skipped", error=problem)


def _prune(session: Session, tenant_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        text("DELETE FROM automation_runs WHERE tenant_id = :t AND at < :before"),
        {"t": tenant_id, "before": now - timedelta(days=RUN_RETENTION_DAYS)},
    )
    session.execute(
        text(
            "DELETE FROM automation_fired f USING tickets t WHERE f.tenant_id = :t"
            " AND t.tenant_id = :t AND t.id = f.ticket_id AND t.status_changed_at <> f.episode"
        ),
        {"t": tenant_id},
    )


def _evaluated(session: Session, tenant_id: uuid.UUID, now: datetime) -> tuple[int, list[Any]]:
    found = evaluate_tenant(session, tenant_id, now)
    return found, list(session.info.get("outbox_ids") or [])


def run(now: datetime, *, engine_: Engine | None = None, workers: int = WORKERS) -> RunReport:
    """One pass over every tenant with an active time rule."""
    bound = engine_ or get_engine()

    def publish(tenant_id: uuid.UUID, evaluated: tuple[int, list[Any]]) -> None:
        if evaluated[1]:
            publish_committed(tenant_id, evaluated[1], engine=bound)

    with transaction(bound) as session:
        due = [
            uuid.UUID(str(t))
            for t in session.execute(text("SELECT automation_tenants_due()")).scalars()
        ]
    done = for_each_tenant(
        due,
        functools.partial(_evaluated, now=now),
        what="automation time rules",
        engine=bound,
        workers=max(1, workers),
        after_commit=publish,
    )
    return RunReport(
        tenants=len(done.results),
        fired=sum(found for found, _ in done.results),
        failed_tenants=done.failed_tenants,
    )


# --- SLA events (the automation consumer) -----------------------------------------------------

SLA_TRIGGERS = {"sla.warning": "sla_warning", "sla.breached": "sla_breached"}


def on_sla_event(session: Session, tenant_id: uuid.UUID, event_type: str, payload: Any) -> int:
    """The event rules an SLA crossing triggers, in the consumer's transaction (tenant set);
    the number of run-log entries."""
    trigger = SLA_TRIGGERS.get(event_type)
    if trigger is None or not isinstance(payload, dict):
        return 0
    try:
        ticket_id = uuid.UUID(str(payload.get("ticket_id")))
    except ValueError:
        return 0
    rules = [r for r in engine.rules_for(session, tenant_id, "event")]
    if not rules or session.get(Ticket, ticket_id) is None:
        return 0
    ctx = engine.actor_context(session, tenant_id)
    return len(
        engine.process(ctx, ticket_id, Change(trigger), rules, now=lambda: datetime.now(UTC))
    )
