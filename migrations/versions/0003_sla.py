"""SLA: business calendars, policies, per-ticket targets, pauses, crossings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

from servicedesk.platform.rls import grant, tenant_rls

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = """
ALTER TABLE memberships ADD COLUMN tags text[] NOT NULL DEFAULT '{}';
-- The earliest due time among the ticket's running SLA targets, for "sort by next due".
ALTER TABLE tickets ADD COLUMN sla_due_at timestamptz;
CREATE INDEX ix_tickets_sla_due ON tickets (tenant_id, sla_due_at, id) WHERE sla_due_at IS NOT NULL;

CREATE TABLE business_calendars (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    timezone text NOT NULL,
    week jsonb NOT NULL,
    holidays date[] NOT NULL DEFAULT '{}',
    yearly_holidays text[] NOT NULL DEFAULT '{}',
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX uq_business_calendars_name ON business_calendars (tenant_id, lower(name));

CREATE TABLE sla_policies (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position integer NOT NULL,
    active boolean NOT NULL DEFAULT true,
    conditions jsonb NOT NULL DEFAULT '{}'::jsonb,
    calendar_id uuid,
    first_response_minutes integer CHECK (first_response_minutes > 0),
    next_response_minutes integer CHECK (next_response_minutes > 0),
    resolution_minutes integer CHECK (resolution_minutes > 0),
    warning_thresholds integer[] NOT NULL DEFAULT '{75,90}',
    pause_statuses text[] NOT NULL DEFAULT '{pending}',
    escalations jsonb NOT NULL DEFAULT '[]'::jsonb,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, calendar_id) REFERENCES business_calendars (tenant_id, id)
);
CREATE UNIQUE INDEX uq_sla_policies_name ON sla_policies (tenant_id, lower(name));
CREATE INDEX ix_sla_policies_position ON sla_policies (tenant_id, position);

-- One row per ticket and target. The clock: `elapsed_seconds` of business time were spent
-- up to `clock_at`; while running (`paused_since` null, `met_at` null) `due_at` and the
-- warning instants are precomputed, and `next_check_at` is the earliest crossing still
-- to record, so the evaluator only touches rows whose moment has come.
CREATE TABLE ticket_sla_targets (
    tenant_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    target text NOT NULL CHECK (target IN ('first_response', 'next_response', 'resolution')),
    cycle integer NOT NULL DEFAULT 1,
    policy_id uuid,
    budget_seconds integer NOT NULL CHECK (budget_seconds > 0),
    elapsed_seconds integer NOT NULL DEFAULT 0,
    clock_at timestamptz NOT NULL,
    paused_since timestamptz,
    due_at timestamptz,
    warn_at timestamptz[] NOT NULL DEFAULT '{}',
    warn_levels integer[] NOT NULL DEFAULT '{}',
    next_check_at timestamptz,
    met_at timestamptz,
    breached_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ticket_id, target),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    FOREIGN KEY (tenant_id, policy_id) REFERENCES sla_policies (tenant_id, id)
);
CREATE INDEX ix_ticket_sla_next_check ON ticket_sla_targets (next_check_at)
    WHERE next_check_at IS NOT NULL;
CREATE INDEX ix_ticket_sla_tenant_due ON ticket_sla_targets (tenant_id, due_at)
    WHERE met_at IS NULL;

CREATE TABLE ticket_sla_pauses (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    reason text NOT NULL,
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
CREATE INDEX ix_ticket_sla_pauses_ticket ON ticket_sla_pauses (tenant_id, ticket_id);

-- Each threshold crossing is recorded once: the primary key makes overlapping evaluator
-- runs harmless (INSERT ... ON CONFLICT DO NOTHING RETURNING yields only the new ones).
CREATE TABLE sla_crossings (
    tenant_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    target text NOT NULL,
    cycle integer NOT NULL DEFAULT 1,
    kind text NOT NULL,
    policy_id uuid,
    crossed_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ticket_id, target, cycle, kind),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
CREATE INDEX ix_sla_crossings_tenant ON sla_crossings (tenant_id, crossed_at);
"""

TENANT_TABLES = {
    "business_calendars": "SELECT, INSERT, UPDATE, DELETE",
    "sla_policies": "SELECT, INSERT, UPDATE, DELETE",
    "ticket_sla_targets": "SELECT, INSERT, UPDATE, DELETE",
    "ticket_sla_pauses": "SELECT, INSERT, UPDATE",
    "sla_crossings": "SELECT, INSERT",
}

# The evaluator finds tenants with work due before it knows any tenant: this lookup runs
# as the owner and returns only tenant ids, never rows.
TENANTS_DUE = """
CREATE OR REPLACE FUNCTION sla_tenants_due(p_now timestamptz) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
    SELECT DISTINCT tenant_id FROM ticket_sla_targets
    WHERE next_check_at IS NOT NULL AND next_check_at <= p_now
$fn$;
REVOKE ALL ON FUNCTION sla_tenants_due(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sla_tenants_due(timestamptz) TO servicedesk_app;
"""


def upgrade() -> None:
    op.execute(TABLES)
    for table, privileges in TENANT_TABLES.items():
        for statement in tenant_rls(table):
            op.execute(statement)
        op.execute(grant(table, privileges))
    op.execute(TENANTS_DUE)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS sla_tenants_due(timestamptz)")
    op.execute(
        "DROP TABLE IF EXISTS sla_crossings, ticket_sla_pauses, ticket_sla_targets,"
        " sla_policies, business_calendars CASCADE"
    )
    op.execute("ALTER TABLE memberships DROP COLUMN IF EXISTS tags")
    op.execute("ALTER TABLE tickets DROP COLUMN IF EXISTS sla_due_at")
