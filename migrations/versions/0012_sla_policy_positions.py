"""SLA policies: one position per policy in a tenant.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27

Two policies could share a position, and which of them applied to a ticket then depended
on their creation order, which no screen shows. Positions are now unique per tenant. A
tenant that has duplicates gets its policies renumbered 10, 20, 30, ... in the order that
applied until now (position, then creation), so no ticket would pick another policy.
The constraint is not deferrable: a reorder (PUT /v1/sla-policies/order) moves the rows
through negative positions within its transaction.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

RENUMBER_TENANTS_WITH_DUPLICATES = """
UPDATE sla_policies p SET position = r.n * 10, version = p.version + 1, updated_at = now()
  FROM (SELECT id, row_number() OVER (PARTITION BY tenant_id
                                      ORDER BY position, created_at, id) AS n
          FROM sla_policies
         WHERE tenant_id IN (SELECT tenant_id FROM sla_policies
                              GROUP BY tenant_id, position HAVING count(*) > 1)) r
 WHERE p.id = r.id
"""


def upgrade() -> None:
    op.execute(RENUMBER_TENANTS_WITH_DUPLICATES)
    op.execute("DROP INDEX IF EXISTS ix_sla_policies_position")
    op.execute(
        "ALTER TABLE sla_policies ADD CONSTRAINT uq_sla_policies_position"
        " UNIQUE (tenant_id, position)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE sla_policies DROP CONSTRAINT IF EXISTS uq_sla_policies_position")
    op.execute("CREATE INDEX ix_sla_policies_position ON sla_policies (tenant_id, position)")
