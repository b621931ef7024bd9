"""Two-step verification's cost: what the check adds to every password login, what the
second step costs, and the in-process pieces (a code checked, the key decrypted, the QR).

Setup: an embedded PostgreSQL of its own under ``.data/bench-mfa-pg`` (or the server of
``DATABASE_URL``), database ``servicedesk_bench_mfa`` migrated to head, the local demo
tenants (``local.seed``, no demo data); a new agent in acme with two-step verification on
and one without.

Measurement (FastAPI's TestClient on the local app: routing, one transaction per request,
no network; argon2 at its cheapest, as in the tests, so the database work shows):
``POST /v1/auth/login`` of the person without it, with the check as shipped and with the
check replaced by a no-op (the login before this change), interleaved; the login of the
person with it (the answer is the challenge) and ``POST /v1/auth/mfa`` with a code. The
module's clock is moved 30 s per round so each round has a fresh code (a code is accepted
once). Median and p90 wall milliseconds; in-process figures are per-call medians of 5
rounds.

    .venv/bin/python -m bench.mfa [--rounds N]
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from bench.local_app import figures, migrated

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "bench-mfa-pg"
NAME = "servicedesk_bench_mfa"
PASSWORD = "bench-password-123"


def _figures(label: str, samples: list[float], unit: str = "ms") -> None:
    figures(label, samples, unit, width=46, digits=2)


def _per_call(fn: Any, n: int) -> float:
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - start) / n)
    return statistics.median(rounds) * 1e6


class _Clock:
    """``time`` for identity/mfa.py: real time plus an offset the bench moves."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset


def _in_process() -> None:
    import pyotp

    from servicedesk.identity import mfa
    from servicedesk.platform.config import get_settings

    settings = get_settings()
    secret = os.urandom(20)
    user = uuid.uuid4()
    stored = mfa._encrypt(settings, user, secret)
    code = pyotp.TOTP(base64.b32encode(secret).decode()).now()
    token = mfa.make_token(settings, purpose=mfa.SIGN_IN, tenant_id=user, user_id=user)
    uri = mfa.otpauth_uri(secret, issuer="Acme IT", account="someone@acme.example")
    for label, fn, n in (
        ("matching_step (3 steps, pyotp)", lambda: mfa.matching_step(secret, code), 5000),
        ("decrypt the key (HKDF + AES-GCM)", lambda: mfa._decrypt(settings, user, stored), 5000),
        ("read_token (HKDF + HMAC)", lambda: mfa.read_token(settings, token, purpose=1), 5000),
        ("QR code as SVG (segno)", lambda: mfa.qr_svg(uri), 50),
    ):
        print(f"{label:<46} {_per_call(fn, n):9.1f} µs per call")


def main() -> None:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    # The bench signs in thousands of times from one address: no lockout in the way.
    os.environ.setdefault("SERVICEDESK_LOGIN_MAX_FAILURES_ADDRESS", "1000000")
    migrated(DATA, NAME)

    import pyotp
    from fastapi.testclient import TestClient

    from local.app import build_app
    from local.seed import seed
    from servicedesk.identity import mfa
    from servicedesk.platform.db import get_engine

    seed(get_engine(), password=PASSWORD, demo=False)
    client = TestClient(build_app())
    clock = _Clock()
    mfa.time = clock  # type: ignore[attr-defined,assignment]

    def login(email: str) -> Any:
        answer = client.post(
            "/v1/auth/login", json={"email": email, "password": PASSWORD, "tenant": "acme"}
        )
        answer.raise_for_status()
        return answer.json()

    admin_headers = {"Authorization": f"Bearer {login('admin@acme.example')['access_token']}"}
    run = uuid.uuid4().hex[:6]
    plain, enrolled = f"plain-{run}@acme.example", f"totp-{run}@acme.example"
    for email in (plain, enrolled):
        client.post(
            "/v1/users",
            headers=admin_headers,
            json={"email": email, "name": "Bench", "role": "agent", "password": PASSWORD},
        ).raise_for_status()
    headers = {"Authorization": f"Bearer {login(enrolled)['access_token']}"}
    secret = client.post("/v1/me/mfa/totp", headers=headers).json()["secret"]
    totp = pyotp.TOTP(secret)
    client.post(
        "/v1/me/mfa/totp/confirm", headers=headers, json={"code": totp.at(clock.time())}
    ).raise_for_status()

    shipped = mfa.check_sign_in
    with_check: list[float] = []
    without_check: list[float] = []
    challenge: list[float] = []
    second: list[float] = []
    for _ in range(args.rounds):
        for patched, samples in ((False, with_check), (True, without_check)):
            mfa.check_sign_in = (lambda *a, **k: None) if patched else shipped
            start = time.perf_counter()
            body = login(plain)
            samples.append((time.perf_counter() - start) * 1000)
            assert "access_token" in body
        mfa.check_sign_in = shipped
        clock.offset += 30  # a fresh code each round
        start = time.perf_counter()
        token = login(enrolled)["mfa_token"]
        challenge.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        done = client.post("/v1/auth/mfa", json={"mfa_token": token, "code": totp.at(clock.time())})
        second.append((time.perf_counter() - start) * 1000)
        assert done.status_code == 200, done.text

    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs; load {os.getloadavg()}")
    _figures("login, no MFA, check as shipped", with_check)
    _figures("login, no MFA, check replaced by a no-op", without_check)
    _figures("login with MFA on (answers the challenge)", challenge)
    _figures("POST /v1/auth/mfa with a code", second)
    _in_process()


if __name__ == "__main__":
    main()
