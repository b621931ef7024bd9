"""The attachments' scheduled cleanup: expire abandoned uploads, remove deleted objects.

A module of its own so that the cleanup function imports the attachment model and the
storage, not the API's service (tickets, SLA, visibility rules).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicedesk.attachments.models import Attachment
from servicedesk.platform import audit, storage
from servicedesk.platform.db import transaction
from servicedesk.platform.jobs import for_each_tenant

PENDING_GRACE = timedelta(minutes=15)
CLEANUP_BATCH = 500


@dataclass
class CleanupReport:
    tenants: int = 0
    expired: int = 0
    removed: int = 0
    failed_tenants: list[str] = field(default_factory=list)


def _owner_type(row: Attachment) -> str:
    if row.ticket_id is not None:
        return "ticket"
    return "task" if row.task_id is not None else "kb_article"


def clean_tenant(session: Session, tenant_id: uuid.UUID, now: datetime) -> tuple[int, int]:
    """Remove abandoned uploads and the objects of deleted or rejected attachments.

    Returns (uploads expired, objects removed). A row whose object S3 did not confirm
    as deleted stays as it is, for the next run. In a transaction scoped to the tenant.
    """
    rows = session.scalars(
        select(Attachment)
        .where(
            Attachment.tenant_id == tenant_id,
            or_(
                and_(Attachment.status == "pending", Attachment.expires_at < now - PENDING_GRACE),
                and_(
                    Attachment.status.in_(("deleted", "rejected")),
                    Attachment.object_removed_at.is_(None),
                ),
            ),
        )
        .order_by(Attachment.created_at)
        .limit(CLEANUP_BATCH)
        # Overlapping runs (or a concurrent completion) skip what another holds.
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return 0, 0
    removed = storage.delete([row.object_key for row in rows])
    expired = 0
    for row in rows:
        if row.object_key not in removed:
            continue
        if row.status == "pending":
            row.status, row.deleted_at = "deleted", now
            expired += 1
            audit.write(
                session,
                tenant_id=tenant_id,
                actor_id=None,
                action="attachment.expired",
                entity_type=_owner_type(row),
                entity_id=row.ticket_id or row.article_id or row.task_id,
                request_id=None,
                data={"attachment_id": row.id},
            )
        row.object_removed_at = now
    session.flush()
    return expired, len(removed)


def run_cleanup(now: datetime, *, engine: Engine | None = None) -> CleanupReport:
    """One cleanup pass; each tenant in its own transaction, so one failure stops nothing."""
    with transaction(engine) as session:
        due = [
            uuid.UUID(str(t))
            for t in session.execute(
                text("SELECT attachment_tenants_to_clean(:before)"), {"before": now - PENDING_GRACE}
            ).scalars()
        ]
    done = for_each_tenant(
        due, functools.partial(clean_tenant, now=now), what="attachment cleanup", engine=engine
    )
    return CleanupReport(
        tenants=len(done.results),
        expired=sum(expired for expired, _ in done.results),
        removed=sum(removed for _, removed in done.results),
        failed_tenants=done.failed_tenants,
    )
