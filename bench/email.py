"""The e-mail intake: messages/s, and the time from receipt to a committed comment.

Sets up as `make dev` does (an embedded PostgreSQL, or DATABASE_URL; the emulator, or
AWS_ENDPOINT_URL; the intake queue and the mail and attachments buckets), seeds the demo
accounts, and opens ``--tickets`` tickets as ``employee@acme.example``. Every message is a
reply by that requester to one of them, to its signed reply address, deposited through
``mail.inbox.deposit`` (the raw message into the bucket, the SES-shaped notification on the
queue: what the local SMTP door and SES do), and taken by the real handler
(``functions/email_intake``) in batches of up to 10, as the event source mapping invokes
it; each becomes a comment.

Two phases:

* throughput: ``--messages`` replies deposited first, then the queue drained; messages/s
  is messages over the drain's wall time;
* latency: ``--latency-messages`` replies deposited one at a time every ``--interval``
  seconds while a poller thread takes them; for each, the time from the end of its
  deposit (receipt) to the return of the handler invocation that committed its comment
  (an upper bound: the invocation commits each message in turn and returns after the
  last of its batch).

    .venv/bin/python bench/email.py [--tickets 20] [--messages 300] [--latency-messages 100]

Prints the figures and the load average: the machine is shared, so compare figures of
the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, where this module's name
# would shadow the standard library's email package (http.client imports it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

REQUESTER = "employee@acme.example"


def _setup(workdir: Path) -> tuple[Any, Any, Any]:
    from local import aws, db
    from local.dev import _dev_signing_key
    from local.queues import CHANNELS, ensure_queues

    server = None if os.environ.get("DATABASE_URL") else db.embedded_server(workdir / "pg")
    database = db.ensure_database(
        db.admin_url(workdir / "pg"), f"bench_intake_{uuid.uuid4().hex[:6]}"
    )
    db.migrate(database)
    emulator = None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        emulator, endpoint = aws.start_moto()
        aws.configure_environment(endpoint)
    queues = ensure_queues(
        prefix=f"intake{uuid.uuid4().hex[:6]}", visibility_timeout=60, channels=CHANNELS
    )
    os.environ.update(
        {
            "SERVICEDESK_ENVIRONMENT": "dev",
            "SERVICEDESK_LOG_LEVEL": "INFO",  # as make dev: the log lines are part of the cost
            "SERVICEDESK_DATABASE_URL": database.app_url.render_as_string(False),
            "SERVICEDESK_MAIL_CATCHER_DIR": str(workdir / "mail"),
            "SERVICEDESK_WEB_ORIGIN": "http://127.0.0.1:8000",
            # Only the intake queue: what the comments emit stays in the outbox (the
            # consumers are measured by their own benchmarks).
            "SERVICEDESK_EMAIL_INTAKE_QUEUE_URL": queues["email_intake"].url,
        }
    )
    import local.dev

    local.dev.DATA = workdir
    os.environ["SERVICEDESK_JWT_PRIVATE_KEY"] = _dev_signing_key()
    from servicedesk.platform.config import get_settings

    aws.ensure_mail_bucket(get_settings().email_inbound_bucket)
    aws.ensure_bucket(get_settings().attachments_bucket, cors_origin=get_settings().web_origin)
    return server, emulator, queues["email_intake"]


def _tickets(count: int) -> tuple[list[tuple[uuid.UUID, str]], str]:
    """``count`` tickets of the demo requester; (id, number) each, and the tenant's slug."""
    from sqlalchemy import text

    from local.seed import seed
    from servicedesk.platform.config import get_settings
    from servicedesk.platform.db import get_engine, set_tenant, transaction
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext
    from servicedesk.tickets import service
    from servicedesk.tickets.schemas import TicketCreate

    seed(get_engine(), password=get_settings().demo_password.get_secret_value())
    with transaction() as session:
        tenant_id = session.execute(text("SELECT tenant_id_for_slug('acme')")).scalar_one()
        set_tenant(session, tenant_id=tenant_id, user_id=None)
        user_id = session.execute(
            text("SELECT id FROM users WHERE email = :e"), {"e": REQUESTER}
        ).scalar_one()
        # The bench sends far more than a person would: no rate limit here.
        session.execute(
            text(
                "UPDATE tenants SET settings = jsonb_set(settings, '{mail}',"
                " '{\"sender_max_messages\": 10000}') WHERE id = :t"
            ),
            {"t": tenant_id},
        )
    made = []
    for n in range(count):
        with transaction() as session:
            set_tenant(session, tenant_id=tenant_id, user_id=user_id)
            ctx = RequestContext(
                session=session, tenant_id=tenant_id, user_id=user_id, role=Role.REQUESTER
            )
            ticket = service.create(ctx, data=TicketCreate(title=f"Intake bench {n}"))
            made.append((ticket.id, ticket.number))
    return made, "acme"


