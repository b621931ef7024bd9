"""Asynchronous exports and scheduled reports (issue 19 items 4-5).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06

``export_jobs``: one file a member asked for (a report or the ticket list), made by the
export worker from the outbox and kept in S3 until it expires. A member reads only their
own jobs; system work (the worker, the scheduler: no user in the transaction) reads all of
the tenant's. ``report_subscriptions``: a manager's scheduled delivery of a report; the
scheduler claims due rows with FOR UPDATE SKIP LOCKED and advances ``next_run_at`` in the
transaction that records the delivery, so one slot is delivered once.
"""

from alembic import op

from servicedesk.platform.rls import APP_ROLE, CURRENT_USER_ID, definer_function, grant, tenant_rls

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

JOBS = """
CREATE TABLE export_jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    owner_id uuid NOT NULL REFERENCES users(id),
    kind text NOT NULL CHECK (kind IN ('report', 'tickets')),
    report text CHECK (length(report) <= 100),
    params jsonb NOT NULL DEFAULT '{}'::jsonb,
    format text NOT NULL CHECK (format IN ('csv', 'json', 'pdf')),
    status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'done', 'failed', 'expired')),
    rows_done integer NOT NULL DEFAULT 0 CHECK (rows_done >= 0),
    rows_total integer CHECK (rows_total >= 0),
    s3_key text CHECK (length(s3_key) <= 500),
    size_bytes bigint CHECK (size_bytes >= 0),
    error text CHECK (length(error) <= 500),
    attempts integer NOT NULL DEFAULT 0,
    -- a scheduled delivery's copy for one recipient (report_subscriptions, its slot)
    subscription_id uuid,
    slot timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    expires_at timestamptz,
    CHECK ((kind = 'report') = (report IS NOT NULL)),
    CHECK (status <> 'done' OR (s3_key IS NOT NULL AND size_bytes IS NOT NULL
        AND expires_at IS NOT NULL)),
    UNIQUE (tenant_id, subscription_id, slot, owner_id)
);
CREATE INDEX ix_export_jobs_owner ON export_jobs (tenant_id, owner_id, created_at DESC, id DESC);
CREATE INDEX ix_export_jobs_expiring ON export_jobs (expires_at) WHERE status = 'done';
"""

SUBSCRIPTIONS = """
CREATE TABLE report_subscriptions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    owner_id uuid NOT NULL REFERENCES users(id),
    report text NOT NULL CHECK (length(report) BETWEEN 1 AND 100),
    params jsonb NOT NULL DEFAULT '{}'::jsonb,
    format text NOT NULL CHECK (format IN ('pdf', 'csv')),
    frequency text NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly')),
    hour smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
    weekday smallint CHECK (weekday BETWEEN 0 AND 6),
    monthday smallint CHECK (monthday BETWEEN 1 AND 28),
    tz text NOT NULL CHECK (length(tz) BETWEEN 1 AND 64),
    recipients uuid[] NOT NULL CHECK (cardinality(recipients) BETWEEN 1 AND 50),
    active boolean NOT NULL DEFAULT true,
    next_run_at timestamptz NOT NULL,
    last_run_at timestamptz,
    last_error text CHECK (length(last_error) <= 500),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((frequency = 'weekly') = (weekday IS NOT NULL)),
    CHECK ((frequency = 'monthly') = (monthday IS NOT NULL))
);
CREATE INDEX ix_report_subscriptions_due ON report_subscriptions (next_run_at) WHERE active;
CREATE INDEX ix_report_subscriptions_tenant ON report_subscriptions (tenant_id, created_at, id);
"""

# A member's own jobs; no user in the transaction: the worker and the scheduler.
OWN_JOBS = f"owner_id = {CURRENT_USER_ID} OR {CURRENT_USER_ID} IS NULL"

# The tenants the report scheduler has work for: a subscription due, or a file to expire.
TENANTS_DUE = definer_function(
    "report_tenants_due(p_now timestamptz)",
    "SETOF uuid",
    """SELECT tenant_id FROM report_subscriptions WHERE active AND next_run_at <= p_now
       UNION SELECT tenant_id FROM export_jobs WHERE status = 'done' AND expires_at <= p_now""",
)


def upgrade() -> None:
    op.execute(JOBS)
    op.execute(SUBSCRIPTIONS)
    for table in ("export_jobs", "report_subscriptions"):
        for statement in tenant_rls(table):
            op.execute(statement)
    op.execute(grant("export_jobs", "SELECT, INSERT, UPDATE"))
    op.execute(grant("report_subscriptions", "SELECT, INSERT, UPDATE, DELETE"))
    op.execute(
        f"CREATE POLICY own_rows ON export_jobs AS RESTRICTIVE TO {APP_ROLE}"
        f" USING ({OWN_JOBS}) WITH CHECK ({OWN_JOBS})"
    )
    for statement in TENANTS_DUE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS report_tenants_due(timestamptz)")
    op.execute("DROP TABLE IF EXISTS report_subscriptions")
    op.execute("DROP TABLE IF EXISTS export_jobs")
