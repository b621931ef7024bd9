"""GraphQL against REST for one screen: a 25-ticket page with each ticket's comments and
their authors' names.

Setup: an embedded PostgreSQL of its own under ``.data/bench-graphql-pg`` (or the server
of ``DATABASE_URL``), database ``servicedesk_bench_graphql`` migrated to head, the local
demo tenants (``local.seed``, no demo data); as acme's employee ``--tickets`` tickets
(default 25), each with ``--comments`` comments (default 3: the agent's reply, the agent's
internal note, the employee's answer).

Measurement: the API under uvicorn (one worker, as ``make dev``; 127.0.0.1, a free port),
as the agent, one keep-alive httpx client per thread. The screen:

- GraphQL: one ``POST /v1/graphql`` with the registered persisted query ``TicketScreen``
  (hash only; its document is ``bench/graphql/TicketScreen.graphql``);
- REST: ``GET /v1/tickets?limit=25``, then per ticket ``GET .../comments`` and ``GET
  .../participants`` (the authors' names), one after another as a client without
  batching does: 1 + 2 x 25 calls.

Per variant and concurrency (1 and 8): ``--screens`` screens per thread after a warm-up;
p50 and p95 of a whole screen's wall time, and the calls it took. Also the refusal of a
hostile query (over the cost limit): its p50/p95, checked to answer 400.

    PYTHONPATH=layers/core/python:. .venv/bin/python -m bench.graphql [--screens N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from bench.local_stack import bearer, local_client, prepare, sign_in
from bench.tickets import free_port, start_api, stop_api

NAME = "servicedesk_bench_graphql"
PASSWORD = "bench-password-123"
HOSTILE = (
    "{ "
    + " ".join(
        f"t{i}: tickets(first: 100) {{ edges {{ node {{ comments(first: 100)"
        " { edges { node { author { name } } } } } } }"
        for i in range(3)
    )
    + " }"
)


def _seed(tickets: int, comments: int) -> None:
    client = local_client(PASSWORD)
    employee = bearer(sign_in(client, "employee@acme.example", PASSWORD))
    agent = bearer(sign_in(client, "agent@acme.example", PASSWORD))
    for n in range(tickets):
        made = client.post("/v1/tickets", headers=employee, json={"title": f"Bench {n}"})
        made.raise_for_status()
        path = f"/v1/tickets/{made.json()['id']}/comments"
        for c in range(comments):
            who, visibility = [(agent, "public"), (agent, "internal"), (employee, "public")][c % 3]
            body = {"body": f"comment {c}", "visibility": visibility}
            client.post(path, headers=who, json=body).raise_for_status()


def _graphql_screen(client: httpx.Client, key: str) -> int:
    answer = client.post(
        "/v1/graphql",
        json={
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": key}},
            "variables": {"first": 25},
        },
    )
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    assert len(answer.json()["data"]["tickets"]["edges"]) == 25
    return 1


def _rest_screen(client: httpx.Client, _key: str) -> int:
    page = client.get("/v1/tickets", params={"limit": 25})
    assert page.status_code == 200, page.text
    calls = 1
    for ticket in page.json()["items"]:
        for part in ("comments", "participants"):
            got = client.get(f"/v1/tickets/{ticket['id']}/{part}")
            assert got.status_code == 200, got.text
            calls += 1
    return calls


def _hostile(client: httpx.Client, _key: str) -> int:
    answer = client.post("/v1/graphql", json={"query": HOSTILE})
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY", answer.text
    return 1


def _run(
    base: str,
    token: str,
    screen: Callable[[httpx.Client, str], int],
    key: str,
    threads: int,
    screens: int,
) -> tuple[list[float], int]:
    samples: list[float] = []
    calls: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for _ in range(2):
                screen(client, key)  # warm-up
            for _ in range(screens):
                started = time.perf_counter()
                made = screen(client, key)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    samples.append(elapsed)
                    calls.append(made)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return samples, max(calls)


def _line(label: str, samples: list[float], calls: int) -> None:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(
        f"| {label} | {calls} | {len(samples)} | {statistics.median(samples):.1f} | {p95:.1f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=25)
    parser.add_argument("--comments", type=int, default=3)
    parser.add_argument("--screens", type=int, default=20)
    args = parser.parse_args()

    database = prepare("bench-graphql-pg", NAME)
    _seed(args.tickets, args.comments)

    from servicedesk.graphql import persisted

    key = next(k for k, q in persisted.registered().items() if "query TicketScreen" in q)
    port = free_port()
    process = start_api(database, port, workers=1, pool_size=10, site_dir=None)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            login = {"email": "agent@acme.example", "password": PASSWORD, "tenant": "acme"}
            token = client.post("/v1/auth/login", json=login).json()["access_token"]
        load = os.getloadavg()[0]
        print(
            f"{platform.node()} · {os.cpu_count()} CPUs · load {load:.1f} ·"
            f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        )
        print("| screen | concurrency | HTTP calls | screens | p50 ms | p95 ms |")
        print("|---|---|---|---|---|---|")
        variants: list[tuple[str, Callable[[httpx.Client, str], int]]] = [
            ("GraphQL", _graphql_screen),
            ("REST", _rest_screen),
            ("hostile query refused", _hostile),
        ]
        for threads in (1, 8):
            for label, screen in variants:
                samples, calls = _run(base, token, screen, key, threads, args.screens)
                _line(f"{label} | {threads}", samples, calls)
    finally:
        stop_api(process)


if __name__ == "__main__":
    main()
