"""SCIM 2.0 provisioning (issue 21, point 3): a bearer token per tenant, the attributes an
identity provider keeps about the people and groups it provisions, and the mapping of a
group to a team and/or a role.

- ``scim_configs``: one row per tenant: enabled, the default role of provisioned people,
  the token's SHA-256 (the token itself is shown once and never stored), its prefix (to
  recognise it in the admin screen), who made it and when. Rotating replaces the hash, so
  the old token stops at once; revoking clears it.
- ``scim_token_owner(hash)`` (SECURITY DEFINER): a request carries no tenant, so the token
  is looked up before any tenant transaction; it answers only for an enabled config.
- ``scim_users``: the SCIM view of a member (userName, name parts, emails, externalId, a
  version for the ETag); the person (``users``) and the membership stay identity's.
- ``scim_groups`` and ``scim_group_members``: groups as the IdP sends them, each optionally
  mapped to a team (membership follows) and/or a role.
- ``scim_request_windows``: per-tenant request counts per minute (the rate limit).

Revision ID: 0043
Revises: 0041
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None

ROLES = "('requester', 'agent', 'manager', 'admin')"

TABLES = f"""
CREATE TABLE scim_configs (
    tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
    enabled boolean NOT NULL DEFAULT false,
    default_role text NOT NULL DEFAULT 'requester' CHECK (default_role IN {ROLES}),
    token_hash bytea UNIQUE,
    token_prefix text CHECK (length(token_prefix) <= 16),
    token_created_at timestamptz,
    token_created_by uuid,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE scim_users (
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    user_name text NOT NULL CHECK (length(user_name) BETWEEN 1 AND 254),
    external_id text CHECK (length(external_id) <= 512),
    given_name text CHECK (length(given_name) <= 200),
    family_name text CHECK (length(family_name) <= 200),
    formatted_name text CHECK (length(formatted_name) <= 400),
    display_name text CHECK (length(display_name) <= 400),
    emails jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(emails) = 'array'),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id)
);
CREATE UNIQUE INDEX uq_scim_users_user_name ON scim_users (tenant_id, lower(user_name));
CREATE INDEX ix_scim_users_external_id ON scim_users (tenant_id, external_id);
CREATE INDEX ix_scim_users_created ON scim_users (tenant_id, created_at, user_id);

CREATE TABLE scim_groups (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 400),
    external_id text CHECK (length(external_id) <= 512),
    team_id uuid,
    role text CHECK (role IN {ROLES}),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX uq_scim_groups_display_name ON scim_groups (tenant_id, lower(display_name));
CREATE INDEX ix_scim_groups_created ON scim_groups (tenant_id, created_at, id);

CREATE TABLE scim_group_members (
    tenant_id uuid NOT NULL,
    group_id uuid NOT NULL,
    user_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, group_id, user_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES scim_groups (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES scim_users (tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX ix_scim_group_members_user ON scim_group_members (tenant_id, user_id);

CREATE TABLE scim_request_windows (
    tenant_id uuid NOT NULL,
    window_start timestamptz NOT NULL,
    requests integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, window_start)
);
"""

TENANT_TABLES = {
    "scim_configs": "SELECT, INSERT, UPDATE",
    "scim_users": "SELECT, INSERT, UPDATE, DELETE",
    "scim_groups": "SELECT, INSERT, UPDATE, DELETE",
    "scim_group_members": "SELECT, INSERT, DELETE",
    "scim_request_windows": "SELECT, INSERT, UPDATE, DELETE",
}

FUNCTIONS = definer_function(
    "scim_token_owner(p_hash bytea)",
    "TABLE(tenant_id uuid, actor_id uuid)",
    "SELECT c.tenant_id, c.token_created_by FROM scim_configs c"
    " WHERE c.token_hash = p_hash AND c.enabled",
)


def upgrade() -> None:
    op.execute(TABLES)
    for table, privileges in TENANT_TABLES.items():
        for statement in tenant_rls(table):
            op.execute(statement)
        op.execute(grant(table, privileges))
    for statement in FUNCTIONS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS scim_token_owner(bytea)")
    op.execute(
        "DROP TABLE IF EXISTS scim_request_windows, scim_group_members, scim_groups,"
        " scim_users, scim_configs"
    )
