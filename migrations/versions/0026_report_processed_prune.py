"""Prune ``report_processed_events``: a SECURITY DEFINER function the report scheduler calls
every run, across tenants, to delete the ids processed before a cutoff (the consumer needs
them only within SQS's retention window, 14 days; the setting keeps at least 15).

Revision ID: 0026
Revises: 0025
"""

from alembic import op

from servicedesk.platform.rls import definer_function

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

PRUNE = definer_function(
    "report_prune_processed_events(p_before timestamptz)",
    "integer",
    """WITH gone AS (DELETE FROM report_processed_events WHERE processed_at < p_before
       RETURNING 1) SELECT count(*)::integer FROM gone""",
    volatility="VOLATILE",
)


def upgrade() -> None:
    for statement in PRUNE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS report_prune_processed_events(timestamptz)")
