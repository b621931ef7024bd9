"""GitHub and Slack inbound requests: what a signed delivery costs, through the whole API
in process.

Setup: an embedded PostgreSQL of its own under ``.data/bench-integrations-pg`` (or the
server of ``DATABASE_URL``), database ``servicedesk_bench_integrations`` migrated to head,
the local demo tenants (``local.seed``, no demo data), the AWS emulator (moto, a child
process: the integrations' secrets live in Secrets Manager; its reads are cached per
process, as on Lambda). As acme's admin: a GitHub integration and a Slack one (its
workspace set on the row, as an install would); ``--tickets`` tickets (default 200).

Measurement (FastAPI's TestClient on the local app: routing, the integration's lookup, the
signature, one transaction; no network; no queue: events stay in the outbox), median and
p90 wall milliseconds over ``--rounds`` requests each: a GitHub ``issues`` delivery
mentioning one ticket (link, timeline entry, event), one mentioning three, one mentioning
none (ignored: nothing written), a replay (duplicate), a bad signature (401); Slack's
``/ticket`` (verified, one outbox event); and the signature checks alone (microseconds, a
25 KB body).

    .venv/bin/python -m bench.integrations [--tickets N] [--rounds N]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import statistics
import time
import urllib.parse
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "bench-integrations-pg"
NAME = "servicedesk_bench_integrations"
PASSWORD = "bench-password-123"


def _figures(label: str, samples: list[float], unit: str = "ms") -> None:
    ordered = sorted(samples)
    p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
    print(
        f"{label:<52} n={len(samples):>5}  median {statistics.median(samples):8.2f} {unit}"
        f"  p90 {p90:8.2f} {unit}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    from local import aws
    from local import db as localdb

    os.environ.setdefault("SERVICEDESK_ENVIRONMENT", "dev")
    os.environ.setdefault("SERVICEDESK_LOG_LEVEL", "WARNING")
    os.environ.setdefault("SERVICEDESK_INSECURE_FAST_PASSWORD_HASHING", "1")
    admin = localdb.admin_url(DATA)
    localdb.ensure_roles(admin)
    database = localdb.ensure_database(admin, NAME)
    os.environ["SERVICEDESK_DATABASE_URL"] = database.app_url.render_as_string(False)
    os.environ["SERVICEDESK_MIGRATION_DATABASE_URL"] = database.owner_url.render_as_string(False)
    localdb.migrate(database)
    moto, url = aws.start_moto()
    aws.configure_environment(url)
    try:
        _run(args, database)
    finally:
        moto.terminate()
        moto.wait(timeout=10)


def _run(args: argparse.Namespace, database: Any) -> None:  # noqa: PLR0915
    from fastapi.testclient import TestClient

    from local.app import build_app
    from local.seed import seed
    from servicedesk.integrations import github, slack
    from servicedesk.platform.db import get_engine

    seed(get_engine(), password=PASSWORD, demo=False)
    client = TestClient(build_app())
    answer = client.post(
        "/v1/auth/login",
        json={"email": "admin@acme.example", "password": PASSWORD, "tenant": "acme"},
    )
    answer.raise_for_status()
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    run = uuid.uuid4().hex[:6]
    repo = client.post(
        "/v1/integrations",
        headers=headers,
        json={
            "kind": "github",
            "name": f"bench {run}",
            "github": {"owner": "acme", "repo": "bench", "token": "ghp_bench"},
        },
    ).json()
    team = f"TB{run}"
    app = client.post(
        "/v1/integrations",
        headers=headers,
        json={
            "kind": "slack",
            "name": f"bench {run}",
            "slack": {"client_id": "1.2", "client_secret": "c", "signing_secret": "bench-signing"},
        },
    ).json()
    import psycopg

    owner = database.owner_url.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(owner) as conn:
        conn.execute("UPDATE integrations SET external_id = %s WHERE id = %s", (team, app["id"]))
    numbers = []
    for i in range(args.tickets):
        made = client.post("/v1/tickets", headers=headers, json={"title": f"Bench {run} {i}"})
        made.raise_for_status()
        numbers.append(made.json()["number"])
    secret = repo["webhook_secret"].encode()

    def deliver(text: str, delivery: str | None = None, bad: bool = False) -> Any:
        payload = {
            "action": "opened",
            "issue": {"number": 1, "title": "Bench", "body": text, "html_url": "https://x/1"},
        }
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        return client.post(
            f"/v1/hooks/github/{repo['id']}",
            content=body,
            headers={
                "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
                "X-Hub-Signature-256": "sha256=" + "0" * 64 if bad else signature,
            },
        )

    def timed(call: Callable[[], Any], status: int) -> float:
        started = time.perf_counter()
        response = call()
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == status, response.text
        return elapsed

    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus; "
        f"load average {os.getloadavg()[0]:.2f}; tickets {args.tickets}; rounds {args.rounds}"
    )
    n = args.rounds

    def mention(i: int, count: int) -> str:
        return " ".join(numbers[(i + k) % len(numbers)] for k in range(count))

    one = [timed(partial(deliver, mention(i, 1)), 202) for i in range(n)]
    _figures("GitHub issues delivery, 1 ticket mentioned", one)
    three = [timed(partial(deliver, mention(i, 3)), 202) for i in range(n)]
    _figures("GitHub issues delivery, 3 tickets mentioned", three)
    none = [timed(lambda: deliver("nothing to see"), 202) for _ in range(n)]
    _figures("GitHub delivery mentioning no ticket (ignored)", none)
    replayed = str(uuid.uuid4())
    deliver(f"fixes {numbers[0]}", replayed)
    replays = [timed(lambda: deliver(f"fixes {numbers[0]}", replayed), 202) for _ in range(n)]
    _figures("GitHub replayed delivery (duplicate)", replays)
    refused = [timed(lambda: deliver("x", bad=True), 401) for _ in range(n)]
    _figures("GitHub bad signature (401)", refused)

    def command() -> Any:
        body = urllib.parse.urlencode(
            {"command": "/ticket", "team_id": team, "user_id": "U1", "trigger_id": "t", "text": "x"}
        ).encode()
        stamp = str(int(time.time()))
        digest = hmac.new(b"bench-signing", b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
        return client.post(
            f"/v1/hooks/slack/{app['id']}/commands",
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": "v0=" + digest.hexdigest(),
            },
        )

    commands = [timed(command, 200) for _ in range(n)]
    _figures("Slack /ticket (verified, one outbox event)", commands)

    body = b"x" * 25_000
    signature = github.sign("s" * 43, body)
    checks = []
    for _ in range(2000):
        started = time.perf_counter()
        github.verify("s" * 43, signature, body)
        checks.append((time.perf_counter() - started) * 1e6)
    _figures("X-Hub-Signature-256 check, 25 KB body", checks, "µs")
    stamp = str(int(time.time()))
    slack_headers = {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack.sign("s" * 32, stamp, body),
    }
    checks = []
    for _ in range(2000):
        started = time.perf_counter()
        slack.verify("s" * 32, slack_headers, body, window=300, now=time.time())
        checks.append((time.perf_counter() - started) * 1e6)
    _figures("X-Slack-Signature check, 25 KB body", checks, "µs")


if __name__ == "__main__":
    main()
