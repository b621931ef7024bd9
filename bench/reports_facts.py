"""Report queries over 1,000,000 tickets' facts: p95 of each report at concurrency 1 and 8.

A design measurement of the query layer (servicedesk.reports), not the end-to-end benchmark
(bench/reports.py builds real tickets): on the embedded PostgreSQL of the tickets benchmark
(``.data/bench-pg/data``), database ``servicedesk_bench_report_facts_<n>`` migrated to head,
then ONE tenant's ``report_ticket_facts`` and ``report_events`` filled by set-based SQL over
``generate_series`` (the facts' foreign key to ``tickets`` is dropped in this scratch
database, so no ticket rows are needed): tickets created uniformly over the last 730 days,
10 teams, 50 agents, 20 categories, 4 priorities, 2 channels, 4 ticket types (incident 50%,
service request 30%, question 15%, problem 5%); 90% resolved after 1-120 h
(business time a third of it), first response after 0-8 h, 1-3 public replies, 5% reopened
once; events: backlog in/out, resolution, reopen, replies (about 4.3 per ticket).

Each report runs through ``registry.run_report`` as the application role in the tenant's
transaction (RLS applies), for the last 12 months: without interval, by month, by day, by
team, by ticket type and filtered to one type (``--shapes`` picks some, ``--reports`` some
reports). The cache is cleared before each call ("cold"), except in the "cached" column.

    .venv/bin/python -m bench.reports_facts [--tickets 1000000] [--runs 20] [--reseed]
        [--shapes total,type,problem] [--reports volume,backlog] [--compare]

``--compare``: the duration reports (first-response-time, resolution-time) total / by month /
by day / by team, and agent-performance (total: always by agent), in the same run: the direct
SQL (``summaries.ENABLED`` off), the summaries cold (the tenant's duration and agent summaries
deleted before every call, or before every round of eight concurrent calls) and warm
(built): p50 and p95 at c=1, p95 at c=8, and the build statements each cold round of eight
ran (the build lock makes it one per (metric, zone, dimension) needed); then the summaries'
row counts and sizes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TENANT = uuid.UUID("00000000-0000-4000-8000-00000000b0b0")

SEED = """
INSERT INTO tenants (id, slug, name) VALUES (%(t)s, 'bench-reports', 'Bench reports')
    ON CONFLICT DO NOTHING;
ALTER TABLE report_ticket_facts
    DROP CONSTRAINT IF EXISTS report_ticket_facts_tenant_id_ticket_id_fkey;
ALTER TABLE report_events DROP CONSTRAINT IF EXISTS report_events_tenant_id_ticket_id_fkey;
CREATE TEMP TABLE g AS
SELECT gen_random_uuid() AS id,
       now() - random() * interval '730 days' AS created_at,
       random() AS r1, random() AS r2, random() AS r3, random() AS r4,
       (random() * 9)::int AS team, (random() * 49)::int AS agent,
       (random() * 19)::int AS cat,
       (ARRAY['low','medium','high','critical'])[1 + (random() * 3)::int] AS prio,
       CASE WHEN random() < 0.7 THEN 'web' ELSE 'email' END AS channel,
       (SELECT CASE WHEN x < 0.5 THEN 'incident' WHEN x < 0.8 THEN 'service_request'
               WHEN x < 0.95 THEN 'question' ELSE 'problem' END
        FROM (SELECT random() + 0 * n AS x) r) AS type
FROM generate_series(1, %(n)s) n;
INSERT INTO report_ticket_facts (tenant_id, ticket_id, team_id, assignee_id, category_id,
    priority, channel, type, requester_id, status, merged, created_at, first_response_at,
    first_response_business, first_response_wall, resolved_at, resolution_business,
    resolution_wall, public_replies, reopens)
SELECT %(t)s, id, md5('team' || team)::uuid, md5('agent' || agent)::uuid, md5('cat' || cat)::uuid,
       prio, channel, type, md5('req')::uuid,
       CASE WHEN r1 < 0.9 THEN 'resolved' ELSE 'open' END, false, created_at,
       created_at + r2 * interval '8 hours', (r2 * 8 * 3600 / 3)::int, (r2 * 8 * 3600)::int,
       CASE WHEN r1 < 0.9 THEN created_at + (1 + r3 * 119) * interval '1 hour' END,
       CASE WHEN r1 < 0.9 THEN ((1 + r3 * 119) * 3600 / 3)::int END,
       CASE WHEN r1 < 0.9 THEN ((1 + r3 * 119) * 3600)::int END,
       1 + (r4 * 2)::int, CASE WHEN r4 < 0.05 THEN 1 ELSE 0 END
