"""SLA: find one tenant's due targets through an index that starts with the tenant.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

The evaluator asks, per tenant, for the targets whose ``next_check_at`` has come. The only
index on ``next_check_at`` (kept: ``sla_tenants_due`` scans it across tenants) leads with
the instant, so each tenant's query walked every tenant's due targets and filtered on the
heap: at 1,000,000 open tickets across 1,000 tenants with 100,000 due, ~180 ms and 47,000
buffers per tenant instead of ~0.1 ms and 50 buffers (bench/sla.py, docs/benchmarks.md).
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_ticket_sla_tenant_next_check ON ticket_sla_targets"
        " (tenant_id, next_check_at) WHERE next_check_at IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_ticket_sla_tenant_next_check")
