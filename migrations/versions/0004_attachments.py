"""Attachments: files on S3, uploaded directly with a presigned form, tracked here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE attachments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    ticket_id uuid NOT NULL,
    comment_id uuid,
    uploader_id uuid NOT NULL,
    filename text NOT NULL CHECK (octet_length(filename) BETWEEN 1 AND 255),
    content_type text NOT NULL CHECK (length(content_type) BETWEEN 1 AND 255),
    size_bytes bigint NOT NULL CHECK (size_bytes > 0),
    object_key text NOT NULL UNIQUE,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'available', 'rejected', 'deleted')),
    sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- The object version that was verified: downloads are pinned to it, so a second POST
    -- with a still-valid upload form cannot swap the content after the check.
    version_id text,
    etag text,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    deleted_at timestamptz,
    deleted_by uuid,
    -- Set once the object is gone from the bucket (the cleanup job, or at once on rejection).
    object_removed_at timestamptz,
    UNIQUE (tenant_id, id),
    CHECK (status <> 'pending' OR expires_at IS NOT NULL),
    CHECK (status <> 'available' OR (sha256 IS NOT NULL AND completed_at IS NOT NULL)),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    FOREIGN KEY (tenant_id, comment_id) REFERENCES ticket_comments (tenant_id, id),
    FOREIGN KEY (tenant_id, uploader_id) REFERENCES memberships (tenant_id, user_id)
);
CREATE INDEX ix_attachments_ticket ON attachments (tenant_id, ticket_id, created_at, id);
CREATE INDEX ix_attachments_comment ON attachments (tenant_id, comment_id)
    WHERE comment_id IS NOT NULL;
-- What the cleanup job looks for: abandoned uploads, and objects still to remove.
CREATE INDEX ix_attachments_pending_expiry ON attachments (expires_at)
    WHERE status = 'pending';
CREATE INDEX ix_attachments_objects_to_remove ON attachments (tenant_id)
    WHERE status IN ('deleted', 'rejected') AND object_removed_at IS NULL;
"""

# The cleanup job finds tenants with work before it knows any tenant: this lookup runs as
# the owner and returns only tenant ids, never rows.
TENANTS_WITH_CLEANUP = definer_function(
    "attachment_tenants_to_clean(p_pending_before timestamptz)",
    "SETOF uuid",
    "SELECT tenant_id FROM attachments WHERE status = 'pending' AND expires_at < p_pending_before"
    " UNION SELECT tenant_id FROM attachments"
    " WHERE status IN ('deleted', 'rejected') AND object_removed_at IS NULL",
)


def upgrade() -> None:
    op.execute(TABLES)
    for statement in tenant_rls("attachments"):
        op.execute(statement)
    # No DELETE: a removed attachment stays as a tombstone.
    op.execute(grant("attachments", "SELECT, INSERT, UPDATE"))
    for statement in TENANTS_WITH_CLEANUP:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS attachment_tenants_to_clean(timestamptz)")
    op.execute("DROP TABLE IF EXISTS attachments CASCADE")
