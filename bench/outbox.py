"""Outbox delivery: commit → SQS publish latency, and sweeper throughput.

Runs against its own embedded PostgreSQL (or DATABASE_URL) and a moto server on
127.0.0.1 (or AWS_ENDPOINT_URL), as the application role, through the same code the
requests and the sweeper Lambda run (`platform.publisher`).

    .venv/bin/python bench/outbox.py [--events 500] [--backlog 10000] [--tenants 10]

Targets on the reference machine: publish p95 ≤ 50 ms; sweeper ≥ 2,000 messages/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> None:  # noqa: PLR0915 - a linear script, read top to bottom
    parser = argparse.ArgumentParser(description="outbox publish latency and sweeper throughput")
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=10)
    args = parser.parse_args()

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from local import aws, db
    from local.queues import ensure_queues

    workdir = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    server = None if os.environ.get("DATABASE_URL") else db.embedded_server(workdir / "pg")
    admin = db.admin_url(workdir / "pg")
    database = db.ensure_database(admin, f"bench_outbox_{uuid.uuid4().hex[:6]}")
    db.migrate(database)
    moto = None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        moto, endpoint = aws.start_moto()
        aws.configure_environment(endpoint)
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
    from sqlalchemy import text

    from servicedesk.platform import outbox, publisher
    from servicedesk.platform.db import set_tenant, transaction

    tenants = [uuid.uuid4() for _ in range(args.tenants)]
    for tenant in tenants:
        with transaction() as session:
            set_tenant(session, tenant_id=tenant, user_id=None)
            session.execute(
                text("INSERT INTO tenants (id, slug, name) VALUES (:i, :s, 'Bench')"),
                {"i": tenant, "s": f"b-{tenant.hex[:10]}"},
            )

    # 1. commit → published: what a request adds after its commit.
    latencies: list[float] = []
    for n in range(args.events):
        tenant = tenants[n % len(tenants)]
        with transaction() as session:
            set_tenant(session, tenant_id=tenant, user_id=None)
            event_id = outbox.emit(
                session,
                tenant_id=tenant,
                event_type="ticket.created",
                aggregate_type="ticket",
                aggregate_id=str(n),
                payload={"ticket_id": str(n), "number": f"TCK-{n}"},
            )
        started = time.perf_counter()
        publisher.publish_committed(tenant, [event_id])
        latencies.append((time.perf_counter() - started) * 1000)

    # 2. sweeper: a backlog left unpublished (as after an outage), swept in one pass.
    per_tenant = args.backlog // len(tenants)
    for tenant in tenants:
        with transaction() as session:
            set_tenant(session, tenant_id=tenant, user_id=None)
            session.execute(
                text(
                    "INSERT INTO outbox (tenant_id, event_type, aggregate_type, aggregate_id,"
                    " payload, created_at) SELECT :t, 'ticket.created', 'ticket', g::text,"
                    " jsonb_build_object('ticket_id', g::text), now() - interval '1 hour'"
                    " FROM generate_series(1, :n) g"
                ),
                {"t": tenant, "n": per_tenant},
            )
    started = time.perf_counter()
    swept = 0
    while True:
        done = publisher.sweep()
        swept += done
        if done == 0:
            break
    elapsed = time.perf_counter() - started
    messages = swept * len(publisher.channels_for("ticket.created"))

    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    print(f"publish after commit ({args.events} events, 3 channels each):")
    print(
        f"  p50 {statistics.median(latencies):.1f} ms   p95 {_percentile(latencies, 95):.1f} ms"
        f"   p99 {_percentile(latencies, 99):.1f} ms   (target p95 ≤ 50 ms)"
    )
    print(
        f"sweeper: {swept} rows → {messages} messages in {elapsed:.2f} s:"
        f" {swept / elapsed:,.0f} rows/s, {messages / elapsed:,.0f} messages/s"
        " (target ≥ 2,000 messages/s)"
    )
    if moto is not None:
        moto.terminate()
    if server is not None:
        server.cleanup()


if __name__ == "__main__":
    main()
