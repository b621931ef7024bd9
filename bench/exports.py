"""The asynchronous ticket export at scale: time, throughput and memory of the export worker.

Setup: an embedded PostgreSQL of its own under ``.data/bench-exports-pg`` (or the server
of ``DATABASE_URL``), database ``servicedesk_bench_exports`` migrated to head, the local
demo tenants (``local.seed``, no demo data), and ``--tickets`` tickets (default 100,000)
inserted as the owner with ``generate_series`` into the ``acme`` tenant (titles with a
formula every 50th, so the neutraliser is on the path); the AWS emulator (moto) on
127.0.0.1 with a fresh exports bucket.

Measurement: one ``export.requested`` record through the export worker's Lambda handler
(as SQS would hand it), for the tenant's admin (who sees every ticket), CSV and JSON: wall
clock, this process's CPU, rows per second, the file's size, the progress commits, and
the process's peak resident memory during the run above its level before (VmHWM reset
through ``/proc/self/clear_refs``). The worker reads keyset pages of
``SERVICEDESK_EXPORT_PAGE_SIZE`` (500) and uploads 8 MiB parts, so the peak should not
grow with the row count: ``--tickets`` 20000 and 100000 compare that.

    .venv/bin/python bench/exports.py [--tickets N] [--formats csv,json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.local_stack import prepare

ROOT = Path(__file__).resolve().parent.parent
# bench/ holds email.py: off the path, or it shadows the standard library's email package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path[:0] = [str(ROOT / "layers" / "core" / "python"), str(ROOT)]
DATA = ROOT / ".data" / "bench-exports-pg"
NAME = "servicedesk_bench_exports"


def _peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def main() -> None:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--formats", default="csv,json")
    args = parser.parse_args()

    import psycopg

    from local import aws

    database = prepare(DATA.name, NAME)
    moto, endpoint = aws.start_moto()
    try:
        aws.configure_environment(endpoint)
        bucket = f"bench-exports-{uuid.uuid4().hex[:8]}"
        os.environ["SERVICEDESK_EXPORTS_BUCKET"] = bucket
        aws.ensure_bucket(bucket, cors_origin="http://127.0.0.1:8000")

        from local.seed import seed
        from servicedesk.platform.db import get_engine

        seed(get_engine(), password="bench-password-123", demo=False)
        owner = database.owner_url.set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(owner) as conn:
            tenant, admin_id, requester = conn.execute(
                "SELECT t.id, (SELECT user_id FROM memberships WHERE tenant_id = t.id"
                " AND role = 'admin' LIMIT 1), (SELECT user_id FROM memberships WHERE"
                " tenant_id = t.id AND role = 'requester' LIMIT 1) FROM tenants t"
                " WHERE slug = 'acme'"
            ).fetchone()  # type: ignore[misc]
            have = conn.execute(
                "SELECT count(*) FROM tickets WHERE tenant_id = %s AND number LIKE 'BEN-%%'",
                (tenant,),
            ).fetchone()[0]  # type: ignore[index]
            if have != args.tickets:
                conn.execute(
                    "DELETE FROM tickets WHERE tenant_id = %s AND number LIKE 'BEN-%%'", (tenant,)
                )
                started = time.perf_counter()
                conn.execute(
                    "INSERT INTO tickets (tenant_id, number, title, description, priority,"
                    " requester_id, tags, created_at, updated_at)"
                    " SELECT %s, 'BEN-' || lpad(g::text, 7, '0'),"
                    " CASE WHEN g %% 50 = 0 THEN '=SUM(A1:A9) printer ' ELSE 'Printer ' END"
                    " || g, 'The printer on floor ' || (g %% 9) || ' jams, again, \"badly\".',"
                    " (ARRAY['low','medium','high','critical'])[1 + g %% 4], %s,"
                    " ARRAY['bench', 'floor-' || (g %% 9)],"
                    " now() - g * interval '1 minute', now() - g * interval '1 minute'"
                    " FROM generate_series(1, %s) AS g",
                    (tenant, requester, args.tickets),
                )
                conn.commit()
                print(f"seeded {args.tickets:,} tickets in {time.perf_counter() - started:.1f} s")
            conn.execute("ANALYZE tickets")
            conn.commit()

        from local.app import load_function

        handler = load_function("export_worker").lambda_handler
        print(
            f"# bench/exports.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()},"
            f" {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f},"
            f" python {platform.python_version()}"
        )
        print(
            "| format | rows | wall s | CPU s | rows/s | file MB | progress commits"
            " | peak RSS growth MB |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for fmt in args.formats.split(","):
            with psycopg.connect(owner) as conn:
                job = conn.execute(
                    "INSERT INTO export_jobs (tenant_id, owner_id, kind, params, format)"
                    " VALUES (%s, %s, 'tickets', '{}', %s) RETURNING id",
                    (tenant, admin_id, fmt),
                ).fetchone()[0]  # type: ignore[index]
                conn.commit()
            body = {
                "event_id": str(uuid.uuid4()),
                "seq": 1,
                "tenant_id": str(tenant),
                "type": "export.requested",
                "aggregate": {"type": "export_job", "id": str(job)},
                "payload": {"job_id": str(job)},
                "created_at": datetime.now(UTC).isoformat(),
            }
            event = {"Records": [{"messageId": "1", "body": json.dumps(body), "attributes": {}}]}
            base = _rss_kb()
            _reset_peak()
            cpu, wall = time.process_time(), time.perf_counter()
            result = handler(event, None)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            peak = _peak_kb()
            assert result == {"batchItemFailures": []}, result
            with psycopg.connect(owner) as conn:
                status, rows, size = conn.execute(
                    "SELECT status, rows_done, size_bytes FROM export_jobs WHERE id = %s", (job,)
                ).fetchone()  # type: ignore[misc]
            assert status == "done", status
            pages = -(-rows // 500)
            print(
                f"| {fmt} | {rows:,} | {wall:.1f} | {cpu:.1f} | {rows / wall:,.0f} |"
                f" {size / 1e6:.1f} | {pages + 2} | {(peak - base) / 1024:.0f} |"
            )
    finally:
        moto.terminate()
        moto.wait(timeout=10)


if __name__ == "__main__":
    main()
