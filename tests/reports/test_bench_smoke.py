"""bench/reports.py runs end to end at 2,000 tickets (CI does not run the full bench): it
seeds, rebuilds the rollups when the reports package is there, measures over real HTTP and
exports the newest 500 tickets as CSV, counted back with the csv module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARGS = ("--tickets", "2000", "--requests", "1", "--export", "500", "--workers", "1")


def test_bench_reports_runs_at_two_thousand_tickets(pg_admin: Any) -> None:
    from local import db as localdb

    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEDESK_")}
    env["DATABASE_URL"] = pg_admin.render_as_string(hide_password=False)
    try:
        result = subprocess.run(
            [sys.executable, "bench/reports.py", *ARGS],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        localdb.drop_database(pg_admin, "servicedesk_bench_reports_2000")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "rows: tickets 2,000" in result.stdout
    assert "export: 500 tickets as CSV" in result.stdout
    if "rollups rebuilt from source" in result.stdout:
        for name in ("dashboard", "volume", "backlog", "agent-performance"):
            assert f"| {name} | 8 | 1 |" in result.stdout, name
    else:
        assert "the rebuild FAILED" in result.stdout  # it says so; see test_acceptance.py
