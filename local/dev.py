"""`make dev`: embedded Postgres, migrations, demo data, moto server, and the API.

Ctrl-C (or SIGTERM) stops everything this started. Data lives under .data/ and is reused
next time: the database, and the emulator's S3 objects and SQS messages (.data/aws/, written
through before each answer, so they survive even a SIGKILL; see local/emulator.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from local.serve import uvicorn_command

ROOT = Path(__file__).resolve().parent.parent
# SERVICEDESK_LOCAL_DATA: another data directory (bench/soak.py runs a fresh one).
DATA = Path(os.environ.get("SERVICEDESK_LOCAL_DATA") or ROOT / ".data")
# Poller processes per queue (PollerProcess): the e-mail consumer does the most work per
# ticket (2 events, a mail per recipient), so it gets more: with 2 the e-mail queue still
# grew under bench/soak.py on 2 shared cores, with 3 it stays empty (docs/benchmarks.md).
POLLERS = {
    "email": 3,
    "webhook": 1,
    "realtime": 1,
    "knowledge": 1,
    "reports": 1,
    "exports": 1,
    "automation": 1,
    "integrations": 1,
    "email_intake": 1,
}


def _dev_signing_key() -> str:
    """A stable local Ed25519 key under .data/, so tokens survive a restart."""
    path = DATA / "dev-jwt-ed25519.pem"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    return path.read_text()


def _start_database() -> Any:
    from local import db

    print("• starting PostgreSQL …", flush=True)
    database = db.ensure_database(db.admin_url(DATA / "postgres"), "servicedesk")
    print("• applying migrations …", flush=True)
    db.migrate(database)
    return database


def _start_aws() -> tuple[subprocess.Popen[bytes] | None, str, dict[str, Any]]:
    """The emulator (unless AWS_ENDPOINT_URL points elsewhere) and the queues, each with a
    DLQ; a channel is published to only when its consumer function exists."""
    from local import aws
    from local.queues import CHANNELS, CONSUMERS, ensure_queues

    moto = None
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        print("• starting the AWS emulator (moto, state in .data/aws) …", flush=True)
        moto, endpoint = aws.start_moto(data=DATA / "aws")
    aws.configure_environment(endpoint)
    queues = {
        channel: queue
        for channel, queue in ensure_queues(channels=CHANNELS).items()
        if (ROOT / "functions" / CONSUMERS[channel] / "handler.py").exists()
    }
    for channel, queue in queues.items():
        os.environ[f"SERVICEDESK_{channel.upper()}_QUEUE_URL"] = queue.url
    return moto, endpoint, queues


def _configure(database: Any, port: int) -> None:
    os.environ.setdefault("SERVICEDESK_ENVIRONMENT", "dev")
    os.environ["SERVICEDESK_DATABASE_URL"] = database.app_url.render_as_string(False)
    os.environ["SERVICEDESK_MIGRATION_DATABASE_URL"] = database.owner_url.render_as_string(False)
    os.environ.setdefault("SERVICEDESK_JWT_PRIVATE_KEY", _dev_signing_key())
    os.environ.setdefault("SERVICEDESK_WEB_ORIGIN", f"http://127.0.0.1:{port}")
    # WebSocket handshakes are checked against the web app's origins: the same server by
    # its other name, and `npm run dev` (Vite, port 5173), whose proxy keeps the Origin.
    os.environ.setdefault(
        "SERVICEDESK_WEB_EXTRA_ORIGINS",
        f"http://localhost:{port},http://127.0.0.1:5173,http://localhost:5173",
    )
    os.environ.setdefault("SERVICEDESK_MAIL_CATCHER_DIR", str(DATA / "mail"))
    # The broadcaster posts to the local gateway's @connections (local/ws.py) as to AWS.
    os.environ.setdefault("SERVICEDESK_WEBSOCKET_MANAGEMENT_URL", f"http://127.0.0.1:{port}")


def _seed_and_greet(port: int, endpoint: str) -> None:
    from local.seed import TENANTS, demo_accounts, demo_wanted, seed
    from servicedesk.platform.config import get_settings
    from servicedesk.platform.db import get_engine

    password = get_settings().demo_password.get_secret_value()
    # A desk with history unless `--empty` or SERVICEDESK_DEMO_DATA=0 (README, Demo data).
    seed(get_engine(), password=password, demo=demo_wanted(sys.argv[1:]))
    get_engine().dispose()
    print(f"\nServicedesk is running: http://127.0.0.1:{port}  (API docs: /docs)")
    print(f"WebSocket: ws://127.0.0.1:{port}/ws  (protocol: docs/api.md, Realtime)")
    print(f"AWS emulator: {endpoint}; caught e-mail: {os.environ['SERVICEDESK_MAIL_CATCHER_DIR']}")
    print(f"Caught e-mail in the app: http://127.0.0.1:{port}/dev/mail")
    print(f"Demo tenants: {', '.join(slug for slug, _ in TENANTS)}; password: {password}")
    for email, role, slug in demo_accounts():
        print(f"  {email:28} {role:10} tenant={slug}")


def _pollers(channel: str) -> int:
    """SERVICEDESK_LOCAL_<CHANNEL>_POLLERS, else POLLERS."""
    return int(os.environ.get(f"SERVICEDESK_LOCAL_{channel.upper()}_POLLERS", POLLERS[channel]))


def _workers(queues: dict[str, Any]) -> list[Any]:
    """What EventBridge Scheduler and the SQS event source mappings do in AWS: the
    schedules tick in threads of this process, the queues are polled by processes of their
    own (local.queues.PollerProcess)."""
    from local.queues import CONSUMERS, PollerProcess
    from local.scheduler import Ticker

    sla_seconds = float(os.environ.get("SLA_TICK_SECONDS", "30"))
    workers: list[Any] = [
        Ticker("sla_evaluator", "eventbridge_scheduled_sla", sla_seconds),
        Ticker("outbox_sweeper", "eventbridge_scheduled_outbox_sweeper", 60.0),
        Ticker("attachment_cleanup", "eventbridge_scheduled_attachment_cleanup", 300.0),
        # Scheduled reports due, and exports past their retention (every 5 minutes in AWS).
        Ticker("report_scheduler", "eventbridge_scheduled_report_scheduler", 60.0),
        Ticker("csat_sender", "eventbridge_scheduled_csat_sender", 60.0),
        # Automation time rules (every 5 minutes in AWS).
        Ticker("automation_scheduler", "eventbridge_scheduled_automation_scheduler", 60.0),
        Ticker("kb_retention", "eventbridge_scheduled_kb_retention", 3600.0),
        Ticker("cmdb_discovery", "eventbridge_scheduled_cmdb_discovery", 60.0),
        # Tenants' IMAP mailboxes (admin → Mail sources), every minute rather than five.
        Ticker("email_imap_poller", "eventbridge_scheduled_imap_poll", 60.0),
    ]
    if "realtime" in queues:  # the broadcaster also sweeps expired WebSocket connections
        workers.append(Ticker("realtime_consumer", "eventbridge_scheduled_realtime_sweep", 60.0))
    workers += [
        PollerProcess(queue, CONSUMERS[channel], number=n)
        for channel, queue in queues.items()
        for n in range(_pollers(channel))
    ]
    return workers


def _stop_on_sigterm() -> None:
    """SIGTERM stops `make dev` the way Ctrl-C does (the finally block runs)."""

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main() -> None:
    DATA.mkdir(exist_ok=True)
    _stop_on_sigterm()
    port = int(os.environ.get("PORT", "8000"))
    database = _start_database()
    moto, endpoint, queues = _start_aws()
    _configure(database, port)
    from local import aws
    from servicedesk.platform.config import get_settings

    aws.ensure_bucket(get_settings().attachments_bucket, cors_origin=get_settings().web_origin)
    aws.ensure_bucket(get_settings().exports_bucket, cors_origin=get_settings().web_origin)
    aws.ensure_mail_bucket(get_settings().email_inbound_bucket)
    _seed_and_greet(port, endpoint)
    workers = _workers(queues)
    for worker in workers:
        worker.start()
    from local import smtp

    mail_door = smtp.server()
    mail_door.start()
    print(
        f"SMTP for inbound mail: 127.0.0.1:{mail_door.port} (mail to"
        f" <tenant slug>@{get_settings().email_inbound_domain})",
        flush=True,
    )
    print("Ctrl-C stops everything.\n", flush=True)
    try:
        # The server dies with this process, even if it is killed (no orphan on the port).
        subprocess.run(uvicorn_command(port), cwd=ROOT, check=False, preexec_fn=aws.die_with_parent)
    except KeyboardInterrupt:
        pass
    finally:
        mail_door.stop()
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.join(timeout=5)  # a poll in flight ends before the emulator goes
        if moto is not None:
            moto.terminate()
            moto.wait(timeout=10)
        if not os.environ.get("DATABASE_URL"):
            import pgserver

            pgserver.get_server(DATA / "postgres").cleanup()
        print("stopped.")


if __name__ == "__main__":
    main()
