"""Blackout windows are edited (issue 22): ``change_blackouts.version`` for If-Match (412
when stale) and ``updated_at``, as every edited configuration row has, and UPDATE for the
app role. Non-volatile defaults: adding the columns rewrites nothing.

Revision ID: 0061
Revises: 0060
"""

from alembic import op

from servicedesk.platform.rls import APP_ROLE, grant

revision = "0061"
down_revision = "0060"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE change_blackouts ADD COLUMN version integer NOT NULL DEFAULT 1,"
        " ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()"
    )
    op.execute(grant("change_blackouts", "UPDATE"))


def downgrade() -> None:
    op.execute(f"REVOKE UPDATE ON change_blackouts FROM {APP_ROLE}")
    op.execute("ALTER TABLE change_blackouts DROP COLUMN updated_at, DROP COLUMN version")
