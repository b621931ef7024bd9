"""The integrations' bookkeeping is pruned as it grows.

- ``integration_deliveries``: the dedupe of inbound deliveries (invariant 9) keeps a
  delivery id for ``SERVICEDESK_INTEGRATIONS_DEDUPE_DAYS`` (30 by default; GitHub redelivers
  on request for 3 days, Slack retries within the hour); each new delivery deletes at most
  100 of its tenant's older rows, so the table is bounded by the arrival rate.
- ``integration_oauth_states``: each Slack install started deletes at most 100 of its
  tenant's states that expired.

The app role may now DELETE from both (under their tenant's RLS policy).

Revision ID: 0051
Revises: 0050
"""

from alembic import op

from servicedesk.platform.rls import APP_ROLE, grant

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None

TABLES = ("integration_deliveries", "integration_oauth_states")


def upgrade() -> None:
    for table in TABLES:
        op.execute(grant(table, "DELETE"))


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"REVOKE DELETE ON {table} FROM {APP_ROLE}")