FROM g;
INSERT INTO report_events (tenant_id, ticket_id, kind, at, agent_id, team_id, assignee_id,
    category_id, priority, channel, type, first_response_business, resolution_business)
SELECT %(t)s, f.ticket_id, e.kind, e.at, e.agent, f.team_id, f.assignee_id, f.category_id,
       f.priority, f.channel, f.type,
       CASE WHEN e.kind = 'resolved' THEN f.first_response_business END,
       CASE WHEN e.kind = 'resolved' THEN f.resolution_business END
FROM report_ticket_facts f
CROSS JOIN LATERAL (
    SELECT 'created' AS kind, f.created_at AS at, NULL::uuid AS agent
    UNION ALL SELECT 'backlog_in', f.created_at, NULL
    UNION ALL SELECT 'backlog_out', f.resolved_at, NULL WHERE f.resolved_at IS NOT NULL
    UNION ALL SELECT 'resolved', f.resolved_at, f.assignee_id WHERE f.resolved_at IS NOT NULL
    UNION ALL SELECT 'reopened', f.resolved_at - interval '1 hour', NULL
        WHERE f.reopens > 0 AND f.resolved_at IS NOT NULL
    UNION ALL SELECT 'reply', f.first_response_at + s * interval '1 hour', f.assignee_id
        FROM generate_series(0, f.public_replies - 1) s
) e WHERE f.tenant_id = %(t)s;
INSERT INTO teams (id, tenant_id, name)
SELECT md5('team' || i)::uuid, %(t)s, 'Team ' || i FROM generate_series(0, 9) i;
"""


def seed(db: Any, tickets: int) -> None:
    """The facts and events of ``tickets`` synthetic tickets (see the docstring)."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(db.owner_url.set(drivername="postgresql").render_as_string(False)) as conn:
        for table in (
            "report_duration_summaries",
            "report_agent_summaries",
            "report_events",
            "report_ticket_facts",
            "report_rollup_hourly",
            "teams",
        ):
            conn.execute(f"DELETE FROM {table} WHERE tenant_id = %s", (TENANT,))
        # Bulk load without the secondary indexes, then build them (much faster).
        indexes = [
            (r[0], r[1])
            for r in conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN"
                " ('report_ticket_facts', 'report_events') AND indexname NOT LIKE '%pkey'"
            )
        ]
        for index, _ in indexes:
            conn.execute(f"DROP INDEX {index}")
        for statement in SEED.split(";\n"):
            if statement.strip():
                conn.execute(statement, {"t": TENANT, "n": tickets})
        for _, definition in indexes:
            conn.execute(definition)
        conn.commit()
    print(f"• seeded {tickets} tickets in {time.perf_counter() - started:.0f} s", flush=True)


# Revisions of reverted branches this branch does not know: what they created, dropped.
REVERTED = {
    "0027": [  # a-hist (docs/benchmarks.md, "a duration histogram ... not adopted")
        "DROP INDEX IF EXISTS ix_report_facts_fr_business_bin",
        "DROP INDEX IF EXISTS ix_report_facts_fr_wall_bin",
        "DROP INDEX IF EXISTS ix_report_facts_res_business_bin",
        "DROP INDEX IF EXISTS ix_report_facts_res_wall_bin",
        "DROP TABLE IF EXISTS report_duration_hist",
        "DROP FUNCTION IF EXISTS report_duration_bin(integer)",
        "UPDATE alembic_version SET version_num = '0026'",
    ]
}


def forget_reverted(db: Any) -> None:
    """A database left at a reverted branch's revision back to the one before it."""
    import psycopg

    with psycopg.connect(db.owner_url.set(drivername="postgresql").render_as_string(False)) as conn:
        exists = conn.execute("SELECT to_regclass('alembic_version')").fetchone()
        row = (
            conn.execute("SELECT version_num FROM alembic_version").fetchone()
            if exists and exists[0]
            else None
        )
        for statement in REVERTED.get(row[0] if row else "", []):
            conn.execute(statement)
        conn.commit()


