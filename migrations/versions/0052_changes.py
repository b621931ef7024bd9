"""Change management (issue 22 point 6): change requests, their affected CIs and linked
tickets, the tenant's change settings (CAB and emergency approval flows, the risk
questionnaire and its thresholds), standard-change templates and blackout windows.

- ``change_settings``: one row per tenant, written lazily on first read (the default
  questionnaire); ``version`` for If-Match.
- ``change_templates``: pre-approved standard changes (their plans copied on create).
- ``change_blackouts``: named windows ``[starts_at, ends_at)`` in which only an emergency
  change may be scheduled.
- ``changes``: type, state, planned window, plans, the risk answers with their score and
  level, the post-implementation review; a number per tenant (``CHG-n``).
- ``change_cis`` and ``change_tickets``: affected CIs and linked incidents/problems.

Approvals of a change are ``approval_requests`` with subject_type 'change' (0048).

Revision ID: 0052
Revises: 0051
"""

from alembic import op

from servicedesk.platform.rls import grant, tenant_rls

revision = "0052"
down_revision = "0051"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE change_settings (
    tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    cab_flow_id uuid,
    emergency_flow_id uuid,
    questions jsonb NOT NULL CHECK (jsonb_typeof(questions) = 'array'),
    medium_from integer NOT NULL CHECK (medium_from >= 0),
    high_from integer NOT NULL,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (high_from > medium_from),
    FOREIGN KEY (tenant_id, cab_flow_id) REFERENCES approval_flows (tenant_id, id)
        ON DELETE SET NULL (cab_flow_id),
    FOREIGN KEY (tenant_id, emergency_flow_id) REFERENCES approval_flows (tenant_id, id)
        ON DELETE SET NULL (emergency_flow_id)
);

CREATE TABLE change_templates (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    implementation_plan text NOT NULL DEFAULT '' CHECK (length(implementation_plan) <= 20000),
    backout_plan text NOT NULL DEFAULT '' CHECK (length(backout_plan) <= 20000),
    test_plan text NOT NULL DEFAULT '' CHECK (length(test_plan) <= 20000),
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX uq_change_templates_name ON change_templates (tenant_id, lower(name));

CREATE TABLE change_blackouts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX ix_change_blackouts_window ON change_blackouts (tenant_id, starts_at, ends_at);

CREATE TABLE changes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    number integer NOT NULL,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    type text NOT NULL CHECK (type IN ('standard', 'normal', 'emergency')),
    state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'assessment', 'approval',
        'scheduled', 'implementing', 'review', 'closed', 'cancelled', 'failed')),
    template_id uuid,
    requested_by uuid NOT NULL REFERENCES users(id),
    planned_start timestamptz,
    planned_end timestamptz,
    implementation_plan text NOT NULL DEFAULT '' CHECK (length(implementation_plan) <= 20000),
    backout_plan text NOT NULL DEFAULT '' CHECK (length(backout_plan) <= 20000),
    test_plan text NOT NULL DEFAULT '' CHECK (length(test_plan) <= 20000),
    risk_answers jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(risk_answers) = 'object'),
    risk_score integer,
    risk_level text CHECK (risk_level IN ('low', 'medium', 'high')),
    review_outcome text CHECK (review_outcome IN ('successful', 'partially_successful', 'failed')),
    review_notes text NOT NULL DEFAULT '' CHECK (length(review_notes) <= 20000),
    reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 4000),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, template_id) REFERENCES change_templates (tenant_id, id)
        ON DELETE SET NULL (template_id),
    CHECK (planned_end IS NULL OR planned_start IS NULL OR planned_end > planned_start)
);
CREATE INDEX ix_changes_newest ON changes (tenant_id, created_at DESC, id DESC);
CREATE INDEX ix_changes_window ON changes (tenant_id, planned_start, planned_end)
    WHERE state NOT IN ('cancelled', 'closed', 'failed');

CREATE TABLE change_cis (
    tenant_id uuid NOT NULL,
    change_id uuid NOT NULL,
    ci_id uuid NOT NULL,
    PRIMARY KEY (change_id, ci_id),
    FOREIGN KEY (tenant_id, change_id) REFERENCES changes (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ci_id) REFERENCES cis (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_change_cis_ci ON change_cis (tenant_id, ci_id);

CREATE TABLE change_tickets (
    tenant_id uuid NOT NULL,
    change_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (change_id, ticket_id),
    FOREIGN KEY (tenant_id, change_id) REFERENCES changes (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_change_tickets_ticket ON change_tickets (tenant_id, ticket_id);
"""

GRANTS = (
    ("change_settings", "SELECT, INSERT, UPDATE"),
    ("change_templates", "SELECT, INSERT, UPDATE, DELETE"),
    ("change_blackouts", "SELECT, INSERT, DELETE"),
    ("changes", "SELECT, INSERT, UPDATE"),
    ("change_cis", "SELECT, INSERT, DELETE"),
    ("change_tickets", "SELECT, INSERT, DELETE"),
)


def upgrade() -> None:
    op.execute(TABLES)
    for table, privileges in GRANTS:
        for statement in [*tenant_rls(table), grant(table, privileges)]:
            op.execute(statement)


def downgrade() -> None:
    for table in (
        "change_tickets",
        "change_cis",
        "changes",
        "change_blackouts",
        "change_templates",
        "change_settings",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table}")
