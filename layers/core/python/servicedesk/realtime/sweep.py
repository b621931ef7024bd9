"""The sweep of expired connections: the broadcaster, invoked every minute by EventBridge
Scheduler, closes and forgets them (it alone holds the @connections grant), and GraphQL
sockets that sent no ``connection_init`` within ``graphql_ws_init_timeout_seconds``
(graphql-transport-ws's 4408; API Gateway closes without a code)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform import metrics
from servicedesk.platform.config import get_settings
from servicedesk.platform.db import transaction
from servicedesk.platform.jobs import for_each_tenant
from servicedesk.platform.metric_names import WEBSOCKET_CONNECTIONS
from servicedesk.realtime import push
from servicedesk.realtime.broadcaster import MAX_CONNECTION_AGE, forget
from servicedesk.realtime.schemas import GRAPHQL_WS


@dataclass(frozen=True)
class SweepReport:
    tenants: int
    closed: int
    failed_tenants: list[str]


# The gauge counts at most this many connections (one statement, every minute).
GAUGE_CAP = 100_000


def open_connections() -> int:
    """Open WebSocket connections of every tenant, for the gauge. The registry is read
    through its cross-tenant definer function (migration 0007): with no expiry before
    -infinity and every connection made before infinity, it lists them all (capped)."""
    with transaction() as session:
        return int(
            session.execute(
                text(
                    "SELECT count(*) FROM realtime_stale_connections("
                    "'-infinity'::timestamptz, 'infinity'::timestamptz, :n)"
                ),
                {"n": GAUGE_CAP},
            ).scalar_one()
        )


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
        timeout = timedelta(seconds=get_settings().graphql_ws_init_timeout_seconds)
        silent = session.execute(
            text(
                "SELECT tenant_id, connection_id"
                " FROM graphql_uninitialised_connections(:before, :n)"
            ),
            {"before": now - timeout, "n": limit},
        ).all()
    by_tenant: dict[uuid.UUID, list[str]] = defaultdict(list)
    for row in [*rows, *silent]:
        if row.connection_id not in by_tenant[row.tenant_id]:
            by_tenant[row.tenant_id].append(row.connection_id)

    def close_and_forget(session: Session, tenant_id: uuid.UUID) -> int:
        ids = by_tenant[tenant_id]
        # A GraphQL socket knows no "closing" frame: it is only closed.
        graphql = set(
            session.execute(
                text(
                    "SELECT connection_id FROM realtime_connections"
                    " WHERE connection_id = ANY(:ids) AND protocol = :p"
                ),
                {"ids": ids, "p": GRAPHQL_WS},
            ).scalars()
        )
        push.close_all([c for c in ids if c not in graphql], reason="token_expired")
        push.close_all(sorted(graphql), reason="closed", notice=False)
        forget(session, set(ids))
        return len(ids)

    done = for_each_tenant(by_tenant, close_and_forget, what="realtime sweep")
    metrics.count(WEBSOCKET_CONNECTIONS, open_connections())
    return SweepReport(
        tenants=len(by_tenant), closed=sum(done.results), failed_tenants=done.failed_tenants
    )
