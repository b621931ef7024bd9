"""The CSAT sender: finds the delayed surveys that are due (``csat.delay_minutes``).

A scheduled job (EventBridge Scheduler every five minutes; the local ticker in ``make
dev``) finds the tenants with surveys due (``csat_tenants_due``, before any tenant is
known) and, per tenant in its own transaction, takes the due rows with ``FOR UPDATE SKIP
LOCKED`` (two runs at once never take the same survey), cancels those whose ticket was
reopened (or resolved again: that resolution's survey replaces it) or whose tenant turned
surveys off, and writes one ``csat.survey_due`` outbox event per remaining survey while
clearing its ``send_after`` in the same statement: a survey is handed over once. The
e-mail consumer mails it (``service.send_surveys``) under the same ``deliveries`` claim as
an immediate survey's, so no survey is mailed twice; the mail stays the e-mail consumer's
alone (the one function allowed to send).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicedesk.csat.service import DUE_EVENT, reopened
from servicedesk.csat.settings import SECTION
from servicedesk.platform.publisher import for_each_due_tenant

# Surveys one tenant's run takes at most; the rest wait for the next run.
BATCH = 500

_DUE = text(
    "SELECT s.id, s.created_at, t.status, t.resolved_at FROM csat_surveys s"
    " JOIN tickets t ON t.tenant_id = s.tenant_id AND t.id = s.ticket_id"
    " WHERE s.tenant_id = :tn AND s.send_after IS NOT NULL AND s.send_after <= :now"
    " AND s.cancelled_at IS NULL AND s.superseded_at IS NULL"
    " ORDER BY s.send_after, s.id LIMIT :n FOR UPDATE OF s SKIP LOCKED"
)
# The hand-over: send_after cleared and the event written, in one statement.
_QUEUE = text(
    "WITH due AS (UPDATE csat_surveys SET send_after = NULL WHERE tenant_id = :tn"
    " AND id = ANY(:ids) RETURNING id, ticket_id)"
    " INSERT INTO outbox (tenant_id, event_type, aggregate_type, aggregate_id, payload)"
    f" SELECT :tn, '{DUE_EVENT}', 'ticket', due.ticket_id::text,"
    " jsonb_build_object('survey_id', due.id, 'ticket_id', due.ticket_id) FROM due"
    " ORDER BY due.id RETURNING id"
)


@dataclass(frozen=True)
class TenantResult:
    queued: int = 0
    cancelled: int = 0
    events: list[uuid.UUID] = field(default_factory=list)


@dataclass
class SendReport:
    tenants: int = 0
    queued: int = 0
    cancelled: int = 0
    failed_tenants: list[str] = field(default_factory=list)


def queue_due(
    session: Session, tenant_id: uuid.UUID, now: datetime, *, limit: int = BATCH
) -> TenantResult:
    """One tenant's due surveys, in its transaction (no user: system work): three
    statements however many are due (the settings, the due rows, the hand-over) and one
    more when some are cancelled."""
    rows = session.execute(_DUE, {"tn": tenant_id, "now": now, "n": limit}).all()
    if not rows:
        return TenantResult()
    enabled = SECTION.load(session, tenant_id).enabled
    cancel = [r.id for r in rows if not enabled or reopened(r)]
    if cancel:
        session.execute(
            text(
                "UPDATE csat_surveys SET cancelled_at = now(), send_after = NULL"
                " WHERE tenant_id = :tn AND id = ANY(:ids)"
            ),
            {"tn": tenant_id, "ids": cancel},
        )
    queued = [r.id for r in rows if r.id not in set(cancel)]
    events: list[uuid.UUID] = []
    if queued:
        events = [
            uuid.UUID(str(e))
            for e in session.execute(_QUEUE, {"tn": tenant_id, "ids": queued}).scalars()
        ]
        # Published after the commit (``run``), or by the sweeper.
        session.info.setdefault("outbox_ids", []).extend(events)
    return TenantResult(queued=len(queued), cancelled=len(cancel), events=events)


def tenants_due(session: Session, now: datetime) -> list[uuid.UUID]:
    return [
        uuid.UUID(str(t))
        for t in session.execute(text("SELECT csat_tenants_due(:now)"), {"now": now}).scalars()
    ]


def run(now: datetime, *, engine: Engine | None = None) -> SendReport:
    """One pass over every tenant with surveys due; each tenant in its own transaction,
    its events published once it has committed."""
    done = for_each_due_tenant(
        lambda session: tenants_due(session, now),
        functools.partial(queue_due, now=now),
        lambda result: result.events,
        what="csat sending",
        engine=engine,
    )
    return SendReport(
        tenants=len(done.results),
        queued=sum(r.queued for r in done.results),
        cancelled=sum(r.cancelled for r in done.results),
        failed_tenants=done.failed_tenants,
    )
