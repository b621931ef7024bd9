"""Macros and canned responses (issue 20 point 3).

Revision ID: 0030
Revises: 0028
Create Date: 2026-12-06

``macros``: a named list of actions (servicedesk/actions, restricted to what a macro may do)
an agent applies to a ticket in one step. ``scope`` says who sees it: ``personal`` (its
owner), ``team`` (the team's members; managers and admins), ``tenant`` (all staff). Names
are unique per scope (one owner's, one team's, the tenant's), ignoring case, among macros
not archived. The visibility and edit rules are the service's (servicedesk/macros/service.py);
RLS keeps tenants apart as everywhere.
"""

from alembic import op

from servicedesk.platform.rls import grant, tenant_rls

revision = "0030"
down_revision = "0028"
branch_labels = None
depends_on = None

MACROS = """
CREATE TABLE macros (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    scope text NOT NULL CHECK (scope IN ('personal', 'team', 'tenant')),
    owner_id uuid REFERENCES users(id),
    team_id uuid REFERENCES teams(id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    actions jsonb NOT NULL CHECK (jsonb_typeof(actions) = 'array'),
    position integer NOT NULL DEFAULT 0 CHECK (position BETWEEN 0 AND 100000),
    usage_count integer NOT NULL DEFAULT 0 CHECK (usage_count >= 0),
    last_used_at timestamptz,
    archived_at timestamptz,
    created_by uuid REFERENCES users(id),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((scope = 'personal') = (owner_id IS NOT NULL)),
    CHECK ((scope = 'team') = (team_id IS NOT NULL))
);
CREATE UNIQUE INDEX uq_macros_name ON macros
    (tenant_id, scope, COALESCE(owner_id, team_id, tenant_id), lower(name))
    WHERE archived_at IS NULL;
CREATE INDEX ix_macros_order ON macros (tenant_id, position, id);
"""


def upgrade() -> None:
    op.execute(MACROS)
    for statement in tenant_rls("macros"):
        op.execute(statement)
    op.execute(grant("macros", "SELECT, INSERT, UPDATE, DELETE"))


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS macros")
