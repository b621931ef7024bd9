"""Stages that wait too long: at the due time the approvers who have not decided are
reminded (``approval.requested`` with ``reminder``); a due period later the stage escalates
(``approval.escalated``): the request's escalation user, else its escalation role, else the
tenant's admins join its approvers, and an ``all`` or ``quorum`` stage then needs one more
approval from anyone on it (a quorum of the approvals so far plus one).

No scheduler of its own: the SLA evaluator's pass (functions/sla_evaluator, every minute)
runs it after the SLA crossings, tenant by tenant in its own transactions
(``jobs.for_each_tenant``), with the row locks skipped when another pass holds them.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicedesk.approvals import service
from servicedesk.approvals.models import ApprovalDecision, ApprovalRequest, ApprovalStage
from servicedesk.platform.publisher import for_each_due_tenant


@dataclass
class TimerReport:
    tenants: int = 0
    reminded: int = 0
    escalated: int = 0
    failed_tenants: list[str] = field(default_factory=list)


def tenants_due(session: Session, now: datetime) -> list[uuid.UUID]:
    rows = session.execute(text("SELECT approval_tenants_due(:now)"), {"now": now}).scalars()
    return [uuid.UUID(str(t)) for t in rows]


def _undecided(session: Session, stage: ApprovalStage) -> list[uuid.UUID]:
    decided = set(
        session.scalars(
            select(
                func.coalesce(ApprovalDecision.on_behalf_of, ApprovalDecision.approver_id)
            ).where(ApprovalDecision.stage_id == stage.id)
        )
    )
    return [a for a in stage.approver_ids if a not in decided]


def evaluate_tenant(session: Session, tenant_id: uuid.UUID, now: datetime) -> tuple[int, int]:
    """Remind and escalate the tenant's overdue stages: (reminded, escalated)."""
    rows = session.execute(
        select(ApprovalStage, ApprovalRequest)
        .join(ApprovalRequest, ApprovalRequest.id == ApprovalStage.request_id)
        .where(
            ApprovalStage.tenant_id == tenant_id,
            ApprovalStage.state == "pending",
            ApprovalStage.due_at <= now,
            ApprovalStage.escalated_at.is_(None),
        )
        .with_for_update(of=ApprovalStage, skip_locked=True)
    ).all()
    reminded = escalated = 0
    for stage, request in rows:
        assert stage.due_at is not None and stage.due_hours is not None
        if stage.reminded_at is None:
            stage.reminded_at = now
            reminded += 1
            waiting = _undecided(session, stage)
            service.emit(
                session,
                tenant_id,
                "requested",
                request,
                stage_id=stage.id,
                stage=stage.name,
                approver_ids=waiting,
                user_ids=waiting,
                due_at=stage.due_at,
                reminder=True,
            )
        elif stage.due_at + timedelta(hours=stage.due_hours) <= now:
            escalated += 1
            _escalate(session, tenant_id, request, stage, now)
    session.flush()
    return reminded, escalated


def _escalate(
    session: Session,
    tenant_id: uuid.UUID,
    request: ApprovalRequest,
    stage: ApprovalStage,
    now: datetime,
) -> None:
    added = [
        a for a in service.fallback(session, tenant_id, request) if a not in stage.approver_ids
    ]
    if stage.rule != "any":
        approvals = session.scalar(
            select(func.count()).where(
                ApprovalDecision.stage_id == stage.id, ApprovalDecision.decision == "approve"
            )
        )
        stage.rule = "quorum"
        stage.quorum = int(approvals or 0) + 1
    stage.approver_ids = [*stage.approver_ids, *added]
    stage.escalated_at = now
    service.emit(
        session,
        tenant_id,
        "escalated",
        request,
        stage_id=stage.id,
        stage=stage.name,
        approver_ids=added,
        user_ids=added,
        due_at=stage.due_at,
    )


def _evaluated(
    session: Session, tenant_id: uuid.UUID, now: datetime
) -> tuple[tuple[int, int], list[uuid.UUID]]:
    counts = evaluate_tenant(session, tenant_id, now)
    return counts, list(session.info.get("outbox_ids") or [])


def run(now: datetime, *, engine: Engine | None = None) -> TimerReport:
    """One pass over every tenant with an overdue stage; each tenant's events published
    after its commit (the sweeper sends what a failure left)."""
    done = for_each_due_tenant(
        lambda session: tenants_due(session, now),
        functools.partial(_evaluated, now=now),
        lambda result: result[1],
        what="approval timers",
        engine=engine,
    )
    return TimerReport(
        tenants=len(done.results),
        reminded=sum(r[0][0] for r in done.results),
        escalated=sum(r[0][1] for r in done.results),
        failed_tenants=done.failed_tenants,
    )
