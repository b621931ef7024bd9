"""Demo data for `make dev` (idempotent): tenants Acme and Globex, one user per role."""

from __future__ import annotations

import uuid

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


def seed(engine: Engine, *, password: str) -> None:
    """Create what is missing; leave what exists (a second run changes nothing)."""
    password_hash = hash_password(password)
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
