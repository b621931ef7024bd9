"""In-process cache of report answers keyed by (tenant, generation, report, parameters).

The reports consumer bumps the tenant's generation in ``report_generations`` in the same
transaction as the facts it rewrites, so an answer cached under an older generation is never
served again. Answers also expire after ``TTL_SECONDS``: some measures move with the clock
alone (backlog aging, "now" in the default range). One Lambda container serves one request
at a time, so the lock only matters locally (threads).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform.tenancy import RequestContext
from servicedesk.reports.schemas import ReportResult
from servicedesk.reports.window import ReportParams, Window

TTL_SECONDS = 60.0
MAX_ENTRIES = 256
# Off: every call computes (benchmarks measure the queries with it off and on).
ENABLED = True

_lock = threading.Lock()
_entries: OrderedDict[tuple[object, ...], tuple[float, ReportResult]] = OrderedDict()


def generation(session: Session, tenant_id: uuid.UUID) -> int:
    value = session.execute(
        text("SELECT generation FROM report_generations WHERE tenant_id = :t"), {"t": tenant_id}
    ).scalar()
    return int(value or 0)


def bump(session: Session, tenant_id: uuid.UUID) -> None:
    """A new generation for the tenant: every cached answer of it is stale."""
    session.execute(
        text(
            "INSERT INTO report_generations (tenant_id, generation) VALUES (:t, 1)"
            " ON CONFLICT (tenant_id) DO UPDATE SET generation ="
            " report_generations.generation + 1, updated_at = now()"
        ),
        {"t": tenant_id},
    )


def clear() -> None:
    with _lock:
        _entries.clear()


def cached(
    ctx: RequestContext,
    name: str,
    params: ReportParams,
    window: Window,
    compute: Callable[[], ReportResult],
) -> ReportResult:
    if not ENABLED:
        return compute()
    key = (
        ctx.tenant_id,
        generation(ctx.session, ctx.tenant_id),
        name,
        params.model_dump_json(),
        window.start,
        window.end,
    )
    now = time.monotonic()
    with _lock:
        hit = _entries.get(key)
        if hit is not None and now - hit[0] < TTL_SECONDS:
            _entries.move_to_end(key)
            return hit[1]
    result = compute()
    with _lock:
        _entries[key] = (now, result)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return result
