"""Macros: the cost of the picker's list (each macro's ``problems`` computed on read), of
applying a macro (seven actions in one transaction), and of its preview (the same,
rolled back), through the whole API in process.

Setup: an embedded PostgreSQL of its own under ``.data/bench-macros-pg`` (or the server of
``DATABASE_URL``), database ``servicedesk_bench_macros`` migrated to head, the local demo
tenants (``local.seed``, no demo data). As acme's manager: one team with the agent in it,
one category with a custom field, ``--macros`` shared macros (default 100) of seven
actions each (set priority, a custom field, tags, assign the team and the current user,
status, a reply and a note with placeholders), and ``--tickets`` tickets (default 30).

Measurement (FastAPI's TestClient on the local app: routing, auth, one transaction per
request; no network): ``GET /v1/macros?limit=100`` as the agent (``--rounds`` times), each
ticket's ``preview`` then ``apply`` of one macro, and, for scale, ``PATCH`` of one field on
each ticket (one action's worth by hand). Median and p90 wall milliseconds.

    .venv/bin/python -m bench.macros [--macros N] [--tickets N] [--rounds N]
    (as a module: bench/email.py shadows the standard library)
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import uuid
from pathlib import Path

from bench.local_app import figures, migrated

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "bench-macros-pg"
NAME = "servicedesk_bench_macros"
PASSWORD = "bench-password-123"


def _figures(label: str, samples: list[float], unit: str = "ms") -> None:
    figures(label, samples, unit, width=42)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--macros", type=int, default=100)
    parser.add_argument("--tickets", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    migrated(DATA, NAME)

    from fastapi.testclient import TestClient

    from local.app import build_app
    from local.seed import seed
    from servicedesk.platform.db import get_engine

    seed(get_engine(), password=PASSWORD, demo=False)
    client = TestClient(build_app())

    def login(email: str) -> dict[str, str]:
        answer = client.post(
            "/v1/auth/login", json={"email": email, "password": PASSWORD, "tenant": "acme"}
        )
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    manager, agent = login("manager@acme.example"), login("agent@acme.example")
    employee = login("employee@acme.example")
    agent_id = client.get("/v1/me", headers=agent).json()["user"]["id"]
    run = uuid.uuid4().hex[:6]
    team = client.post("/v1/teams", headers=manager, json={"name": f"Bench {run}"}).json()
    client.put(f"/v1/teams/{team['id']}/members/{agent_id}", headers=manager).raise_for_status()
    schema = {"type": "object", "properties": {"asset": {"type": "string", "maxLength": 20}}}
    category = client.post(
        "/v1/categories",
        headers=manager,
        json={"name": f"Bench {run}", "fields_schema": schema},
    ).json()
    macro_ids = []
    for i in range(args.macros):
        made = client.post(
            "/v1/macros",
            headers=manager,
            json={
                "name": f"Bench {run} {i:04d}",
                "scope": "tenant",
                "position": i,
                "actions": [
                    {"type": "set_field", "field": "priority", "value": "high"},
                    {"type": "set_field", "field": "custom_fields.asset", "value": f"A-{i}"},
                    {"type": "add_tags", "tags": ["bench", f"m{i % 10}"]},
                    {"type": "assign", "team_id": team["id"], "assignee_rule": "current_user"},
                    {"type": "set_status", "status": "in_progress"},
                    {
                        "type": "reply",
                        "body": "Hi {{requester.first_name}}, {{agent.name}} has"
                        " {{ticket.number}} ({{ticket.title}}).",
                    },
                    {"type": "note", "body": "Macro {{ticket.number}} for {{tenant.name}}"},
                ],
            },
        )
        made.raise_for_status()
        macro_ids.append(made.json()["id"])
    tickets = []
    for i in range(args.tickets):
        made = client.post(
            "/v1/tickets",
            headers=employee,
            json={"title": f"Bench {i}", "description": "d", "category_id": category["id"]},
        )
        made.raise_for_status()
        tickets.append(made.json())

    def timed(call: object) -> float:
        started = time.perf_counter()
        answer = call()  # type: ignore[operator]
        elapsed = (time.perf_counter() - started) * 1000
        assert answer.status_code < 300, answer.text
        return elapsed

    listed = [
        timed(lambda: client.get("/v1/macros?limit=100", headers=agent)) for _ in range(args.rounds)
    ]
    page = client.get("/v1/macros?limit=100", headers=agent).json()["items"]
    assert len(page) == min(100, args.macros) and all(not m["problems"] for m in page)
    preview, apply, patch = [], [], []
    for i, ticket in enumerate(tickets):
        url = f"/v1/tickets/{ticket['id']}/macros/{macro_ids[i % len(macro_ids)]}"
        preview.append(timed(lambda u=url: client.post(f"{u}/preview", headers=agent)))
        apply.append(timed(lambda u=url: client.post(f"{u}/apply", headers=agent)))
        now = client.get(f"/v1/tickets/{ticket['id']}", headers=agent).json()
        patch.append(
            timed(
                lambda t=now: client.patch(
                    f"/v1/tickets/{t['id']}",
                    headers=agent,
                    json={"title": "Bench renamed", "version": t["version"]},
                )
            )
        )
    print(
        f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, load"
        f" {os.getloadavg()[0]:.1f}, Python {platform.python_version()}"
    )
    _figures(f"GET /v1/macros?limit=100 ({len(page)} macros)", listed)
    _figures("preview (7 actions, rolled back)", preview)
    _figures("apply (7 actions, one transaction)", apply)
    _figures("PATCH /v1/tickets/{id} (one field)", patch)


if __name__ == "__main__":
    main()
