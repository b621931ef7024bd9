"""The SLA evaluator: record threshold crossings exactly once, then notify and escalate.

Runs every minute (EventBridge Scheduler → functions/sla_evaluator). Each tenant is
evaluated in its own transaction under RLS, so one tenant's failure does not stop the
others. The crossing is found by set-based SQL over rows whose precomputed
`next_check_at` has come; the primary key of `sla_crossings` makes overlapping runs
harmless: only the run that inserts a crossing acts on it. The same statement writes the
crossing's outbox event and timeline entry, so a tenant costs a few round trips however
many of its targets cross; the escalation rules of the tenant's policies take one more
statement for all its crossings (`sla.escalation.escalate`).

Once a tenant's transaction has committed, the events it wrote (crossings and
escalations) are published at once through the path a request uses
(`publisher.publish_committed`), so a breach reaches the consumers within seconds; the
outbox sweeper remains the safety net for a crash or an SQS failure in between.
"""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicedesk.platform import metrics
from servicedesk.platform.db import get_engine, transaction
from servicedesk.platform.jobs import for_each_tenant
from servicedesk.platform.metric_names import SLA_BREACHES, SLA_WARNINGS
from servicedesk.platform.publisher import publish_committed

# Tenants evaluated at once, each on its own connection and in its own transaction: the
# per-tenant round trips (and commit flushes) overlap instead of adding up. Not more than
# the engine's pool (pool_size + max_overflow), or workers would queue for connections.
WORKERS = 4

CROSS = text(
    """
    WITH due AS (
        SELECT ticket_id, target, cycle, policy_id, warn_at, warn_levels, due_at
        FROM ticket_sla_targets
        WHERE tenant_id = :tenant AND next_check_at IS NOT NULL AND next_check_at <= :now
        FOR UPDATE SKIP LOCKED
    ),
    points AS (
        SELECT d.ticket_id, d.target, d.cycle, d.policy_id, 'warning_' || w.level AS kind,
               w.at AS crossed_at
        FROM due d CROSS JOIN LATERAL unnest(d.warn_at, d.warn_levels) AS w(at, level)
        WHERE w.at <= :now
        UNION ALL
        SELECT d.ticket_id, d.target, d.cycle, d.policy_id, 'breached', d.due_at
        FROM due d WHERE d.due_at <= :now
    ),
    recorded AS (
        INSERT INTO sla_crossings (tenant_id, ticket_id, target, cycle, kind, policy_id, crossed_at)
        SELECT :tenant, ticket_id, target, cycle, kind, policy_id, crossed_at FROM points
        ON CONFLICT DO NOTHING
        RETURNING ticket_id, target, cycle, kind, policy_id, crossed_at
    ),
    advanced AS (
        UPDATE ticket_sla_targets t
        SET next_check_at = (SELECT min(x) FROM unnest(t.warn_at || t.due_at) AS x WHERE x > :now),
            breached_at = CASE WHEN t.due_at <= :now THEN coalesce(t.breached_at, t.due_at)
                               ELSE t.breached_at END,
            updated_at = now()
        FROM due d
        WHERE t.ticket_id = d.ticket_id AND t.target = d.target
    ),
    -- What the crossing announces, written in the same statement as the crossing itself
    -- (one row each in the outbox and on the timeline, in the order the thresholds fell).
    -- The event id is chosen here (a CTE read three times is evaluated once) so that the
    -- run can publish the events it wrote once the tenant's transaction has committed.
    announced AS (
        SELECT r.*, gen_random_uuid() AS event_id,
               CASE WHEN r.kind = 'breached' THEN 'sla.breached' ELSE 'sla.warning' END AS event,
               jsonb_build_object('ticket_id', r.ticket_id, 'target', r.target, 'kind', r.kind,
                                  'crossed_at', r.crossed_at, 'policy_id', r.policy_id) AS payload
        FROM recorded r
    ),
    outboxed AS (
        INSERT INTO outbox (id, tenant_id, event_type, aggregate_type, aggregate_id, payload)
        SELECT event_id, :tenant, event, 'ticket', ticket_id::text, payload FROM announced
        ORDER BY crossed_at
    ),
    timeline AS (
        INSERT INTO ticket_events (tenant_id, ticket_id, type, visibility, payload)
        SELECT :tenant, ticket_id, replace(event, '.', '_'), 'internal', payload FROM announced
        ORDER BY crossed_at
    )
    -- Only crossings under a policy with escalation rules need more work in Python.
    SELECT a.ticket_id, a.target, a.cycle, a.kind, a.policy_id, a.crossed_at, a.event_id,
           coalesce(p.escalations <> '[]'::jsonb, false) AS escalates
    FROM announced a LEFT JOIN sla_policies p ON p.id = a.policy_id
    ORDER BY a.crossed_at
    """
)


