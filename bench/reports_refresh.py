"""What the duration histogram adds to ``facts.refresh`` (the reports consumer's path).

On bench/reports.py's realistic dataset (``--tickets``, seeded if absent, database
``servicedesk_bench_reports_<n>``): ``facts.refresh`` of the same tickets, as the
application role in the tenant's transaction, one ticket per transaction (what the
consumer does for an event) and 500 per transaction (the rebuild's batch), with the
histogram's maintenance (``histogram.diff`` + ``histogram.apply``) on and off, alternating,
after a warm-up pass. Prints milliseconds per transaction (p50, p95) and the difference.
The tenant's rollups are rebuilt at the end (the "off" passes leave the histogram stale).

    .venv/bin/python -m bench.reports_refresh [--tickets 20000] [--singles 200] [--batches 6]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _timed(tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> float:
    from servicedesk.platform.db import set_tenant, transaction
    from servicedesk.reports import facts

    started = time.perf_counter()
    with transaction() as session:
        set_tenant(session, tenant_id=tenant_id, user_id=None)
        facts.refresh(session, tenant_id, ids)
    return (time.perf_counter() - started) * 1000


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--singles", type=int, default=200)
    parser.add_argument("--batches", type=int, default=6)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import psycopg

    from bench.reports import prepare
    from bench.sla import use_database
    from servicedesk.platform.db import set_tenant, transaction
    from servicedesk.reports import facts, histogram

    db, _server, tenant_id, _ = prepare(args.tickets, False)
    use_database(db)
    with psycopg.connect(db.owner_url.set(drivername="postgresql").render_as_string(False)) as c:
        ids = [
            r[0]
            for r in c.execute(
                "SELECT id FROM tickets WHERE tenant_id = %s ORDER BY id LIMIT %s",
                (tenant_id, max(args.singles, 500 * args.batches)),
            )
        ]
    real = (histogram.diff, histogram.apply)

    def switch(on: bool) -> None:
        if on:
            histogram.diff, histogram.apply = real
        else:
            histogram.diff = lambda old, new: {}
            histogram.apply = lambda session, tenant, change: None  # type: ignore[assignment]

    for i in range(0, len(ids), 500):  # warm-up: every fact row present, caches warm
        _timed(tenant_id, ids[i : i + 500])
    spent: dict[tuple[str, bool], list[float]] = {}
    for i in range(args.singles):
        for on in (True, False) if i % 2 else (False, True):
            switch(on)
            spent.setdefault(("1 ticket", on), []).append(_timed(tenant_id, [ids[i]]))
    for i in range(args.batches):
        for on in (True, False) if i % 2 else (False, True):
            switch(on)
            batch = ids[i * 500 : (i + 1) * 500]
            spent.setdefault(("500 tickets", on), []).append(_timed(tenant_id, batch))
    switch(True)
    with transaction() as session:
        set_tenant(session, tenant_id=tenant_id, user_id=None)
        facts.rebuild_rollup(session, tenant_id)
    print("\n| refresh of | histogram off p50 | off p95 | on p50 | on p95 | added (p50) |")
    print("|---|---:|---:|---:|---:|---:|")
    for what in ("1 ticket", "500 tickets"):
        without, with_ = spent[(what, False)], spent[(what, True)]
        off50, on50 = statistics.median(without), statistics.median(with_)
        print(
            f"| {what} ({len(with_)} times) | {off50:.1f} ms | {_p95(without):.1f} ms"
            f" | {on50:.1f} ms | {_p95(with_):.1f} ms | {on50 - off50:+.1f} ms"
            f" ({(on50 / off50 - 1) * 100:+.0f}%) |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SERVICEDESK_LOG_LEVEL", "WARNING")
    raise SystemExit(main())
