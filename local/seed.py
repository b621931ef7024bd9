"""Demo data for `make dev` (idempotent): tenants Acme and Globex, one user per role, and
(unless asked to start empty) a desk with history in each (local/demo.py)."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine

from servicedesk.identity.passwords import hash_password
from servicedesk.platform.db import set_tenant, transaction

TENANTS = (("acme", "Acme"), ("globex", "Globex"))
USERS = (
    ("admin", "admin", "Ada Admin"),
    ("manager", "manager", "Max Manager"),
    ("agent", "agent", "Alex Agent"),
    ("agent2", "agent", "Avery Agent"),
    ("employee", "requester", "Erin Employee"),
    ("employee2", "requester", "Eli Employee"),
)


def demo_accounts() -> list[tuple[str, str, str]]:
    return [
        (f"{local}@{slug}.example", role, slug) for slug, _ in TENANTS for local, role, _ in USERS
    ]


def demo_wanted(argv: list[str]) -> bool:
    """The desk is seeded unless `--empty` is given or SERVICEDESK_DEMO_DATA is 0/false/no."""
    off = os.environ.get("SERVICEDESK_DEMO_DATA", "1").strip().lower() in ("0", "false", "no")
    return not off and "--empty" not in argv


def seed(engine: Engine, *, password: str, demo: bool = False) -> None:
    """Create what is missing; leave what exists (a second run changes nothing). With
    ``demo``, each tenant that has no team and no ticket yet also gets a desk with history."""
    password_hash = hash_password(password)
    tenant_ids: dict[str, uuid.UUID] = {}
    for slug, name in TENANTS:
        with transaction(engine) as session:
            tenant_id = session.execute(text("SELECT tenant_id_for_slug(:s)"), {"s": slug}).scalar()
            if tenant_id is None:
                tenant_id = uuid.uuid4()
                set_tenant(session, tenant_id=tenant_id, user_id=None)
                session.execute(
                    text("INSERT INTO tenants (id, slug, name) VALUES (:i, :s, :n)"),
                    {"i": tenant_id, "s": slug, "n": name},
                )
            for local, role, full_name in USERS:
                email = f"{local}@{slug}.example"
                user_id = session.execute(
                    text("SELECT user_id FROM auth_password_hash(:e)"), {"e": email}
                ).scalar()
                if user_id is None:
                    user_id = uuid.uuid4()
                    session.execute(
                        text(
                            "INSERT INTO users (id, email, name, password_hash)"
                            " VALUES (:i, :e, :n, :h)"
                        ),
                        {"i": user_id, "e": email, "n": full_name, "h": password_hash},
                    )
                set_tenant(session, tenant_id=tenant_id, user_id=user_id)
                session.execute(
                    text(
                        "INSERT INTO memberships (tenant_id, user_id, role) VALUES (:t, :u, :r)"
                        " ON CONFLICT DO NOTHING"
                    ),
                    {"t": tenant_id, "u": user_id, "r": role},
                )
        tenant_ids[slug] = tenant_id
    if demo:
        seed_desks(engine, tenant_ids, password_hash=password_hash)


def seed_desks(engine: Engine, tenant_ids: dict[str, uuid.UUID], *, password_hash: str) -> None:
    from local.demo import seed_tenant
    from servicedesk.platform.publisher import publish_committed
    from servicedesk.reports.rebuild import rebuild_tenant

    started, now = time.perf_counter(), datetime.now(UTC)
    seeded = []
    for slug, tenant_id in tenant_ids.items():
        with transaction(engine) as session:
            announced = seed_tenant(session, tenant_id, slug, password_hash=password_hash, now=now)
        if announced is not None:
            seeded.append(slug)
            publish_committed(tenant_id, announced, engine=engine)
            # History writes no outbox rows, so the reports consumer never hears of it: the
            # report facts are built from the tables (the dashboard and reports read them).
            rebuild_tenant(tenant_id)
    if seeded:
        took = time.perf_counter() - started
        print(f"• demo desks seeded for {', '.join(seeded)} in {took:.1f} s", flush=True)