def count_rollup(db: Any) -> None:
    """The hourly rollup counted from the events, as ``make reports-rebuild`` does."""
    import psycopg

    from bench.sla import use_database

    started = time.perf_counter()
    use_database(db)
    from servicedesk.platform.db import set_tenant, transaction
    from servicedesk.reports.facts import rebuild_rollup

    with transaction() as session:  # as the application does it (RLS)
        set_tenant(session, tenant_id=TENANT, user_id=None)
        rebuild_rollup(session, TENANT)
    with psycopg.connect(
        db.owner_url.set(drivername="postgresql").render_as_string(False), autocommit=True
    ) as conn:
        for table in ("report_ticket_facts", "report_events", "report_rollup_hourly"):
            conn.execute(f"VACUUM ANALYZE {table}")  # index-only scans need the visibility map
    print(f"• rollup counted in {time.perf_counter() - started:.0f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--compare", action="store_true", help="direct SQL vs summaries")
    parser.add_argument("--shapes", default="", help="comma-separated shapes (default: all)")
    parser.add_argument("--reports", default="", help="comma-separated reports (default: all)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import psycopg

    from bench.sla import use_database
    from bench.tickets import DATA_DIR
    from local import db as localdb

    server = localdb.embedded_server(DATA_DIR)
    try:
        admin = localdb.admin_url(DATA_DIR)
        name = f"servicedesk_bench_report_facts_{args.tickets}"
        if args.reseed:
            localdb.drop_database(admin, name)
        db = localdb.ensure_database(admin, name)
        forget_reverted(db)
        localdb.migrate(db)
        with psycopg.connect(
            db.owner_url.set(drivername="postgresql").render_as_string(False)
        ) as conn:
            (have,) = conn.execute(
                "SELECT count(*) FROM report_ticket_facts WHERE tenant_id = %s", (TENANT,)
            ).fetchone() or (0,)
            (rolled,) = conn.execute(
                "SELECT count(*) FROM report_rollup_hourly WHERE tenant_id = %s", (TENANT,)
            ).fetchone() or (0,)
        if have != args.tickets:
            seed(db, args.tickets)
        if have != args.tickets or not rolled:
            count_rollup(db)
        with psycopg.connect(
            db.owner_url.set(drivername="postgresql").render_as_string(False)
        ) as conn:
            counted = [
                conn.execute(f"SELECT count(*) FROM {t} WHERE tenant_id = %s", (TENANT,)).fetchone()
                for t in ("report_events", "report_rollup_hourly")
            ]
        print(f"• {args.tickets} tickets; events, rollup rows: {counted}", flush=True)
        use_database(db)
        if args.compare:
            compare(db, args.runs)
        else:
            run(args.runs, _names(args.shapes), _names(args.reports))
    finally:
        server.cleanup()
    return 0


def _call(name: str, params: Any, cached: bool) -> float:
    from servicedesk.platform.db import set_tenant, transaction
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext
    from servicedesk.reports import cache
    from servicedesk.reports.registry import run_report

    cache.ENABLED = cached
    started = time.perf_counter()
    with transaction() as session:
        set_tenant(session, tenant_id=TENANT, user_id=None)
        ctx = RequestContext(
            session=session, tenant_id=TENANT, user_id=uuid.uuid4(), role=Role.MANAGER
        )
        run_report(ctx, name, params)
    return (time.perf_counter() - started) * 1000


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def concurrently(name: str, params: Any, each: int, workers: int = 8) -> list[float]:
    """``workers`` threads calling the report ``each`` times; every call's milliseconds."""
    spent: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(each):
            ms = _call(name, params, False)
            with lock:
                spent.append(ms)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return spent


def _names(text: str) -> set[str] | None:
    return {n.strip() for n in text.split(",") if n.strip()} or None


def run(
    runs: int, only_shapes: set[str] | None = None, only_reports: set[str] | None = None
) -> None:
    from servicedesk.reports.registry import CATALOGUE
    from servicedesk.reports.window import ReportParams

    today = datetime.now(UTC).date()
    since = today - timedelta(days=364)
    shapes = {
        "total": {},
        "month": {"interval": "month"},
        "day": {"interval": "day"},
        "team": {"group_by": "team"},
        "type": {"group_by": "type"},
        "problem": {"type": "problem"},
    }
    print("\n| report | shape | p50 ms c=1 | p95 ms c=1 | p95 ms c=8 | p95 ms cached |")
    print("|---|---|---:|---:|---:|---:|")
    for name in CATALOGUE:
        if only_reports and name not in only_reports:
            continue
        for shape, extra in shapes.items():
            if name == "agent-performance" and shape != "total":
                continue
            if only_shapes and shape not in only_shapes:
                continue
            params = ReportParams(since=since, until=today, tz="Europe/Paris", **extra)
            _call(name, params, False)  # warm the buffer cache
            one = [_call(name, params, False) for _ in range(runs)]
            eight = concurrently(name, params, max(2, runs // 4))
            _call(name, params, True)
            hot = [_call(name, params, True) for _ in range(runs)]
            print(
                f"| {name} | {shape} | {statistics.median(one):.0f} | {p95(one):.0f}"
                f" | {p95(eight):.0f} | {p95(hot):.1f} |",
                flush=True,
            )


def compare(db: Any, runs: int) -> None:
    """Direct SQL vs summaries cold vs summaries warm, same run (see the docstring)."""
    import psycopg

    from servicedesk.reports import summaries
    from servicedesk.reports.window import ReportParams

    owner = psycopg.connect(
        db.owner_url.set(drivername="postgresql").render_as_string(False), autocommit=True
    )

    def clear() -> None:
        for table in ("report_duration_summaries", "report_agent_summaries"):
            owner.execute(f"DELETE FROM {table} WHERE tenant_id = %s", (TENANT,))

    today = datetime.now(UTC).date()
    since = today - timedelta(days=364)
    shapes = {
        "total": {},
        "month": {"interval": "month"},
        "day": {"interval": "day"},
        "team": {"group_by": "team"},
    }
    each = max(2, runs // 4)
    print(
        "\n| report | shape | direct p50/p95 c=1 | direct p95 c=8 | cold p50/p95 c=1"
        " | cold p95 c=8 | warm p50/p95 c=1 | warm p95 c=8 | warm vs direct p95 c=1"
        " | builds per cold herd of 8 |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    builds = summaries.BUILDS
    for name in ("first-response-time", "resolution-time", "agent-performance"):
        for shape, extra in shapes.items():
            if name == "agent-performance" and shape != "total":
                continue  # always by agent, no interval
            params = ReportParams(since=since, until=today, tz="Europe/Paris", **extra)
            summaries.ENABLED = False
            _call(name, params, False)  # warm the buffer cache
            direct = [_call(name, params, False) for _ in range(runs)]
            direct8 = concurrently(name, params, each)
            summaries.ENABLED = True
            cold = []
            for _ in range(runs):
                clear()
                cold.append(_call(name, params, False))
            cold8: list[float] = []
            herd_builds = []
            for _ in range(each):
                clear()
                before = builds["count"]
                cold8 += concurrently(name, params, 1)
                herd_builds.append(builds["count"] - before)
            _call(name, params, False)
            warm = [_call(name, params, False) for _ in range(runs)]
            warm8 = concurrently(name, params, each)
            print(
                f"| {name} | {shape}"
                f" | {statistics.median(direct):.0f} / {p95(direct):.0f} | {p95(direct8):.0f}"
                f" | {statistics.median(cold):.0f} / {p95(cold):.0f} | {p95(cold8):.0f}"
                f" | {statistics.median(warm):.0f} / {p95(warm):.0f} | {p95(warm8):.0f}"
                f" | {p95(direct) / p95(warm):.1f}x | {herd_builds} |",
                flush=True,
            )
    for table in ("report_duration_summaries", "report_agent_summaries"):
        rows, size = owner.execute(
            f"SELECT count(*), pg_size_pretty(pg_total_relation_size('{table}')) FROM {table}"
        ).fetchone() or (0, "")
        print(f"• {table}: {rows} rows, {size}", flush=True)
    owner.close()


if __name__ == "__main__":
    os.environ.setdefault("SERVICEDESK_LOG_LEVEL", "WARNING")
    os.environ["SERVICEDESK_DB_POOL_SIZE"] = "8"  # concurrency 8: a connection each
    raise SystemExit(main())
