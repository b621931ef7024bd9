"""Custom roles (issue 21, point 5): a tenant's own permission sets, and the member who
holds one.

- ``roles``: name (unique per tenant, case-insensitively), description, ``permissions``
  (names from servicedesk.platform.permissions; at least one), a version for If-Match.
  The four built-in roles are not rows: they are derived from the catalogue.
- ``roles.team_id``: a team scope. The role's ticket permissions (``TEAM_SCOPED`` in
  servicedesk/platform/permissions.py) then apply to that team's tickets only.
- ``memberships.custom_role_id``: the member's custom role, or null (the built-in role's
  permissions). The built-in ``role`` stays the tier (staff or requester, the last-admin
  guard). The foreign key names the tenant too, so a membership can never point at another
  tenant's role; deleting a role in use is refused by the service (409) and, should it get
  that far, by the key.

Revision ID: 0046
Revises: 0045
"""

from alembic import op

from servicedesk.platform.rls import grant, tenant_rls

revision = "0046"
down_revision = "0045"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE roles (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    permissions text[] NOT NULL CHECK (cardinality(permissions) BETWEEN 1 AND 200),
    team_id uuid,
    version integer NOT NULL DEFAULT 1,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id)
);
CREATE UNIQUE INDEX uq_roles_name ON roles (tenant_id, lower(name));
CREATE INDEX ix_roles_created ON roles (tenant_id, created_at, id);

ALTER TABLE memberships ADD COLUMN custom_role_id uuid;
ALTER TABLE memberships ADD CONSTRAINT fk_memberships_custom_role
    FOREIGN KEY (tenant_id, custom_role_id) REFERENCES roles (tenant_id, id);
CREATE INDEX ix_memberships_custom_role ON memberships (tenant_id, custom_role_id)
    WHERE custom_role_id IS NOT NULL;
"""


def upgrade() -> None:
    op.execute(TABLES)
    for statement in tenant_rls("roles"):
        op.execute(statement)
    op.execute(grant("roles", "SELECT, INSERT, UPDATE, DELETE"))


def downgrade() -> None:
    op.execute("ALTER TABLE memberships DROP COLUMN IF EXISTS custom_role_id")
    op.execute("DROP TABLE IF EXISTS roles")
