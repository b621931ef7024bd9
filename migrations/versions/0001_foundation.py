"""Foundation: roles, tenants, users, memberships, sessions, throttling, idempotency, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from alembic import op

from servicedesk.platform.rls import (
    APP_ROLE,
    CURRENT_TENANT,
    CURRENT_USER_ID,
    definer_function,
    grant,
    tenant_rls,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROLES = "('requester', 'agent', 'manager', 'admin')"

TABLES = f"""
CREATE TABLE tenants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{{1,48}}[a-z0-9]$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    settings jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A person's identity, shared by every tenant they belong to; their role lives in memberships.
CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash text,
    idp_issuer text,
    idp_subject text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_users_email UNIQUE (email),
    CONSTRAINT uq_users_idp UNIQUE (idp_issuer, idp_subject)
);

CREATE TABLE memberships (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    user_id uuid NOT NULL REFERENCES users(id),
    role text NOT NULL CHECK (role IN {ROLES}),
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX ix_memberships_user ON memberships (user_id);

CREATE TABLE refresh_token_families (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    user_id uuid NOT NULL REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    revoked_reason text
);
CREATE INDEX ix_refresh_families_user ON refresh_token_families (tenant_id, user_id);

CREATE TABLE refresh_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    family_id uuid NOT NULL REFERENCES refresh_token_families(id),
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX ix_refresh_tokens_family ON refresh_tokens (family_id);

-- Pre-authentication throttling: no tenant is known yet, so this table is global.
CREATE TABLE login_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope text NOT NULL CHECK (scope IN ('account', 'address')),
    key text NOT NULL,
    succeeded boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_login_attempts_key ON login_attempts (scope, key, created_at DESC);

CREATE TABLE user_invitations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    email text NOT NULL CHECK (email = lower(email)),
    role text NOT NULL CHECK (role IN {ROLES}),
    token_hash bytea NOT NULL UNIQUE,
    invited_by uuid REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX ix_user_invitations_tenant ON user_invitations (tenant_id, created_at DESC);

CREATE TABLE idempotency_keys (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    user_id uuid NOT NULL,
    key text NOT NULL,
    method text NOT NULL,
    path text NOT NULL,
    request_hash text NOT NULL,
    status_code integer,
    response_body jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, key)
);

CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    actor_user_id uuid,
    action text NOT NULL,
    entity_type text NOT NULL,
    entity_id text,
    data jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    request_id text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_audit_log_tenant ON audit_log (tenant_id, created_at DESC);

