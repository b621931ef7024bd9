"""Retention of the knowledge base's activity: the search log and the deflection outcomes
are kept ``kb.activity_retention_days`` (default 400) and deleted after, by a daily job.

The application role may not delete those rows (they are an audit of what was searched),
so each tenant's transaction calls ``kb_prune_activity``, which deletes that tenant's old
rows only and refuses any other tenant. Tenants with nothing older than the shortest
retention a tenant may set are not visited.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicedesk.kb.settings import MIN_RETENTION_DAYS, SECTION
from servicedesk.platform.db import transaction
from servicedesk.platform.jobs import for_each_tenant


@dataclass
class RetentionReport:
    tenants: int = 0
    deleted: int = 0
    failed_tenants: list[str] = field(default_factory=list)


def prune_tenant(session: Session, tenant_id: uuid.UUID, now: datetime) -> int:
    """Delete the tenant's search log and deflection rows older than its retention; the
    number of rows deleted. In the tenant's transaction (``jobs.in_tenant``)."""
    days = SECTION.load(session, tenant_id).activity_retention_days
    deleted = session.execute(
        text("SELECT kb_prune_activity(:tn, :before)"),
        {"tn": tenant_id, "before": now - timedelta(days=days)},
    ).scalar_one()
    return int(deleted)


def run(now: datetime, *, engine: Engine | None = None) -> RetentionReport:
    with transaction(engine) as session:
        due = [
            uuid.UUID(str(t))
            for t in session.execute(
                text("SELECT kb_tenants_with_activity(:before)"),
                {"before": now - timedelta(days=MIN_RETENTION_DAYS)},
            ).scalars()
        ]
    done = for_each_tenant(
        due, functools.partial(prune_tenant, now=now), what="kb retention", engine=engine
    )
    return RetentionReport(
        tenants=len(done.results), deleted=sum(done.results), failed_tenants=done.failed_tenants
    )
