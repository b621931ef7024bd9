"""SLA evaluator at a million: one pass over 1,000,000 open tickets across 1,000 tenants.

Seeding (once per shape; reused until ``--reseed``): on the embedded PostgreSQL of the
tickets benchmark (``.data/bench-pg/data``, or the server of ``DATABASE_URL``), database
``servicedesk_bench_sla_<tickets>_<tenants>`` migrated to head, then, as the owner role
in ONE transaction, set-based ``INSERT ... SELECT`` over ``generate_series``:

- per tenant an agent, a requester and a manager, one team, and one SLA policy on the
  24x7 calendar: first response 240 min, resolution 2,880 min, warnings at 75% and 90%,
  no escalation rule (``--escalations`` gives every policy one before the pass: notify
  the managers on each breach, which exercises the per-crossing escalation path);
- the tickets, all open (new, open, in progress, or pending with the resolution clock
  paused), each with a first-response and a resolution target whose clock runs from the
  ticket's creation; ticket ``i`` of a tenant has its first-response target crossing a
  threshold at the evaluation instant when ``i % 20 == 0`` and its resolution target when
  ``i % 20 == 10``: 5% of the targets. The crossing is, by ``(i // 20) % 3``, the 75%
  warning, the 90% warning (the 75% one already recorded) or the breach (both warnings
  recorded), each within the minute before the evaluation instant, as in steady state
  when the evaluator runs every minute. Every other target's next threshold lies after
  that instant (or it is met, or paused), and its clock is consistent with its
  ticket's age.

The evaluation instant is the seed's ``now()``, kept in the database comment, so a seed
stays valid for later runs. Each run clones the seeded database (``CREATE DATABASE ...
TEMPLATE``) and evaluates the clone; the seed itself is never evaluated.

Measurement: ``servicedesk.sla.evaluator.run(at)``, which is what the Lambda handler
calls with ``datetime.now(UTC)``, through the application's engine connected as the
application role (RLS applies; one transaction per tenant). One timed pass, then checks
against the counts the generator implies (crossings by kind, outbox events, timeline
events, nothing left due), then a second pass that must record nothing.

    .venv/bin/python bench/sla.py [--tickets 1000000] [--tenants 1000] [--compare 100000]
        [--escalations] [--reseed] [--seed-only] [--explain] [--keep]

Exit status 1 when a check fails, never because the 10 s target was missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from local.db import Database

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 10.0
FIRST_RESPONSE_MINUTES = 240
RESOLUTION_MINUTES = 2880
THRESHOLDS = (75, 90)
ESCALATIONS = [{"on": "breach", "action": "notify_managers"}]
PHASE_KIND = ("warning_75", "warning_90", "breached")
Conn = psycopg.Connection[tuple[Any, ...]]

# Ticket i of tenant k: the crossing target (i % 20), the threshold it crosses ((i // 20)
# % 3), a jitter of 0-59 s before the evaluation instant, and for the other tickets an age
# spread over [60 s, 75% of the resolution budget - 60 s).
SEED_TICKETS = """
CREATE TEMP TABLE seed_tickets ON COMMIT DROP AS
WITH base AS (
    SELECT t.k, t.id AS tenant_id, t.policy, t.agent, t.requester, t.team, i,
           gen_random_uuid() AS ticket_id,
           CASE i %% 20 WHEN 0 THEN 'first_response' WHEN 10 THEN 'resolution' END AS crossing,
           (i / 20) %% 3 AS phase,
           (i * 31 + t.k * 17) %% 60 AS jitter,
           i %% 10 = 5 AS paused
    FROM seed_tenants t CROSS JOIN LATERAL generate_series(1, t.n) AS i
), aged AS (
    SELECT b.*,
           CASE b.crossing
               WHEN 'first_response' THEN b.jitter + (%(fr_marks)s::int[])[b.phase + 1]
               WHEN 'resolution' THEN b.jitter + (%(res_marks)s::int[])[b.phase + 1]
               ELSE 60 + (b.i::bigint * 7919 + b.k * 104729) %% ((%(res_marks)s::int[])[1] - 120)
           END AS age
    FROM base b
)
SELECT a.*,
       %(at)s::timestamptz - make_interval(secs => a.age) AS created_at,
       CASE WHEN a.crossing = 'first_response' THEN 'crossing'
            WHEN NOT a.paused AND a.age < (%(fr_marks)s::int[])[1] - 60 AND a.i %% 2 = 0
                THEN 'running'
            ELSE 'met' END AS fr_state,
       CASE WHEN a.crossing = 'resolution' THEN 'crossing'
            WHEN a.paused THEN 'paused' ELSE 'running' END AS res_state,
       least(a.age / 2 - 1, 600 + (a.i * 13) %% 9000) AS met_after
