"""Approvals (issue 22 points 4 and 5): flows, requests on any subject, their stages,
decisions and delegations; service requests that wait for approval.

- ``approval_flows``: a tenant's named templates (ordered stages as JSON: rule, approvers
  spec, due hours) with an escalation role or user for stages that wait too long.
- ``approval_requests``: one per subject (``subject_type``, ``subject_id``: a ticket now, a
  change later); at most one pending per subject.
- ``approval_stages``: the request's stages, copied from the flow, with the approvers
  resolved when the stage starts (``approver_ids``), its due time and the reminder and
  escalation stamps the SLA evaluator's pass sets.
- ``approval_decisions``: one per stage and seat (``COALESCE(on_behalf_of, approver_id)``):
  approving twice is refused by the database.
- ``approval_delegations``: a user's decisions delegated to another within a window.
- ``memberships.manager_id``: the member's manager (approvers "the requester's manager").
- ``categories.approval_flow_id``: a catalog category whose tickets need approval.
- ticket status ``pending_approval``.
- ``approval_tenants_due(now)``: tenants with a stage past its due time (not reminded yet)
  or its escalation time (twice the due hours; not escalated yet); the SLA evaluator's pass
  runs before any tenant is known.

Revision ID: 0048
Revises: 0047
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0048"
down_revision = "0047"
branch_labels = None
depends_on = None

OLD_STATUSES = "('new', 'open', 'in_progress', 'pending', 'resolved', 'closed', 'cancelled')"
STATUSES = (
    "('new', 'open', 'in_progress', 'pending', 'pending_approval', 'resolved', 'closed',"
    " 'cancelled')"
)

TABLES = """
CREATE TABLE approval_flows (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    stages jsonb NOT NULL CHECK (jsonb_typeof(stages) = 'array'),
    escalation_role text CHECK (escalation_role IN ('agent', 'manager', 'admin')),
    escalation_user_id uuid,
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX uq_approval_flows_name ON approval_flows (tenant_id, lower(name));

CREATE TABLE approval_requests (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    flow_id uuid,
    subject_type text NOT NULL CHECK (subject_type IN ('ticket', 'change')),
    subject_id uuid NOT NULL,
    title text NOT NULL DEFAULT '' CHECK (length(title) <= 300),
    state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'approved', 'rejected', 'cancelled')),
    current_stage integer,
    requested_by uuid NOT NULL,
    escalation_role text,
    escalation_user_id uuid,
    version integer NOT NULL DEFAULT 1,
    decided_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, flow_id) REFERENCES approval_flows (tenant_id, id) ON DELETE SET NULL (flow_id),
    CHECK ((state = 'pending') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX uq_approval_requests_pending ON approval_requests
    (tenant_id, subject_type, subject_id) WHERE state = 'pending';
CREATE INDEX ix_approval_requests_subject ON approval_requests
    (tenant_id, subject_type, subject_id, created_at DESC);
CREATE INDEX ix_approval_requests_requester ON approval_requests (tenant_id, requested_by);

CREATE TABLE approval_stages (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    request_id uuid NOT NULL,
    position integer NOT NULL CHECK (position >= 0),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    rule text NOT NULL CHECK (rule IN ('any', 'all', 'quorum')),
    quorum integer CHECK (quorum IS NULL OR quorum >= 1),
    approvers jsonb NOT NULL,
    approver_ids uuid[] NOT NULL DEFAULT '{}',
    state text NOT NULL DEFAULT 'waiting'
        CHECK (state IN ('waiting', 'pending', 'approved', 'rejected', 'cancelled')),
    due_hours integer CHECK (due_hours IS NULL OR due_hours BETWEEN 1 AND 8760),
    started_at timestamptz,
    due_at timestamptz,
    reminded_at timestamptz,
    escalated_at timestamptz,
    decided_at timestamptz,
    UNIQUE (tenant_id, id),
    UNIQUE (request_id, position),
    FOREIGN KEY (tenant_id, request_id) REFERENCES approval_requests (tenant_id, id)
        ON DELETE CASCADE,
    CHECK ((rule = 'quorum') = (quorum IS NOT NULL))
);
CREATE INDEX ix_approval_stages_approvers ON approval_stages USING gin (approver_ids)
    WHERE state = 'pending';
CREATE INDEX ix_approval_stages_due ON approval_stages (due_at) WHERE state = 'pending';

CREATE TABLE approval_decisions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    request_id uuid NOT NULL,
    stage_id uuid NOT NULL,
    approver_id uuid NOT NULL,
    on_behalf_of uuid,
    decision text NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment text NOT NULL DEFAULT '' CHECK (length(comment) <= 4000),
    channel text NOT NULL DEFAULT 'web' CHECK (channel IN ('web', 'email')),
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, stage_id) REFERENCES approval_stages (tenant_id, id)
        ON DELETE CASCADE,
    CHECK (on_behalf_of IS NULL OR on_behalf_of <> approver_id)
);
CREATE UNIQUE INDEX uq_approval_decisions_seat ON approval_decisions
    (stage_id, COALESCE(on_behalf_of, approver_id));
