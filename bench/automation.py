"""Automation: what event rules cost a ticket change, with 0, 10 and 50 active rules.

On the embedded PostgreSQL of the tickets benchmark (``.data/bench-pg/data``, or the
server of ``DATABASE_URL``), database ``servicedesk_bench_automation`` migrated to head
(dropped and made again each run). One tenant, one admin; for each rule count, the
tenant's rules are replaced by N event rules triggered by ``updated`` whose conditions
(3 tests: a priority, a title substring, a tag) do NOT match, plus, with ``--matching``,
one that matches and adds a tag (so one rule fires per change). Each measured change is
one transaction, as a request's: ``tickets.service.update`` of the priority (the hook
reads the rules once per transaction and evaluates them). The rounds interleave the rule
counts (0, 10, 50, 0, 10, 50, ...) so a change of the machine's load falls on all of them;
the figures are medians per change and the ratio against 0 rules in the same run.

    .venv/bin/python bench/automation.py [--changes N] [--rounds R] [--matching]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This folder's email.py must not shadow the standard library's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path[:0] = [str(ROOT / "layers" / "core" / "python"), str(ROOT)]
COUNTS = (0, 10, 50)
NAME = "servicedesk_bench_automation"


def prepare() -> Any:
    from bench.sla import use_database
    from bench.tickets import DATA_DIR
    from local import db as localdb

    admin = localdb.admin_url(DATA_DIR)
    localdb.drop_database(admin, NAME)
    db = localdb.ensure_database(admin, NAME)
    localdb.migrate(db)
    use_database(db)
    return db


def admin_tenant() -> tuple[uuid.UUID, uuid.UUID]:
    """A new tenant and its one admin (ids), written as the app (bench/cmdb.py too)."""
    from sqlalchemy import text

    from servicedesk.platform import db

    tenant, user = uuid.uuid4(), uuid.uuid4()
    with db.transaction() as session:
        db.set_tenant(session, tenant_id=tenant, user_id=user)
        session.execute(
            text("INSERT INTO tenants (id, slug, name) VALUES (:t, :s, 'Bench')"),
            {"t": tenant, "s": f"bench-{tenant.hex[:8]}"},
        )
        session.execute(
            text("INSERT INTO users (id, email, name) VALUES (:u, :e, 'Admin')"),
            {"u": user, "e": f"admin-{tenant.hex[:8]}@bench.invalid"},
        )
        session.execute(
            text("INSERT INTO memberships (tenant_id, user_id, role) VALUES (:t, :u, 'admin')"),
            {"t": tenant, "u": user},
        )
    return tenant, user


def seed() -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    from servicedesk.platform import db

    tenant, user = admin_tenant()
    tickets = []
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext
    from servicedesk.tickets import service
    from servicedesk.tickets.schemas import TicketCreate

    with db.transaction() as session:
        db.set_tenant(session, tenant_id=tenant, user_id=user)
        ctx = RequestContext(session, tenant, user, Role.ADMIN)
        for i in range(20):
            made = service.create(ctx, data=TicketCreate(title=f"Bench {i}", priority="low"))
            tickets.append(made.id)
    return tenant, user, tickets


def set_rules(tenant: uuid.UUID, count: int, matching: bool) -> None:
    from sqlalchemy import text

    from servicedesk.platform import db

    with db.transaction() as session:
        db.set_tenant(session, tenant_id=tenant, user_id=None)
        session.execute(text("DELETE FROM automation_rules WHERE tenant_id = :t"), {"t": tenant})
        rules = [
            (
                {
                    "all": [
                        {"field": "priority", "op": "is", "value": "critical"},
                        {"field": "title", "op": "contains", "value": f"nothing-{i}"},
                        {"field": "tags", "op": "includes", "value": [f"t{i}"]},
                    ]
                },
                [{"type": "add_tags", "tags": [f"r{i}"]}],
            )
            for i in range(count)
        ]
        if matching and count:
            rules[-1] = ({"all": []}, [{"type": "add_tags", "tags": ["seen"]}])
        for i, (conditions, actions) in enumerate(rules):
            session.execute(
                text(
                    "INSERT INTO automation_rules (tenant_id, name, kind, triggers, conditions,"
                    " actions, position) VALUES (:t, :n, 'event', CAST(:tr AS jsonb),"
                    " CAST(:c AS jsonb), CAST(:a AS jsonb), :p)"
                ),
                {
                    "t": tenant,
                    "n": f"rule {i}",
                    "tr": json.dumps([{"event": "updated"}]),
                    "c": json.dumps(conditions),
                    "a": json.dumps(actions),
                    "p": i,
                },
            )


def changes(tenant: uuid.UUID, user: uuid.UUID, tickets: list[uuid.UUID], n: int) -> list[float]:
    import servicedesk.automation.engine  # noqa: F401 - the hook, as the tickets function has it
    from servicedesk.platform import db
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext
    from servicedesk.tickets import service
    from servicedesk.tickets.schemas import TicketUpdate

    levels = ("low", "medium", "high")
    seconds = []
    for i in range(n):
        ticket_id = tickets[i % len(tickets)]
        started = time.perf_counter()
        with db.transaction() as session:
            db.set_tenant(session, tenant_id=tenant, user_id=user)
            ctx = RequestContext(session, tenant, user, Role.ADMIN)
            ticket = service.get_visible(ctx, ticket_id)
            wanted = levels[(levels.index(ticket.priority) + 1) % 3]
            service.update(
                ctx,
                ticket_id=ticket_id,
                data=TicketUpdate(priority=wanted),
                if_match=ticket.version,
            )
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--matching", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("SERVICEDESK_INSECURE_FAST_PASSWORD_HASHING", "1")
    prepare()
    tenant, user, tickets = seed()
    results: dict[int, list[float]] = {n: [] for n in COUNTS}
    for _ in range(args.rounds):
        for count in COUNTS:
            set_rules(tenant, count, args.matching)
            changes(tenant, user, tickets, 5)  # warm-up
            results[count].extend(changes(tenant, user, tickets, args.changes))
    base = statistics.median(results[0])
    print(f"load average: {os.getloadavg()}")
    print(f"{'rules':>6} {'median ms':>10} {'p90 ms':>8} {'x 0 rules':>10}")
    for count in COUNTS:
        ordered = sorted(results[count])
        median = statistics.median(ordered)
        p90 = ordered[int(len(ordered) * 0.9)]
        print(f"{count:>6} {median * 1000:>10.2f} {p90 * 1000:>8.2f} {median / base:>10.2f}")


if __name__ == "__main__":
    main()
