"""A ticket's SLA as the API shows it: its targets with their clocks, and its pauses.

The caller has checked that the ticket is visible (the tickets domain owns that rule).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from servicedesk.platform.tenancy import RequestContext
from servicedesk.sla.business_time import business_seconds_between
from servicedesk.sla.engine import Clock
from servicedesk.sla.models import Pause
from servicedesk.sla.schemas import PausePublic, TargetPublic, TicketSlaPublic


def ticket_sla(ctx: RequestContext, ticket_id: uuid.UUID) -> TicketSlaPublic:
    clock = Clock(ctx.session, ctx.tenant_id)
    now = datetime.now(UTC)
    targets = []
    for target in sorted(clock.targets(ticket_id), key=lambda t: t.target):
        running = target.met_at is None and target.paused_since is None
        elapsed = target.elapsed_seconds
        if running and now > target.clock_at:
            elapsed += business_seconds_between(
                clock.calendar(clock.policy(target.policy_id)), target.clock_at, now
            )
        targets.append(
            TargetPublic(
                target=target.target,
                policy_id=target.policy_id,
                budget_seconds=target.budget_seconds,
                elapsed_seconds=elapsed,
                running=running,
                due_at=target.due_at,
                met_at=target.met_at,
                breached_at=target.breached_at,
                paused_since=target.paused_since,
            )
        )
    pauses = ctx.session.scalars(
        select(Pause)
        .where(Pause.tenant_id == ctx.tenant_id, Pause.ticket_id == ticket_id)
        .order_by(Pause.started_at)
    )
    return TicketSlaPublic(
        ticket_id=ticket_id,
        policy_id=targets[0].policy_id if targets else None,
        targets=targets,
        pauses=[PausePublic.model_validate(p) for p in pauses],
    )
