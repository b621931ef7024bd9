"""CMDB: depth-5 impact over 100,000 CIs and 300,000 relationships, and CSV import
throughput for 100,000 rows, through the service (``cmdb.service.impact``,
``cmdb.imports.run``: the code the routes call), one transaction per call as a request's.

Setup: an embedded PostgreSQL of its own under ``.data/bench-cmdb-pg`` (or the server of
``DATABASE_URL``), database ``servicedesk_bench_cmdb`` dropped, made again and migrated to
head. One tenant, one admin. ``--cis`` CIs (2 % business services, the rest spread over
the other built-in classes) and ``--relationships`` relationships are written with COPY
as the administrator (RLS does not allow COPY FROM for the app): 60 % depends_on /
runs_on / contains, always from a higher to a lower CI number (a DAG, as the service
would have enforced), 40 % connected_to / used_by between any two; then ANALYZE.

Measurement: ``--samples`` impacts (direction up, depth 5; and, fewer, direction both) from
CIs drawn at random (fixed seed); p50, p95 and max wall milliseconds, and the median count
of CIs reached. Then a CSV of ``--rows`` new CIs (name, class, state, location, serial,
two attributes) is imported (dry run, then for real), re-imported unchanged, and imported
again with every row's location changed (updates plus one history row each); rows/s.

With ``--job``, only the asynchronous import (an import job, docs/cmdb.md "Import jobs"):
the emulator (moto over HTTP, as ``make dev``) holds the exports bucket and queue; a CSV of
``--rows`` new CIs, written to a file, is posted with the job's presigned form, the job is
started (object and header checked), and the export worker's Lambda handler runs in a child
process on the queued record, as Lambda would; end to end (upload + job) in rows/s, each
step's seconds, and the worker's peak RSS (the child's ``ru_maxrss``: the file is streamed,
so it stays flat with the rows).

    .venv/bin/python -m bench.cmdb [--cis N] [--relationships N] [--samples N] [--rows N]
    .venv/bin/python -m bench.cmdb --job [--rows N]
"""

from __future__ import annotations

import argparse
import io
import math
import os
import platform
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from bench.automation import admin_tenant

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "bench-cmdb-pg"
NAME = "servicedesk_bench_cmdb"
ACYCLIC = ("depends_on", "runs_on", "contains")
OTHER = ("connected_to", "used_by")


def prepare(data: Path = DATA, name: str = NAME) -> Any:
    """A fresh database ``name`` migrated to head on the server under ``data`` (bench.changes
    too), the application pointed at it."""
    from bench.sla import use_database
    from local import db as localdb

    admin = localdb.admin_url(data)
    localdb.drop_database(admin, name)
    db = localdb.ensure_database(admin, name)
    localdb.migrate(db)
    use_database(db)
    return admin


def generate(admin: Any, tenant: uuid.UUID, cis: int, relationships: int) -> list[uuid.UUID]:
    """COPY the CIs and relationships in; the CI ids in number order."""
    from local import db as localdb

    rng = random.Random(7)
    with localdb.admin_connect(admin, NAME) as conn:
        found = conn.execute("SELECT key, id FROM ci_classes WHERE tenant_id = %s", (tenant,))
        classes: dict[Any, Any] = {key: class_id for key, class_id in found.fetchall()}
        others = [classes[k] for k in ("hardware", "software", "network_device", "cloud_resource")]
        ids = [uuid.uuid4() for _ in range(cis)]
        with conn.cursor() as cur:
            with cur.copy(
                "COPY cis (id, tenant_id, class_id, name, state, external_id) FROM STDIN"
            ) as copy:
                for i, ci_id in enumerate(ids):
                    cls = classes["business_service"] if i % 50 == 0 else others[i % 4]
                    copy.write_row((ci_id, tenant, cls, f"ci-{i:06d}", "deployed", f"gen-{i}"))
            seen: set[tuple[int, int, str]] = set()
            with cur.copy(
                "COPY ci_relationships (tenant_id, source_id, target_id, type) FROM STDIN"
            ) as copy:
                while len(seen) < relationships:
                    a, b = rng.randrange(cis), rng.randrange(cis)
                    if a == b:
                        continue
                    if rng.random() < 0.6:
                        rel = ACYCLIC[rng.randrange(3)]
                        a, b = max(a, b), min(a, b)
                    else:
                        rel = OTHER[rng.randrange(2)]
                    if (a, b, rel) in seen:
                        continue
                    seen.add((a, b, rel))
                    copy.write_row((tenant, ids[a], ids[b], rel))
        conn.execute("ANALYZE cis")
        conn.execute("ANALYZE ci_relationships")
    return ids


@contextmanager
def request(tenant: uuid.UUID, user: uuid.UUID) -> Iterator[Any]:
    from servicedesk.platform import db
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext

    with db.transaction() as session:
        db.set_tenant(session, tenant_id=tenant, user_id=user)
        yield RequestContext(session, tenant, user, Role.ADMIN)


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return (time.perf_counter() - start) * 1000, result


def impacts(
    tenant: uuid.UUID, user: uuid.UUID, ids: list[uuid.UUID], samples: int, direction: str
) -> None:
    from servicedesk.cmdb import service

    rng = random.Random(11)
    times, reached = [], []
    for _ in range(samples):
        start = ids[rng.randrange(len(ids))]
        with request(tenant, user) as ctx:
            ms, found = timed(
                partial(service.impact, ctx, ci_id=start, direction=direction, depth=5)
            )
        times.append(ms)
        reached.append(len(found["cis"]))
    times.sort()
    p95 = times[max(0, math.ceil(len(times) * 0.95) - 1)]
    print(
        f"impact {direction} depth 5: {samples} samples p50 {statistics.median(times):.1f} ms"
        f" p95 {p95:.1f} ms max {times[-1]:.1f} ms; CIs reached: median"
        f" {statistics.median(reached):.0f}, max {max(reached)}"
    )


