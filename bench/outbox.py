"""Outbox delivery: commit → SQS publish latency, and sweeper throughput.

Runs against its own embedded PostgreSQL (or DATABASE_URL) and an SQS endpoint on
127.0.0.1: the moto emulator of `make dev` (`--endpoint moto`, the default), LocalStack
from `.localstack` (`--endpoint localstack`, `make localstack`), or AWS_ENDPOINT_URL if set
and no `--endpoint` is given; as the application role, through the same code the requests
and the sweeper Lambda run (`platform.publisher`).

    .venv/bin/python bench/outbox.py [--endpoint moto|localstack] [--events 500]
        [--backlog 5000] [--tenants 10] [--profile]

Besides the sweep itself it measures what bounds it:

- the sweeping process's own CPU time and its time in PostgreSQL, per message;
- the SQS endpoint alone: the same messages, in the same SendMessageBatch calls with the
  same concurrency, sent to fresh queues with no database at all. Against moto this is
  the ceiling: no sweeper can publish faster than the emulator accepts messages. moto's
  SendMessage scans the whole queue (its cost grows with the messages already there), so
  the same calls are also timed spread over many queues of ≤ 50 messages: its best case.

Targets on the reference machine: publish p95 ≤ 50 ms; sweeper ≥ 2,000 messages/s, and
≥ 0.8 of the endpoint-alone rate measured in the same run.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EVENT_TYPE = "ticket.created"
# Messages per queue in the emulator's best case (its SendMessage cost grows with depth).
SHALLOW = 50


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


@dataclass
class SweepRun:
    rows: int
    messages: int
    seconds: float
    cpu_seconds: float
    db_seconds: float


class Endpoint:
    """The SQS endpoint of the run, started here unless AWS_ENDPOINT_URL names one."""

    def __init__(self, kind: str | None) -> None:
        from local import aws, localstack

        self.kind = kind or ("env" if os.environ.get("AWS_ENDPOINT_URL") else "moto")
        self.stop: Any = None
        if self.kind == "moto":
            process, url = aws.start_moto()
            self.stop = process.terminate
        elif self.kind == "localstack":
            stack = localstack.start()
            url, self.stop = stack.url, stack.stop
            os.environ.update(localstack.CREDENTIALS)  # what it checks signatures with
        else:
            return
        aws.configure_environment(url)


def _setup(endpoint: str | None) -> tuple[Any, Endpoint]:
    """Database, SQS endpoint, queues and settings; (embedded server, endpoint)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from local import db
    from local.queues import ensure_queues

    workdir = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    server = None if os.environ.get("DATABASE_URL") else db.embedded_server(workdir / "pg")
    admin = db.admin_url(workdir / "pg")
    database = db.ensure_database(admin, f"bench_outbox_{uuid.uuid4().hex[:6]}")
    db.migrate(database)
    sqs = Endpoint(endpoint)
    queues = ensure_queues(prefix=f"bench{uuid.uuid4().hex[:6]}")
    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    os.environ.update(
        {
            "SERVICEDESK_ENVIRONMENT": "test",
            "SERVICEDESK_JWT_PRIVATE_KEY": pem,
            "SERVICEDESK_LOG_LEVEL": "ERROR",
            "SERVICEDESK_DATABASE_URL": database.app_url.render_as_string(False),
            "SERVICEDESK_OUTBOX_GRACE_SECONDS": "1",
            "SERVICEDESK_OUTBOX_SWEEP_BATCH": "1000",
            **{f"SERVICEDESK_{c.upper()}_QUEUE_URL": q.url for c, q in queues.items()},
        }
    )
    return server, sqs


def _tenants(count: int) -> list[uuid.UUID]:
    from sqlalchemy import text

    from servicedesk.platform.db import set_tenant, transaction

    tenants = [uuid.uuid4() for _ in range(count)]
    for tenant in tenants:
        with transaction() as session:
            set_tenant(session, tenant_id=tenant, user_id=None)
            session.execute(
                text("INSERT INTO tenants (id, slug, name) VALUES (:i, :s, 'Bench')"),
                {"i": tenant, "s": f"b-{tenant.hex[:10]}"},
            )
    return tenants


