"""Realtime: the WebSocket connection registry and its subscriptions.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

A connection row lives from $connect to $disconnect (or until the broadcaster or the sweep
finds it gone or expired). ``$disconnect`` and ``$default`` events carry only the
connection id, so the tenant is looked up by a SECURITY DEFINER function before any tenant
is set; everything after runs under RLS like a request.
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UUID_RE = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

TABLES = f"""
CREATE TABLE realtime_connections (
    -- API Gateway's connection id (or the local gateway's): opaque, short.
    connection_id text PRIMARY KEY CHECK (length(connection_id) BETWEEN 1 AND 128),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    user_id uuid NOT NULL,
    -- The access token's exp: past it the connection is closed and must reconnect.
    expires_at timestamptz NOT NULL,
    connected_at timestamptz NOT NULL DEFAULT now(),
    -- Per-connection frame rate limit (fixed window), kept here because each frame may
    -- land on a different Lambda instance.
    window_started_at timestamptz NOT NULL DEFAULT now(),
    frames_in_window integer NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, connection_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id)
        ON DELETE CASCADE
);
CREATE INDEX ix_realtime_connections_user ON realtime_connections (tenant_id, user_id);
CREATE INDEX ix_realtime_connections_expiry ON realtime_connections (expires_at);
CREATE INDEX ix_realtime_connections_age ON realtime_connections (connected_at);

CREATE TABLE realtime_subscriptions (
    tenant_id uuid NOT NULL,
    connection_id text NOT NULL,
    channel text NOT NULL CHECK (channel ~ '^(ticket|team|user):{UUID_RE}$'),
    -- Last typing indicator sent on this ticket channel (rate limit).
    typing_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, channel),
    FOREIGN KEY (tenant_id, connection_id) REFERENCES realtime_connections (tenant_id, connection_id)
        ON DELETE CASCADE
);
-- The broadcaster's lookup: who listens on these channels of this tenant.
CREATE INDEX ix_realtime_subscriptions_channel ON realtime_subscriptions (tenant_id, channel);
"""

TENANT_TABLES = {
    "realtime_connections": "SELECT, INSERT, UPDATE, DELETE",
    "realtime_subscriptions": "SELECT, INSERT, UPDATE, DELETE",
}

FUNCTIONS = [
    # $default and $disconnect know only the connection id: its tenant, user and expiry.
    *definer_function(
        "realtime_connection(p_connection_id text)",
        "TABLE(tenant_id uuid, user_id uuid, expires_at timestamptz)",
        "SELECT tenant_id, user_id, expires_at FROM realtime_connections"
        " WHERE connection_id = p_connection_id",
    ),
    # The sweep finds expired (or older than API Gateway's two-hour cap) connections of
    # every tenant; it then closes and deletes them tenant by tenant, under RLS.
    *definer_function(
        "realtime_stale_connections(p_now timestamptz, p_connected_before timestamptz,"
        " p_limit integer)",
        "TABLE(tenant_id uuid, connection_id text)",
        "SELECT tenant_id, connection_id FROM realtime_connections"
        " WHERE expires_at < p_now OR connected_at < p_connected_before"
        " ORDER BY tenant_id LIMIT p_limit",
    ),
]


def upgrade() -> None:
    op.execute(TABLES)
    for table, privileges in TENANT_TABLES.items():
        for statement in tenant_rls(table):
            op.execute(statement)
        op.execute(grant(table, privileges))
    for statement in FUNCTIONS:
        op.execute(statement)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS realtime_stale_connections(timestamptz, timestamptz, integer)"
    )
    op.execute("DROP FUNCTION IF EXISTS realtime_connection(text)")
    op.execute("DROP TABLE IF EXISTS realtime_subscriptions, realtime_connections")