CREATE TABLE outbox (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    event_type text NOT NULL,
    aggregate_type text NOT NULL,
    aggregate_id text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX ix_outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL;

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $fn$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""

TENANT_TABLES = [
    "memberships",
    "refresh_token_families",
    "refresh_tokens",
    "user_invitations",
    "idempotency_keys",
    "audit_log",
    "outbox",
]

# users: a person is visible to themself and inside tenants they belong to. Anyone may
# create an identity row (signup, invitations, just-in-time provisioning); a row without a
# membership is invisible. Only the person may change their identity row.
USER_POLICIES = [
    "ALTER TABLE users ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE users FORCE ROW LEVEL SECURITY",
    f"""CREATE POLICY tenant_isolation ON users FOR SELECT USING (
        id = {CURRENT_USER_ID} AND {CURRENT_TENANT} IS NOT NULL
        OR EXISTS (SELECT 1 FROM memberships m
                   WHERE m.user_id = users.id AND m.tenant_id = {CURRENT_TENANT}))""",
    "CREATE POLICY users_insert ON users FOR INSERT WITH CHECK (true)",
    f"""CREATE POLICY users_update_self ON users FOR UPDATE
        USING (id = {CURRENT_USER_ID}) WITH CHECK (id = {CURRENT_USER_ID})""",
    "CREATE POLICY owner_maintenance ON users TO CURRENT_USER USING (true) WITH CHECK (true)",
]

TENANT_POLICIES = [
    "ALTER TABLE tenants ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE tenants FORCE ROW LEVEL SECURITY",
    f"CREATE POLICY tenant_isolation ON tenants USING (id = {CURRENT_TENANT}) "
    f"WITH CHECK (id = {CURRENT_TENANT})",
    "CREATE POLICY owner_maintenance ON tenants TO CURRENT_USER USING (true) WITH CHECK (true)",
]

GRANTS = [
    f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
    grant("alembic_version", "SELECT"),
    grant("tenants", "SELECT, INSERT, UPDATE"),
    grant("users", "SELECT, INSERT, UPDATE"),
    grant("memberships", "SELECT, INSERT, UPDATE"),
    grant("refresh_token_families", "SELECT, INSERT, UPDATE"),
    grant("refresh_tokens", "SELECT, INSERT, UPDATE"),
    grant("login_attempts", "SELECT, INSERT, DELETE"),
    grant("user_invitations", "SELECT, INSERT, UPDATE"),
    grant("idempotency_keys", "SELECT, INSERT, UPDATE, DELETE"),
    grant("audit_log", "SELECT, INSERT"),
    grant("outbox", "SELECT, INSERT, UPDATE"),
]

# Lookups that must run before a tenant is known. Each returns the least it can.
FUNCTIONS = [
    *definer_function(
        "auth_login_candidates(p_email text)",
        "TABLE(user_id uuid, password_hash text, tenant_id uuid, tenant_slug text, role text,"
        " active boolean)",
        """SELECT u.id, u.password_hash, t.id, t.slug, m.role, m.active
           FROM users u JOIN memberships m ON m.user_id = u.id JOIN tenants t ON t.id = m.tenant_id
           WHERE u.email = lower(p_email)""",
    ),
    *definer_function(
        "auth_password_hash(p_email text)",
        "TABLE(user_id uuid, password_hash text)",
        "SELECT u.id, u.password_hash FROM users u WHERE u.email = lower(p_email)",
    ),
    *definer_function(
        "auth_user_tenants(p_user_id uuid)",
        "TABLE(tenant_id uuid, tenant_slug text, role text, active boolean)",
        """SELECT t.id, t.slug, m.role, m.active FROM memberships m JOIN tenants t ON t.id = m.tenant_id
           WHERE m.user_id = p_user_id""",
    ),
    *definer_function(
        "auth_refresh_owner(p_token_hash bytea)",
        "TABLE(tenant_id uuid, user_id uuid)",
        """SELECT f.tenant_id, f.user_id FROM refresh_tokens r
           JOIN refresh_token_families f ON f.id = r.family_id WHERE r.token_hash = p_token_hash""",
    ),
    *definer_function(
        "auth_invitation_tenant(p_token_hash bytea)",
        "uuid",
        "SELECT tenant_id FROM user_invitations WHERE token_hash = p_token_hash",
    ),
    *definer_function(
        "tenant_id_for_slug(p_slug text)", "uuid", "SELECT id FROM tenants WHERE slug = p_slug"
    ),
    *definer_function(
        "auth_provision_external_user(p_issuer text, p_subject text, p_email text, p_name text)",
        "uuid",
        """INSERT INTO users (email, name, idp_issuer, idp_subject)
           VALUES (lower(p_email), p_name, p_issuer, p_subject)
           ON CONFLICT (idp_issuer, idp_subject)
           DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name, updated_at = now()
           RETURNING id""",
        volatility="VOLATILE",
    ),
]


def upgrade() -> None:
    op.execute(
        f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} LOGIN NOBYPASSRLS;
            END IF;
        END $$"""
    )
    op.execute(TABLES)
    statements = [*TENANT_POLICIES, *USER_POLICIES, *GRANTS, *FUNCTIONS]
    for table in TENANT_TABLES:
        statements.extend(tenant_rls(table))
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS outbox, audit_log, idempotency_keys, user_invitations,"
        " login_attempts, refresh_tokens, refresh_token_families, memberships, users, tenants"
        " CASCADE"
    )
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only() CASCADE")