FROM aged a
"""

SEED_STATEMENTS = (
    """INSERT INTO tenants (id, slug, name)
       SELECT id, 'sla-' || lpad(k::text, 5, '0'), 'SLA bench ' || k FROM seed_tenants""",
    """CREATE TEMP TABLE seed_people ON COMMIT DROP AS
       SELECT t.id AS tenant_id, t.k, p.user_id, p.role FROM seed_tenants t,
       LATERAL (VALUES (t.agent, 'agent'), (t.requester, 'requester'), (t.manager, 'manager'))
           AS p(user_id, role)""",
    """INSERT INTO users (id, email, name)
       SELECT user_id, role || '@sla-' || lpad(k::text, 5, '0') || '.bench.invalid',
              initcap(role) || ' ' || k FROM seed_people""",
    """INSERT INTO memberships (tenant_id, user_id, role)
       SELECT tenant_id, user_id, role FROM seed_people""",
    """INSERT INTO teams (id, tenant_id, name) SELECT team, id, 'Service Desk' FROM seed_tenants""",
    """INSERT INTO team_members (tenant_id, team_id, user_id)
       SELECT id, team, agent FROM seed_tenants""",
    """INSERT INTO sla_policies (id, tenant_id, name, position, first_response_minutes,
                                resolution_minutes, warning_thresholds)
       SELECT policy, id, 'Standard', 1, %(fr_minutes)s, %(res_minutes)s, %(thresholds)s::int[]
       FROM seed_tenants""",
    SEED_TICKETS,
    """INSERT INTO tickets (id, tenant_id, number, title, status, priority, requester_id,
                           assignee_id, team_id, created_at, updated_at, first_response_at,
                           sla_due_at)
       SELECT ticket_id, tenant_id, 'TCK-2026-' || lpad(i::text, 6, '0'),
              'SLA bench ticket ' || i,
              CASE WHEN res_state = 'paused' THEN 'pending'
                   WHEN fr_state <> 'met' AND i %% 4 = 0 THEN 'new'
                   ELSE (ARRAY['open', 'in_progress'])[i %% 2 + 1] END,
              'medium', requester, agent, team, created_at, created_at,
              CASE WHEN fr_state = 'met' THEN created_at + make_interval(secs => met_after) END,
              CASE WHEN fr_state <> 'met'
                       THEN created_at + make_interval(secs => %(fr_budget)s)
                   WHEN res_state <> 'paused'
                       THEN created_at + make_interval(secs => %(res_budget)s) END
       FROM seed_tickets""",
    """INSERT INTO ticket_counters (tenant_id, year, last_value)
       SELECT id, 2026, n FROM seed_tenants""",
    """INSERT INTO ticket_events (tenant_id, ticket_id, type, visibility, created_at)
       SELECT tenant_id, ticket_id, 'created', 'public', created_at FROM seed_tickets""",
    # A running (or crossing) target: elapsed 0 since creation, thresholds precomputed, the
    # next check at the threshold being crossed (crossing) or the first one (running).
    """INSERT INTO ticket_sla_targets (tenant_id, ticket_id, target, policy_id, budget_seconds,
                                      elapsed_seconds, clock_at, paused_since, due_at, warn_at,
                                      warn_levels, next_check_at, met_at)
       SELECT s.tenant_id, s.ticket_id, g.target, s.policy, g.budget,
              CASE g.state WHEN 'met' THEN s.met_after WHEN 'paused' THEN s.age / 2 ELSE 0 END,
              s.created_at + make_interval(secs => CASE g.state WHEN 'met' THEN s.met_after
                  WHEN 'paused' THEN s.age / 2 ELSE 0 END),
              CASE WHEN g.state = 'paused' THEN s.created_at + make_interval(secs => s.age / 2)
              END,
              CASE WHEN g.state IN ('running', 'crossing') THEN g.marks[3] END,
              CASE WHEN g.state IN ('running', 'crossing') THEN g.marks[1:2]
                   ELSE '{}' END,
              CASE WHEN g.state IN ('running', 'crossing') THEN %(thresholds)s::int[] ELSE '{}' END,
              CASE g.state WHEN 'running' THEN g.marks[1]
                           WHEN 'crossing' THEN g.marks[s.phase + 1] END,
              CASE WHEN g.state = 'met' THEN s.created_at + make_interval(secs => s.met_after)
              END
       FROM seed_tickets s CROSS JOIN LATERAL (VALUES
           ('first_response', %(fr_budget)s, s.fr_state, ARRAY(
               SELECT s.created_at + make_interval(secs => m) FROM unnest(%(fr_marks)s::int[])
               AS m)),
           ('resolution', %(res_budget)s, s.res_state, ARRAY(
               SELECT s.created_at + make_interval(secs => m) FROM unnest(%(res_marks)s::int[])
               AS m))
       ) AS g(target, budget, state, marks)""",
    """INSERT INTO ticket_sla_pauses (tenant_id, ticket_id, started_at, reason)
       SELECT tenant_id, ticket_id, paused_since, 'pending' FROM ticket_sla_targets
       WHERE paused_since IS NOT NULL""",
    # The thresholds a crossing target passed before this minute were recorded by earlier
    # runs: the evaluator meets them again and must skip them (ON CONFLICT DO NOTHING).
    """INSERT INTO sla_crossings (tenant_id, ticket_id, target, kind, policy_id, crossed_at,
                                 recorded_at)
       SELECT t.tenant_id, t.ticket_id, t.target, 'warning_' || t.warn_levels[l],
              t.policy_id, t.warn_at[l], t.warn_at[l]
       FROM seed_tickets s
       JOIN ticket_sla_targets t ON t.ticket_id = s.ticket_id AND t.target = s.crossing
       CROSS JOIN LATERAL generate_series(1, s.phase) AS l""",
)


@dataclass(frozen=True)
class Shape:
    tickets: int
    tenants: int
    escalations: bool

    @property
    def database(self) -> str:
        return f"servicedesk_bench_sla_{self.tickets}_{self.tenants}"

    def per_tenant(self, k: int) -> int:
        return self.tickets // self.tenants + (1 if k < self.tickets % self.tenants else 0)

    def expected(self) -> Counter[str]:
        """Crossings by kind the generator places at the evaluation instant."""
        kinds: Counter[str] = Counter()
        for k in range(self.tenants):
            for i in range(10, self.per_tenant(k) + 1, 10):  # i % 20 in (0, 10)
                kinds[PHASE_KIND[(i // 20) % 3]] += 1
        return kinds


@dataclass
class Pass:
    seconds: float
    crossings: int
    tenants: int
    failed: list[str]
    tenant_seconds: list[float]
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds during the pass
    wal_bytes: int = 0
    full_page_images: int = 0  # of the whole server: nothing else runs on the bench server


def _marks(minutes: int) -> list[int]:
    budget = minutes * 60
    return [-(-budget * t // 100) for t in THRESHOLDS] + [budget]


def libpq(url: Any) -> str:
    from bench.tickets import libpq as render

    return render(url)


def seed_metadata(db: Database) -> dict[str, Any] | None:
    """The seed's evaluation instant and size, from the database comment (set last)."""
    with psycopg.connect(libpq(db.owner_url)) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
            " WHERE datname = current_database()"
        ).fetchone()
    if not row or not row[0]:
        return None
    meta: dict[str, Any] = json.loads(row[0])
    return meta


