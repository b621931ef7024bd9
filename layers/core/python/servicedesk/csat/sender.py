"""The CSAT sender: mails the delayed surveys that are due (``csat.delay_minutes``).

A scheduled job (EventBridge Scheduler every few minutes; the local ticker in ``make dev``)
finds the tenants with surveys due (``csat_tenants_due``, before any tenant is known) and,
per tenant in its own transaction, takes the due rows with ``FOR UPDATE SKIP LOCKED`` (two
runs at once never take the same survey), cancels those whose ticket was reopened (or
resolved again: the new resolution's survey replaces it) or whose tenant turned surveys
off, and mails the rest. Each mail is claimed in ``deliveries`` under the same key as an
immediate survey's (the resolving event, ``csat:<survey>``), so no survey is mailed twice;
a failed send stays due and is tried again on the next run.
"""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicedesk.csat import links
from servicedesk.csat.service import Created, MailFacts, Planned, deliver, plan_mail
from servicedesk.csat.settings import SECTION
from servicedesk.notifications import mailer, suppressions, templates
from servicedesk.platform.config import get_settings
from servicedesk.platform.db import transaction
from servicedesk.platform.jobs import for_each_tenant
from servicedesk.platform.logging import get_logger

# Surveys one tenant's run takes at most; the rest wait for the next run.
BATCH = 200

_DUE = text(
    "SELECT s.id, s.ticket_id, s.requester_id, s.resolution_event_id, s.question, s.scale,"
    " s.created_at, t.status, t.resolved_at, t.number, t.title, u.email, u.name"
    " FROM csat_surveys s JOIN tickets t ON t.tenant_id = s.tenant_id AND t.id = s.ticket_id"
    " JOIN users u ON u.id = s.requester_id"
    " WHERE s.tenant_id = :tn AND s.send_after IS NOT NULL AND s.send_after <= :now"
    " AND s.cancelled_at IS NULL AND s.superseded_at IS NULL"
    " ORDER BY s.send_after, s.id LIMIT :n FOR UPDATE OF s SKIP LOCKED"
)


@dataclass(frozen=True)
class TenantResult:
    sent: int = 0
    cancelled: int = 0
    unmailable: int = 0  # no usable or a suppressed address: answerable in the portal only
    failed: int = 0  # the send raised; due again on the next run


@dataclass
class SendReport:
    tenants: int = 0
    sent: int = 0
    cancelled: int = 0
    unmailable: int = 0
    failed: int = 0
    failed_tenants: list[str] = field(default_factory=list)


def _reopened(row: Any) -> bool:
    """Not resolved any more, or resolved again since this survey was made (the new
    resolution's survey replaces it)."""
    return (
        row.status not in ("resolved", "closed")
        or row.resolved_at is None
        or row.resolved_at > row.created_at
    )


def send_due(
    session: Session, tenant_id: uuid.UUID, now: datetime, *, limit: int = BATCH
) -> TenantResult:
    """One tenant's due surveys, in its transaction (no user: system work)."""
    settings = get_settings()
    key = templates.token_key(settings)
    if key is None:
        get_logger().warning("no mail key: CSAT surveys are not sent")
        return TenantResult()
    config = SECTION.load(session, tenant_id)
    rows = session.execute(_DUE, {"tn": tenant_id, "now": now, "n": limit}).all()
    if not rows:
        return TenantResult()

    cancel = [r.id for r in rows if not config.enabled or _reopened(r)]
    live = [r for r in rows if r.id not in set(cancel)]
    blocked = suppressions.suppressed(session, [r.email for r in live])
    unmailable = [r.id for r in live if not mailer.sendable(r.email) or r.email.lower() in blocked]
    mailable = [r for r in live if r.id not in set(unmailable)]
    if cancel:
        session.execute(
            text(
                "UPDATE csat_surveys SET cancelled_at = now(), send_after = NULL"
                " WHERE id = ANY(:ids)"
            ),
            {"ids": cancel},
        )
    if unmailable:  # nothing left to mail: the survey waits in the portal, like an immediate one
        session.execute(
            text("UPDATE csat_surveys SET send_after = NULL WHERE id = ANY(:ids)"),
            {"ids": unmailable},
        )
    if not mailable:
        return TenantResult(cancelled=len(cancel), unmailable=len(unmailable))
    tenant = session.execute(
        text("SELECT name, settings FROM tenants WHERE id = :tn"), {"tn": tenant_id}
    ).one()
    # The link is valid for expires_days from now, when it is mailed.
    expires = int(time.time()) + config.expires_days * 86400
    planned: list[Planned] = []
    hashes: list[bytes] = []
    for r in mailable:
        survey = Created(
            event_id=r.resolution_event_id,
            tenant_id=tenant_id,
            ticket_id=r.ticket_id,
            survey_id=r.id,
            requester_id=r.requester_id,
            expires=expires,
            question=r.question,
            scale=r.scale,
        )
        token = links.make_token(key, links.SurveyLink(tenant_id, r.requester_id, r.id, expires))
        hashes.append(links.token_hash(token))
        facts = MailFacts(r.number, r.title, r.email, r.name, tenant.name, tenant.settings)
        planned.append(plan_mail(survey, facts, token, settings))
    session.execute(
        text(
            "UPDATE csat_surveys s SET token_hash = k.h, expires_at = to_timestamp(:x)"
            " FROM unnest(CAST(:ids AS uuid[]), CAST(:hashes AS bytea[])) AS k(id, h)"
            " WHERE s.id = k.id"
        ),
        {"ids": [r.id for r in mailable], "hashes": hashes, "x": expires},
    )
    failed = deliver(session, tenant_id, planned, settings)
    return TenantResult(
        sent=len(mailable) - len(failed),
        cancelled=len(cancel),
        unmailable=len(unmailable),
        failed=len(failed),
    )


def tenants_due(session: Session, now: datetime) -> list[uuid.UUID]:
    return [
        uuid.UUID(str(t))
        for t in session.execute(text("SELECT csat_tenants_due(:now)"), {"now": now}).scalars()
    ]


def run(now: datetime, *, engine: Engine | None = None) -> SendReport:
    """One pass over every tenant with surveys due; each tenant in its own transaction."""
    with transaction(engine) as session:
        due = tenants_due(session, now)
    done = for_each_tenant(
        due, functools.partial(send_due, now=now), what="csat sending", engine=engine
    )
    return SendReport(
        tenants=len(done.results),
        sent=sum(r.sent for r in done.results),
        cancelled=sum(r.cancelled for r in done.results),
        unmailable=sum(r.unmailable for r in done.results),
        failed=sum(r.failed for r in done.results),
        failed_tenants=done.failed_tenants,
    )
