"""Per-tenant identity providers (issue 21 point 1): OIDC now, SAML plugs in later.

- ``identity_providers``: a tenant's sign-in providers. ``kind`` admits ``oidc`` and
  ``saml``; ``config`` is validated per kind by the application (identity/sso.py);
  ``secret_arn`` points at the client secret in Secrets Manager (never returned);
  ``role_claim`` + ``role_map`` map an IdP claim to a desk role explicitly (without a map
  the desk's role wins). ``slug`` is unique per tenant (it is in the URLs).
- ``sso_requests``: one sign-in in flight: its ``state`` (hashed, unique), the hash of the
  browser cookie it is bound to, the nonce and PKCE verifier, a short expiry; ``used_at``
  makes it single use. After the IdP vouched for the person it holds the one-time code
  (hashed) that the web app exchanges for our session, and who signed in.
- ``auth_sso_request_tenant(state hash)`` / ``auth_sso_grant_tenant(code hash)``: the
  tenant of a callback or an exchange, before any tenant is known.
- ``auth_sso_discover(domain, slug)``: the enabled providers offered on the login page,
  by the e-mail's domain or the tenant's slug (nothing about accounts).
- ``auth_sso_only_tenants(ids)``: which of these tenants refuse password sign-in
  (``tenants.settings -> security -> sso_only``), and ``auth_sso_only_email(email)``: the
  address belongs to an account whose every membership is such a tenant's non-admin
  (its password-reset mail is not sent).

Revision ID: 0042
Revises: 0041
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None

SSO_ONLY = "coalesce((t.settings -> 'security' ->> 'sso_only')::boolean, false)"

FUNCTIONS = [
    *definer_function(
        "auth_sso_request_tenant(p_hash bytea)",
        "uuid",
        "SELECT tenant_id FROM sso_requests WHERE state_hash = p_hash",
    ),
    *definer_function(
        "auth_sso_grant_tenant(p_hash bytea)",
        "uuid",
        "SELECT tenant_id FROM sso_requests WHERE grant_hash = p_hash",
    ),
    *definer_function(
        "auth_sso_discover(p_domain text, p_slug text)",
        "TABLE(tenant_slug text, tenant_name text, provider_slug text, name text, kind text)",
        """SELECT t.slug, t.name, p.slug, p.name, p.kind
           FROM identity_providers p JOIN tenants t ON t.id = p.tenant_id
           WHERE p.enabled
             AND ((p_domain IS NOT NULL AND lower(p_domain) = ANY(p.domains))
                  OR (p_slug IS NOT NULL AND t.slug = p_slug))
           ORDER BY t.name, p.name, p.slug
           LIMIT 20""",
    ),
    *definer_function(
        "auth_sso_only_tenants(p_ids uuid[])",
        "SETOF uuid",
        f"SELECT t.id FROM tenants t WHERE t.id = ANY(p_ids) AND {SSO_ONLY}",
    ),
    *definer_function(
        "auth_sso_only_email(p_email text)",
        "boolean",
        f"""SELECT EXISTS (SELECT 1 FROM users u WHERE u.email = lower(p_email))
             AND NOT EXISTS (
               SELECT 1 FROM users u JOIN memberships m ON m.user_id = u.id
               JOIN tenants t ON t.id = m.tenant_id
               WHERE u.email = lower(p_email) AND (m.role = 'admin' OR NOT {SSO_ONLY}))""",
    ),
]


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE identity_providers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('oidc', 'saml')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    slug text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    domains text[] NOT NULL DEFAULT '{}',
    enabled boolean NOT NULL DEFAULT true,
    config jsonb NOT NULL DEFAULT '{}',
    secret_arn text,
    jit_enabled boolean NOT NULL DEFAULT true,
    default_role text NOT NULL DEFAULT 'requester'
        CHECK (default_role IN ('requester', 'agent', 'manager', 'admin')),
    role_claim text,
    role_map jsonb NOT NULL DEFAULT '{}',
    created_by uuid,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX identity_providers_slug ON identity_providers (tenant_id, slug);
CREATE INDEX identity_providers_domains ON identity_providers USING gin (domains);

CREATE TABLE sso_requests (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    provider_id uuid NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    state_hash bytea NOT NULL UNIQUE,
    browser_hash bytea NOT NULL,
    nonce text NOT NULL,
    code_verifier text NOT NULL,
    return_to text,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    grant_hash bytea UNIQUE,
    grant_expires_at timestamptz,
    granted_at timestamptz,
    user_id uuid REFERENCES users(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sso_requests_expiry ON sso_requests (tenant_id, expires_at);
"""
    )
    for statement in [
        *tenant_rls("identity_providers"),
        grant("identity_providers", "SELECT, INSERT, UPDATE, DELETE"),
        *tenant_rls("sso_requests"),
        grant("sso_requests", "SELECT, INSERT, UPDATE, DELETE"),
        *FUNCTIONS,
    ]:
        op.execute(statement)


def downgrade() -> None:
    for signature in (
        "auth_sso_request_tenant(bytea)",
        "auth_sso_grant_tenant(bytea)",
        "auth_sso_discover(text, text)",
        "auth_sso_only_tenants(uuid[])",
        "auth_sso_only_email(text)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute("DROP TABLE IF EXISTS sso_requests")
    op.execute("DROP TABLE IF EXISTS identity_providers")