def seed(db: Database, shape: Shape) -> dict[str, Any]:
    print(
        f"• seeding {shape.tickets:,} tickets across {shape.tenants:,} tenants"
        f" into {db.name} (one transaction, INSERT ... SELECT) …",
        flush=True,
    )
    started = time.perf_counter()
    params = {
        "fr_minutes": FIRST_RESPONSE_MINUTES,
        "res_minutes": RESOLUTION_MINUTES,
        "fr_budget": FIRST_RESPONSE_MINUTES * 60,
        "res_budget": RESOLUTION_MINUTES * 60,
        "fr_marks": _marks(FIRST_RESPONSE_MINUTES),
        "res_marks": _marks(RESOLUTION_MINUTES),
        "thresholds": list(THRESHOLDS),
    }
    with psycopg.connect(libpq(db.owner_url), cursor_factory=psycopg.ClientCursor) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET work_mem = '256MB'")
        row = conn.execute("SELECT date_trunc('second', now())").fetchone()
        assert row is not None
        at: datetime = row[0]
        params["at"] = at
        conn.execute(
            """CREATE TEMP TABLE seed_tenants ON COMMIT DROP AS
               SELECT k, gen_random_uuid() AS id, %(per)s + (k < %(extra)s)::int AS n,
                      gen_random_uuid() AS agent, gen_random_uuid() AS requester,
                      gen_random_uuid() AS manager, gen_random_uuid() AS team,
                      gen_random_uuid() AS policy
               FROM generate_series(0, %(tenants)s - 1) AS k""",
            {
                "per": shape.tickets // shape.tenants,
                "extra": shape.tickets % shape.tenants,
                "tenants": shape.tenants,
            },
        )
        for statement in SEED_STATEMENTS:
            step = time.perf_counter()
            cur = conn.execute(statement, params)
            what = " ".join(statement.split()[:3])
            print(f"  {what} … {cur.rowcount:,} rows, {time.perf_counter() - step:.1f} s")
        meta = {"at": at.isoformat(), "tickets": shape.tickets, "tenants": shape.tenants}
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(db.name), sql.Literal(json.dumps(meta))
            )
        )
    loaded = time.perf_counter()
    with psycopg.connect(libpq(db.owner_url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")  # every table the owner owns: all of the schema
    print(
        f"  load {loaded - started:.0f} s, vacuum {time.perf_counter() - loaded:.0f} s",
        flush=True,
    )
    return meta


def prepare_seed(shape: Shape, reseed: bool) -> tuple[Database, dict[str, Any]]:
    from bench.tickets import DATA_DIR
    from local import db as localdb

    admin = localdb.admin_url(DATA_DIR)
    if reseed:
        localdb.drop_database(admin, shape.database)
    db = localdb.ensure_database(admin, shape.database)
    localdb.migrate(db)
    meta = seed_metadata(db)
    if meta is not None:
        print(f"• seed {db.name} present (evaluation instant {meta['at']}); not seeding")
        return db, meta
    localdb.drop_database(admin, shape.database)  # an interrupted seed left nothing, or junk
    db = localdb.ensure_database(admin, shape.database)
    localdb.migrate(db)
    return db, seed(db, shape)


def clone(seed_db: Database) -> Database:
    """A fresh copy of the seed to evaluate (the evaluator writes; the seed stays as is)."""
    from local import db as localdb

    name = f"{seed_db.name}_run"
    started = time.perf_counter()
    localdb.drop_database(seed_db.admin_url, name)
    with localdb.admin_connect(seed_db.admin_url) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {} STRATEGY FILE_COPY").format(
                sql.Identifier(name),
                sql.Identifier(seed_db.name),
                sql.Identifier(localdb.OWNER_ROLE),
            )
        )
    print(f"• cloned the seed into {name} in {time.perf_counter() - started:.1f} s", flush=True)
    return localdb.Database(admin_url=seed_db.admin_url, name=name)


