"""Sign-in through an organisation's OIDC provider: what a sign-in costs, and what the
SSO-only check adds to a password sign-in.

Setup: an embedded PostgreSQL of its own under ``.data/bench-sso-pg`` (or the server of
``DATABASE_URL``), database ``servicedesk_bench_sso`` migrated to head, the local demo
tenants (``local.seed``, no demo data), the test IdP (tests/oidc_idp.py) on 127.0.0.1 and
one provider of ``acme`` pointing at it (PKCE only, no client secret: no AWS needed).

Measurement (the app in process through TestClient, the IdP over real HTTP):

- ``auth_sso_only_tenants`` alone (the statement password sign-in gained), ``--rounds``
  times on one connection: median and p90 µs;
- ``POST /v1/auth/login`` (password, for scale) and ``GET /v1/auth/sso/discover``: ms;
- a whole SSO sign-in, ``--signins`` times: start (302), the IdP's authorize (302),
  the callback (token request, ID token checked with the cached key set, provisioning),
  the exchange (session): ms; the first (cold: discovery and key set fetched) apart;
- ``oidc.verify_id_token`` alone, RS256 and ES256, keys cached: µs.

    PYTHONPATH=layers/core/python:. .venv/bin/python -m bench.sso [--rounds N] [--signins N]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import urllib.parse
from pathlib import Path

from bench.local_stack import figures, prepare, timed

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "bench-sso-pg"
NAME = "servicedesk_bench_sso"
PASSWORD = "bench-password-123"


def _figures(label: str, samples: list[float], unit: str = "ms") -> None:
    figures(label, samples, unit, width=56)


def main() -> None:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--signins", type=int, default=100)
    args = parser.parse_args()

    os.environ["SERVICEDESK_SSO_ALLOW_HTTP_LOOPBACK"] = "1"
    os.environ["SERVICEDESK_COOKIE_SECURE"] = "false"
    prepare(DATA.name, NAME)

    import httpx
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from local.app import build_app
    from local.seed import seed
    from servicedesk.identity import oidc, sso
    from servicedesk.platform.config import get_settings
    from servicedesk.platform.db import get_engine, transaction
    from tests.oidc_idp import OidcIdP

    seed(get_engine(), password=PASSWORD, demo=False)
    client = TestClient(build_app())
    idp = OidcIdP().start()
    callback = sso.callback_url("oidc", get_settings())
    idp.add_client("bench", None, [callback])
    token = client.post(
        "/v1/auth/login",
        json={"email": "admin@acme.example", "password": PASSWORD, "tenant": "acme"},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    slug = f"bench-{os.getpid()}"
    made = client.post(
        "/v1/identity-providers",
        headers=headers,
        json={
            "name": "Bench",
            "slug": slug,
            "domains": ["bench-sso.example"],
            "config": {"issuer": idp.issuer, "client_id": "bench", "token_auth_method": "none"},
        },
    )
    assert made.status_code == 201, made.text
    print(f"{platform.node()} · {os.cpu_count()} CPUs · load {os.getloadavg()[0]:.1f}")

    with transaction() as session:
        ids = [session.execute(text("SELECT tenant_id_for_slug('acme')")).scalar_one()]
        samples = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            sso.sso_only_tenants(session, ids)
            samples.append((time.perf_counter() - started) * 1e6)
        _figures("auth_sso_only_tenants (one tenant)", samples, "µs")

    login = {"email": "agent@acme.example", "password": PASSWORD, "tenant": "acme"}
    _figures(
        "POST /v1/auth/login (password, for scale)",
        [timed(lambda: client.post("/v1/auth/login", json=login)) for _ in range(50)],
        "ms",
    )
    _figures(
        "GET /v1/auth/sso/discover?email=",
        [
            timed(
                lambda: client.get("/v1/auth/sso/discover", params={"email": "x@bench-sso.example"})
            )
            for _ in range(200)
        ],
        "ms",
    )

    browser = httpx.Client(follow_redirects=False)  # the person's browser, made once

    def sign_in(n: int) -> float:
        # A new IdP (issuer) each run: its people are new people too.
        who = f"{os.getpid()}-{n}"
        idp.person = {"sub": who, "email": f"p{who}@bench-sso.example", "name": "B"}
        started = time.perf_counter()
        start = client.get(f"/v1/auth/sso/acme/{slug}/start", follow_redirects=False)
        cookie = start.cookies.get("sd_sso")
        back = browser.get(start.headers["location"])
        parts = urllib.parse.urlsplit(back.headers["location"])
        landing = client.get(
            f"{parts.path}?{parts.query}",
            headers={"cookie": f"sd_sso={cookie}"},
            follow_redirects=False,
        )
        code = dict(
            urllib.parse.parse_qsl(urllib.parse.urlsplit(landing.headers["location"]).fragment)
        )["code"]
        answer = client.post("/v1/auth/sso/exchange", json={"code": code})
        assert answer.status_code == 200, answer.text
        return (time.perf_counter() - started) * 1000

    oidc.forget_cached()
    _figures("SSO sign-in, cold (discovery + key set fetched)", [sign_in(0)], "ms")
    _figures(
        "SSO sign-in, new person each (JIT)",
        [sign_in(n) for n in range(1, args.signins + 1)],
        "ms",
    )
    _figures(
        "SSO sign-in, the same person again",
        [sign_in(1) for _ in range(args.signins)],
        "ms",
    )

    config = oidc.OidcConfig(issuer=idp.issuer, client_id="bench")
    found = oidc.discover(idp.issuer, get_settings())
    for alg in ("RS256", "ES256"):
        claims = {
            "iss": idp.issuer,
            "aud": "bench",
            "sub": "s",
            "iat": int(time.time()),
            "exp": int(time.time()) + 300,
            "nonce": "n",
        }
        raw = idp.sign(claims, alg=alg)
        oidc.verify_id_token(raw, config, found, "n", get_settings())
        samples = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            oidc.verify_id_token(raw, config, found, "n", get_settings())
            samples.append((time.perf_counter() - started) * 1e6)
        _figures(f"verify_id_token {alg} (keys cached)", samples, "µs")
    idp.stop()


if __name__ == "__main__":
    main()
