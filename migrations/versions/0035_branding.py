"""Branding and profiles: tenant logos in the attachments pipeline, the public branding
lookup, and a person's time zone and locale.

- ``attachments.purpose``: a file that belongs to neither a ticket nor an article but to
  the tenant itself (``logo``: the branding logo). Same table, same presigned upload, same
  completion checks (size, sniffed type, hash) and the same cleanup of abandoned uploads.
- ``branding_public(slug)``: what an anonymous caller (the login page, an e-mail client
  loading the logo) may read of a tenant's branding, before any tenant is known: its name,
  the branding section of its settings, and the stored object of its current logo.
- ``users.time_zone`` / ``users.locale``: the dates the web app shows, per person.
- ``auth_my_tenants()``: the caller's organisations with their names (the switcher), and
  ``auth_tenant_names(ids)``: the names login's "choose an organisation" answer shows.

Revision ID: 0035
Revises: 0034
"""

from alembic import op

from servicedesk.platform.rls import CURRENT_USER_ID, definer_function

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

PUBLIC = definer_function(
    "branding_public(p_slug text)",
    "TABLE(tenant_id uuid, name text, branding jsonb, logo_key text, logo_version text,"
    " logo_type text)",
    """SELECT t.id, t.name, t.settings -> 'branding', a.object_key, a.version_id, a.content_type
       FROM tenants t
       LEFT JOIN attachments a ON a.tenant_id = t.id AND a.purpose = 'logo'
        AND a.status = 'available'
        AND a.id::text = t.settings -> 'branding' ->> 'logo_attachment_id'
       WHERE t.slug = p_slug""",
)


# The caller's organisations with their names (the switcher shows names, not slugs): the
# person's own memberships only, whatever tenant the transaction is in.
MY_TENANTS = definer_function(
    "auth_my_tenants()",
    "TABLE(tenant_id uuid, tenant_slug text, tenant_name text, role text)",
    f"""SELECT t.id, t.slug, t.name, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id
       WHERE m.user_id = {CURRENT_USER_ID} AND m.active""",
)

# The names of the organisations a sign-in may choose from (login's "name one" answer,
# after the password was verified): by id, which only the candidates' lookup gave.
TENANT_NAMES = definer_function(
    "auth_tenant_names(p_ids uuid[])",
    "TABLE(tenant_id uuid, tenant_name text)",
    "SELECT t.id, t.name FROM tenants t WHERE t.id = ANY(p_ids)",
)


def upgrade() -> None:
    op.execute(
        """
ALTER TABLE attachments ADD COLUMN purpose text CHECK (purpose IN ('logo'));
ALTER TABLE attachments DROP CONSTRAINT attachments_owner;
-- A file belongs to a ticket (maybe one of its comments), to an article, or to the tenant
-- for a purpose (its logo); never to two of them.
ALTER TABLE attachments ADD CONSTRAINT attachments_owner CHECK (
    (ticket_id IS NOT NULL AND article_id IS NULL AND purpose IS NULL)
    OR (ticket_id IS NULL AND article_id IS NOT NULL AND comment_id IS NULL AND purpose IS NULL)
    OR (ticket_id IS NULL AND article_id IS NULL AND comment_id IS NULL AND purpose IS NOT NULL)
);
ALTER TABLE users ADD COLUMN time_zone text CHECK (length(time_zone) BETWEEN 1 AND 64);
ALTER TABLE users ADD COLUMN locale text CHECK (locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$');
"""
    )
    for statement in [*PUBLIC, *MY_TENANTS, *TENANT_NAMES]:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS branding_public(text)")
    op.execute("DROP FUNCTION IF EXISTS auth_my_tenants()")
    op.execute("DROP FUNCTION IF EXISTS auth_tenant_names(uuid[])")
    op.execute(
        """
ALTER TABLE users DROP COLUMN IF EXISTS locale;
ALTER TABLE users DROP COLUMN IF EXISTS time_zone;
DELETE FROM attachments WHERE purpose IS NOT NULL;
ALTER TABLE attachments DROP CONSTRAINT attachments_owner;
ALTER TABLE attachments ADD CONSTRAINT attachments_owner CHECK (
    (ticket_id IS NOT NULL AND article_id IS NULL)
    OR (ticket_id IS NULL AND article_id IS NOT NULL AND comment_id IS NULL)
);
ALTER TABLE attachments DROP COLUMN purpose;
"""
    )
