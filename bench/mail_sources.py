"""The other doors for inbound mail: provider-hook deliveries/s and IMAP messages/s.

Sets up as `make dev` does (an embedded PostgreSQL, or DATABASE_URL; the moto emulator, or
AWS_ENDPOINT_URL), with the mail bucket and an intake queue, seeds the demo accounts (no
desk) and gives tenant ``acme`` a generic hook and an IMAP mailbox. Then:

- *hook*: ``--messages`` signed raw messages (``--size`` bytes each) posted one after the
  other to ``POST /v1/hooks/email/generic/{id}`` through the ASGI app in this process
  (lookup, Secrets Manager through its cache, signature, receipt row, S3 put, SQS send,
  commit), then each once more (all duplicates); deliveries/s and the p50/p95 latency.
- *imap*: the same number of messages in a scripted IMAP4rev1 server on 127.0.0.1 over
  TLS (tests/imap_server.py), taken by ``mail.imap.poll_all`` in one run (batch size = the
  messages): messages/s from connect to the last ``\\Seen``.

    .venv/bin/python bench/mail_sources.py [--messages 300] [--size 6000]

Prints the figures and the load average: the machine is shared, so compare figures of the
same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup(workdir: Path, messages: int) -> tuple[Any, Any, str]:
    from local import aws, db
    from local.dev import _dev_signing_key

    server = None if os.environ.get("DATABASE_URL") else db.embedded_server(workdir / "pg")
    database = db.ensure_database(
        db.admin_url(workdir / "pg"), f"bench_doors_{uuid.uuid4().hex[:6]}"
    )
    db.migrate(database)
    emulator = None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        emulator, endpoint = aws.start_moto()
        aws.configure_environment(endpoint)
    import boto3

    bucket = f"bench-mail-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    queue = boto3.client("sqs").create_queue(QueueName=f"intake-{uuid.uuid4().hex[:8]}")
    os.environ.update(
        {
            "SERVICEDESK_ENVIRONMENT": "dev",
            "SERVICEDESK_LOG_LEVEL": "INFO",
            "SERVICEDESK_DATABASE_URL": database.app_url.render_as_string(False),
            "SERVICEDESK_EMAIL_INBOUND_BUCKET": bucket,
            "SERVICEDESK_EMAIL_INTAKE_QUEUE_URL": queue["QueueUrl"],
            "SERVICEDESK_MAIL_SECRET_PREFIX": f"servicedesk/bench-{uuid.uuid4().hex[:6]}/mail",
            "SERVICEDESK_IMAP_BATCH_SIZE": str(messages),
        }
    )
    import local.dev

    local.dev.DATA = workdir
    os.environ["SERVICEDESK_JWT_PRIVATE_KEY"] = _dev_signing_key()
    return server, emulator, queue["QueueUrl"]


def _message(n: int, size: int) -> bytes:
    body = ("The printer on floor 3 jams again. " * (size // 36 + 1))[:size]
    return (
        f"Return-Path: <ann{n}@customer.example>\r\nFrom: Ann <ann{n}@customer.example>\r\n"
        f"To: help@acme.example\r\nSubject: printer {n}\r\n"
        f"Message-ID: <bench-{n}-{uuid.uuid4().hex}@customer.example>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def _context() -> tuple[Any, Any]:
    from sqlalchemy import text

    from local.seed import seed
    from servicedesk.platform.config import get_settings
    from servicedesk.platform.db import get_engine, transaction

    seed(get_engine(), password=get_settings().demo_password.get_secret_value(), demo=False)
    with transaction() as session:
        tenant_id = session.execute(text("SELECT tenant_id_for_slug('acme')")).scalar_one()
        from servicedesk.platform.db import set_tenant

        set_tenant(session, tenant_id=tenant_id, user_id=None)
        user_id = session.execute(
            text("SELECT id FROM users WHERE email = 'admin@acme.example'")
        ).scalar_one()
    return tenant_id, user_id


def _admin(tenant_id: Any, user_id: Any, work: Any) -> Any:
    from servicedesk.platform.db import set_tenant, transaction
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext

    with transaction() as session:
        set_tenant(session, tenant_id=tenant_id, user_id=user_id)
        return work(RequestContext(session, tenant_id, user_id, Role.ADMIN))


def _hooks(tenant_id: Any, user_id: Any, raws: list[bytes]) -> tuple[float, list[float], float]:
    from fastapi.testclient import TestClient

    from local.app import build_app
    from servicedesk.mail import hooks
    from servicedesk.mail.source_schemas import MailHookCreate
    from servicedesk.webhooks import signing

    hook, secret = _admin(
        tenant_id,
        user_id,
        lambda ctx: hooks.create_hook(ctx, data=MailHookCreate(provider="generic", name="b")),
    )
    path = hooks.path(hook)
    latencies: list[float] = []
    with TestClient(build_app()) as client:

        def post(raw: bytes) -> str:
            header = signing.sign([secret], int(time.time()), raw)
            answer = client.post(
                path,
                content=raw,
                headers={"Content-Type": "message/rfc822", signing.SIGNATURE_HEADER: header},
            )
            assert answer.status_code == 202, answer.text
            return str(answer.json()["status"])

        post(_message(-1, 100))  # warm: the app, the secret's cache, the clients
        started = time.perf_counter()
        for raw in raws:
            one = time.perf_counter()
            assert post(raw) == "accepted"
            latencies.append(time.perf_counter() - one)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        for raw in raws:
            assert post(raw) == "duplicate"
        duplicates = time.perf_counter() - started
    return seconds, latencies, duplicates


def _imap(tenant_id: Any, user_id: Any, raws: list[bytes], workdir: Path) -> float:
    from servicedesk.mail import imap, mailboxes
    from servicedesk.mail.source_schemas import MailboxCreate
    from tests.imap_server import ImapServer, Store, make_pki

    pki = make_pki(workdir / "pki")
    os.environ["SERVICEDESK_IMAP_CA_FILE"] = str(pki.ca_file)
    from servicedesk.platform.config import get_settings

    get_settings.cache_clear()
    store = Store(username="desk@acme.example", password="bench-password-1")
    for raw in raws:
        store.add(raw)
    with ImapServer(store, pki) as server:
        _admin(
            tenant_id,
            user_id,
            lambda ctx: mailboxes.create_mailbox(
                ctx,
                data=MailboxCreate(
                    name="bench",
                    host="localhost",
                    port=server.port,
                    username=store.username,
                    password=store.password,
                ),
            ),
        )
        started = time.perf_counter()
        report = imap.poll_all(budget=None)
        seconds = time.perf_counter() - started
    assert report["taken"] == len(raws), report
    assert all(m.seen for m in store.messages)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--size", type=int, default=6000, help="body bytes per message")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-doors-"))
    server, emulator, _ = _setup(workdir, args.messages)
    try:
        tenant_id, user_id = _context()
        raws = [_message(n, args.size) for n in range(args.messages)]
        load = os.getloadavg()[0]
        seconds, latencies, duplicates = _hooks(tenant_id, user_id, raws)
        cuts = statistics.quantiles(latencies, n=20)
        print(
            f"hook: {args.messages} deliveries of {len(raws[0])} bytes in {seconds:.1f} s:"
            f" {args.messages / seconds:.1f}/s, p50 {statistics.median(latencies) * 1000:.0f} ms,"
            f" p95 {cuts[18] * 1000:.0f} ms; the same again (duplicates):"
            f" {args.messages / duplicates:.1f}/s; load {load:.1f} -> {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        load = os.getloadavg()[0]
        imap_raws = [_message(n, args.size) for n in range(args.messages)]
        taken = _imap(tenant_id, user_id, imap_raws, workdir)
        print(
            f"imap: {args.messages} messages taken in one poll in {taken:.1f} s:"
            f" {args.messages / taken:.1f}/s; load {load:.1f} -> {os.getloadavg()[0]:.1f}",
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
