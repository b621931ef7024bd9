"""Changes: the text filter ``q`` of ``GET /v1/changes`` over 100,000 changes, and the
calendar with the tenant's 500 blackout windows all recurring, through the service
(``changes.service.list_changes``, ``calendar``: the code the routes call), one
transaction per call as a request's.

Setup: an embedded PostgreSQL of its own under ``.data/bench-changes-pg`` (or the server
of ``DATABASE_URL``), database ``servicedesk_bench_changes`` dropped, made again and
migrated to head. Two tenants (the other one's changes share the trigram index); in each
``--changes`` changes COPYed in as the administrator, titles and descriptions drawn from a
vocabulary of 2,000 made-up words (a fixed seed); ANALYZE.

Measurement: ``--samples`` first pages (50, newest first) per kind of ``q``: a rare word
(in ~0.1 % of changes), a common word (~5 %), two words together, a word fragment, a
number (``CHG-n``); p50, p95 and max wall milliseconds and the median rows matched. Then
the 92-day calendar with 500 recurring blackout windows (weekly, several days each).

    .venv/bin/python -m bench.changes [--changes N] [--samples N]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.automation import admin_tenant
from bench.cmdb import prepare, request, timed

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "bench-changes-pg"
NAME = "servicedesk_bench_changes"
WORDS = 2000


def word(i: int) -> str:
    letters = "bcdfghjklmnprstvz"
    vowels = "aeiou"
    out = ""
    for k in range(4):
        out += letters[(i >> (k * 2)) % len(letters)] + vowels[(i * 7 + k) % len(vowels)]
    return out + str(i % 97)


def generate(admin: Any, tenant: uuid.UUID, user: uuid.UUID, count: int) -> None:
    from local import db as localdb

    rng = random.Random(3)
    # Zipf-like: a few words are common, most are rare.
    weights = [1 / (k + 1) for k in range(WORDS)]
    vocab = [word(k) for k in range(WORDS)]
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with localdb.admin_connect(admin, NAME) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY changes (tenant_id, number, title, description, type, requested_by,"
            " created_at, updated_at) FROM STDIN"
        ) as copy:
            for n in range(1, count + 1):
                title = " ".join(rng.choices(vocab, weights, k=6))
                body = " ".join(rng.choices(vocab, weights, k=40))
                at = start + timedelta(minutes=n)
                copy.write_row((tenant, n, title, body, "normal", user, at, at))
        conn.execute("ANALYZE changes")


def blackouts(tenant: uuid.UUID, user: uuid.UUID) -> None:
    from servicedesk.changes import config
    from servicedesk.changes.schemas import BlackoutCreate

    with request(tenant, user) as ctx:
        for i in range(config.MAX_BLACKOUTS):
            rule = {
                "frequency": "weekly",
                "weekdays": [i % 7, (i + 3) % 7],
                "start_time": f"{i % 24:02d}:30",
                "duration_minutes": 90,
                "time_zone": ("Europe/London", "America/New_York", "Asia/Tokyo")[i % 3],
                "starts_on": "2029-01-01",
            }
            config.create_blackout(
                ctx, data=BlackoutCreate.model_validate({"name": f"B{i}", "recurrence": rule})
            )


def measure(label: str, calls: list[Any]) -> None:
    times, rows = [], []
    for call in calls:
        ms, found = timed(call)
        times.append(ms)
        rows.append(found)
    times.sort()
    p95 = times[max(0, math.ceil(len(times) * 0.95) - 1)]
    print(
        f"{label}: {len(times)} samples p50 {statistics.median(times):.1f} ms"
        f" p95 {p95:.1f} ms max {times[-1]:.1f} ms; rows median {statistics.median(rows):.0f}"
    )


def search(tenant: uuid.UUID, user: uuid.UUID, q: str) -> int:
    from servicedesk.changes import service

    with request(tenant, user) as ctx:
        found, _ = service.list_changes(
            ctx,
            state=None,
            type=None,
            risk_level=None,
            ticket_id=None,
            ci_id=None,
            limit=50,
            cursor=None,
            q=q,
        )
    return len(found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    admin = prepare(DATA, NAME)
    tenant, user = admin_tenant()
    other, other_user = admin_tenant()
    generate(admin, tenant, user, args.changes)
    generate(admin, other, other_user, args.changes)
    rng = random.Random(5)
    vocab = [word(k) for k in range(WORDS)]
    rare = [vocab[rng.randrange(1500, WORDS)] for _ in range(args.samples)]
    common = [vocab[rng.randrange(5, 15)] for _ in range(args.samples)]
    print(f"{args.changes} changes per tenant, two tenants")
    for label, qs in (
        ("rare word", rare),
        ("common word", common),
        ("two words", [f"{a} {b}" for a, b in zip(common, rare, strict=True)]),
        ("word fragment", [w[1:6] for w in rare]),
        ("number", [f"CHG-{rng.randrange(1, args.changes)}" for _ in range(args.samples)]),
    ):
        measure(f"q {label}", [lambda q=q: search(tenant, user, q) for q in qs])
    blackouts(tenant, user)
    from servicedesk.changes import service

    def month(offset: int) -> int:
        start = datetime(2031, 1, 1, tzinfo=UTC) + timedelta(days=offset)
        with request(tenant, user) as ctx:
            found = service.calendar(ctx, start=start, end=start + timedelta(days=92))
        return len(found["blackouts"])

    measure(
        "calendar, 92 days, 500 recurring blackouts", [lambda i=i: month(i * 7) for i in range(10)]
    )


if __name__ == "__main__":
    main()
