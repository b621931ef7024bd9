"""Scheduled AWS discovery of the CMDB (issue 22, item 3): sources, their runs, the CIs
each source created.

- ``discovery_sources``: a tenant's AWS account reached through a role it made
  (``role_arn``, named ``servicedesk-discovery*``), with the ``external_id`` we generated
  (never the tenant's choice: the confused-deputy guard), regions, resource types, enabled,
  interval and the next run.
- ``discovery_runs``: one per run (manual or scheduled): queued, running, succeeded or
  failed, with counts and an error without secrets. At most one queued or running per
  source (a partial unique index: a second Run now is 409).
- ``discovery_source_cis``: the CIs a source created; only these are retired when gone.
- ``discovery_tenants_due(now)``: the tenants with a source due or a run queued, before
  any tenant is known (the scheduled function's first step).

Revision ID: 0060
Revises: 0059
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0060"
down_revision = "0059"
branch_labels = None
depends_on = None

TABLES = r"""
CREATE TABLE discovery_sources (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role_arn text NOT NULL CHECK (length(role_arn) <= 600
        AND role_arn ~ '^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}\:role/'),
    external_id text NOT NULL CHECK (length(external_id) BETWEEN 32 AND 64),
    regions text[] NOT NULL CHECK (cardinality(regions) BETWEEN 1 AND 20),
    resource_types text[] NOT NULL DEFAULT '{}' CHECK (cardinality(resource_types) <= 20),
    enabled boolean NOT NULL DEFAULT true,
    interval text NOT NULL DEFAULT 'daily' CHECK (interval IN ('hourly', 'daily')),
    next_run_at timestamptz NOT NULL DEFAULT now(),
    last_success_at timestamptz,
    created_by uuid REFERENCES users(id),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX uq_discovery_sources_name ON discovery_sources (tenant_id, lower(name));
CREATE INDEX ix_discovery_sources_due ON discovery_sources (next_run_at) WHERE enabled;

CREATE TABLE discovery_runs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    source_id uuid NOT NULL,
    trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    requested_by uuid REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    resources integer NOT NULL DEFAULT 0,
    created integer NOT NULL DEFAULT 0,
    updated integer NOT NULL DEFAULT 0,
    unchanged integer NOT NULL DEFAULT 0,
    retired integer NOT NULL DEFAULT 0,
    relationships integer NOT NULL DEFAULT 0,
    skipped integer NOT NULL DEFAULT 0,
    truncated boolean NOT NULL DEFAULT false,
    error text CHECK (length(error) <= 2000),
    FOREIGN KEY (tenant_id, source_id) REFERENCES discovery_sources (tenant_id, id)
        ON DELETE CASCADE
);
CREATE UNIQUE INDEX uq_discovery_runs_active ON discovery_runs (source_id)
    WHERE status IN ('queued', 'running');
CREATE INDEX ix_discovery_runs_source ON discovery_runs (source_id, created_at, id);
CREATE INDEX ix_discovery_runs_queued ON discovery_runs (tenant_id) WHERE status = 'queued';

CREATE TABLE discovery_source_cis (
    tenant_id uuid NOT NULL,
    source_id uuid NOT NULL,
    ci_id uuid NOT NULL,
    PRIMARY KEY (source_id, ci_id),
    FOREIGN KEY (tenant_id, source_id) REFERENCES discovery_sources (tenant_id, id)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ci_id) REFERENCES cis (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_discovery_source_cis_ci ON discovery_source_cis (ci_id);
"""

GRANTS = (
    ("discovery_sources", "SELECT, INSERT, UPDATE, DELETE"),
    ("discovery_runs", "SELECT, INSERT, UPDATE"),
    ("discovery_source_cis", "SELECT, INSERT, DELETE"),
)

TENANTS_DUE = (
    "SELECT tenant_id FROM discovery_sources WHERE enabled AND next_run_at <= p_now"
    " UNION SELECT tenant_id FROM discovery_runs WHERE status IN ('queued', 'running')"
)


def upgrade() -> None:
    op.execute(TABLES)
    for table, privileges in GRANTS:
        for statement in [*tenant_rls(table), grant(table, privileges)]:
            op.execute(statement)
    for statement in definer_function(
        "discovery_tenants_due(p_now timestamptz)", "SETOF uuid", TENANTS_DUE
    ):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS discovery_tenants_due(timestamptz)")
    op.execute("DROP TABLE discovery_source_cis, discovery_runs, discovery_sources")