def use_database(db: Database) -> None:
    """Point the application's settings (and its cached engine) at ``db``, as the app role."""
    from servicedesk.platform import config
    from servicedesk.platform import db as appdb

    os.environ.update(
        {
            "SERVICEDESK_ENVIRONMENT": "test",
            "SERVICEDESK_LOG_LEVEL": "WARNING",
            "SERVICEDESK_DATABASE_URL": db.app_url.render_as_string(hide_password=False),
        }
    )
    if appdb.get_engine.cache_info().currsize:
        appdb.get_engine().dispose()
    appdb.get_engine.cache_clear()
    config.get_settings.cache_clear()


def evaluate(db: Database, at: datetime, db_pid: int | None) -> Pass:
    from bench.tickets import CpuMeter
    from servicedesk.sla.evaluator import run

    meter = CpuMeter(os.getpid(), db_pid)  # "api": this process, where the evaluator runs
    with psycopg.connect(libpq(db.owner_url), autocommit=True) as conn:
        lsn = conn.execute(
            "SELECT pg_current_wal_lsn(), (SELECT wal_fpi FROM pg_stat_wal)"
        ).fetchone()
        before = meter.snapshot()
        started = time.perf_counter()
        report = run(at)
        seconds = time.perf_counter() - started
        after = meter.snapshot()
        wal = conn.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s), (SELECT wal_fpi FROM pg_stat_wal)",
            (lsn[0] if lsn else None,),
        ).fetchone()
    cpu = {}
    if before is not None and after is not None:

        def spent(a: dict[int, float], b: dict[int, float]) -> float:
            return sum(v - a.get(pid, 0.0) for pid, v in b.items())

        cpu = {"evaluator": spent(before.api, after.api), "postgres": spent(before.db, after.db)}
        cpu["other"] = max(0.0, after.machine - before.machine - sum(cpu.values()))
    return Pass(
        seconds,
        report.crossings,
        report.tenants,
        report.failed_tenants,
        report.tenant_seconds,
        cpu,
        int(wal[0]) if wal else 0,
        int(wal[1] - lsn[1]) if wal and lsn else 0,
    )