CREATE INDEX ix_approval_decisions_request ON approval_decisions (tenant_id, request_id);

CREATE TABLE approval_delegations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id uuid NOT NULL,
    delegate_id uuid NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (user_id <> delegate_id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX ix_approval_delegations_user ON approval_delegations (tenant_id, user_id, ends_at);
CREATE INDEX ix_approval_delegations_delegate ON approval_delegations
    (tenant_id, delegate_id, ends_at);

ALTER TABLE memberships ADD COLUMN manager_id uuid;
ALTER TABLE memberships ADD CONSTRAINT memberships_manager_not_self
    CHECK (manager_id IS NULL OR manager_id <> user_id);
ALTER TABLE categories ADD COLUMN approval_flow_id uuid;
ALTER TABLE categories ADD CONSTRAINT categories_approval_flow_fk
    FOREIGN KEY (tenant_id, approval_flow_id) REFERENCES approval_flows (tenant_id, id)
    ON DELETE SET NULL (approval_flow_id);
"""

FUNCTIONS = definer_function(
    "approval_tenants_due(p_now timestamptz)",
    "SETOF uuid",
    """SELECT DISTINCT tenant_id FROM approval_stages
       WHERE state = 'pending' AND due_at IS NOT NULL AND due_at <= p_now
         AND escalated_at IS NULL
         AND (reminded_at IS NULL OR due_at + make_interval(hours => due_hours) <= p_now)""",
)


def upgrade() -> None:
    op.execute(TABLES)
    op.execute("ALTER TABLE tickets DROP CONSTRAINT tickets_status_check")
    op.execute(
        f"ALTER TABLE tickets ADD CONSTRAINT tickets_status_check CHECK (status IN {STATUSES})"
    )
    statements: list[str] = []
    for table, privileges in (
        ("approval_flows", "SELECT, INSERT, UPDATE, DELETE"),
        ("approval_requests", "SELECT, INSERT, UPDATE"),
        ("approval_stages", "SELECT, INSERT, UPDATE"),
        ("approval_decisions", "SELECT, INSERT"),
        ("approval_delegations", "SELECT, INSERT, DELETE"),
    ):
        statements += [*tenant_rls(table), grant(table, privileges)]
    for statement in [*statements, *FUNCTIONS]:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS approval_tenants_due(timestamptz)")
    op.execute("UPDATE tickets SET status = 'open' WHERE status = 'pending_approval'")
    op.execute("ALTER TABLE tickets DROP CONSTRAINT tickets_status_check")
    op.execute(
        f"ALTER TABLE tickets ADD CONSTRAINT tickets_status_check CHECK (status IN {OLD_STATUSES})"
    )
    op.execute("ALTER TABLE categories DROP COLUMN IF EXISTS approval_flow_id")
    op.execute("ALTER TABLE memberships DROP CONSTRAINT IF EXISTS memberships_manager_not_self")
    op.execute("ALTER TABLE memberships DROP COLUMN IF EXISTS manager_id")
    for table in (
        "approval_delegations",
        "approval_decisions",
        "approval_stages",
        "approval_requests",
        "approval_flows",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table}")
