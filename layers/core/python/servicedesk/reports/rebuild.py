"""Rebuild the report facts from source: ``python -m servicedesk.reports.rebuild [--tenant ID]``.

Each tenant in its own transactions (``platform.jobs.in_tenant``), its tickets in batches of
``BATCH`` by id; a batch is the consumer's ``facts.refresh``, so a rebuild and the consumer
converge on the same rows and can run at the same time.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform.db import transaction
from servicedesk.platform.jobs import in_tenant
from servicedesk.reports import facts

BATCH = 500


def rebuild_tenant(tenant_id: uuid.UUID, *, batch: int = BATCH) -> int:
    """Every ticket of the tenant, batch by batch (each batch commits). Answers the count."""
    done = 0
    after = uuid.UUID(int=0)
    while True:

        def work(session: Session, tenant: uuid.UUID, after: uuid.UUID = after) -> list[uuid.UUID]:
            ids = list(
                session.scalars(
                    text(
                        "SELECT id FROM tickets WHERE tenant_id = :t AND id > :after"
                        " ORDER BY id LIMIT :n"
                    ),
                    {"t": tenant, "after": after, "n": batch},
                )
            )
            facts.refresh(session, tenant, ids)
            return ids

        outcome = in_tenant(tenant_id, work, what="reports rebuild")
        if outcome.failed or outcome.result is None:
            raise RuntimeError(f"reports rebuild failed for tenant {tenant_id}")
        done += len(outcome.result)
        if len(outcome.result) < batch:
            break
        after = outcome.result[-1]

    def recount(session: Session, tenant: uuid.UUID) -> None:
        facts.rebuild_rollup(session, tenant)

    if in_tenant(tenant_id, recount, what="reports rollup rebuild").failed:
        raise RuntimeError(f"reports rollup rebuild failed for tenant {tenant_id}")
    return done


def tenants() -> list[uuid.UUID]:
    with transaction() as session:
        return list(session.scalars(text("SELECT report_tenants()")))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild the report facts from source")
    parser.add_argument("--tenant", type=uuid.UUID, help="one tenant's id (default: all)")
    parser.add_argument("--batch", type=int, default=BATCH, help="tickets per transaction")
    args = parser.parse_args(argv)
    for tenant_id in [args.tenant] if args.tenant else tenants():
        count = rebuild_tenant(tenant_id, batch=args.batch)
        print(f"{tenant_id}: {count} tickets")  # noqa: T201 - a command-line tool's output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
