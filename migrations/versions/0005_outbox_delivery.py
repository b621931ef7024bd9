"""Outbox delivery: sequence numbers, deliveries (consumer idempotency), notifications.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = """
-- A global, gap-tolerant order of events: consumers and integrators order by it.
ALTER TABLE outbox ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX ix_outbox_pending_tenant ON outbox (tenant_id, created_at) WHERE published_at IS NULL;

-- One row per side effect done: (event, channel, recipient) is done at most once, so a
-- redelivered message causes no second e-mail, webhook or notification.
CREATE TABLE deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    event_id uuid NOT NULL,
    channel text NOT NULL,
    recipient text NOT NULL,
    status text NOT NULL DEFAULT 'done',
    detail jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, channel, recipient)
);
CREATE INDEX ix_deliveries_tenant ON deliveries (tenant_id, created_at DESC);

CREATE TABLE notifications (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    ticket_id uuid,
    title text NOT NULL,
    body text NOT NULL DEFAULT '',
    read_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id)
);
CREATE INDEX ix_notifications_user ON notifications (tenant_id, user_id, created_at DESC, id DESC);
CREATE INDEX ix_notifications_unread ON notifications (tenant_id, user_id) WHERE read_at IS NULL;

-- Per-user preferences: absent means the default (in-app on, e-mail on).
CREATE TABLE notification_preferences (
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    event_type text NOT NULL,
    channel text NOT NULL CHECK (channel IN ('in_app', 'email')),
    enabled boolean NOT NULL,
    PRIMARY KEY (tenant_id, user_id, event_type, channel),
    FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id)
);
"""

TENANT_TABLES = {
    "deliveries": "SELECT, INSERT, UPDATE",
    "notifications": "SELECT, INSERT, UPDATE",
    "notification_preferences": "SELECT, INSERT, UPDATE, DELETE",
}


def upgrade() -> None:
    op.execute(TABLES)
    for table, privileges in TENANT_TABLES.items():
        for statement in tenant_rls(table):
            op.execute(statement)
        op.execute(grant(table, privileges))
    # The sweeper finds tenants with stale unpublished rows before it knows any tenant.
    for statement in definer_function(
        "outbox_tenants_pending(p_before timestamptz)",
        "SETOF uuid",
        "SELECT DISTINCT tenant_id FROM outbox WHERE published_at IS NULL"
        " AND created_at < p_before",
    ):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS outbox_tenants_pending(timestamptz)")
    op.execute("DROP TABLE IF EXISTS notification_preferences, notifications, deliveries")
    op.execute("ALTER TABLE outbox DROP COLUMN IF EXISTS seq")
