"""The SLA evaluator: record threshold crossings exactly once, then notify and escalate.

Runs every minute (EventBridge Scheduler → functions/sla_evaluator). Each tenant is
evaluated in its own transaction under RLS, so one tenant's failure does not stop the
others. The crossing is found by set-based SQL over rows whose precomputed
`next_check_at` has come; the primary key of `sla_crossings` makes overlapping runs
harmless: only the run that inserts a crossing acts on it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicedesk.platform import outbox
from servicedesk.platform.db import jsonable, set_tenant, transaction
from servicedesk.platform.logging import get_logger
from servicedesk.sla.models import Policy

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
        RETURNING t.ticket_id
    )
    SELECT r.*, (SELECT count(*) FROM advanced) AS advanced FROM recorded r
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


def tenants_due(session: Session, now: datetime) -> list[uuid.UUID]:
    return [
        uuid.UUID(str(t))
        for t in session.execute(text("SELECT sla_tenants_due(:now)"), {"now": now}).scalars()
    ]


def evaluate_tenant(session: Session, tenant_id: uuid.UUID, now: datetime) -> list[Crossing]:
    set_tenant(session, tenant_id=tenant_id, user_id=None)
    rows = session.execute(CROSS, {"tenant": tenant_id, "now": now}).all()
    crossings = [
        Crossing(r.ticket_id, r.target, r.cycle, r.kind, r.policy_id, r.crossed_at) for r in rows
    ]
    policies: dict[uuid.UUID, Policy | None] = {}
    for crossing in crossings:
        if crossing.policy_id is not None and crossing.policy_id not in policies:
            policies[crossing.policy_id] = session.get(Policy, crossing.policy_id)
        _announce(session, tenant_id, crossing)
        policy = policies.get(crossing.policy_id) if crossing.policy_id else None
        if policy is not None:
            from servicedesk.sla.escalation import escalate

            escalate(session, tenant_id, crossing, policy)
    return crossings


def _announce(session: Session, tenant_id: uuid.UUID, crossing: Crossing) -> None:
    breached = crossing.kind == "breached"
    event_type = "sla.breached" if breached else "sla.warning"
    payload: dict[str, Any] = {
        "ticket_id": crossing.ticket_id,
        "target": crossing.target,
        "kind": crossing.kind,
        "crossed_at": crossing.crossed_at,
        "policy_id": crossing.policy_id,
    }
    outbox.emit(
        session,
        tenant_id=tenant_id,
        event_type=event_type,
        aggregate_type="ticket",
        aggregate_id=crossing.ticket_id,
        payload=payload,
    )
    session.execute(
        text(
            "INSERT INTO ticket_events (tenant_id, ticket_id, type, visibility, payload)"
            " VALUES (:t, :i, :ty, 'internal', CAST(:p AS jsonb))"
        ),
        {
            "t": tenant_id,
            "i": crossing.ticket_id,
            "ty": event_type.replace(".", "_"),
            "p": _json(payload),
        },
    )


def _json(value: dict[str, Any]) -> str:
    import json

    return json.dumps(jsonable(value))


def run(now: datetime, *, engine: Engine | None = None) -> RunReport:
    """One evaluator pass over every tenant with work due."""
    report = RunReport()
    with transaction(engine) as session:
        due = tenants_due(session, now)
    for tenant_id in due:
        try:
            with transaction(engine) as session:
                report.crossings += len(evaluate_tenant(session, tenant_id, now))
            report.tenants += 1
        except Exception:  # noqa: BLE001 - one tenant's failure must not stop the others
            get_logger().exception("sla evaluation failed", extra={"tenant_id": str(tenant_id)})
            report.failed_tenants.append(str(tenant_id))
    return report
