"""Realtime: commit → client receive latency with 1,000 WebSocket connections.

The local runtime exactly as `make dev` runs it: an embedded PostgreSQL (or DATABASE_URL),
a moto server (or AWS_ENDPOINT_URL), uvicorn serving `local.asgi:app` (the API behind the
local WebSocket gateway) in its own process, and the realtime queue polled into the
broadcaster (`functions/realtime_consumer`) by `local.queues.Poller` in this process. The
1,000 clients run in a child process (real sockets, `websockets`).

Each measured event is committed here the way a request commits it (the tickets service in
one tenant transaction, then `publisher.publish_committed`); the clock starts when the
commit returns and stops when a client has the frame (`time.time()` in both processes).

    .venv/bin/python bench/realtime.py [--requesters 800] [--agents 200] [--events 300]
                                       [--rate 20] [--fanout-events 10]

Target on the reference machine: p95 ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import defaultdict
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


# --- the clients (child process) ---------------------------------------------------------


def clients(ws_url: str, plans: list[tuple[str, list[str]]], pipe: Connection) -> None:
    """Open one socket per plan (token, tickets to subscribe), report when all are ready,
    record every event frame until told to stop, then send the receipts back."""
    asyncio.run(_clients(ws_url, plans, pipe))


async def _clients(ws_url: str, plans: list[tuple[str, list[str]]], pipe: Connection) -> None:
    from websockets.asyncio.client import connect

    receipts: list[tuple[str, int, float]] = []
    sockets: list[Any] = []
    handshakes = asyncio.Semaphore(50)

    async def open_one(index: int, token: str, tickets: list[str]) -> None:
        async with handshakes:
            ws = await connect(f"{ws_url}?token={token}", open_timeout=120, max_size=None)
            for ticket in tickets:
                await ws.send(json.dumps({"action": "subscribe", "ticket_id": ticket}))
                reply = json.loads(await ws.recv())
                if reply.get("type") != "ack":
                    raise RuntimeError(f"subscribe refused: {reply}")
        sockets.append(ws)
        async for message in ws:
            now = time.time()
            frame = json.loads(message)
            if frame.get("type") == "event":
                receipts.append((frame["event_id"], index, now))

    started = time.perf_counter()
    tasks = [
        asyncio.create_task(open_one(i, token, tickets)) for i, (token, tickets) in enumerate(plans)
    ]
    loop = asyncio.get_running_loop()
    while len(sockets) < len(plans):
        failed = [t for t in tasks if t.done() and t.exception() is not None]
        if failed:
            pipe.send(("error", repr(failed[0].exception())))
            return
        await asyncio.sleep(0.05)
    pipe.send(("ready", time.perf_counter() - started))
    await loop.run_in_executor(None, pipe.recv)  # "stop"
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    for task in tasks:
        task.cancel()
    pipe.send(("receipts", receipts))


# --- the runtime (this process + uvicorn) --------------------------------------------------


def _environment(database: Any, port: int, queue_url: str) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    return {
        "SERVICEDESK_ENVIRONMENT": "test",
        "SERVICEDESK_JWT_PRIVATE_KEY": pem,
        "SERVICEDESK_LOG_LEVEL": "ERROR",
        "SERVICEDESK_DATABASE_URL": database.app_url.render_as_string(False),
        "SERVICEDESK_DB_POOL_SIZE": "8",
        "SERVICEDESK_REALTIME_QUEUE_URL": queue_url,
        "SERVICEDESK_WEBSOCKET_MANAGEMENT_URL": f"http://127.0.0.1:{port}",
        "POWERTOOLS_METRICS_NAMESPACE": "ServicedeskBench",
    }


def _start_server(port: int) -> subprocess.Popen[bytes]:
    from local.serve import uvicorn_command

    process = subprocess.Popen(uvicorn_command(port, quiet=True), cwd=ROOT)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=1):
                return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(0.2)


def _seed(database: Any, requesters: int, agents: int) -> dict[str, Any]:
    """One tenant, its people (SQL as the owner: no password hashing for 1,000 accounts),
    and one ticket per requester through the tickets service."""
    import psycopg

    from servicedesk.platform.db import set_tenant, transaction
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext
    from servicedesk.tickets import service as tickets
    from servicedesk.tickets.schemas import TicketCreate

    tenant = uuid.uuid4()
    admin = uuid.uuid4()
    people = {
        "requester": [uuid.uuid4() for _ in range(requesters)],
        "agent": [uuid.uuid4() for _ in range(agents)],
    }
    owner = database.owner_url.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(owner) as conn:
        conn.execute(
            "INSERT INTO tenants (id, slug, name) VALUES (%s, %s, 'Bench')",
            (tenant, f"bench-{tenant.hex[:8]}"),
        )
        rows = [(admin, "admin")] + [(u, r) for r, ids in people.items() for u in ids]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO users (id, email, name) VALUES (%s, %s, %s)",
                [(u, f"{r}-{u.hex[:12]}@bench.example", f"{r} {u.hex[:4]}") for u, r in rows],
            )
            cur.executemany(
                "INSERT INTO memberships (tenant_id, user_id, role) VALUES (%s, %s, %s)",
                [(tenant, u, r) for u, r in rows],
            )
    ticket_ids: list[str] = []
    with transaction() as session:
        set_tenant(session, tenant_id=tenant, user_id=admin)
        ctx = RequestContext(session=session, tenant_id=tenant, user_id=admin, role=Role.ADMIN)
        for requester in people["requester"]:
            data = TicketCreate.model_validate(
                {"title": "Bench ticket", "requester_id": str(requester)}
            )
            ticket_ids.append(str(tickets.create(ctx, data=data).id))
    return {"tenant": tenant, "people": people, "tickets": ticket_ids}


def _commit_comment(
    tenant: uuid.UUID, agent: uuid.UUID, ticket_id: str, visibility: str
) -> tuple[str, float]:
    """What a request does: one tenant transaction, then publish what it wrote."""
    from servicedesk.platform.db import set_tenant, transaction
    from servicedesk.platform.publisher import publish_committed
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext
    from servicedesk.tickets import comments
    from servicedesk.tickets.schemas import CommentCreate

    with transaction() as session:
        set_tenant(session, tenant_id=tenant, user_id=agent)
        ctx = RequestContext(session=session, tenant_id=tenant, user_id=agent, role=Role.AGENT)
        comments.add(
            ctx,
            ticket_id=uuid.UUID(ticket_id),
            data=CommentCreate(body="bench reply", visibility=visibility),
        )
    committed = time.time()
    ids = list(session.info.get("outbox_ids", []))
    publish_committed(tenant, ids)
    return str(ids[-1]), committed


def _report(
    name: str, commits: dict[str, float], expected: dict[str, int], receipts: list[Any]
) -> list[float]:
    latencies: list[float] = []
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    got: dict[str, int] = defaultdict(int)
    for event_id, _, received in receipts:
        if event_id in commits:
            ms = (received - commits[event_id]) * 1000
            latencies.append(ms)
            got[event_id] += 1
            first[event_id] = min(first.get(event_id, ms), ms)
            last[event_id] = max(last.get(event_id, 0.0), ms)
    want = sum(expected.values())
    print(f"{name}: {len(commits)} events, {len(latencies)} of {want} expected frames received")
    if latencies:
        print(
            f"  per frame   p50 {statistics.median(latencies):6.1f} ms"
            f"   p95 {_percentile(latencies, 95):6.1f} ms"
            f"   p99 {_percentile(latencies, 99):6.1f} ms   max {max(latencies):6.1f} ms"
        )
        firsts, lasts = list(first.values()), list(last.values())
        print(
            f"  first frame p50 {statistics.median(firsts):6.1f} ms"
            f"   p95 {_percentile(firsts, 95):6.1f} ms   (per event, until its first recipient)"
        )
        print(
            f"  last frame  p50 {statistics.median(lasts):6.1f} ms"
            f"   p95 {_percentile(lasts, 95):6.1f} ms   (per event, until its last recipient)"
        )
    return latencies


def _plans(seed: dict[str, Any], hot: str) -> tuple[list[tuple[str, list[str]]], dict[str, Any]]:
    """Who subscribes to what: each requester to their ticket; the agents share the
    tickets out (each ticket has one agent) and all watch one hot ticket."""
    from servicedesk.platform.tokens import issue_access_token

    tenant, people, tickets = seed["tenant"], seed["people"], seed["tickets"]
    agents = people["agent"]
    watched: dict[uuid.UUID, list[str]] = {a: [hot] for a in agents}
    watcher: dict[str, uuid.UUID] = {}
    for n, ticket in enumerate(tickets):
        if ticket == hot:
            continue
        agent = agents[n % len(agents)]
        watched[agent].append(ticket)
        watcher[ticket] = agent
    plans: list[tuple[str, list[str]]] = []
    for requester, ticket in zip(people["requester"], tickets, strict=True):
        token, _ = issue_access_token(user_id=requester, tenant_id=tenant, role="requester")
        plans.append((token, [ticket]))
    for agent in agents:
        token, _ = issue_access_token(user_id=agent, tenant_id=tenant, role="agent")
        plans.append((token, watched[agent]))
    return plans, watcher


def main() -> None:  # noqa: PLR0915 - a linear script, read top to bottom
    parser = argparse.ArgumentParser(description="realtime commit → client latency")
    parser.add_argument("--requesters", type=int, default=800)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="commits per second")
    parser.add_argument("--fanout-events", type=int, default=10)
    parser.add_argument(
        "--fanout-chunk",
        type=int,
        default=None,
        help="connections per fan-out chunk (default: the broadcaster's; 0: never split)",
    )
    args = parser.parse_args()

    from local import aws, db
    from local.aws import free_port
    from local.queues import Poller, ensure_queues

    print(f"load at start: {_load()}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-realtime-"))
    server = None if os.environ.get("DATABASE_URL") else db.embedded_server(workdir / "pg")
    database = db.ensure_database(db.admin_url(workdir / "pg"), f"bench_rt_{uuid.uuid4().hex[:6]}")
    db.migrate(database)
    moto = None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        moto, endpoint = aws.start_moto()
        aws.configure_environment(endpoint)
    queue = ensure_queues(prefix=f"benchrt{uuid.uuid4().hex[:6]}")["realtime"]
    port = free_port()
    os.environ.update(_environment(database, port, queue.url))
    uvicorn_process = _start_server(port)
    from servicedesk.realtime import fanout as chunking

    if args.fanout_chunk is not None:  # the poller runs the broadcaster in this process
        chunking.CHUNK = args.fanout_chunk or 1_000_000
    print(f"fan-out chunk: {chunking.CHUNK} connections", flush=True)
    poller = Poller(queue, "realtime_consumer")
    try:
        seed = _seed(database, args.requesters, args.agents)
        hot = seed["tickets"][0]
        plans, watcher = _plans(seed, hot)
        poller.start()
        parent, child = mp.get_context("spawn").Pipe()
        client_process = mp.get_context("spawn").Process(
            target=clients, args=(f"ws://127.0.0.1:{port}/ws", plans, child)
        )
        client_process.start()
        kind, value = parent.recv()
        if kind != "ready":
            raise RuntimeError(f"clients failed: {value}")
        print(f"{len(plans)} connections open and subscribed in {value:.1f} s", flush=True)
        print(f"load before measuring: {_load()}", flush=True)

        # Steady traffic: public agent replies on random tickets, at --rate per second.
        tenant, rng = seed["tenant"], random.Random(7)
        steady: dict[str, float] = {}
        steady_expected: dict[str, int] = {}
        candidates = [t for t in seed["tickets"] if t != hot]
        for _ in range(args.events):
            ticket = rng.choice(candidates)
            event_id, committed = _commit_comment(tenant, watcher[ticket], ticket, "public")
            steady[event_id] = committed
            steady_expected[event_id] = 2  # the requester and the ticket's agent
            time.sleep(max(0.0, 1 / args.rate - (time.time() - committed)))
        # Fan-out: internal notes on the ticket every agent watches (staff only).
        time.sleep(2)
        fanout: dict[str, float] = {}
        fanout_expected: dict[str, int] = {}
        for n in range(args.fanout_events):
            agent = seed["people"]["agent"][n % args.agents]
            event_id, committed = _commit_comment(tenant, agent, hot, "internal")
            fanout[event_id] = committed
            fanout_expected[event_id] = args.agents
            time.sleep(1.0)
        time.sleep(3)
        print(f"load after measuring: {_load()}", flush=True)
        parent.send("stop")
        kind, receipts = parent.recv()
        client_process.join(timeout=30)
    finally:
        poller.stop()
        uvicorn_process.terminate()
        uvicorn_process.wait(timeout=20)
        if moto is not None:
            moto.terminate()
        if server is not None:
            server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)  # the embedded database: ~70 MB a run

    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    a = _report(
        f"steady ({args.rate:g} commits/s, public replies, 2 recipients each)",
        steady,
        steady_expected,
        receipts,
    )
    b = _report(
        f"fan-out (internal note to the {args.agents} agents watching one ticket)",
        fanout,
        fanout_expected,
        receipts,
    )
    both = a + b
    if both:
        print(
            f"all frames: p50 {statistics.median(both):.1f} ms"
            f"   p95 {_percentile(both, 95):.1f} ms   (target p95 ≤ 200 ms)"
        )


if __name__ == "__main__":
    main()
