"""Sign-in through an organisation's SAML provider: what a sign-in costs, and its parts.

Setup: an embedded PostgreSQL of its own under ``.data/bench-saml-pg`` (or the server of
``DATABASE_URL``), database ``servicedesk_bench_saml`` migrated to head, the local demo
tenants (``local.seed``, no demo data), the scripted IdP (tests/saml_idp.py) served on
127.0.0.1 and one SAML provider of ``acme`` made from its metadata.

Measurement (the app in process through TestClient, the IdP over real HTTP):

- a whole SAML sign-in, ``--signins`` times: start (302 with the AuthnRequest), the IdP's
  page (a signed response, RSA-SHA256), the ACS (verification, replay cache,
  provisioning), the exchange (session): ms; a new person each (JIT), then the same person;
- ``saml.verify_response`` alone (signed assertion, the replay hook a no-op): µs;
- the replay cache's statements alone (``sso.replay_cache``: the delete of expired ids and
  the insert), on one connection: µs;
- creating the provider (metadata parsed) through the API: ms.

    PYTHONPATH=layers/core/python:. .venv/bin/python -m bench.saml [--rounds N] [--signins N]
"""

from __future__ import annotations

import argparse
import functools
import html
import os
import platform
import re
import time
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.local_stack import figures, prepare, timed

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "bench-saml-pg"
NAME = "servicedesk_bench_saml"
PASSWORD = "bench-password-123"
FIELD = re.compile(r"name='(SAMLResponse|RelayState)' value='([^']*)'")


_figures = functools.partial(figures, width=56)


def main() -> None:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser(description="A SAML sign-in and its parts")
    parser.add_argument("--signins", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args()

    os.environ["SERVICEDESK_COOKIE_SECURE"] = "false"
    prepare(DATA.name, NAME)

    import httpx
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from local.app import build_app
    from local.seed import seed
    from servicedesk.identity import saml, saml_kind, sso
    from servicedesk.platform.config import get_settings
    from servicedesk.platform.db import get_engine, set_tenant, transaction
    from tests.saml_idp import ScriptedIdp, serve

    seed(get_engine(), password=PASSWORD, demo=False)
    client = TestClient(build_app())
    idp = ScriptedIdp(entity_id=f"https://bench-{os.getpid()}.example/saml")
    server, _thread = serve(idp)
    token = client.post(
        "/v1/auth/login",
        json={"email": "admin@acme.example", "password": PASSWORD, "tenant": "acme"},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    print(f"{platform.node()} · {os.cpu_count()} CPUs · load {os.getloadavg()[0]:.1f}")

    metadata = idp.metadata().decode()
    slugs: list[str] = []

    def create() -> Any:
        slugs.append(f"saml-{uuid.uuid4().hex[:8]}")
        return client.post(
            "/v1/identity-providers",
            headers=headers,
            json={
                "kind": "saml",
                "name": "Bench SAML",
                "slug": slugs[-1],
                "domains": ["bench-saml.example"],
                "enabled": False,
                "config": {"metadata_xml": metadata},
            },
        )

    _figures("POST /v1/identity-providers (metadata parsed)", [timed(create) for _ in range(20)])
    slug = f"bench-{os.getpid()}"
    made = client.post(
        "/v1/identity-providers",
        headers=headers,
        json={
            "kind": "saml",
            "name": "Bench",
            "slug": slug,
            "domains": ["bench-saml.example"],
            "config": {"metadata_xml": metadata},
        },
    )
    assert made.status_code == 201, made.text

    browser = httpx.Client(follow_redirects=False)  # the person's browser, made once

    def sign_in(who: str) -> float:
        idp.users = {f"p{who}@bench-saml.example": {"name": "B"}}
        started = time.perf_counter()
        start = client.get(f"/v1/auth/sso/acme/{slug}/start", follow_redirects=False)
        cookie = start.cookies.get("sd_sso")
        page = browser.get(start.headers["location"])
        form = {k: html.unescape(v) for k, v in FIELD.findall(page.text)}
        landing = client.post(
            "/v1/auth/sso/saml/callback",
            content=urllib.parse.urlencode(form),
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "cookie": f"sd_sso={cookie}",
            },
            follow_redirects=False,
        )
        fragment = urllib.parse.urlsplit(landing.headers["location"]).fragment
        code = dict(urllib.parse.parse_qsl(fragment))["code"]
        answer = client.post("/v1/auth/sso/exchange", json={"code": code})
        assert answer.status_code == 200, answer.text
        return (time.perf_counter() - started) * 1000

    run = os.getpid()
    _figures(
        "SAML sign-in, new person each (JIT)",
        [sign_in(f"{run}-{n}") for n in range(args.signins)],
    )
    _figures(
        "SAML sign-in, the same person again", [sign_in(f"{run}-0") for _ in range(args.signins)]
    )

    settings = get_settings()
    sp = saml_kind.service_provider(settings)
    idp_meta = saml.parse_idp_metadata(metadata)
    assertion = idp.assertion(
        email="v@bench-saml.example",
        sp_entity_id=sp.entity_id,
        acs_url=sp.acs_url,
        in_response_to="_req",
        lifetime=timedelta(hours=1),
    )
    encoded = idp.encode(idp.response(assertion, acs_url=sp.acs_url, in_response_to="_req"))
    samples = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        saml.verify_response(
            encoded,
            sp=sp,
            idp=idp_meta,
            now=datetime.now(UTC),
            expected_request_id="_req",
            seen=lambda _id, _until: False,
        )
        samples.append((time.perf_counter() - started) * 1e6)
    _figures("saml.verify_response (signed assertion)", samples, "µs")

    with transaction() as session:
        tenant_id = session.execute(text("SELECT tenant_id_for_slug('acme')")).scalar_one()
        set_tenant(session, tenant_id=tenant_id, user_id=None)
        provider_id = session.execute(
            text("SELECT id FROM identity_providers WHERE slug = :s"), {"s": slug}
        ).scalar_one()
        seen = sso.replay_cache(session, tenant_id=tenant_id, provider_id=provider_id)
        until = datetime.now(UTC) + timedelta(minutes=5)
        samples = []
        for n in range(args.rounds):
            started = time.perf_counter()
            assert not seen(f"_bench{n}", until)
            samples.append((time.perf_counter() - started) * 1e6)
        _figures("replay cache: delete expired + insert", samples, "µs")
        session.rollback()
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
