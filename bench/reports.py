"""Reports at a million: seed one tenant with ``--tickets`` (default 1,000,000) tickets over two
years with their whole history (tests/reports/dataset.py: status changes, pauses, SLA
targets, replies, reassignments, merges, CSAT), rebuild the report rollups from source,
then measure the dashboard and every report of the catalogue over 12 months, and the CSV
export of 100,000 tickets.

Seeding (skipped when the database already holds the dataset; ``--reseed`` redoes it): the
embedded PostgreSQL under ``.data/bench-pg/data`` (or the server of ``DATABASE_URL``),
database ``servicedesk_bench_reports_<N>`` migrated to head; in ONE transaction as the
owner role, the loaded tables' secondary indexes dropped, the rows COPYed in batches of
20,000 tickets (dataset.copy_into: COPY into a temporary twin, INSERT ... SELECT), the
indexes rebuilt from their own definitions, then ``VACUUM (ANALYZE)``.

Rollups: ``python -m servicedesk.reports.rebuild --tenant <id> --jobs 2`` (the operator's
command; one job on a one-core machine), timed.

Measurement: the API under uvicorn (2 workers, 127.0.0.1, a free port; bench/tickets.py's
start_api, TCP_NODELAY on), real HTTP from threads (one keep-alive httpx client each), as
the tenant's manager. Per operation a warm-up (one request per API worker, at once, over a
window not measured), then ``--requests`` requests at
concurrency 1 and again at 8. Each report request asks a DIFFERENT 12-month window (the
``until`` day slides back one day per request, interval month, tz Europe/Paris), so a
report cache keyed by its parameters cannot answer it; ``dashboard`` repeats (it has no
range). The table gives p50/p95/max in ms and req/s.

Export: the 100,000 newest tickets as CSV through ``GET /v1/tickets/export?format=csv``
in pages of at most 10,000 (the synchronous limit), split by ``created_after`` /
``created_before``; the rows are counted with Python's csv module; time, bytes, and the
peak resident memory of the API processes (sampled every 50 ms) are printed.

    .venv/bin/python bench/reports.py [--tickets N] [--reseed] [--requests R] [--export N]

Exit status 1 when a request failed (an unexpected status or a transport error).
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
# bench/ holds email.py: off the path, or it shadows the standard library's email package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path[:0] = [str(ROOT / "layers" / "core" / "python"), str(ROOT)]

import httpx  # noqa: E402 - after the sys.path fix (httpx imports email)
import psycopg  # noqa: E402

from bench.tickets import (  # noqa: E402
    DATA_DIR,
    describe_machine,
    free_port,
    libpq,
    start_api,
    stop_api,
)
from tests.reports import dataset  # noqa: E402

if TYPE_CHECKING:
    from local.db import Database

SEED = 20261206
SLUG = "reports-bench"
SPAN_DAYS = 730
LOADED = (
    "tickets",
    "ticket_events",
    "ticket_comments",
    "ticket_sla_targets",
    "ticket_sla_pauses",
    "csat_surveys",
)
EXPORT_PAGE = 10_000
Conn = psycopg.Connection[tuple[Any, ...]]


def db_name(tickets: int) -> str:
    return f"servicedesk_bench_reports_{tickets}"


# --------------------------------------------------------------------------- seeding


def drop_secondary_indexes(conn: Conn) -> list[str]:
    """Drop the loaded tables' indexes that back no constraint; return their definitions."""
    rows = conn.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
           FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
           WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(%s)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
           ORDER BY 1""",
        (list(LOADED),),
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


def shape(tickets: int, now: datetime) -> dataset.Shape:
    start = now - timedelta(days=SPAN_DAYS)
    agents = max(6, min(60, tickets // 20_000))
    return dataset.Shape(
        tickets=tickets,
        seed=SEED,
        start=start,
        days=SPAN_DAYS,
        agents=agents,
        requesters=max(25, min(5_000, tickets // 200)),
        horizon=now - timedelta(minutes=1),
    )


def seed(db: Database, tickets: int) -> tuple[uuid.UUID, float]:
    started = time.perf_counter()
    now = datetime.now(UTC)
    with psycopg.connect(libpq(db.owner_url)) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET temp_buffers = '512MB'")
        definitions = drop_secondary_indexes(conn)
        tenant_id = dataset.create_tenant(conn, SLUG, random.Random(SEED))
        people = dataset.seed_people(conn, tenant_id, SLUG, shape(tickets, now))
        gen = dataset.Generator(people, shape(tickets, now))
        totals: dict[str, int] = {}
        for n, batch in enumerate(gen.batches(), start=1):
            for key, count in dataset.load_batch(conn, batch).items():
                totals[key] = totals.get(key, 0) + count
            if n % 5 == 0:
                print(f"  … {totals['tickets']:,} tickets loaded", flush=True)
        dataset.copy_into(
            conn,
            "ticket_counters",
            "tenant_id, year, last_value",
            [dataset._line((tenant_id, y, v)) for y, v in gen.counters.items()],
        )
        loaded = time.perf_counter()
        print(f"• rebuilding {len(definitions)} indexes …", flush=True)
        for definition in definitions:
            conn.execute(definition)
        print(
            f"  load {loaded - started:.0f} s, indexes {time.perf_counter() - loaded:.0f} s",
            flush=True,
        )
    with psycopg.connect(libpq(db.owner_url), autocommit=True) as conn:
        for table in (*LOADED, "users", "memberships"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
    elapsed = time.perf_counter() - started
    print("  rows: " + ", ".join(f"{k} {v:,}" for k, v in totals.items()), flush=True)
    print(f"  seeding took {elapsed:.0f} s", flush=True)
    return tenant_id, elapsed


def existing(db: Database) -> tuple[uuid.UUID | None, int]:
    with psycopg.connect(libpq(db.owner_url)) as conn:
        row = conn.execute("SELECT id FROM tenants WHERE slug = %s", (SLUG,)).fetchone()
        if row is None:
            return None, 0
        count = conn.execute("SELECT count(*) FROM tickets WHERE tenant_id = %s", row).fetchone()
    return row[0], int(count[0]) if count else 0


def prepare(tickets: int, reseed: bool) -> tuple[Database, Any, uuid.UUID, float | None]:
    from local import db as localdb

    server = None if os.environ.get("DATABASE_URL") else localdb.embedded_server(DATA_DIR)
    admin = localdb.admin_url(DATA_DIR)
    name = db_name(tickets)
    if reseed:
        localdb.drop_database(admin, name)
    db = localdb.ensure_database(admin, name)
    localdb.migrate(db)
    tenant_id, count = existing(db)
    if tenant_id is not None and count == tickets:
        print(f"• dataset present ({count:,} tickets in {name}); --reseed to redo", flush=True)
        return db, server, tenant_id, None
    if tenant_id is not None:
        localdb.drop_database(admin, name)
        db = localdb.ensure_database(admin, name)
        localdb.migrate(db)
    print(f"• seeding {tickets:,} tickets into {name} …", flush=True)
    tenant_id, seconds = seed(db, tickets)
    return db, server, tenant_id, seconds


# --------------------------------------------------------------------------- rollups


def rebuild(db: Database, tenant_id: uuid.UUID, env: dict[str, str]) -> float | None:
    import subprocess

    command = [sys.executable, "-m", "servicedesk.reports.rebuild", "--tenant", str(tenant_id)]
    command += ["--jobs", str(min(2, os.cpu_count() or 1))]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        if "No module named servicedesk.reports.rebuild" in result.stderr:
            print("• rollups: servicedesk.reports.rebuild is not in this checkout; skipped")
            return None
        # Measuring reports over facts that are not there would measure nothing: say why.
        print(f"• rollups: the rebuild FAILED, reports not measured:\n{result.stderr[-1500:]}")
        return None
    return time.perf_counter() - started


# --------------------------------------------------------------------------- measuring


@dataclass
class Result:
    name: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    def line(self) -> str:
        rps = len(self.latencies) / self.seconds if self.seconds else 0.0
        return (
            f"| {self.name} | {self.concurrency} | {len(self.latencies)} |"
            f" {self.percentile(0.5):.0f} | {self.percentile(0.95):.0f} |"
            f" {max(self.latencies, default=float('nan')):.0f} | {rps:.1f} | {len(self.errors)} |"
        )


def run(base: str, token: str, name: str, paths: list[str], concurrency: int) -> Result:
    """Each path once, ``concurrency`` threads each with its own keep-alive client."""
    result = Result(name, concurrency)
    todo = list(paths)
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}"}

    def worker() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            client.get("/v1/health/ready")  # the connection, not measured (nor cached)
            while True:
                with lock:
                    if not todo:
                        return
                    path = todo.pop()
                began = time.perf_counter()
                try:
                    response = client.get(path)
                    ok = response.status_code == 200
                    detail = f"{response.status_code} {response.text[:200]}"
                except httpx.HTTPError as error:
                    ok, detail = False, repr(error)
                elapsed = (time.perf_counter() - began) * 1000
                with lock:
                    result.latencies.append(elapsed)
                    if not ok:
                        result.errors.append(f"{path}: {detail}")

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    result.seconds = time.perf_counter() - began
    return result


def report_paths(name: str, count: int, today: date, first: int = 0) -> list[str]:
    """``count`` different 12-month windows (until slides back a day each, from ``first``
    days ago)."""
    paths = []
    for k in range(first, first + count):
        until = today - timedelta(days=k)
        since = until - timedelta(days=364)
        interval = "" if name == "agent-performance" else "&interval=month"
        paths.append(f"/v1/reports/{name}?since={since}&until={until}&tz=Europe/Paris{interval}")
    return paths


def catalogue(base: str, token: str) -> list[str]:
    with httpx.Client(base_url=base, timeout=60) as client:
        response = client.get("/v1/reports", headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200:
        print(f"• GET /v1/reports: {response.status_code}; no reports to measure")
        return []
    return [str(info["name"]) for info in response.json()]


# --------------------------------------------------------------------------- export


def _rss_kb(pid: int) -> int:
    try:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith("VmRSS:"):
                return int(row.split()[1])
    except OSError:
        return 0
    return 0


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            todo += [
                int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()
            ]
        except OSError:
            continue
    return pids


def export_windows(db: Database, tenant_id: uuid.UUID, count: int) -> list[tuple[str, str]]:
    """(created_after, created_before) pages of at most EXPORT_PAGE tickets covering the
    ``count`` newest tickets."""
    with psycopg.connect(libpq(db.owner_url)) as conn:
        stamps = [
            r[0]
            for r in conn.execute(
                "SELECT created_at FROM tickets WHERE tenant_id = %s"
                " ORDER BY created_at DESC LIMIT %s",
                (tenant_id, count),
            ).fetchall()
        ]
    stamps.reverse()
    windows = []
    for at in range(0, len(stamps), EXPORT_PAGE):
        low = stamps[at]
        high = stamps[at + EXPORT_PAGE] if at + EXPORT_PAGE < len(stamps) else None
        upper = high or datetime.now(UTC) + timedelta(minutes=1)
        windows.append((low.isoformat(), upper.isoformat()))
    return windows


def export(base: str, token: str, windows: list[tuple[str, str]], api_pid: int) -> dict[str, Any]:
    peak = {"rss_kb": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in _tree(api_pid):
                peak["rss_kb"] = max(peak["rss_kb"], _rss_kb(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rows = size = 0
    began = time.perf_counter()
    with httpx.Client(
        base_url=base, timeout=600, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        for low, high in windows:
            params = {"format": "csv", "created_after": low, "created_before": high}
            with c.stream("GET", "/v1/tickets/export", params=params) as response:
                if response.status_code != 200:
                    response.read()
                    raise RuntimeError(
                        f"export {low}..{high}: {response.status_code} {response.text[:300]}"
                    )
                body = io.StringIO()
                for chunk in response.iter_text():
                    size += len(chunk.encode())
                    body.write(chunk)
            body.seek(0)
            rows += sum(1 for _ in csv.reader(body)) - 1  # the header
    seconds = time.perf_counter() - began
    done.set()
    sampler.join()
    return {"rows": rows, "seconds": seconds, "bytes": size, "peak_rss_mb": peak["rss_kb"] / 1024}


# --------------------------------------------------------------------------- main


def measure(
    base: str,
    token: str,
    args: argparse.Namespace,
    db: Database,
    tenant_id: uuid.UUID,
    api_pid: int,
    *,
    reports: bool,
) -> bool:
    """Print the latency table and the export's figures; True when a request failed."""
    failed = False
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Paris")).date()
    operations: list[tuple[str, list[str]]] = []
    names = catalogue(base, token) if reports else []
    if names:
        dash = ["/v1/reports/dashboard?tz=Europe/Paris"] * (2 * args.requests)
        operations.append(("dashboard", dash))
    operations += [(n, report_paths(n, 2 * args.requests, today)) for n in names]
    results = []
    print("\n| operation | concurrency | requests | p50 ms | p95 ms | max ms | req/s | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for name, paths in operations:
        # Warm-up, not measured: one request per API worker at once (each process's first
        # request of a kind pays its imports), over windows the levels below do not ask.
        warm = paths[:1] if name == "dashboard" else report_paths(name, 1, today, 2 * args.requests)
        run(base, token, name, warm * args.workers, args.workers)
        # Each level its own windows: the second must not read what the first cached.
        for level, concurrency in enumerate((1, 8)):
            part = paths[level * args.requests : (level + 1) * args.requests]
            result = run(base, token, name, part, concurrency)
            results.append(result)
            print(result.line(), flush=True)
            failed |= bool(result.errors)
            for error in result.errors[:3]:
                print(f"    {error}")
    if args.export:
        windows = export_windows(db, tenant_id, args.export)
        figures = export(base, token, windows, api_pid)
        print(
            f"\n• export: {figures['rows']:,} tickets as CSV in {len(windows)} pages,"
            f" {figures['seconds']:.1f} s, {figures['bytes'] / 1e6:.1f} MB,"
            f" peak RSS of an API process {figures['peak_rss_mb']:.0f} MB",
            flush=True,
        )
        failed |= figures["rows"] != min(args.export, args.tickets)
    return failed


def main(argv: list[str] | None = None) -> int:
    from bench.tickets import api_env

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--requests", type=int, default=40, help="per operation and level")
    parser.add_argument("--export", type=int, default=100_000, help="tickets to export (0: skip)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--skip-rebuild", action="store_true", help="the rollups of an earlier run are current"
    )
    parser.add_argument(
        "--no-reports", action="store_true", help="neither rebuild nor reports: the export only"
    )
    args = parser.parse_args(argv)
    print(f"• {describe_machine()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    db, _server, tenant_id, seeded = prepare(args.tickets, args.reseed)
    site = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    env = api_env(db, 10, None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "core" / "python"), str(ROOT)])
    rebuilt = None if args.no_reports else 0.0 if args.skip_rebuild else rebuild(db, tenant_id, env)
    if rebuilt:
        print(f"• rollups rebuilt from source in {rebuilt:.1f} s", flush=True)
    port = free_port()
    api = start_api(db, port, args.workers, 10, site)
    base = f"http://127.0.0.1:{port}"
    failed = False
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            response = client.post(
                "/v1/auth/login",
                json={"email": f"manager1-{SLUG}@dataset.example", "password": dataset.PASSWORD},
            )
        response.raise_for_status()
        token = str(response.json()["access_token"])
        failed = measure(base, token, args, db, tenant_id, api.pid, reports=rebuilt is not None)
        if seeded is not None:
            print(f"• seeding took {seeded:.0f} s")
    finally:
        stop_api(api)
        shutil.rmtree(site, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
