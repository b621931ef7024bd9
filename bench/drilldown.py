"""Drill-downs: the ticket list's first page for every drilldown of every report.

Seeds (or reuses) bench/reports.py's dataset at ``--tickets`` tickets (one tenant, two
years of history, the same database ``servicedesk_bench_reports_<N>``), rebuilds the
report facts, starts the API (uvicorn, ``--workers``), then, as the manager, asks every
report of the catalogue over the last 12 months by month in Europe/Paris, collects every
row's and the totals' drilldowns, and times ``GET /v1/tickets?<drilldown>&limit=25`` (the
list's first page, as the web app opens it) for each, at concurrency 1. Also the same
page with ``sort=-created_at`` and nothing else (the plain list) as the reference.

    .venv/bin/python bench/drilldown.py [--tickets N] [--reseed] [--workers W]

Prints p50/p95/max in ms per report (and the number of distinct drilldowns); exit status 1
when a request failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path[:0] = [str(ROOT / "layers" / "core" / "python"), str(ROOT)]

import httpx  # noqa: E402 - after the sys.path fix (httpx imports email)

from bench.reports import SLUG, catalogue, prepare, rebuild, run  # noqa: E402
from bench.tickets import api_env, describe_machine, free_port, start_api, stop_api  # noqa: E402
from tests.reports import dataset  # noqa: E402


def list_path(drill: dict[str, str]) -> str:
    query = [(k, v) for k, value in drill.items() for v in value.split(",")]
    return "/v1/tickets?" + urlencode([*query, ("limit", "25")])


def drill_paths(client: httpx.Client, name: str) -> list[str]:
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Paris")).date()
    params = {
        "since": (today - timedelta(days=364)).isoformat(),
        "until": today.isoformat(),
        "tz": "Europe/Paris",
    }
    if name != "agent-performance":
        params["interval"] = "month"
    body = client.get(f"/v1/reports/{name}", params=params).raise_for_status().json()
    drills = [d for row in body["rows"] for d in row.get("drilldowns", {}).values()]
    drills += list(body.get("totals_drilldowns", {}).values())
    return sorted({list_path(d) for d in drills})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-rebuild", action="store_true")
    args = parser.parse_args(argv)
    print(f"• {describe_machine()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    print(f"• load average {os.getloadavg()}", flush=True)
    db, _server, tenant_id, seeded = prepare(args.tickets, args.reseed)
    if seeded is not None:
        print(f"• seeded in {seeded:.0f} s", flush=True)
    site = Path(tempfile.mkdtemp(prefix="bench-drill-"))
    env = api_env(db, 10, None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "core" / "python"), str(ROOT)])
    if not args.skip_rebuild:
        took = rebuild(db, tenant_id, env)
        print(f"• facts rebuilt in {took or 0:.1f} s", flush=True)
    port = free_port()
    api = start_api(db, port, args.workers, 10, site)
    base = f"http://127.0.0.1:{port}"
    failed = False
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            login = client.post(
                "/v1/auth/login",
                json={"email": f"manager1-{SLUG}@dataset.example", "password": dataset.PASSWORD},
            )
            token = str(login.raise_for_status().json()["access_token"])
            client.headers["Authorization"] = f"Bearer {token}"
            operations = [("plain list (reference)", ["/v1/tickets?limit=25"] * 20)]
            operations += [(n, drill_paths(client, n)) for n in catalogue(base, token)]
        print("\n| list of | concurrency | requests | p50 ms | p95 ms | max ms | req/s | errors |")
        print("|---|---|---|---|---|---|---|---|")
        for name, paths in operations:
            if not paths:
                print(f"| {name} | - | 0 | - | - | - | - | - |")
                continue
            run(base, token, name, paths[:1], 1)  # warm-up
            result = run(base, token, name, paths, 1)
            print(result.line(), flush=True)
            failed |= bool(result.errors)
            for error in result.errors[:3]:
                print(f"    {error}")
        print(f"• load average after {os.getloadavg()}")
    finally:
        stop_api(api)
        shutil.rmtree(site, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
