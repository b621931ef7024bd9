"""Custom roles: what reading a member's permissions adds to every request.

Setup: an embedded PostgreSQL of its own under ``.data/bench-roles-pg`` (or the server of
``DATABASE_URL``), database ``servicedesk_bench_roles`` migrated to head, the local demo
tenants (``local.seed``, no demo data); a custom role (the agent's permissions plus
``report:read``) made through ``POST /v1/roles``.

Measurement, for the demo agent with no custom role and then with that one:

- the principal statement every request runs (``platform.tenancy._PRINCIPAL``, which now
  left-joins the member's role), ``--rounds`` times, on one connection in one tenant
  transaction: median and p90 microseconds;
- ``GET /v1/me`` through the app in process (TestClient): median and p90 ms.

    PYTHONPATH=layers/core/python:. .venv/bin/python -m bench.roles [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any

from bench.local_stack import bearer, figures, local_client, prepare, sign_in, timed

NAME = "servicedesk_bench_roles"
PASSWORD = "bench-password-123"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()

    prepare("bench-roles-pg", NAME)

    from servicedesk.platform.db import set_tenant, transaction
    from servicedesk.platform.permissions import BUILTIN
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import _PRINCIPAL

    client = local_client(PASSWORD)
    admin = bearer(sign_in(client, "admin@acme.example", PASSWORD))
    agent = bearer(sign_in(client, "agent@acme.example", PASSWORD))
    me = client.get("/v1/me", headers=agent).json()
    tenant_id, user_id = me["tenant"]["id"], me["user"]["id"]
    permissions = [*sorted(p.value for p in BUILTIN[Role.AGENT]), "report:read"]
    made = client.post(
        "/v1/roles",
        headers=admin,
        json={"name": f"Bench analysts {time.time_ns()}", "permissions": permissions},
    )
    assert made.status_code == 201, made.text
    print(f"{platform.node()} · {os.cpu_count()} CPUs · load {os.getloadavg()[0]:.1f}")

    def assign(role_id: str | None) -> None:
        user = client.get(f"/v1/users/{user_id}", headers=admin)
        changed = client.patch(
            f"/v1/users/{user_id}",
            headers={**admin, "If-Match": user.headers["ETag"]},
            json={"custom_role_id": role_id},
        )
        assert changed.status_code == 200, changed.text

    for label, role_id in (("built-in role", None), ("custom role", made.json()["id"])):
        assign(role_id)
        with transaction() as session:
            set_tenant(session, tenant_id=tenant_id, user_id=user_id)
            samples = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                session.execute(_PRINCIPAL, {"t": tenant_id, "u": user_id, "s": None}).one()
                samples.append((time.perf_counter() - started) * 1e6)
            figures(f"principal statement, {label}", samples, "µs", width=44)
        calls: list[Any] = [lambda: client.get("/v1/me", headers=agent)] * 100
        figures(f"GET /v1/me, {label}", [timed(call) for call in calls], "ms", width=44)
    assign(None)


if __name__ == "__main__":
    main()