def _reply(ticket: tuple[uuid.UUID, str], n: int) -> tuple[bytes, str]:
    from servicedesk.notifications.templates import reply_address
    from servicedesk.platform.config import get_settings

    to = reply_address(ticket[0], ticket[1], get_settings())
    assert to is not None
    raw = (
        f"From: Emma Employee <{REQUESTER}>\r\nTo: {to}\r\n"
        f"Subject: Re: [{ticket[1]}] Intake bench\r\n"
        f"Message-ID: <bench-{uuid.uuid4().hex}@customer.example>\r\n"
        "Date: Sat, 05 Dec 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Reply number {n}: the printer still jams after the new toner.\r\n\r\n"
        "On Sat, 5 Dec 2026, Servicedesk wrote:\r\n> We are looking into it.\r\n"
    ).encode()
    return raw, to


def _deposit(raw: bytes, to: str) -> str:
    from servicedesk.mail import inbox
    from servicedesk.platform.config import get_settings

    arrival = inbox.deposit(
        raw, door="smtp", mail_from=REQUESTER, recipients=[to], settings=get_settings()
    )
    return arrival.key


def _take(queue: Any, handler: Any, wait: int) -> list[tuple[str, float]]:
    """One receive -> invoke -> delete round; (object key, time the invocation returned)."""
    import json

    from local.queues import sqs_event
    from local.scheduler import LambdaContext
    from servicedesk.platform import aws

    sqs = aws.sqs()
    messages = sqs.receive_message(
        QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, AttributeNames=["All"]
    ).get("Messages", [])
    if not messages:
        return []
    result = handler(sqs_event(messages, queue.arn), LambdaContext("email_intake"))
    done_at = time.perf_counter()
    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
    if failed:
        raise RuntimeError(f"{len(failed)} intake records failed")
    sqs.delete_message_batch(
        QueueUrl=queue.url,
        Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
        ],
    )
    keys = []
    for m in messages:
        ses = json.loads(json.loads(m["Body"])["Message"])
        keys.append((ses["receipt"]["action"]["objectKey"], done_at))
    return keys


def _comments() -> int:
    from sqlalchemy import text

    from servicedesk.platform.db import set_tenant, transaction

    with transaction() as session:
        tenant_id = session.execute(text("SELECT tenant_id_for_slug('acme')")).scalar_one()
        set_tenant(session, tenant_id=tenant_id, user_id=None)
        return int(
            session.execute(
                text(
                    "SELECT count(*) FROM inbound_mail WHERE tenant_id = :t AND outcome = 'comment'"
                ),
                {"t": tenant_id},
            ).scalar_one()
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=20)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--latency-messages", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.2)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    server = emulator = None
    try:
        server, emulator, queue = _setup(workdir)
        from local.app import load_function

        handler = load_function("email_intake").handler
        tickets, _ = _tickets(args.tickets)

        # Throughput: a backlog, drained.
        for n in range(args.messages):
            _deposit(*_reply(tickets[n % len(tickets)], n))
        load_before = os.getloadavg()
        started = time.perf_counter()
        taken = 0
        while taken < args.messages:
            got = _take(queue, handler, wait=1)
            if not got:
                break
            taken += len(got)
        elapsed = time.perf_counter() - started
        print(
            f"throughput: {taken} messages in {elapsed:.1f} s = {taken / elapsed:.1f} msg/s"
            f" (load before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f})"
        )

        # Latency: steady arrivals, a poller taking them as they come.
        deposited: dict[str, float] = {}
        committed: dict[str, float] = {}
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set() or len(committed) < len(deposited):
                for key, at in _take(queue, handler, wait=1):
                    committed[key] = at

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        for n in range(args.latency_messages):
            raw, to = _reply(tickets[n % len(tickets)], args.messages + n)
            key = _deposit(raw, to)
            deposited[key] = time.perf_counter()
            time.sleep(args.interval)
        stop.set()
        poller.join(timeout=120)
        waits = sorted((committed[k] - deposited[k]) * 1000 for k in deposited if k in committed)
        p95 = waits[max(0, int(len(waits) * 0.95) - 1)]
        print(
            f"latency receipt -> committed comment ({len(waits)} messages, one every"
            f" {args.interval:.2f} s): p50 {statistics.median(waits):.0f} ms, p95 {p95:.0f} ms,"
            f" max {waits[-1]:.0f} ms (load {os.getloadavg()[0]:.1f})"
        )
        print(f"comments written: {_comments()} of {args.messages + args.latency_messages}")
    finally:
        if emulator is not None:
            emulator.terminate()
            emulator.wait(timeout=10)
        if server is not None:
            server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
