"""CSAT delay and good/bad scale; retention of the knowledge base's activity logs.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06

``csat_surveys`` gains the survey's ``scale`` (``1-5`` or ``good-bad``: good is stored as 5,
bad as 1, so a rating means the same in every report), ``send_after`` (the mail is due
then; NULL once no mail is pending) and ``cancelled_at`` (the ticket was reopened before a
delayed survey went out). ``csat_tenants_due`` finds the tenants with surveys due before
any tenant is known (the CSAT sender's first step), like ``sla_tenants_due``.

``kb_search_log`` and ``kb_deflections`` are kept ``kb.activity_retention_days`` (a tenant
setting); the application role may not delete from them, so the daily retention job calls
``kb_prune_activity``, which deletes one tenant's old rows and only in that tenant's
transaction.
"""

from alembic import op

from servicedesk.platform.rls import CURRENT_TENANT, definer_function

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

CSAT = """
ALTER TABLE csat_surveys
    ADD COLUMN scale text NOT NULL DEFAULT '1-5' CHECK (scale IN ('1-5', 'good-bad')),
    ADD COLUMN send_after timestamptz,
    ADD COLUMN cancelled_at timestamptz,
    ADD CONSTRAINT csat_surveys_scale_rating CHECK (scale = '1-5' OR rating IN (1, 5)),
    ADD CONSTRAINT csat_surveys_pending_unsent CHECK (send_after IS NULL OR sent_at IS NULL);
CREATE INDEX ix_csat_surveys_due ON csat_surveys (send_after, tenant_id)
    WHERE send_after IS NOT NULL AND cancelled_at IS NULL AND superseded_at IS NULL;
CREATE INDEX ix_kb_search_log_created ON kb_search_log (tenant_id, created_at);
"""

TENANTS_DUE = (
    "SELECT DISTINCT tenant_id FROM csat_surveys WHERE send_after IS NOT NULL"
    " AND send_after <= p_now AND cancelled_at IS NULL AND superseded_at IS NULL"
)

# Tenants with activity older than the shortest retention a tenant may set.
KB_TENANTS = (
    "SELECT tenant_id FROM kb_search_log WHERE created_at < p_before"
    " UNION SELECT tenant_id FROM kb_deflections WHERE created_at < p_before"
)

# One tenant's rows before the cutoff, and only inside that tenant's transaction.
KB_PRUNE = f"""
DECLARE
    searches bigint;
    deflections bigint;
BEGIN
    IF p_tenant IS DISTINCT FROM {CURRENT_TENANT} THEN
        RAISE EXCEPTION 'kb_prune_activity: not this transaction''s tenant';
    END IF;
    DELETE FROM kb_search_log WHERE tenant_id = p_tenant AND created_at < p_before;
    GET DIAGNOSTICS searches = ROW_COUNT;
    DELETE FROM kb_deflections WHERE tenant_id = p_tenant AND created_at < p_before;
    GET DIAGNOSTICS deflections = ROW_COUNT;
    RETURN searches + deflections;
END
"""


def upgrade() -> None:
    op.execute(CSAT)
    for statement in (
        *definer_function("csat_tenants_due(p_now timestamptz)", "SETOF uuid", TENANTS_DUE),
        *definer_function(
            "kb_tenants_with_activity(p_before timestamptz)", "SETOF uuid", KB_TENANTS
        ),
        *definer_function(
            "kb_prune_activity(p_tenant uuid, p_before timestamptz)",
            "bigint",
            KB_PRUNE,
            language="plpgsql",
            volatility="VOLATILE",
        ),
    ):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS kb_prune_activity(uuid, timestamptz)")
    op.execute("DROP FUNCTION IF EXISTS kb_tenants_with_activity(timestamptz)")
    op.execute("DROP FUNCTION IF EXISTS csat_tenants_due(timestamptz)")
    op.execute("DROP INDEX IF EXISTS ix_kb_search_log_created")
    op.execute(
        "ALTER TABLE csat_surveys DROP COLUMN IF EXISTS cancelled_at,"
        " DROP COLUMN IF EXISTS send_after, DROP COLUMN IF EXISTS scale"
    )
