"""What scheduled jobs share: work per tenant, and the scheduled Lambda handler.

A job touches many tenants. Each tenant's work runs in its own transaction under RLS
(``in_tenant``), so one tenant's failure rolls back that tenant alone: it is logged with
the tenant id and the others go on (``for_each_tenant``, several at once where the caller
asks). The handler (``scheduled``) gives the job the time it may keep starting work, logs
its result, and fails the invocation when a tenant failed, so the schedule's retry policy
and DLQ see it; the tenants that finished are committed and are not processed twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicedesk.platform.db import set_tenant, transaction
from servicedesk.platform.logging import get_logger, log_invocation

R = TypeVar("R")
Work = Callable[[Session, uuid.UUID], R]
LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def time_budget(context: Any, *, margin_seconds: float) -> float | None:
    """Seconds a scheduled run may keep starting work: Lambda's remaining time less a
    margin for what is in flight; None without a clock (the local scheduler's context)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    return max(0.0, int(remaining()) / 1000 - margin_seconds)


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """One tenant's work: its result once committed, or failed (rolled back, logged)."""

    tenant_id: uuid.UUID
    result: R | None
    failed: bool
    seconds: float  # wall clock, the commit and ``after_commit`` included


def in_tenant(
    tenant_id: uuid.UUID,
    work: Work[R],
    *,
    what: str,
    engine: Engine | None = None,
    after_commit: Callable[[uuid.UUID, R], None] | None = None,
) -> Outcome[R]:
    """``work`` in its own transaction scoped to the tenant (no user), then, once that has
    committed, ``after_commit``. Any exception is logged as "<what> failed" with the tenant
    id and answered as a failed outcome: it never reaches the other tenants."""
    started = time.perf_counter()
    try:
        with transaction(engine) as session:
            set_tenant(session, tenant_id=tenant_id, user_id=None)
            result = work(session, tenant_id)
        if after_commit is not None:
            after_commit(tenant_id, result)
    except Exception:  # noqa: BLE001 - one tenant's failure must not stop the others
        get_logger().exception(f"{what} failed", extra={"tenant_id": str(tenant_id)})
        return Outcome(tenant_id, None, True, time.perf_counter() - started)
    return Outcome(tenant_id, result, False, time.perf_counter() - started)


@dataclass
class TenantRun(Generic[R]):
    """A pass over tenants, in the order they were given."""

    outcomes: list[Outcome[R]] = field(default_factory=list)

    @property
    def results(self) -> list[R]:
        return [cast(R, o.result) for o in self.outcomes if not o.failed]

    @property
    def failed_tenants(self) -> list[str]:
        return [str(o.tenant_id) for o in self.outcomes if o.failed]


def for_each_tenant(
    tenants: Iterable[uuid.UUID],
    work: Work[R],
    *,
    what: str,
    engine: Engine | None = None,
    workers: int = 1,
    after_commit: Callable[[uuid.UUID, R], None] | None = None,
) -> TenantRun[R]:
    """``in_tenant`` for each tenant; ``workers`` tenants at once, each on its own
    connection (not more than the engine's pool, or workers queue for connections)."""

    def one(tenant_id: uuid.UUID) -> Outcome[R]:
        return in_tenant(tenant_id, work, what=what, engine=engine, after_commit=after_commit)

    if workers <= 1:
        return TenantRun([one(tenant_id) for tenant_id in tenants])
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tenant-job") as pool:
        return TenantRun(list(pool.map(one, tenants)))


def scheduled(
    message: str, *, margin_seconds: float | None = None
) -> Callable[[Callable[[float | None], dict[str, Any]]], LambdaHandler]:
    """The Lambda handler of a scheduled job: ``job(budget)`` where the budget is
    ``time_budget`` with ``margin_seconds`` (None without a margin or a clock). Its result
    is logged as ``message`` with the event's scheduled time, and returned; a non-empty
    ``failed_tenants`` in it fails the invocation after the log line."""

    def wrap(job: Callable[[float | None], dict[str, Any]]) -> LambdaHandler:
        @log_invocation
        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            budget = (
                None
                if margin_seconds is None
                else time_budget(context, margin_seconds=margin_seconds)
            )
            result = job(budget)
            get_logger().info(message, extra={"scheduled_for": event.get("time"), **result})
            if failed := result.get("failed_tenants"):
                raise RuntimeError(f"{len(failed)} tenant(s) failed")
            return result

        return handler

    return wrap
