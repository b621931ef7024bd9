"""Automation rules (issue 20 point 4): rules, their run log, time rules' firings.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06

``automation_rules``: a tenant's rules, evaluated in ``position`` order; ``kind`` event (on
a ticket change, in its transaction) or time (the scheduler). ``automation_runs``: the run
log, one row per firing or skip (pruned after ``automation_run_retention_days``).
``automation_fired``: a time rule fires once per ticket per episode (the ticket's status
stint: ``tickets.status_changed_at``, added here and kept by ``apply_status``).
The per-tenant "Automation" actor is a users row with an inactive membership (no login,
not assignable, not listed): see docs/automation.md.
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

RULES = """
CREATE TABLE automation_rules (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    kind text NOT NULL CHECK (kind IN ('event', 'time')),
    triggers jsonb NOT NULL DEFAULT '[]'::jsonb,
    conditions jsonb NOT NULL DEFAULT '{"all": []}'::jsonb,
    actions jsonb NOT NULL,
    position integer NOT NULL,
    active boolean NOT NULL DEFAULT true,
    loop_limit smallint NOT NULL DEFAULT 1 CHECK (loop_limit BETWEEN 1 AND 10),
    version integer NOT NULL DEFAULT 1,
    created_by uuid REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX uq_automation_rules_name ON automation_rules (tenant_id, lower(name));
CREATE INDEX ix_automation_rules_order ON automation_rules (tenant_id, kind, position, id)
    WHERE active;
CREATE INDEX ix_automation_rules_time ON automation_rules (tenant_id) WHERE active AND kind = 'time';
"""

RUNS = """
CREATE TABLE automation_runs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    rule_id uuid NOT NULL REFERENCES automation_rules(id) ON DELETE CASCADE,
    ticket_id uuid,
    trigger text NOT NULL CHECK (length(trigger) <= 100),
    status text NOT NULL
        CHECK (status IN ('fired', 'skipped', 'loop_limit', 'depth_limit', 'error')),
    outcomes jsonb NOT NULL DEFAULT '[]'::jsonb,
    error text CHECK (length(error) <= 2000),
    depth smallint NOT NULL DEFAULT 0,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ix_automation_runs_rule ON automation_runs (tenant_id, rule_id, at DESC, id DESC);
CREATE INDEX ix_automation_runs_at ON automation_runs (tenant_id, at);

CREATE TABLE automation_fired (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    rule_id uuid NOT NULL REFERENCES automation_rules(id) ON DELETE CASCADE,
    ticket_id uuid NOT NULL,
    episode timestamptz NOT NULL,
    fired_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rule_id, ticket_id, episode)
);
CREATE INDEX ix_automation_fired_tenant ON automation_fired (tenant_id, fired_at);
"""

STATUS_CHANGED_AT = """
ALTER TABLE tickets ADD COLUMN status_changed_at timestamptz;
UPDATE tickets t SET status_changed_at = coalesce(
    (SELECT max(e.created_at) FROM ticket_events e
      WHERE e.ticket_id = t.id AND e.type IN ('status_changed', 'reopened')),
    t.created_at);
ALTER TABLE tickets ALTER COLUMN status_changed_at SET DEFAULT now();
ALTER TABLE tickets ALTER COLUMN status_changed_at SET NOT NULL;
"""

# The tenants with an active time rule (the scheduler's list; it runs before any tenant).
TENANTS_DUE = definer_function(
    "automation_tenants_due()",
    "SETOF uuid",
    "SELECT DISTINCT tenant_id FROM automation_rules WHERE active AND kind = 'time'",
)


def upgrade() -> None:
    op.execute(RULES)
    op.execute(RUNS)
    op.execute(STATUS_CHANGED_AT)
    for table in ("automation_rules", "automation_runs", "automation_fired"):
        for statement in tenant_rls(table):
            op.execute(statement)
    op.execute(grant("automation_rules", "SELECT, INSERT, UPDATE, DELETE"))
    op.execute(grant("automation_runs", "SELECT, INSERT, DELETE"))
    op.execute(grant("automation_fired", "SELECT, INSERT, DELETE"))
    for statement in TENANTS_DUE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS automation_tenants_due()")
    op.execute("DROP TABLE IF EXISTS automation_fired")
    op.execute("DROP TABLE IF EXISTS automation_runs")
    op.execute("DROP TABLE IF EXISTS automation_rules")
    op.execute("ALTER TABLE tickets DROP COLUMN IF EXISTS status_changed_at")