def csv_file(rows: int, location: str) -> bytes:
    out = io.StringIO()
    out.write("external_id,name,class,state,location,serial,attr.cpu,attr.rack\r\n")
    for i in range(rows):
        out.write(
            f"imp-{i},Imported {i},hardware,in_stock,{location},SN{i:08d},{i % 64},R{i % 40}\r\n"
        )
    return out.getvalue().encode()


def imports(tenant: uuid.UUID, user: uuid.UUID, rows: int) -> None:
    from servicedesk.cmdb import imports as cmdb_imports

    first, moved = csv_file(rows, "DC1"), csv_file(rows, "DC2")
    for label, data, dry in (
        ("dry run", first, True),
        ("create", first, False),
        ("unchanged", first, False),
        ("update", moved, False),
    ):
        with request(tenant, user) as ctx:
            ms, report = timed(partial(cmdb_imports.run, ctx, data, dry_run=dry, partial=False))
        counts = {k: report[k] for k in ("created", "updated", "unchanged", "failed")}
        print(
            f"import {label}: {rows} rows ({len(data) / 1e6:.1f} MB) in {ms / 1000:.2f} s ="
            f" {rows / (ms / 1000):,.0f} rows/s {counts}"
        )


_WORKER = """
import json, resource, sys
from local.app import load_function
from local.queues import Queue, poll_once
handler = load_function("export_worker").lambda_handler
done, failed = poll_once(Queue("exports", sys.argv[1], sys.argv[2], ""), handler, wait_seconds=5)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"done": done, "failed": failed, "peak_kib": peak}))
"""


def import_job(tenant: uuid.UUID, user: uuid.UUID, rows: int, workdir: Path) -> None:
    """The import job end to end: upload, start, the worker in a child process."""
    import json
    import subprocess
    import sys

    import httpx

    from local import aws
    from local.queues import ensure_queues
    from servicedesk.cmdb import import_jobs
    from servicedesk.cmdb.schemas import ImportJobCreate
    from servicedesk.platform.config import get_settings

    emulator, endpoint = aws.start_moto()
    try:
        aws.configure_environment(endpoint)
        queue = ensure_queues(prefix=f"benchimp{uuid.uuid4().hex[:6]}", visibility_timeout=900)[
            "exports"
        ]
        os.environ["SERVICEDESK_EXPORTS_QUEUE_URL"] = queue.url
        os.environ["SERVICEDESK_EXPORTS_BUCKET"] = f"bench-imports-{uuid.uuid4().hex[:8]}"
        from servicedesk.platform import config

        config.get_settings.cache_clear()
        aws.ensure_bucket(get_settings().exports_bucket, cors_origin="http://127.0.0.1:8000")
        path = workdir / "import.csv"
        path.write_bytes(csv_file(rows, "DC3").replace(b"imp-", b"job-"))
        size = path.stat().st_size
        start = time.perf_counter()
        with request(tenant, user) as ctx:
            job, form = import_jobs.create(ctx, ImportJobCreate(size=size, filename="bench.csv"))
        with path.open("rb") as handle:
            posted = httpx.post(
                form.url,
                data=form.fields,
                files={"file": ("bench.csv", handle, "text/csv")},
                timeout=600,
            )
        posted.raise_for_status()
        uploaded = time.perf_counter()
        with request(tenant, user) as ctx:
            import_jobs.start(ctx, job_id=job.id)
            emitted = list(ctx.session.info.get("outbox_ids", []))
        from servicedesk.platform.publisher import publish_committed

        publish_committed(tenant, emitted)  # as the request does after its commit
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-c", _WORKER, queue.url, queue.arn],
            cwd=ROOT,
            env=os.environ,
            capture_output=True,
            text=True,
            check=True,
        )
        finished = time.perf_counter()
        worker = json.loads(child.stdout.strip().splitlines()[-1])
        with request(tenant, user) as ctx:
            report = import_jobs.get(ctx, job_id=job.id).report or {}
        total = finished - start
        print(
            f"import job: {rows} rows ({size / 1e6:.1f} MB) end to end in {total:.2f} s ="
            f" {rows / total:,.0f} rows/s (upload {uploaded - start:.2f} s, start"
            f" {started - uploaded:.2f} s, worker {finished - started:.2f} s);"
            f" worker peak RSS {worker['peak_kib'] / 1024:.0f} MiB;"
            f" created {report.get('created')}, failed {report.get('failed')}"
        )
    finally:
        emulator.terminate()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cis", type=int, default=100_000)
    parser.add_argument("--relationships", type=int, default=300_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--job", action="store_true", help="only the asynchronous import")
    args = parser.parse_args()

    print(
        f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs;"
        f" load average {os.getloadavg()}"
    )
    admin = prepare()
    tenant, user = admin_tenant()
    if args.job:
        import tempfile

        with tempfile.TemporaryDirectory() as workdir:
            import_job(tenant, user, args.rows, Path(workdir))
        return
    ms, ids = timed(lambda: generate(admin, tenant, args.cis, args.relationships))
    print(f"generated {args.cis} CIs and {args.relationships} relationships in {ms / 1000:.1f} s")
    impacts(tenant, user, ids, args.samples, "up")
    impacts(tenant, user, ids, max(1, args.samples // 5), "both")
    imports(tenant, user, args.rows)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
