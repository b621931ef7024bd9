"""Sign-up by e-mail confirmation: pending sign-ups and the platform tenant that mails them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27

`POST /v1/signup` no longer creates anything or checks any password: it stores a pending
sign-up (a hashed single-use token with an expiry) and mails a link; the tenant and its
admin are created when the link is followed. Nobody is known before that, so the pending
rows are global and reached only through SECURITY DEFINER functions (the app role has no
grant on the table). The confirmation e-mail leaves through the outbox, whose rows belong to
a tenant: platform mail belongs to the platform tenant, which has no members and which
`tenant_id_for_slug` never returns (so no token can name it).
"""

from alembic import op

from servicedesk.platform.rls import definer_function

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PLATFORM_TENANT_ID = "00000000-0000-0000-0000-000000000001"
PLATFORM_SLUG = "servicedesk"

TABLE = """
CREATE TABLE pending_signups (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash bytea NOT NULL UNIQUE,
    email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    address text,
    organization_name text NOT NULL CHECK (length(organization_name) BETWEEN 1 AND 200),
    slug text NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- Only when the address had no account at sign-up; an existing person keeps theirs.
    password_hash text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX ix_pending_signups_email ON pending_signups (email, created_at DESC);
CREATE INDEX ix_pending_signups_address ON pending_signups (address, created_at DESC);
ALTER TABLE pending_signups ENABLE ROW LEVEL SECURITY;
ALTER TABLE pending_signups FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_maintenance ON pending_signups TO CURRENT_USER USING (true) WITH CHECK (true);
"""

FUNCTIONS = [
    # Sign-ups in the window, per address and per e-mail, and when the oldest of each
    # leaves it (for Retry-After).
    *definer_function(
        "auth_signup_recent(p_email text, p_address text, p_window_seconds integer)",
        "TABLE(by_email bigint, email_oldest timestamptz, by_address bigint,"
        " address_oldest timestamptz)",
        """SELECT count(*) FILTER (WHERE email = lower(p_email)),
                  min(created_at) FILTER (WHERE email = lower(p_email)),
                  count(*) FILTER (WHERE address = p_address),
                  min(created_at) FILTER (WHERE address = p_address)
           FROM pending_signups
           WHERE created_at > now() - make_interval(secs => p_window_seconds)
             AND (email = lower(p_email) OR address = p_address)""",
    ),
    # A new pending sign-up; rows expired for a week are forgotten on the way.
    *definer_function(
        "auth_signup_create(p_token_hash bytea, p_email text, p_address text,"
        " p_organization_name text, p_slug text, p_name text, p_password_hash text,"
        " p_expires_at timestamptz)",
        "uuid",
        """DELETE FROM pending_signups WHERE expires_at < now() - interval '7 days';
           INSERT INTO pending_signups (token_hash, email, address, organization_name, slug,
                                        name, password_hash, expires_at)
           VALUES (p_token_hash, lower(p_email), p_address, p_organization_name, p_slug,
                   p_name, p_password_hash, p_expires_at)
           RETURNING id""",
        volatility="VOLATILE",
    ),
    # Use a token once: marks it used and returns what it carried, or nothing.
    *definer_function(
        "auth_signup_claim(p_token_hash bytea)",
        "TABLE(id uuid, email text, organization_name text, slug text, name text,"
        " password_hash text)",
        """UPDATE pending_signups SET used_at = now()
           WHERE token_hash = p_token_hash AND used_at IS NULL AND expires_at > now()
           RETURNING id, email, organization_name, slug, name, password_hash""",
        volatility="VOLATILE",
    ),
    # Is a slug in use (the platform tenant's included)? Slugs are public: any URL shows one.
    *definer_function(
        "tenant_slug_taken(p_slug text)",
        "boolean",
        "SELECT EXISTS (SELECT 1 FROM tenants WHERE slug = p_slug)",
    ),
    # No token, sign-in or provisioning may ever resolve to the platform tenant.
    *definer_function(
        "tenant_id_for_slug(p_slug text)",
        "uuid",
        f"SELECT id FROM tenants WHERE slug = p_slug AND id <> '{PLATFORM_TENANT_ID}'",
    ),
]


def upgrade() -> None:
    op.execute(TABLE)
    op.execute(
        "INSERT INTO tenants (id, slug, name) VALUES"
        f" ('{PLATFORM_TENANT_ID}', '{PLATFORM_SLUG}', 'Servicedesk') ON CONFLICT DO NOTHING"
    )
    for statement in FUNCTIONS:
        op.execute(statement)


def downgrade() -> None:
    for signature in (
        "auth_signup_recent(text, text, integer)",
        "auth_signup_create(bytea, text, text, text, text, text, text, timestamptz)",
        "auth_signup_claim(bytea)",
        "tenant_slug_taken(text)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute(
        "CREATE OR REPLACE FUNCTION tenant_id_for_slug(p_slug text) RETURNS uuid LANGUAGE sql"
        " STABLE SECURITY DEFINER SET search_path = public, pg_temp"
        " AS $fn$ SELECT id FROM tenants WHERE slug = p_slug $fn$"
    )
    op.execute("DROP TABLE IF EXISTS pending_signups")
