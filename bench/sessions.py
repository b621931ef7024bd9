"""Sessions and breached passwords: what they add to a request and to a new password.

Setup: an embedded PostgreSQL of its own under ``.data/bench-sessions-pg`` (or the server
of ``DATABASE_URL``), database ``servicedesk_bench_sessions`` migrated to head, the local
demo tenants (``local.seed``, no demo data).

Measurement:

- the principal statement every request runs (``platform.tenancy._PRINCIPAL``) for a
  token without ``sid`` and with one (the session probe), ``--rounds`` times each, on
  one connection in one tenant transaction: median and p90 microseconds;
- ``GET /v1/me/sessions`` and ``POST /v1/me/sessions/revoke-others`` through the app in
  process (TestClient) for a person with ``--sessions`` sign-ins: median ms;
- ``breached.check``: the bundled list (in process) and the range API against a local
  HTTP server on 127.0.0.1 (one round trip per check): median microseconds.

    PYTHONPATH=layers/core/python:. .venv/bin/python -m bench.sessions [--rounds N] [--sessions N]
"""

from __future__ import annotations

import argparse
import os
import platform
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.local_app import figures, migrated

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "bench-sessions-pg"
NAME = "servicedesk_bench_sessions"
PASSWORD = "bench-password-123"


def _figures(label: str, samples: list[float], unit: str = "ms") -> None:
    figures(label, samples, unit)


class _Range(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = "\r\n".join(f"{n:035X}:{n}" for n in range(800)).encode()  # HIBP-sized answer
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=50)
    args = parser.parse_args()

    migrated(DATA, NAME)

    from fastapi.testclient import TestClient

    from local.app import build_app
    from local.seed import seed
    from servicedesk.identity import breached
    from servicedesk.platform import config
    from servicedesk.platform.db import get_engine, set_tenant, transaction
    from servicedesk.platform.tenancy import _PRINCIPAL

    seed(get_engine(), password=PASSWORD, demo=False)
    client = TestClient(build_app())
    email = "agent@acme.example"
    tokens = []
    for _ in range(args.sessions):
        answer = client.post(
            "/v1/auth/login",
            json={"email": email, "password": PASSWORD, "tenant": "acme"},
            headers={"User-Agent": "bench/1"},
        )
        answer.raise_for_status()
        tokens.append(answer.json()["access_token"])
    headers = {"Authorization": f"Bearer {tokens[-1]}"}
    me = client.get("/v1/me", headers=headers).json()
    tenant_id, user_id = me["tenant"]["id"], me["user"]["id"]
    listed = client.get("/v1/me/sessions", headers=headers).json()
    current = next(s["id"] for s in listed if s["current"])
    print(
        f"{platform.node()} · {os.cpu_count()} CPUs · load {os.getloadavg()[0]:.1f}"
        f" · {len(listed)} live sessions"
    )

    with transaction() as session:
        set_tenant(session, tenant_id=tenant_id, user_id=user_id)
        for label, sid in (("principal statement, no sid", None), ("principal, sid", current)):
            samples = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                session.execute(_PRINCIPAL, {"t": tenant_id, "u": user_id, "s": sid}).one()
                samples.append((time.perf_counter() - started) * 1e6)
            _figures(label, samples, "µs")

    def timed(call: Any) -> float:
        started = time.perf_counter()
        answer = call()
        elapsed = (time.perf_counter() - started) * 1000
        assert answer.status_code < 300, answer.text
        return elapsed

    _figures(
        f"GET /v1/me/sessions ({len(listed)} sessions)",
        [timed(lambda: client.get("/v1/me/sessions", headers=headers)) for _ in range(50)],
        "ms",
    )
    _figures(
        "GET /v1/me (for scale)",
        [timed(lambda: client.get("/v1/me", headers=headers)) for _ in range(50)],
        "ms",
    )
    revoked = timed(lambda: client.post("/v1/me/sessions/revoke-others", headers=headers))
    _figures(f"POST revoke-others ({len(listed) - 1} ended)", [revoked], "ms")

    fresh = "an-unleaked-passphrase-for-bench-42"
    _figures(
        "breached.check, bundled list",
        [_timed_us(lambda: breached.check(fresh)) for _ in range(args.rounds)],
        "µs",
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Range)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["SERVICEDESK_BREACHED_PASSWORDS_API_URL"] = f"http://127.0.0.1:{server.server_port}"
    config.get_settings.cache_clear()
    assert breached.check(fresh).source == "range_api"
    _figures(
        "breached.check, range API on 127.0.0.1 (800 lines)",
        [_timed_us(lambda: breached.check(fresh)) for _ in range(200)],
        "µs",
    )
    server.shutdown()


def _timed_us(call: Any) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1e6


if __name__ == "__main__":
    main()
