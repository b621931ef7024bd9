"""The migrations' head is the one the code expects (the health route reports it; the
migrations themselves run on the real database in tests/integration/test_migrations.py)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from servicedesk.health.routes import SCHEMA_HEAD


def test_code_expects_the_migration_head():
    root = Path(__file__).resolve().parents[2]
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD
