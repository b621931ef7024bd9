"""Alembic environment: runs as the owner role (never the application role)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from servicedesk.platform.config import get_settings

config = context.config


def owner_url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        settings = get_settings()
        if settings.migration_database_url is None:
            raise RuntimeError("SERVICEDESK_MIGRATION_DATABASE_URL is not set")
        url = settings.migration_database_url.get_secret_value()
    return str(url).replace("postgresql://", "postgresql+psycopg://", 1)


def run_migrations_online() -> None:
    engine = create_engine(owner_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations_online()
