"""Tenant settings (issue 20 point 6): self-registration of requesters, avatars.

- ``pending_signups.kind``: a pending sign-up either creates an organisation (``organization``,
  0011) or registers a requester in an existing one (``requester``: the tenant's
  ``portal.self_registration`` is on). Same table, same throttle (``auth_signup_recent``
  counts both kinds), same hashed single-use token; ``auth_signup_claim`` now claims only
  organisation sign-ups and ``auth_registration_claim`` only registrations, so one kind's
  link never completes the other.
- ``tenant_portal(slug)``: what anyone may know of an organisation before signing in to it
  (its id, name, and the ``portal`` section of its settings); never the platform tenant.
- ``attachments.purpose`` gains ``avatar``; ``memberships.avatar_attachment_id`` names a
  member's avatar in that organisation (a file of the tenant, like its logo).
  ``avatar_public(id)``: the stored object of an avatar that an active member uses now, by
  its random id (the address ``/v1/avatars/{id}`` is the capability; a replaced or removed
  avatar stops answering at once).

Revision ID: 0040
Revises: 0039
"""

from alembic import op

from servicedesk.platform.rls import definer_function

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None

PLATFORM_TENANT_ID = "00000000-0000-0000-0000-000000000001"

SCHEMA = """
ALTER TABLE pending_signups
    ADD COLUMN kind text NOT NULL DEFAULT 'organization'
        CHECK (kind IN ('organization', 'requester')),
    ADD COLUMN tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
    ADD CONSTRAINT pending_signups_kind_tenant
        CHECK ((kind = 'requester') = (tenant_id IS NOT NULL));
ALTER TABLE attachments DROP CONSTRAINT attachments_purpose_check;
ALTER TABLE attachments ADD CONSTRAINT attachments_purpose_check
    CHECK (purpose IN ('logo', 'avatar'));
ALTER TABLE memberships ADD COLUMN avatar_attachment_id uuid;
"""

FUNCTIONS = [
    *definer_function(
        "avatar_public(p_id uuid)",
        "TABLE(object_key text, version_id text, content_type text)",
        """SELECT a.object_key, a.version_id, a.content_type FROM attachments a
           WHERE a.id = p_id AND a.purpose = 'avatar' AND a.status = 'available'
             AND EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = a.tenant_id
                         AND m.avatar_attachment_id = a.id AND m.active)""",
    ),
    *definer_function(
        "auth_signup_claim(p_token_hash bytea)",
        "TABLE(id uuid, email text, organization_name text, slug text, name text,"
        " password_hash text)",
        """UPDATE pending_signups SET used_at = now()
           WHERE token_hash = p_token_hash AND used_at IS NULL AND expires_at > now()
             AND kind = 'organization'
           RETURNING id, email, organization_name, slug, name, password_hash""",
        volatility="VOLATILE",
    ),
    *definer_function(
        "tenant_portal(p_slug text)",
        "TABLE(tenant_id uuid, name text, portal jsonb)",
        f"""SELECT t.id, t.name, t.settings -> 'portal' FROM tenants t
           WHERE t.slug = p_slug AND t.id <> '{PLATFORM_TENANT_ID}'""",
    ),
    # A pending registration of a requester in an existing tenant; rows expired for a
    # week are forgotten on the way (as auth_signup_create does).
    *definer_function(
        "auth_registration_create(p_token_hash bytea, p_email text, p_address text,"
        " p_tenant_id uuid, p_name text, p_password_hash text, p_expires_at timestamptz)",
        "uuid",
        """DELETE FROM pending_signups WHERE expires_at < now() - interval '7 days';
           INSERT INTO pending_signups (token_hash, email, address, organization_name, slug,
                                        name, password_hash, expires_at, kind, tenant_id)
           SELECT p_token_hash, lower(p_email), p_address, t.name, t.slug, p_name,
                  p_password_hash, p_expires_at, 'requester', t.id
           FROM tenants t WHERE t.id = p_tenant_id
           RETURNING id""",
        volatility="VOLATILE",
    ),
    *definer_function(
        "auth_registration_claim(p_token_hash bytea)",
        "TABLE(id uuid, email text, tenant_id uuid, name text, password_hash text)",
        """UPDATE pending_signups SET used_at = now()
           WHERE token_hash = p_token_hash AND used_at IS NULL AND expires_at > now()
             AND kind = 'requester'
           RETURNING id, email, tenant_id, name, password_hash""",
        volatility="VOLATILE",
    ),
]

PREVIOUS_CLAIM = definer_function(
    "auth_signup_claim(p_token_hash bytea)",
    "TABLE(id uuid, email text, organization_name text, slug text, name text, password_hash text)",
    """UPDATE pending_signups SET used_at = now()
       WHERE token_hash = p_token_hash AND used_at IS NULL AND expires_at > now()
       RETURNING id, email, organization_name, slug, name, password_hash""",
    volatility="VOLATILE",
)


def upgrade() -> None:
    op.execute(SCHEMA)
    for statement in FUNCTIONS:
        op.execute(statement)


def downgrade() -> None:
    for signature in (
        "avatar_public(uuid)",
        "tenant_portal(text)",
        "auth_registration_create(bytea, text, text, uuid, text, text, timestamptz)",
        "auth_registration_claim(bytea)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for statement in PREVIOUS_CLAIM:
        op.execute(statement)
    op.execute(
        """
DELETE FROM pending_signups WHERE kind <> 'organization';
ALTER TABLE pending_signups DROP CONSTRAINT pending_signups_kind_tenant;
ALTER TABLE pending_signups DROP COLUMN tenant_id, DROP COLUMN kind;
ALTER TABLE memberships DROP COLUMN avatar_attachment_id;
DELETE FROM attachments WHERE purpose = 'avatar';
ALTER TABLE attachments DROP CONSTRAINT attachments_purpose_check;
ALTER TABLE attachments ADD CONSTRAINT attachments_purpose_check CHECK (purpose IN ('logo'));
"""
    )