def measure_publish(tenants: list[uuid.UUID], events: int) -> list[float]:
    """commit → published: what a request adds after its commit, in ms."""
    from servicedesk.platform import outbox, publisher
    from servicedesk.platform.db import set_tenant, transaction

    latencies: list[float] = []
    for n in range(events):
        tenant = tenants[n % len(tenants)]
        with transaction() as session:
            set_tenant(session, tenant_id=tenant, user_id=None)
            event_id = outbox.emit(
                session,
                tenant_id=tenant,
                event_type=EVENT_TYPE,
                aggregate_type="ticket",
                aggregate_id=str(n),
                payload={"ticket_id": str(n), "number": f"TCK-{n}"},
            )
        started = time.perf_counter()
        publisher.publish_committed(tenant, [event_id])
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _backlog(tenants: list[uuid.UUID], rows: int) -> None:
    """Rows left unpublished as after an outage: an hour old, one millisecond apart."""
    from sqlalchemy import text

    from servicedesk.platform.db import set_tenant, transaction

    for tenant in tenants:
        with transaction() as session:
            set_tenant(session, tenant_id=tenant, user_id=None)
            session.execute(
                text(
                    "INSERT INTO outbox (tenant_id, event_type, aggregate_type, aggregate_id,"
                    " payload, created_at) SELECT :t, :e, 'ticket', g::text,"
                    " jsonb_build_object('ticket_id', g::text, 'number', 'TCK-' || g),"
                    " now() - interval '1 hour' + g * interval '1 millisecond'"
                    " FROM generate_series(1, :n) g"
                ),
                {"t": tenant, "e": EVENT_TYPE, "n": rows // len(tenants)},
            )


def _fresh_queues() -> None:
    """Empty queues for the sweep, as the endpoint-alone run gets: moto's SendMessage costs
    grow with the number of messages already in the queue, so both start from zero."""
    from local.queues import ensure_queues
    from servicedesk.platform.config import get_settings

    queues = ensure_queues(prefix=f"sweep{uuid.uuid4().hex[:6]}")
    os.environ.update({f"SERVICEDESK_{c.upper()}_QUEUE_URL": q.url for c, q in queues.items()})
    get_settings.cache_clear()


def measure_sweep(profile: bool) -> SweepRun:
    from sqlalchemy import event

    from servicedesk.platform import publisher
    from servicedesk.platform.db import get_engine

    _fresh_queues()

    in_db = [0.0]
    started_at: dict[int, float] = {}

    def before(conn: Any, cursor: Any, *_: Any) -> None:
        started_at[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, *_: Any) -> None:
        in_db[0] += time.perf_counter() - started_at.pop(id(cursor), time.perf_counter())

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    profiler = cProfile.Profile() if profile else None
    cpu, started = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    rows = 0
    while done := publisher.sweep():
        rows += done
    if profiler is not None:
        profiler.disable()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    messages = rows * len(publisher.channels_for(EVENT_TYPE))
    return SweepRun(rows, messages, seconds, cpu, in_db[0])


def measure_endpoint(rows: int, *, spread: int | None = None) -> tuple[int, float]:
    """The same messages straight to fresh queues: same batches, same concurrency, no
    database. With `spread`, each queue takes at most that many messages (more queues):
    the emulator's best case. (messages, seconds)."""
    import json

    from local.queues import ensure_queues
    from servicedesk.platform import aws, publisher

    tenant = uuid.uuid4()
    entries = [
        publisher._Entry(
            uuid.uuid4(),
            EVENT_TYPE,
            json.dumps(
                publisher.message(
                    SimpleNamespace(
                        id=uuid.uuid4(),
                        seq=n,
                        tenant_id=tenant,
                        event_type=EVENT_TYPE,
                        aggregate_type="ticket",
                        aggregate_id=str(n),
                        payload={"ticket_id": str(n), "number": f"TCK-{n}"},
                        created_at=datetime.now(UTC),
                    )
                ),
                default=str,
            ),
        )
        for n in range(rows)
    ]
    channels = publisher.channels_for(EVENT_TYPE)
    batches = list(publisher.batches(entries))
    per_queue = len(batches) if spread is None else max(1, spread // publisher.BATCH_ENTRIES)
    calls = []
    for start in range(0, len(batches), per_queue):
        queues = ensure_queues(prefix=f"ceil{uuid.uuid4().hex[:6]}")
        calls += [(queues[c].url, b) for c in channels for b in batches[start : start + per_queue]]
    aws.sqs()
    started = time.perf_counter()
    for future in [publisher._pool().submit(publisher._send_batch, u, b) for u, b in calls]:
        future.result()
    return rows * len(channels), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description="outbox publish latency and sweeper throughput")
    parser.add_argument(
        "--endpoint",
        choices=("moto", "localstack"),
        help="the SQS endpoint to start (default: AWS_ENDPOINT_URL if set, else moto)",
    )
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--backlog", type=int, default=5_000)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="cProfile the sweep")
    args = parser.parse_args()

    server, endpoint = _setup(args.endpoint)
    shallow_seconds = None
    try:
        tenants = _tenants(args.tenants)
        latencies = measure_publish(tenants, args.events)
        _backlog(tenants, args.backlog)
        sweep = measure_sweep(args.profile)
        endpoint_messages, endpoint_seconds = measure_endpoint(sweep.rows)
        if endpoint.kind == "moto":  # only moto's send cost grows with queue depth
            _, shallow_seconds = measure_endpoint(sweep.rows, spread=SHALLOW)
    finally:
        if endpoint.stop is not None:
            endpoint.stop()
        if server is not None:
            server.cleanup()

    rate = sweep.messages / sweep.seconds
    ceiling = endpoint_messages / endpoint_seconds
    per_message_us = 1e6 / sweep.messages if sweep.messages else 0.0
    print(
        f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]};"
        f" SQS endpoint: {endpoint.kind}; load average {os.getloadavg()[0]:.2f} at the end"
    )
    print(f"publish after commit ({args.events} events, 3 channels each):")
    print(
        f"  p50 {statistics.median(latencies):.1f} ms   p95 {_percentile(latencies, 95):.1f} ms"
        f"   p99 {_percentile(latencies, 99):.1f} ms   (target p95 ≤ 50 ms)"
    )
    print(
        f"sweeper: {sweep.rows} rows ({args.tenants} tenants) → {sweep.messages} messages"
        f" in {sweep.seconds:.2f} s: {sweep.rows / sweep.seconds:,.0f} rows/s,"
        f" {rate:,.0f} messages/s (target ≥ 2,000 messages/s)"
    )
    print(
        f"  sweeper process CPU {sweep.cpu_seconds * per_message_us:,.0f} µs/message,"
        f" PostgreSQL {sweep.db_seconds * per_message_us:,.0f} µs/message"
        f" ({sweep.db_seconds:.2f} s of {sweep.seconds:.2f} s)"
    )
    print(
        f"SQS endpoint alone, same {endpoint_messages} messages and calls, no database:"
        f" {endpoint_seconds:.2f} s = {ceiling:,.0f} messages/s"
    )
    print(f"ratio sweeper / endpoint alone: {rate / ceiling:.2f} (target ≥ 0.8)")
    if shallow_seconds is not None:
        print(
            f"  the same spread over fresh queues of ≤ {SHALLOW} messages each:"
            f" {endpoint_messages / shallow_seconds:,.0f} messages/s"
        )


if __name__ == "__main__":
    main()