@dataclass
class Crossing:
    ticket_id: uuid.UUID
    target: str
    cycle: int
    kind: str
    policy_id: uuid.UUID | None
    crossed_at: datetime


@dataclass
class RunReport:
    tenants: int = 0
    crossings: int = 0
    failed_tenants: list[str] = field(default_factory=list)
    tenant_seconds: list[float] = field(default_factory=list)  # wall clock, per tenant


def tenants_due(session: Session, now: datetime) -> list[uuid.UUID]:
    return [
        uuid.UUID(str(t))
        for t in session.execute(text("SELECT sla_tenants_due(:now)"), {"now": now}).scalars()
    ]


def evaluate_tenant(session: Session, tenant_id: uuid.UUID, now: datetime) -> list[Crossing]:
    """Record the tenant's new crossings with their outbox events and timeline entries,
    then run the escalation rules of the policies that have any (one statement). In a
    transaction scoped to the tenant (``jobs.in_tenant``)."""
    rows = session.execute(CROSS, {"tenant": tenant_id, "now": now}).all()
    # Remembered like outbox.emit's: published after the commit.
    emitted = session.info.setdefault("outbox_ids", [])
    emitted.extend(r.event_id for r in rows)
    crossings = [
        Crossing(r.ticket_id, r.target, r.cycle, r.kind, r.policy_id, r.crossed_at) for r in rows
    ]
    breaches = sum(1 for r in rows if r.kind == "breached")
    if rows:
        metrics.record({SLA_BREACHES: breaches, SLA_WARNINGS: len(rows) - breaches})
    escalating = [c for c, r in zip(crossings, rows, strict=True) if r.escalates]
    if escalating:
        from servicedesk.sla.escalation import escalate

        emitted.extend(escalate(session, tenant_id, escalating))
    return crossings


def _evaluated(
    session: Session, tenant_id: uuid.UUID, now: datetime
) -> tuple[int, list[uuid.UUID]]:
    """(crossings, the ids of the events written)."""
    found = len(evaluate_tenant(session, tenant_id, now))
    return found, list(session.info.get("outbox_ids") or [])


def run(
    now: datetime,
    *,
    engine: Engine | None = None,
    workers: int = WORKERS,
    publish_budget_seconds: float | None = None,
) -> RunReport:
    """One evaluator pass over every tenant with work due. Each tenant's events are
    published after its commit while `publish_budget_seconds` (from the start of the pass;
    None: no limit) lasts; the sweeper sends the rest."""
    publish_until = (
        None if publish_budget_seconds is None else time.monotonic() + publish_budget_seconds
    )
    engine = engine or get_engine()

    def publish(tenant_id: uuid.UUID, evaluated: tuple[int, list[uuid.UUID]]) -> None:
        # After the commit, never before: a rolled-back tenant publishes nothing. A failed
        # publish leaves the events to the sweeper. Past the deadline the sends are left to
        # the sweeper too, so that a burst of crossings cannot keep the pass from evaluating
        # every tenant within its invocation.
        emitted = evaluated[1]
        if emitted and (publish_until is None or time.monotonic() < publish_until):
            publish_committed(tenant_id, emitted, engine=engine)

    with transaction(engine) as session:
        due = tenants_due(session, now)
    done = for_each_tenant(
        due,
        functools.partial(_evaluated, now=now),
        what="sla evaluation",
        engine=engine,
        workers=max(1, workers),
        after_commit=publish,
    )
    return RunReport(
        tenants=len(done.results),
        crossings=sum(found for found, _ in done.results),
        failed_tenants=done.failed_tenants,
        tenant_seconds=[outcome.seconds for outcome in done.outcomes],
    )
