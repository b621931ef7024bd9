"""The SLA evaluator: record threshold crossings exactly once, then notify and escalate.

Runs every minute (EventBridge Scheduler → functions/sla_evaluator). Each tenant is
evaluated in its own transaction under RLS, so one tenant's failure does not stop the
others. The crossing is found by set-based SQL over rows whose precomputed
`next_check_at` has come; the primary key of `sla_crossings` makes overlapping runs
harmless: only the run that inserts a crossing acts on it. The same statement writes the
crossing's outbox event and timeline entry, so a tenant costs a few round trips however
many of its targets cross; only escalation rules run per crossing.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicedesk.platform.db import get_engine, set_tenant, transaction
from servicedesk.platform.logging import get_logger
from servicedesk.sla.models import Policy

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
    announced AS (
        SELECT r.*,
               CASE WHEN r.kind = 'breached' THEN 'sla.breached' ELSE 'sla.warning' END AS event,
               jsonb_build_object('ticket_id', r.ticket_id, 'target', r.target, 'kind', r.kind,
                                  'crossed_at', r.crossed_at, 'policy_id', r.policy_id) AS payload
        FROM recorded r
    ),
    outboxed AS (
        INSERT INTO outbox (tenant_id, event_type, aggregate_type, aggregate_id, payload)
        SELECT :tenant, event, 'ticket', ticket_id::text, payload FROM announced
        ORDER BY crossed_at
    ),
    timeline AS (
        INSERT INTO ticket_events (tenant_id, ticket_id, type, visibility, payload)
        SELECT :tenant, ticket_id, replace(event, '.', '_'), 'internal', payload FROM announced
        ORDER BY crossed_at
    )
    -- Only crossings under a policy with escalation rules need more work in Python.
    SELECT r.*, coalesce(p.escalations <> '[]'::jsonb, false) AS escalates
    FROM recorded r LEFT JOIN sla_policies p ON p.id = r.policy_id
    ORDER BY r.crossed_at
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
    then run the escalation rules of the policies that have any."""
    set_tenant(session, tenant_id=tenant_id, user_id=None)
    rows = session.execute(CROSS, {"tenant": tenant_id, "now": now}).all()
    crossings = []
    policies: dict[uuid.UUID, Policy | None] = {}
    for r in rows:
        crossing = Crossing(r.ticket_id, r.target, r.cycle, r.kind, r.policy_id, r.crossed_at)
        crossings.append(crossing)
        if not r.escalates:
            continue
        if r.policy_id not in policies:
            policies[r.policy_id] = session.get(Policy, r.policy_id)
        policy = policies[r.policy_id]
        if policy is not None:
            from servicedesk.sla.escalation import escalate

            escalate(session, tenant_id, crossing, policy)
    return crossings


def _evaluate(engine: Engine, tenant_id: uuid.UUID, now: datetime) -> tuple[int | None, float]:
    """One tenant in its own transaction: (crossings, or None if it failed; seconds)."""
    started = time.perf_counter()
    try:
        with transaction(engine) as session:
            found = len(evaluate_tenant(session, tenant_id, now))
    except Exception:  # noqa: BLE001 - one tenant's failure must not stop the others
        get_logger().exception("sla evaluation failed", extra={"tenant_id": str(tenant_id)})
        return None, time.perf_counter() - started
    return found, time.perf_counter() - started


def run(now: datetime, *, engine: Engine | None = None, workers: int = WORKERS) -> RunReport:
    """One evaluator pass over every tenant with work due."""
    engine = engine or get_engine()
    report = RunReport()
    with transaction(engine) as session:
        due = tenants_due(session, now)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = pool.map(lambda tenant: _evaluate(engine, tenant, now), due)
        for tenant_id, (found, seconds) in zip(due, results, strict=True):
            report.tenant_seconds.append(seconds)
            if found is None:
                report.failed_tenants.append(str(tenant_id))
            else:
                report.tenants += 1
                report.crossings += found
    return report
