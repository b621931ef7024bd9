"""The e-mail consumer alone: messages/s and e-mails/s on the events ticket creates make.

Sets up as `make dev` does (an embedded PostgreSQL, or DATABASE_URL; the emulator, or
AWS_ENDPOINT_URL; the mail catcher in a temporary directory), seeds the demo accounts
(no desk), then creates ``--tickets`` tickets as ``employee@acme.example`` through the
tickets service and publishes their outbox rows to the queues as a request does. Each
create puts two events on the e-mail queue: ``ticket.created`` (to the triage audience:
Acme's manager and two agents, in-app and by mail) and ``ticket.received`` (the
requester's acknowledgement, by mail). Then the e-mail queue is drained by the real
handler (``functions/email_consumer``), either here with ``local.queues.poll_once``
(``--processes 0``: with ``--profile``, cProfile's top functions; always the SQL
statements per message) or by that many ``local.queues.PollerProcess`` as `make dev` runs
them, until the queue is empty.

    .venv/bin/python bench/email_consumer.py [--tickets 300] [--processes 0] [--profile]

Prints messages/s, e-mails caught per second, statements per message and the load
average: the machine is shared, so compare figures of the same run.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REQUESTER = "employee@acme.example"


def _setup(workdir: Path, visibility_timeout: int) -> tuple[Any, Any, Any]:
    """Database, emulator, queues and settings; (embedded server, emulator, queues)."""
    from local import aws, db
    from local.dev import _dev_signing_key
    from local.queues import ensure_queues

    server = None if os.environ.get("DATABASE_URL") else db.embedded_server(workdir / "pg")
    database = db.ensure_database(
        db.admin_url(workdir / "pg"), f"bench_mail_{uuid.uuid4().hex[:6]}"
    )
    db.migrate(database)
    emulator = None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        emulator, endpoint = aws.start_moto()
        aws.configure_environment(endpoint)
    queues = ensure_queues(
        prefix=f"mail{uuid.uuid4().hex[:6]}", visibility_timeout=visibility_timeout
    )
    os.environ.update(
        {
            "SERVICEDESK_ENVIRONMENT": "dev",
            "SERVICEDESK_LOG_LEVEL": "INFO",  # as make dev: the log lines are part of the cost
            "SERVICEDESK_DATABASE_URL": database.app_url.render_as_string(False),
            "SERVICEDESK_MAIL_CATCHER_DIR": str(workdir / "mail"),
            "SERVICEDESK_WEB_ORIGIN": "http://127.0.0.1:8000",
            **{f"SERVICEDESK_{c.upper()}_QUEUE_URL": q.url for c, q in queues.items()},
        }
    )
    import local.dev

    local.dev.DATA = workdir  # the dev signing key is written there, not under .data/
    os.environ["SERVICEDESK_JWT_PRIVATE_KEY"] = _dev_signing_key()
    return server, emulator, queues


def _produce(tickets: int) -> None:
    """Tickets created as the requester, their events published as a request does."""
    from sqlalchemy import text

    from local.seed import seed
    from servicedesk.platform.config import get_settings
    from servicedesk.platform.db import get_engine, set_tenant, transaction
    from servicedesk.platform.publisher import publish_committed
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
    for n in range(tickets):
        with transaction() as session:
            set_tenant(session, tenant_id=tenant_id, user_id=user_id)
            ctx = RequestContext(
                session=session, tenant_id=tenant_id, user_id=user_id, role=Role.REQUESTER
            )
            service.create(
                ctx,
                data=TicketCreate(
                    title=f"Bench ticket {n}: the printer on floor {n % 7} jams",
                    description="Paper jams on every second page since this morning.",
                ),
            )
        publish_committed(tenant_id, list(session.info.get("outbox_ids") or []))


def _depth(url: str) -> int:
    from servicedesk.platform import aws

    attributes = aws.sqs().get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _drain_here(queue: Any, profile: bool) -> tuple[int, int, float, int]:
    """(messages, failed, seconds, SQL statements) draining the queue in this process."""
    from sqlalchemy import event

    from local.app import load_function
    from local.queues import poll_once
    from servicedesk.platform.db import get_engine

    handler = load_function("email_consumer").lambda_handler
    statements: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements[" ".join(statement.split())[:90]] += 1

    event.listen(get_engine(), "before_cursor_execute", count)
    profiler = cProfile.Profile() if profile else None
    messages = failed = 0
    started, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    while True:
        done, bad = poll_once(queue, handler)
        if not done and not bad:
            break
        messages, failed = messages + done, failed + bad
    if profiler is not None:
        profiler.disable()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"consumer CPU (this process): {1000 * cpu / max(messages, 1):.1f} ms/msg", flush=True)
    event.remove(get_engine(), "before_cursor_execute", count)
    if profiler is not None:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
    for statement, times in statements.most_common(25):
        print(f"{times / max(messages, 1):6.2f}/msg  {statement}")
    return messages, failed, seconds, sum(statements.values())


def _drain_processes(queue: Any, processes: int, expected: int) -> tuple[int, float]:
    """(messages, seconds) for `processes` PollerProcess to empty the queue."""
    from local.queues import PollerProcess

    pollers = [PollerProcess(queue, "email_consumer", number=n) for n in range(processes)]
    started = time.perf_counter()
    for poller in pollers:
        poller.start()
    try:
        while _depth(queue.url) > 0:
            time.sleep(0.2)
        seconds = time.perf_counter() - started
    finally:
        for poller in pollers:
            poller.stop()
        for poller in pollers:
            poller.join(timeout=30)
    return expected, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--processes", type=int, default=0, help="0: drain in this process")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    server, emulator, queues = _setup(workdir, visibility_timeout=60 if args.processes else 30)
    try:
        started = time.perf_counter()
        _produce(args.tickets)
        made = time.perf_counter() - started
        queue = queues["email"]
        waiting = _depth(queue.url)
        print(
            f"{args.tickets} tickets created and published in {made:.1f} s"
            f" ({args.tickets / made:.1f}/s in this one thread); {waiting} e-mail messages",
            flush=True,
        )
        # Pollers started by PollerProcess run from ROOT: the code of this tree.
        os.environ["PYTHONPATH"] = str(ROOT / "layers" / "core" / "python")
        load_before = os.getloadavg()[0]
        if args.processes:
            messages, seconds = _drain_processes(queue, args.processes, waiting)
            failed, statements = 0, 0
        else:
            messages, failed, seconds, statements = _drain_here(queue, args.profile)
        caught = len(list((workdir / "mail").glob("*.eml")))
        print(
            f"drained {messages} messages ({failed} failed) with"
            f" {args.processes or 'this'} process(es) in {seconds:.1f} s:"
            f" {messages / seconds:.1f} msg/s, {caught / seconds:.1f} e-mails/s ({caught} caught)"
            + (f", {statements / max(messages, 1):.1f} statements/msg" if statements else "")
            + f"; load {load_before:.1f} -> {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    finally:
        if emulator is not None:
            emulator.kill()
            emulator.wait()
        from servicedesk.platform.db import get_engine

        get_engine().dispose()
        if server is not None:
            server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
