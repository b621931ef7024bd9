"""The sweep of expired connections: the broadcaster, invoked every minute by EventBridge
Scheduler, closes and forgets them (it alone holds the @connections grant)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text

from servicedesk.platform.db import set_tenant, transaction
from servicedesk.platform.logging import get_logger
from servicedesk.realtime import push
from servicedesk.realtime.broadcaster import MAX_CONNECTION_AGE, forget


@dataclass(frozen=True)
class SweepReport:
    tenants: int
    closed: int
    failed_tenants: list[str]


def sweep(now: datetime | None = None, *, limit: int = 5_000) -> SweepReport:
    """Close and forget expired connections (and rows API Gateway's two-hour cap already
    ended without a $disconnect), tenant by tenant; one tenant's failure stops no other."""
    now = now or datetime.now(UTC)
    with transaction() as session:
        rows = session.execute(
            text(
                "SELECT tenant_id, connection_id FROM realtime_stale_connections(:now, :before, :n)"
            ),
            {"now": now, "before": now - MAX_CONNECTION_AGE, "n": limit},
        ).all()
    by_tenant: dict[uuid.UUID, list[str]] = defaultdict(list)
    for row in rows:
        by_tenant[row.tenant_id].append(row.connection_id)
    closed, failed = 0, []
    for tenant_id, ids in by_tenant.items():
        try:
            push.close_all(ids, reason="token_expired")
            with transaction() as session:
                set_tenant(session, tenant_id=tenant_id, user_id=None)
                forget(session, set(ids))
            closed += len(ids)
        except Exception:  # noqa: BLE001 - one tenant's failure must not stop the sweep
            get_logger().exception("realtime sweep failed", extra={"tenant_id": str(tenant_id)})
            failed.append(str(tenant_id))
    return SweepReport(tenants=len(by_tenant), closed=closed, failed_tenants=failed)
