"""What the in-process benches share: a migrated database of their own, the local app with
the demo tenants, signing in, and the median/p90 line they print.

    database = prepare("bench-macros-pg", "servicedesk_bench_macros")
    client = local_client(PASSWORD)
    headers = bearer(sign_in(client, "agent@acme.example", PASSWORD))
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from local.db import Database

ROOT = Path(__file__).resolve().parent.parent


def prepare(data_dir: str, name: str, **env: str) -> Database:
    """Point the settings at a database of this bench's own (embedded under ``.data/`` or
    ``DATABASE_URL``'s server), migrated to head. ``env`` adds environment defaults."""
    from local import db as localdb

    os.environ.setdefault("SERVICEDESK_ENVIRONMENT", "dev")
    os.environ.setdefault("SERVICEDESK_LOG_LEVEL", "WARNING")
    os.environ.setdefault("SERVICEDESK_INSECURE_FAST_PASSWORD_HASHING", "1")
    for key, value in env.items():
        os.environ.setdefault(key, value)
    admin = localdb.admin_url(ROOT / ".data" / data_dir)
    localdb.ensure_roles(admin)
    database = localdb.ensure_database(admin, name)
    os.environ["SERVICEDESK_DATABASE_URL"] = database.app_url.render_as_string(False)
    os.environ["SERVICEDESK_MIGRATION_DATABASE_URL"] = database.owner_url.render_as_string(False)
    localdb.migrate(database)
    return database


def local_client(password: str) -> TestClient:
    """The local app in process, over the demo tenants (no demo data) seeded with ``password``."""
    from fastapi.testclient import TestClient

    from local.app import build_app
    from local.seed import seed
    from servicedesk.platform.db import get_engine

    seed(get_engine(), password=password, demo=False)
    return TestClient(build_app())


def sign_in(client: Any, email: str, password: str, tenant: str | None = "acme", **kw: Any) -> Any:
    """``POST /v1/auth/login``'s answer (the tokens, or a second-step challenge)."""
    body = {"email": email, "password": password}
    if tenant:
        body["tenant"] = tenant
    answer = client.post("/v1/auth/login", json=body, **kw)
    answer.raise_for_status()
    return answer.json()


def bearer(answer: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer['access_token']}"}


def figures(
    label: str, samples: list[float], unit: str = "ms", *, width: int = 42, digits: int = 1
) -> None:
    """One line: the label, n, median and p90."""
    ordered = sorted(samples)
    p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
    median = statistics.median(samples)
    print(
        f"{label:<{width}} n={len(samples):>5}  median {median:9.{digits}f} {unit}"
        f"  p90 {p90:9.{digits}f} {unit}"
    )


def timed(call: Callable[[], Any]) -> float:
    """Milliseconds one HTTP call took; it must answer below 400."""
    started = time.perf_counter()
    answer = call()
    elapsed = (time.perf_counter() - started) * 1000
    assert answer.status_code < 400, answer.text
    return elapsed
