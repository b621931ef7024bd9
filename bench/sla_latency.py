"""SLA breach to e-mail: how long a breach takes to reach the e-mail consumer (issue 15 item 7).

The pieces `make dev` runs, each real: an embedded PostgreSQL of its own (a temporary data
directory), the AWS emulator (moto server, ``local.aws.start_moto``) with the three
queues and their DLQs (``local.queues.ensure_queues``), and one e-mail consumer process
(``local.queues.PollerProcess``: long-polls the e-mail queue and invokes
``functions/email_consumer``, as the event source mapping does); e-mails go to a mail
catcher directory. NO outbox sweeper runs: an event reaches SQS only if the evaluator
publishes it after its tenant's commit.

Data: ``bench/sla.py``'s generator at a small shape (``--tenants`` x ``--tickets``), whose
crossing targets all cross within one minute of the seed's instant; every SLA timestamp
(targets and earlier crossings) is then moved so that minute starts ``--lead`` seconds
after the run starts: the warnings and breaches fall in real time, spread over a minute.
This process runs the evaluator (``servicedesk.sla.evaluator.run(now)``, what the Lambda
handler does) every ``--interval`` seconds, as the schedule does (60 s in AWS), until
every crossing is recorded and handled.

Per event, from the database's clock: *written* is the evaluator's tenant transaction
(``outbox.created_at``), *handled* is the consumer's first e-mail delivery claim for it
(``deliveries.created_at``, channel ``email``). Printed: breach → handled (includes the
wait for the next evaluator tick, up to ``--interval``) and written → handled (commit,
publish, SQS, consumer), p50 / p95 / max, for breaches and for all crossings.

    .venv/bin/python bench/sla_latency.py [--tenants 20] [--tickets 4000] [--interval 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for `local` and `bench`, as `python -m` would

from bench.sla import Shape, libpq, seed  # noqa: E402
from local import aws  # noqa: E402
from local import db as localdb  # noqa: E402
from local.queues import PollerProcess, ensure_queues  # noqa: E402

# Move every SLA instant of the seed by the same interval (the seed's instant -> the start
# of the real-time window); clocks stay consistent with each other.
SHIFT = [
    """UPDATE ticket_sla_targets
       SET clock_at = clock_at + %(d)s, paused_since = paused_since + %(d)s,
           due_at = due_at + %(d)s, next_check_at = next_check_at + %(d)s,
           met_at = met_at + %(d)s, breached_at = breached_at + %(d)s,
           warn_at = ARRAY(SELECT x + %(d)s FROM unnest(warn_at) WITH ORDINALITY AS u(x, o)
                           ORDER BY o)""",
    "UPDATE sla_crossings SET crossed_at = crossed_at + %(d)s",
]
# Per crossing event written by the evaluator: when it crossed, was written, was handled.
EVENTS = """
SELECT o.event_type, (o.payload ->> 'crossed_at')::timestamptz, o.created_at,
       o.published_at, min(d.created_at)
FROM outbox o
LEFT JOIN deliveries d ON d.event_id = o.id AND d.channel = 'email'
WHERE o.event_type IN ('sla.warning', 'sla.breached')
GROUP BY o.id
"""


def configure(db: localdb.Database, mail_dir: Path, queues: dict[str, Any]) -> None:
    """The environment of `make dev` for this process and the consumer it starts."""
    for name in [k for k in os.environ if k.startswith("SERVICEDESK_")]:
        del os.environ[name]
    os.environ.update(
        {
            "SERVICEDESK_ENVIRONMENT": "dev",
            "SERVICEDESK_LOG_LEVEL": "WARNING",
            "SERVICEDESK_DATABASE_URL": db.app_url.render_as_string(hide_password=False),
            "SERVICEDESK_MAIL_CATCHER_DIR": str(mail_dir),
            **{f"SERVICEDESK_{c.upper()}_QUEUE_URL": q.url for c, q in queues.items()},
        }
    )


def shift(db: localdb.Database, at: datetime, lead: float) -> datetime:
    """Move the seed's crossings into real time; the instant their minute ends."""
    start = datetime.now(UTC) + timedelta(seconds=lead + 60)
    with psycopg.connect(libpq(db.owner_url)) as conn:
        for statement in SHIFT:
            conn.execute(statement, {"d": start - at})
    return start


def quantiles(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"p50 {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s"
        f" (n={len(ordered)})"
    )


