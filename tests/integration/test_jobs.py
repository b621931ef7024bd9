"""Per-tenant job work (platform.jobs) on the real database: each tenant in its own
transaction under RLS, a failing tenant rolled back and logged alone, the others committed
(the scheduled handler's budget, log line and failure: tests/unit/test_jobs.py)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform import audit
from servicedesk.platform.jobs import for_each_tenant


def _tenants(database: Any, count: int) -> list[uuid.UUID]:
    made = []
    with database.connect("owner") as conn:
        for _ in range(count):
            slug = f"job-{secrets.token_hex(4)}"
            made.append(
                conn.execute(
                    "INSERT INTO tenants (slug, name) VALUES (%s, %s) RETURNING id", (slug, slug)
                ).fetchone()[0]
            )
        conn.commit()
    return made


def _marks(database: Any, tenants: list[uuid.UUID]) -> set[uuid.UUID]:
    with database.connect("owner") as conn:
        rows = conn.execute(
            "SELECT tenant_id FROM audit_log WHERE action = 'test.job' AND tenant_id = ANY(%s)",
            (tenants,),
        ).fetchall()
    return {row[0] for row in rows}


@pytest.mark.parametrize("workers", [1, 3])
def test_a_failing_tenant_rolls_back_alone_and_the_others_commit(database, log_lines, workers):
    tenants = _tenants(database, 4)
    broken = tenants[1]

    def work(session: Session, tenant_id: uuid.UUID) -> str:
        scoped = session.execute(text("SELECT current_setting('app.tenant_id')")).scalar_one()
        audit.write(
            session,
            tenant_id=tenant_id,
            actor_id=None,
            action="test.job",
            entity_type="tenant",
            entity_id=tenant_id,
            request_id=None,
        )
        if tenant_id == broken:  # after its write: the write must not survive
            session.execute(text("SELECT 1 / 0"))
        return str(scoped)

    run = for_each_tenant(tenants, work, what="test job", workers=workers)

    assert run.failed_tenants == [str(broken)]
    assert run.results == [str(t) for t in tenants if t != broken]  # each under its own RLS scope
    assert [o.tenant_id for o in run.outcomes] == tenants
    assert _marks(database, tenants) == set(tenants) - {broken}
    [logged] = [line for line in log_lines() if line["message"] == "test job failed"]
    assert logged["tenant_id"] == str(broken) and "DivisionByZero" in logged["exception"]


def test_after_commit_runs_only_for_committed_tenants(database, log_lines):
    tenants = _tenants(database, 3)
    broken = tenants[0]
    seen: list[tuple[uuid.UUID, int]] = []

    def work(session: Session, tenant_id: uuid.UUID) -> int:
        if tenant_id == broken:
            raise RuntimeError("boom")
        return session.execute(text("SELECT 7")).scalar_one()

    run = for_each_tenant(
        tenants, work, what="test job", after_commit=lambda t, r: seen.append((t, r))
    )

    assert seen == [(t, 7) for t in tenants[1:]]
    assert run.failed_tenants == [str(broken)]
