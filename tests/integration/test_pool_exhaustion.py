"""More concurrent requests than pooled connections: a fast 503 with Retry-After, never a
500 after SQLAlchemy's 30-second wait. A real uvicorn on 127.0.0.1, a deliberately small
pool, and a table lock that keeps the one connection busy. A statement cut by the
statement timeout is a 503 with Retry-After too (platform.db.transaction), never a 500."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.aws import free_port
from local.serve import uvicorn_command
from tests.conftest import make_tenant

ROOT = Path(__file__).resolve().parents[2]

POOL_TIMEOUT = 0.5
HOLD = 3.0  # seconds the lock keeps the pool's only connection busy
REQUESTS = 50


def _serve(**settings: str) -> Any:
    """``make dev``'s own command line (local/serve.py), in a process of its own."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **settings}
    process = subprocess.Popen(uvicorn_command(port, quiet=True), cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "uvicorn exited"
        assert time.monotonic() < deadline, "uvicorn did not start"
        try:
            if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def small_pool_server(database):
    yield from _serve(
        SERVICEDESK_DB_POOL_SIZE="1",
        SERVICEDESK_DB_MAX_OVERFLOW="0",
        SERVICEDESK_DB_POOL_TIMEOUT_SECONDS=str(POOL_TIMEOUT),
    )


@pytest.fixture
def short_statement_server(database):
    yield from _serve(SERVICEDESK_DB_STATEMENT_TIMEOUT_MS="300")


def test_a_statement_cut_by_the_statement_timeout_is_a_503_with_retry_after(
    client, database, short_statement_server
):
    tenant = make_tenant(client, roles=())
    url = f"{short_statement_server}/v1/tickets"
    with httpx.Client(timeout=30) as http:
        assert http.get(url, headers=tenant.admin.headers).status_code == 200
        with database.connect("owner") as owner:
            # The request's read waits on this lock until the statement timeout cuts it.
            owner.execute("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE")
            cut = http.get(url, headers=tenant.admin.headers)
            owner.rollback()
        assert cut.status_code == 503, cut.text
        assert cut.headers["retry-after"] == "5"
        assert cut.headers["content-type"] == "application/problem+json"
        assert "longer than the database allows" in cut.json()["detail"]
        # The process is fine afterwards: the next request answers.
        assert http.get(url, headers=tenant.admin.headers).status_code == 200


def test_concurrent_requests_beyond_the_pool_get_a_fast_503_never_a_500(
    client, database, small_pool_server
):
    tenant = make_tenant(client, roles=())
    headers = tenant.admin.headers
    url = f"{small_pool_server}/v1/tickets"
    with httpx.Client(timeout=30) as http:
        assert http.get(url, headers=headers).status_code == 200  # warm: the pool works

    # One client for all threads: building 50 (an SSL context each) would be what is slow.
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
    shared = httpx.Client(timeout=30, limits=limits)

    def one(_: int) -> tuple[int, float, dict[str, Any], str]:
        started = time.monotonic()
        response = shared.get(url, headers=headers)
        return (
            response.status_code,
            time.monotonic() - started,
            dict(response.headers),
            response.text,
        )

    with database.connect("owner") as owner:
        # Whoever holds the pool's connection waits on this lock; everyone else waits for
        # the connection.
        owner.execute("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE")
        with ThreadPoolExecutor(REQUESTS) as pool:
            futures = [pool.submit(one, i) for i in range(REQUESTS)]
            time.sleep(HOLD)
            owner.rollback()
            results = [f.result() for f in futures]
    shared.close()

    statuses = sorted({status for status, *_ in results})
    assert set(statuses) <= {200, 503}, [r for r in results if r[0] not in (200, 503)][:2]
    busy = [r for r in results if r[0] == 503]
    assert busy, "every request waited for the connection instead of answering 503"
    assert any(r[0] == 200 for r in results)
    for _, elapsed, response_headers, body in busy:
        assert response_headers["retry-after"] == "1"
        assert response_headers["content-type"] == "application/problem+json"
        assert '"status":503' in body.replace(" ", "")
        # Fast: the checkout timeout plus scheduling on a loaded machine, not 30 s.
        assert elapsed < POOL_TIMEOUT + 2.0, elapsed
    assert max(elapsed for _, elapsed, *_ in results) < HOLD + 5