def evaluate_until_done(
    db: localdb.Database, until: datetime, interval: float, timeout: float, expected: int
) -> list[tuple[float, int]]:
    """Run the evaluator every ``interval`` s until ``until`` has passed and every crossing
    the seed placed has been recorded and handled (or ``timeout``); the ticks."""
    from servicedesk.sla.evaluator import run

    ticks: list[tuple[float, int]] = []
    deadline = time.monotonic() + timeout
    next_tick = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(max(0.0, next_tick - time.monotonic()))
        next_tick += interval
        now = datetime.now(UTC)
        started = time.perf_counter()
        report = run(now)
        ticks.append((time.perf_counter() - started, report.crossings))
        if now < until:
            continue
        with psycopg.connect(libpq(db.owner_url)) as conn:
            rows = conn.execute(EVENTS).fetchall()
        if len(rows) >= expected and all(row[4] is not None for row in rows):
            break
    return ticks


def measure(args: argparse.Namespace, tmp: Path) -> tuple[list[Any], list[tuple[float, int]], int]:
    """Seed, start the emulator and the consumer, run the evaluator; the events and ticks."""
    server = localdb.embedded_server(tmp / "data")
    moto = consumer = None
    try:
        db = localdb.ensure_database(localdb.admin_url(tmp / "data"), "servicedesk_sla_latency")
        localdb.migrate(db)
        shape = Shape(args.tickets, args.tenants, False)
        at = datetime.fromisoformat(seed(db, shape)["at"])
        expected = shape.expected()
        crossings = sum(expected.values())
        moto, endpoint = aws.start_moto()
        aws.configure_environment(endpoint)
        queues = ensure_queues(prefix=f"latency-{uuid.uuid4().hex[:6]}")
        configure(db, tmp / "mail", queues)
        from servicedesk.platform import aws as appaws
        from servicedesk.platform import config

        config.get_settings.cache_clear()
        appaws.reset()
        consumer = PollerProcess(queues["email"], "email_consumer")
        consumer.start()
        start = shift(db, at, args.lead)
        print(
            f"• {crossings:,} crossings ({expected['breached']:,} breaches) fall between"
            f" {(start - timedelta(seconds=60)).time()} and {start.time()} UTC; evaluator every"
            f" {args.interval:g} s, one e-mail consumer, no sweeper",
            flush=True,
        )
        until = start + timedelta(seconds=1)
        ticks = evaluate_until_done(db, until, args.interval, args.timeout, crossings)
        with psycopg.connect(libpq(db.owner_url)) as conn:
            rows = conn.execute(EVENTS).fetchall()
        return rows, ticks, crossings
    finally:
        if consumer is not None:
            consumer.stop()
            consumer.join(timeout=10)
        if moto is not None:
            moto.terminate()
            moto.wait(timeout=10)
        server.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--tickets", type=int, default=4000)
    parser.add_argument("--interval", type=float, default=10, help="evaluator period, s")
    parser.add_argument("--lead", type=float, default=15, help="s before the first crossing")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()

    import servicedesk

    load = os.getloadavg()
    print(
        f"SLA latency benchmark: {os.cpu_count()} CPUs, load average {load[0]:.2f} at start;"
        f" code {Path(servicedesk.__file__).parent}",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="sla-latency-"))
    try:
        rows, ticks, crossings = measure(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    handled = [r for r in rows if r[4] is not None]
    breaches = [r for r in handled if r[0] == "sla.breached"]
    passes = [s for s, n in ticks if n]
    print(
        f"  events written {len(rows):,} (expected {crossings:,}), published by the evaluator"
        f" {sum(1 for r in rows if r[3] is not None):,}, handled by the e-mail consumer"
        f" {len(handled):,}; {len(ticks)} evaluator ticks, passes with crossings took"
        f" {', '.join(f'{s:.2f}' for s in passes)} s"
    )
    for label, subset in (("breaches", breaches), ("all crossings", handled)):
        crossed = [(r[4] - r[1]).total_seconds() for r in subset]
        written = [(r[4] - r[2]).total_seconds() for r in subset]
        print(f"  {label}: crossing -> handled {quantiles(crossed)}")
        print(f"  {label}: written -> handled {quantiles(written)}")
    print(f"  load average at the end {os.getloadavg()[0]:.2f}")
    print(json.dumps({"written": len(rows), "handled": len(handled), "expected": crossings}))
    return 0 if len(rows) >= crossings and len(handled) == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
