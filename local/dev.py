"""`make dev`: embedded Postgres, migrations, demo data, moto server, and the API.

Ctrl-C stops everything this started. Data lives under .data/ and is reused next time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"


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


def main() -> None:
    DATA.mkdir(exist_ok=True)
    from local import aws, db

    print("• starting PostgreSQL …", flush=True)
    admin = db.admin_url(DATA / "postgres")
    database = db.ensure_database(admin, "servicedesk")
    print("• applying migrations …", flush=True)
    db.migrate(database)

    moto = None
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        print("• starting the AWS emulator (moto) …", flush=True)
        moto, endpoint = aws.start_moto()
    aws.configure_environment(endpoint)

    port = int(os.environ.get("PORT", "8000"))
    os.environ.setdefault("SERVICEDESK_ENVIRONMENT", "dev")
    os.environ["SERVICEDESK_DATABASE_URL"] = database.app_url.render_as_string(False)
    os.environ["SERVICEDESK_MIGRATION_DATABASE_URL"] = database.owner_url.render_as_string(False)
    os.environ.setdefault("SERVICEDESK_JWT_PRIVATE_KEY", _dev_signing_key())
    os.environ.setdefault("SERVICEDESK_WEB_ORIGIN", f"http://127.0.0.1:{port}")

    from local.seed import TENANTS, demo_accounts, seed
    from servicedesk.platform.config import get_settings
    from servicedesk.platform.db import get_engine

    password = get_settings().demo_password.get_secret_value()
    seed(get_engine(), password=password)
    get_engine().dispose()

    print(f"\nServicedesk is running: http://127.0.0.1:{port}  (API docs: /docs)")
    print(f"AWS emulator: {endpoint}")
    print(f"Demo tenants: {', '.join(slug for slug, _ in TENANTS)}; password: {password}")
    for email, role, slug in demo_accounts():
        print(f"  {email:28} {role:10} tenant={slug}")
    from local.scheduler import Ticker

    # The schedules: the SLA evaluator every SLA_TICK_SECONDS (EventBridge: every minute).
    tickers = [
        Ticker(
            "sla_evaluator",
            "eventbridge_scheduled_sla",
            float(os.environ.get("SLA_TICK_SECONDS", "30")),
        )
    ]
    for ticker in tickers:
        ticker.start()
    print("Ctrl-C stops everything.\n", flush=True)
    try:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "local.asgi:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            cwd=ROOT,
            check=False,
        )
    except KeyboardInterrupt:
        pass
    finally:
        for ticker in tickers:
            ticker.stop()
        if moto is not None:
            moto.terminate()
            moto.wait(timeout=10)
        if not os.environ.get("DATABASE_URL"):
            import pgserver

            pgserver.get_server(DATA / "postgres").cleanup()
        print("stopped.")


if __name__ == "__main__":
    main()
