"""CMDB import jobs (issue 22 point 3): a large CSV uploaded to S3, then checked and written
by the export worker (servicedesk/cmdb/import_jobs.py).

- ``ci_import_jobs``: the requester (``owner_id``), the flags (``dry_run``, ``partial``),
  the declared size and the object key, ``status`` (awaiting_upload → queued → running →
  done | failed), ``rows_read`` (progress), ``report`` (counts and the first 1,000 row
  errors), ``error`` (why a job failed as a whole).

Revision ID: 0058
Revises: 0057
"""

from alembic import op

from servicedesk.platform.rls import grant, tenant_rls

revision = "0058"
down_revision = "0057"
branch_labels = None
depends_on = None

TABLE = """
CREATE TABLE ci_import_jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_id uuid NOT NULL REFERENCES users(id),
    status text NOT NULL DEFAULT 'awaiting_upload'
        CHECK (status IN ('awaiting_upload', 'queued', 'running', 'done', 'failed')),
    dry_run boolean NOT NULL DEFAULT false,
    partial boolean NOT NULL DEFAULT false,
    filename text NOT NULL DEFAULT '' CHECK (length(filename) <= 255),
    size_bytes bigint NOT NULL CHECK (size_bytes > 0),
    s3_key text NOT NULL CHECK (length(s3_key) <= 300),
    rows_read integer NOT NULL DEFAULT 0 CHECK (rows_read >= 0),
    report jsonb CHECK (report IS NULL OR jsonb_typeof(report) = 'object'),
    error text CHECK (length(error) <= 500),
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    upload_expires_at timestamptz NOT NULL,
    started_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX ix_ci_import_jobs_recent ON ci_import_jobs (tenant_id, created_at DESC, id DESC);
"""


def upgrade() -> None:
    op.execute(TABLE)
    for statement in [
        *tenant_rls("ci_import_jobs"),
        grant("ci_import_jobs", "SELECT, INSERT, UPDATE"),
    ]:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE ci_import_jobs")
