"""SCIM: what an identity provider's sync costs, through the whole API in process.

Setup: an embedded PostgreSQL of its own under ``.data/bench-scim-pg`` (or the server of
``DATABASE_URL``), database ``servicedesk_bench_scim`` migrated to head, the local demo
tenants (``local.seed``, no demo data). As acme's admin: SCIM enabled and a token made;
``--users`` people provisioned through ``POST /scim/v2/Users`` (default 2,000), each in
one of 10 groups.

Measurement (FastAPI's TestClient on the local app: routing, the token's lookup, the rate
limit's row, one transaction per request; no network), median and p90 wall milliseconds:
the provisioning POSTs themselves; Entra's probe ``GET /Users?filter=userName eq "…"``;
a filter with ``or``, ``sw`` and a value path; a page of 100 sorted by
``name.familyName``; ``PATCH`` of ``active`` (deactivation: sessions revoked) and back;
``PATCH`` adding one member to a group of ``--users``/10; and the parser alone (parse and
compile of a 10-term filter, microseconds).

    .venv/bin/python -m bench.scim [--users N] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "bench-scim-pg"
NAME = "servicedesk_bench_scim"
PASSWORD = "bench-password-123"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _figures(label: str, samples: list[float], unit: str = "ms") -> None:
    ordered = sorted(samples)
    p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
    print(
        f"{label:<52} n={len(samples):>5}  median {statistics.median(samples):8.2f} {unit}"
        f"  p90 {p90:8.2f} {unit}"
    )


def main() -> None:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()

    from local import db as localdb

    os.environ.setdefault("SERVICEDESK_ENVIRONMENT", "dev")
    os.environ.setdefault("SERVICEDESK_LOG_LEVEL", "WARNING")
    os.environ.setdefault("SERVICEDESK_INSECURE_FAST_PASSWORD_HASHING", "1")
    os.environ["SERVICEDESK_SCIM_REQUESTS_PER_MINUTE"] = "1000000"
    admin = localdb.admin_url(DATA)
    localdb.ensure_roles(admin)
    database = localdb.ensure_database(admin, NAME)
    os.environ["SERVICEDESK_DATABASE_URL"] = database.app_url.render_as_string(False)
    os.environ["SERVICEDESK_MIGRATION_DATABASE_URL"] = database.owner_url.render_as_string(False)
    localdb.migrate(database)

    from fastapi.testclient import TestClient

    from local.app import build_app
    from local.seed import seed
    from servicedesk.platform.db import get_engine
    from servicedesk.scim import users as scim_users
    from servicedesk.scim.filter import compile_filter

    seed(get_engine(), password=PASSWORD, demo=False)
    client = TestClient(build_app())
    answer = client.post(
        "/v1/auth/login",
        json={"email": "admin@acme.example", "password": PASSWORD, "tenant": "acme"},
    )
    answer.raise_for_status()
    admin_headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    settings = client.get("/v1/scim/settings", headers=admin_headers)
    client.put(
        "/v1/scim/settings",
        headers={**admin_headers, "If-Match": settings.headers["ETag"]},
        json={"enabled": True, "default_role": "requester"},
    ).raise_for_status()
    token = client.post("/v1/scim/token", headers=admin_headers).json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}

    def timed(call: Callable[[], Any]) -> float:
        started = time.perf_counter()
        response = call()
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code < 300, response.text
        return elapsed

    run = uuid.uuid4().hex[:6]
    created: list[dict[str, Any]] = []
    posts = []
    for i in range(args.users):
        body = {
            "schemas": [USER],
            "userName": f"p{i:05d}-{run}@bench.example",
            "externalId": f"{run}-{i}",
            "name": {"givenName": f"Given{i % 97}", "familyName": f"Family{i % 89}"},
            "emails": [{"value": f"p{i:05d}-{run}@bench.example", "type": "work", "primary": True}],
        }
        started = time.perf_counter()
        made = client.post("/scim/v2/Users", headers=headers, json=body)
        posts.append((time.perf_counter() - started) * 1000)
        assert made.status_code == 201, made.text
        created.append(made.json())
    groups = []
    for g in range(10):
        members = [{"value": u["id"]} for u in created[g::10]]
        made = client.post(
            "/scim/v2/Groups",
            headers=headers,
            json={"schemas": [GROUP], "displayName": f"Bench {run} {g}", "members": members},
        )
        assert made.status_code == 201, made.text
        groups.append(made.json())

    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus; "
        f"load average {os.getloadavg()[0]:.2f}; users {args.users}"
    )
    _figures("POST /Users (provision one)", posts)

    def get(params: dict[str, Any]) -> Any:
        return client.get("/scim/v2/Users", headers=headers, params=params)

    probe = [
        timed(
            partial(get, {"filter": f'userName eq "{created[i * 7 % len(created)]["userName"]}"'})
        )
        for i in range(args.rounds)
    ]
    _figures('GET /Users?filter=userName eq "…"', probe)
    complex_filter = (
        f'(externalId eq "{run}-5" or name.familyName sw "family1")'
        ' and emails[type eq "work" and value co "@bench"] and active eq true'
    )
    complex_ = [
        timed(
            lambda: client.get(
                "/scim/v2/Users", headers=headers, params={"filter": complex_filter, "count": 100}
            )
        )
        for _ in range(args.rounds)
    ]
    _figures("GET /Users, or + sw + value path (count 100)", complex_)
    sorted_page = [
        timed(
            lambda: client.get(
                "/scim/v2/Users",
                headers=headers,
                params={"sortBy": "name.familyName", "count": 100, "startIndex": 1001},
            )
        )
        for _ in range(args.rounds)
    ]
    _figures("GET /Users sortBy familyName, 100 from 1001", sorted_page)

    def patch(path: str, operation: dict[str, Any]) -> Any:
        body = {"schemas": [PATCH], "Operations": [operation]}
        return client.patch(f"/scim/v2{path}", headers=headers, json=body)

    flips: list[float] = []
    for i in range(args.rounds):
        user_path = f"/Users/{created[i]['id']}"
        for value in (False, True):
            operation: dict[str, Any] = {"op": "replace", "path": "active", "value": value}
            flips.append(timed(partial(patch, user_path, operation)))
    _figures("PATCH active false / true", flips)
    adds: list[float] = []
    for i in range(args.rounds):
        group_path = f"/Groups/{groups[(i + 1) % 10]['id']}"
        member = created[i * 10]["id"]  # a member of group 0 joins another group
        add = {"op": "add", "path": "members", "value": [{"value": member}]}
        adds.append(timed(partial(patch, group_path, add)))
    _figures(f"PATCH group of {args.users // 10}: add one member", adds)
    ten_terms = " or ".join(f'userName eq "u{i}@x.example"' for i in range(10))
    parse_us = []
    for _ in range(2000):
        started = time.perf_counter()
        compile_filter(ten_terms, scim_users.FILTERABLE)
        parse_us.append((time.perf_counter() - started) * 1_000_000)
    _figures("parse + compile a 10-term filter", parse_us, "us")


if __name__ == "__main__":
    main()
