"""Run a command against a throwaway local stack: the web app's end-to-end tests.

Usage: .venv/bin/python scripts/e2e_stack.py [--demo] [--sso] -- COMMAND [ARG...]

Starts what `make dev` starts, but private to this run: an embedded PostgreSQL in a
temporary directory (or a fresh database on DATABASE_URL), the migrations, the AWS
emulator (moto) with the queues and the attachments and mail buckets, the SMTP door for
inbound mail (its port in E2E_SMTP_PORT), the demo data, the queue
pollers and schedule tickers, and uvicorn serving ``local.asgi:app`` (the API, the
WebSocket gateway and the built web app) on a free 127.0.0.1 port. COMMAND runs with
E2E_BASE_URL and E2E_PASSWORD set; everything stops afterwards, and the exit status is
COMMAND's. With ``--demo`` the tenants also get the demo desk of `make dev` (local/demo.py:
teams, categories, SLA policies and a few hundred tickets with history), and COMMAND sees
E2E_DEMO=1. With ``--sso`` a test OpenID Connect provider (tests/oidc_idp.py) runs on
127.0.0.1 too, its client registered with the stack's redirect URI; COMMAND sees
E2E_IDP_ISSUER, E2E_IDP_CLIENT_ID and E2E_IDP_CLIENT_SECRET (and sets who signs in next
with ``POST <issuer>/_test/person``), and a scripted SAML IdP (tests/saml_idp.py) whose
base URL is E2E_SAML_IDP (``GET /metadata``; ``POST /_test/person`` sets who signs in next).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from local import aws, db, dev  # noqa: E402 - needs ROOT on sys.path first
from local.serve import uvicorn_command  # noqa: E402

IDP_CLIENT_ID = "servicedesk-e2e"
IDP_CLIENT_SECRET = "e2e-client-secret"  # noqa: S105 - the throwaway test IdP's


def _say(message: str) -> None:
    sys.stderr.write(f"[e2e-stack] {message}\n")
    sys.stderr.flush()


def _wait_for(url: str, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.2)


class Stack:
    """Everything started, in order, so it can be stopped in reverse."""

    def __init__(self, workdir: Path, *, demo: bool = False, sso: bool = False) -> None:
        self.workdir = workdir
        self.demo = demo
        self.sso = sso
        self.idp: Any = None
        self.saml_idp: Any = None
        self.saml_server: Any = None
        self.admin: Any = None
        self.database_name = f"servicedesk_e2e_{secrets.token_hex(4)}"
        self.moto: subprocess.Popen[bytes] | None = None
        self.workers: list[Any] = []
        self.server: subprocess.Popen[bytes] | None = None
        self.smtp: Any = None
        self.log = workdir / "uvicorn.log"
        self.owner_url = ""

    def start(self) -> str:
        os.environ.setdefault("SERVICEDESK_LOG_LEVEL", "WARNING")
        os.environ.setdefault("SERVICEDESK_ENVIRONMENT", "dev")  # the dev-only mail catcher
        _say("starting PostgreSQL and migrating …")
        self.admin = db.admin_url(self.workdir / "postgres")
        database = db.ensure_database(self.admin, self.database_name)
        db.migrate(database)
        # For what only another door would create (a requester the e-mail intake made).
        self.owner_url = database.owner_url.set(drivername="postgresql").render_as_string(False)
        _say("starting the AWS emulator …")
        dev.DATA = self.workdir  # dev's key file and caught mail go here, not to .data/
        self.moto, _endpoint, queues = dev._start_aws()
        port = aws.free_port()
        dev._configure(database, port)
        from local.seed import seed
        from servicedesk.platform.config import get_settings
        from servicedesk.platform.db import get_engine

        # Importing the database module logs at import (platform/xray.py's logger), which
        # read the settings before the database above was configured: read them again.
        get_settings.cache_clear()
        settings = get_settings()
        aws.ensure_bucket(settings.attachments_bucket, cors_origin=settings.web_origin)
        # Asynchronous exports write here (issue 19; local/dev.py makes it too).
        aws.ensure_bucket(settings.exports_bucket, cors_origin=settings.web_origin)
        aws.ensure_mail_bucket(settings.email_inbound_bucket)
        from local import smtp

        self.smtp = smtp.server(port=aws.free_port(), settings=settings)
        self.smtp.start()
        seed(get_engine(), password=settings.demo_password.get_secret_value(), demo=self.demo)
        get_engine().dispose()
        self.workers = dev._workers(queues)
        for worker in self.workers:
            worker.start()
        if self.sso:
            from tests.oidc_idp import OidcIdP

            # The API fetches the test IdP's documents over plain http on 127.0.0.1.
            os.environ["SERVICEDESK_SSO_ALLOW_HTTP_LOOPBACK"] = "1"
            self.idp = OidcIdP().start()
            callback = f"http://127.0.0.1:{port}/v1/auth/sso/oidc/callback"
            self.idp.add_client(IDP_CLIENT_ID, IDP_CLIENT_SECRET, [callback])
            _say(f"test OIDC provider at {self.idp.issuer}")
            from tests.saml_idp import ScriptedIdp, serve

            self.saml_idp = ScriptedIdp()
            self.saml_server, _thread = serve(self.saml_idp)
            _say(f"test SAML provider at {self.saml_base}")
        _say(f"starting the API and web app on 127.0.0.1:{port} …")
        with self.log.open("wb") as log:
            self.server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                uvicorn_command(port, quiet=True),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/v1/health", self.server)
        return base

    def stop(self) -> None:
        self._stop_idps()
        if self.smtp is not None:
            self.smtp.stop()
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.server.kill()
        for worker in self.workers:
            worker.stop()
        for worker in self.workers:
            worker.join(timeout=5)  # a poll in flight ends before the emulator goes
        if self.moto is not None:
            self.moto.terminate()
            self.moto.wait(timeout=10)
        if self.admin is not None:
            with contextlib.suppress(Exception):
                from servicedesk.platform.db import get_engine

                get_engine().dispose()
            db.drop_database(self.admin, self.database_name)
            if not os.environ.get("DATABASE_URL"):
                import pgserver

                pgserver.get_server(self.workdir / "postgres").cleanup()

    def _stop_idps(self) -> None:
        if self.idp is not None:
            self.idp.stop()
        if self.saml_server is not None:
            self.saml_server.shutdown()
            self.saml_server.server_close()

    @property
    def saml_base(self) -> str:
        """The test SAML IdP's base URL (GET /metadata; POST /_test/person)."""
        if self.saml_server is None:
            return ""
        return f"http://127.0.0.1:{self.saml_server.server_address[1]}"

    def log_tail(self, lines: int = 60) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        _say("usage: e2e_stack.py [--demo] [--sso] -- COMMAND [ARG...]")
        return 2
    command = argv[argv.index("--") + 1 :]
    demo = "--demo" in argv[: argv.index("--")]
    workdir = Path(tempfile.mkdtemp(prefix="servicedesk-e2e-"))
    sso = "--sso" in argv[: argv.index("--")]
    stack = Stack(workdir, demo=demo, sso=sso)
    started = time.monotonic()
    try:
        try:
            base = stack.start()
        except RuntimeError:
            _say("the stack did not start; the server's last log lines:\n" + stack.log_tail())
            raise
        _say(f"stack up in {time.monotonic() - started:.1f} s; running {' '.join(command)}")
        env = {
            **os.environ,
            "E2E_BASE_URL": base,
            "E2E_PASSWORD": os.environ.get("SERVICEDESK_DEMO_PASSWORD", "demo-password-123"),
            "E2E_MAIL_DIR": str(workdir / "mail"),
            "E2E_SMTP_PORT": str(stack.smtp.port if stack.smtp is not None else ""),
            "E2E_DEMO": "1" if demo else "",
            "E2E_DATABASE_URL": stack.owner_url,
            "E2E_IDP_ISSUER": stack.idp.issuer if stack.idp is not None else "",
            "E2E_IDP_CLIENT_ID": IDP_CLIENT_ID if sso else "",
            "E2E_IDP_CLIENT_SECRET": IDP_CLIENT_SECRET if sso else "",
            "E2E_SAML_IDP": stack.saml_base,
        }
        result = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603
        if result.returncode != 0:
            _say("the command failed; the server's last log lines:\n" + stack.log_tail())
        return result.returncode
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        _say(f"stack stopped ({time.monotonic() - started:.1f} s in all)")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