def explain(db: Database, at: datetime) -> None:
    """EXPLAIN ANALYZE of the crossing statement for the first due tenant, as the app role,
    rolled back."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from servicedesk.platform.db import get_engine, set_tenant
    from servicedesk.sla import evaluator

    with Session(bind=get_engine()) as session:
        tenant = evaluator.tenants_due(session, at)[0]
        set_tenant(session, tenant_id=tenant, user_id=None)
        plan = session.execute(
            text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + str(evaluator.CROSS.text)),
            {"tenant": tenant, "now": at},
        ).scalars()
        print(f"• EXPLAIN ANALYZE (app role, tenant {tenant}, rolled back):")
        for line in plan:
            print(f"    {line}")
        session.rollback()


def check(db: Database, shape: Shape, at: datetime, first: Pass) -> list[str]:
    """Compare what the pass wrote with what the generator placed; return the failures."""
    expected = shape.expected()
    total = sum(expected.values())
    breaches = expected["breached"]
    want_outbox = {
        "sla.warning": expected["warning_75"] + expected["warning_90"],
        "sla.breached": breaches,
        **({"sla.escalation": breaches} if shape.escalations else {}),
    }
    want_events = {
        "sla_warning": want_outbox["sla.warning"],
        "sla_breached": breaches,
        **({"escalated": breaches} if shape.escalations else {}),
    }
    with psycopg.connect(libpq(db.owner_url)) as conn:
        kinds: dict[str, int] = dict(
            conn.execute(
                "SELECT kind, count(*) FROM sla_crossings WHERE recorded_at > %s GROUP BY 1",
                (at,),
            ).fetchall()
        )
        outbox: dict[str, int] = dict(
            conn.execute("SELECT event_type, count(*) FROM outbox GROUP BY 1").fetchall()
        )
        events: dict[str, int] = dict(
            conn.execute(
                "SELECT type, count(*) FROM ticket_events WHERE type <> 'created' GROUP BY 1"
            ).fetchall()
        )
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE next_check_at <= %s),"
            " count(*) FILTER (WHERE breached_at IS NOT NULL) FROM ticket_sla_targets",
            (at,),
        ).fetchone()
    assert row is not None
    still_due, breached = row
    failures = []
    if first.crossings != total:
        failures.append(f"the pass reported {first.crossings:,} crossings, expected {total:,}")
    if first.failed:
        failures.append(f"{len(first.failed)} tenants failed")
    if first.tenants != shape.tenants:
        failures.append(f"{first.tenants} tenants evaluated, expected {shape.tenants}")
    for name, got, want in (
        ("new crossings by kind", kinds, dict(expected)),
        ("outbox events", outbox, want_outbox),
        ("timeline events", events, want_events),
    ):
        if got != want:
            failures.append(f"{name}: {got}, expected {want}")
    if still_due:
        failures.append(f"{still_due:,} targets still due after the pass")
    if breached != breaches:
        failures.append(f"{breached:,} targets marked breached, expected {breaches:,}")
    return failures


def quantile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def measure(
    shape: Shape, args: argparse.Namespace, db_pid: int | None
) -> tuple[Shape, Pass, int, bool]:
    seed_db, meta = prepare_seed(shape, args.reseed)
    if args.seed_only:
        return shape, Pass(0, 0, 0, [], []), 0, True
    at = datetime.fromisoformat(meta["at"])
    run_db = clone(seed_db)
    from local import db as localdb

    localdb.migrate(run_db)  # a no-op unless revisions were added after the seed
    rules = ESCALATIONS if shape.escalations else []
    with psycopg.connect(libpq(run_db.owner_url)) as conn:
        conn.execute("UPDATE sla_policies SET escalations = %s::jsonb", (json.dumps(rules),))
    use_database(run_db)
    if args.explain:
        explain(run_db, at)
    load = os.getloadavg()
    print(f"• pass 1 at {at.isoformat()} (load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    first = evaluate(run_db, at, db_pid)
    second = evaluate(run_db, at, db_pid)
    failures = check(run_db, shape, at, first)
    if second.crossings:
        failures.append(f"a second pass recorded {second.crossings:,} new crossings")
    per = [s * 1000 for s in first.tenant_seconds]
    print(
        f"  tickets {shape.tickets:,}  tenants {shape.tenants:,}  crossings recorded"
        f" {first.crossings:,} (expected {sum(shape.expected().values()):,})\n"
        f"  pass {first.seconds:.2f} s  per tenant p50 {quantile(per, 50):.1f} ms"
        f"  p95 {quantile(per, 95):.1f} ms  max {max(per, default=0):.1f} ms\n"
        f"  second pass {second.seconds:.2f} s, {second.crossings} new crossings"
        f"  (load average after {os.getloadavg()[0]:.2f})"
    )
    if first.cpu:
        print(
            f"  CPU during the pass: evaluator process {first.cpu['evaluator']:.1f} s,"
            f" PostgreSQL {first.cpu['postgres']:.1f} s, rest of the machine"
            f" {first.cpu['other']:.1f} s (of {os.cpu_count() or 1} x {first.seconds:.1f} s);"
            f" WAL written {first.wal_bytes / 1e6:,.0f} MB,"
            f" {first.full_page_images:,} full-page images"
        )
    for failure in failures:
        print(f"  CHECK FAILED: {failure}")
    if not args.keep:
        from servicedesk.platform.db import get_engine

        get_engine().dispose()
        localdb.drop_database(run_db.admin_url, run_db.name)
    return shape, first, second.crossings, not failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument(
        "--compare",
        type=lambda v: [int(x) for x in v.split(",") if x.strip()],
        default=[100_000],
        help="comma-separated smaller ticket counts (same tenants) measured first; '' for none",
    )
    parser.add_argument(
        "--escalations", action="store_true", help="every policy notifies managers on a breach"
    )
    parser.add_argument("--reseed", action="store_true", help="drop the seed and seed again")
    parser.add_argument("--seed-only", action="store_true", help="seed (if needed) and stop")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE, app role")
    parser.add_argument("--keep", action="store_true", help="keep the evaluated clone")
    args = parser.parse_args()
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # for `local` and `bench`, as `python -m` would
    import servicedesk
    from bench.tickets import DATA_DIR, describe_machine
    from local import db as localdb

    code = Path(servicedesk.__file__).parent
    print(f"SLA evaluator benchmark: {describe_machine()}; code {code}", flush=True)
    server = None if os.environ.get("DATABASE_URL") else localdb.embedded_server(DATA_DIR)
    db_pid = int(server.get_pid()) if server is not None else None
    sizes = [n for n in args.compare if n < args.tickets] + [args.tickets]
    results = []
    try:
        for tickets in sizes:
            shape = Shape(tickets, args.tenants, args.escalations)
            results.append(measure(shape, args, db_pid))
    finally:
        if server is not None:
            server.cleanup()
    if args.seed_only:
        return 0
    print(
        "\n| tickets | tenants | crossings | pass s | tenant p50 ms | tenant p95 ms"
        f" | ≤ {TARGET_SECONDS:.0f} s | checks |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|---|")
    for shape, first, _, ok in results:
        per = [s * 1000 for s in first.tenant_seconds]
        print(
            f"| {shape.tickets:,} | {shape.tenants:,} | {first.crossings:,} |"
            f" {first.seconds:.2f} | {quantile(per, 50):.1f} | {quantile(per, 95):.1f} |"
            f" {'yes' if first.seconds <= TARGET_SECONDS else 'no'} |"
            f" {'pass' if ok else 'FAIL'} |"
        )
    return 0 if all(ok for *_, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
