"""Rebuild the report facts from source: ``python -m servicedesk.reports.rebuild [--tenant ID]``.

Each tenant in its own transactions (``platform.jobs.in_tenant``), its tickets in batches of
``BATCH`` by id; a batch is the consumer's ``facts.refresh``, so a rebuild and the consumer
converge on the same rows and can run at the same time. The batches leave the rollups alone
(``rollups=False``); once every batch has committed, ``facts.rebuild_rollup`` recounts them
from the events under the tenant's exclusive reports lock. ``--jobs N`` splits the tenant's
tickets into N ranges of ids rebuilt by N processes at once.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform.db import transaction
from servicedesk.platform.jobs import in_tenant
from servicedesk.reports import facts

BATCH = 500
FIRST = uuid.UUID(int=0)  # before every id


def rebuild_range(
    tenant_id: uuid.UUID,
    after: uuid.UUID = FIRST,
    upto: uuid.UUID | None = None,
    *,
    batch: int = BATCH,
) -> int:
    """The facts and events of the tenant's tickets with ``after < id <= upto``, batch by
    batch (each batch commits), rollups untouched. Answers the count."""
    done = 0
    while True:

        def work(session: Session, tenant: uuid.UUID, after: uuid.UUID = after) -> list[uuid.UUID]:
            ids = list(
                session.scalars(
                    text(
                        "SELECT id FROM tickets WHERE tenant_id = :t AND id > :after"
                        + ("" if upto is None else " AND id <= :upto")
                        + " ORDER BY id LIMIT :n"
                    ),
                    {"t": tenant, "after": after, "upto": upto, "n": batch},
                )
            )
            facts.refresh(session, tenant, ids, rollups=False)
            return ids

        outcome = in_tenant(tenant_id, work, what="reports rebuild")
        if outcome.failed or outcome.result is None:
            raise RuntimeError(f"reports rebuild failed for tenant {tenant_id}")
        done += len(outcome.result)
        if len(outcome.result) < batch:
            return done
        after = outcome.result[-1]


def _bounds(tenant_id: uuid.UUID, jobs: int) -> list[uuid.UUID]:
    """The ids that end the first ``jobs - 1`` of ``jobs`` ranges of equal ticket counts."""

    def work(session: Session, tenant: uuid.UUID) -> list[uuid.UUID]:
        return list(
            session.scalars(
                text(
                    "SELECT DISTINCT percentile_disc(q) WITHIN GROUP (ORDER BY id)"
                    " FROM tickets, unnest(CAST(:qs AS float8[])) AS q"
                    " WHERE tenant_id = :t GROUP BY q ORDER BY 1"
                ),
                {"t": tenant, "qs": [i / jobs for i in range(1, jobs)]},
            )
        )

    outcome = in_tenant(tenant_id, work, what="reports rebuild ranges")
    if outcome.failed or outcome.result is None:
        raise RuntimeError(f"reports rebuild failed for tenant {tenant_id}")
    return outcome.result


def rebuild_tenant(tenant_id: uuid.UUID, *, batch: int = BATCH, jobs: int = 1) -> int:
    """Every ticket of the tenant (in ``jobs`` processes), then the rollups recounted.
    Answers the count."""
    if jobs <= 1:
        done = rebuild_range(tenant_id, batch=batch)
    else:
        edges: list[uuid.UUID | None] = [FIRST, *_bounds(tenant_id, jobs), None]
        ranges = list(itertools.pairwise(edges))
        # A fresh interpreter per process: no connection of this one is shared.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=len(ranges), mp_context=context) as pool:
            futures = [
                pool.submit(rebuild_range, tenant_id, lo, hi, batch=batch)
                for lo, hi in ranges
                if lo is not None
            ]
            done = sum(f.result() for f in futures)

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
    parser.add_argument(
        "--jobs", type=int, default=1, help="processes per tenant (ranges of ticket ids)"
    )
    args = parser.parse_args(argv)
    if args.batch < 1 or args.jobs < 1:
        parser.error("--batch and --jobs must be at least 1")
    for tenant_id in [args.tenant] if args.tenant else tenants():
        count = rebuild_tenant(tenant_id, batch=args.batch, jobs=args.jobs)
        print(f"{tenant_id}: {count} tickets")  # noqa: T201 - a command-line tool's output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
