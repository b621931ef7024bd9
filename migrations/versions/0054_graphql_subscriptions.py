"""GraphQL subscriptions over the WebSocket API (issue 23 point 4).

``realtime_connections.protocol`` says which protocol a socket speaks (``servicedesk.v1``,
the app's own frames, or ``graphql-transport-ws``) and ``acked_at`` when a GraphQL socket's
``connection_init`` was acknowledged. ``graphql_subscriptions`` keeps each operation a
GraphQL socket subscribed (its document and variables): the Lambdas are stateless, so the
broadcaster executes the stored selection per event, as the subscriber. Tenant RLS as the
connection registry; the rows go with their connection.

``realtime_connection(id)`` now also answers the protocol and the acknowledgement, so that
``$default`` knows how to read a frame before any tenant is set; the sweep finds the GraphQL
sockets that sent no ``connection_init`` in time with ``graphql_uninitialised_connections``.

Revision ID: 0054
Revises: 0053
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0054"
down_revision = "0053"
branch_labels = None
depends_on = None

TABLES = """
ALTER TABLE realtime_connections
    ADD COLUMN protocol text NOT NULL DEFAULT 'servicedesk.v1'
        CONSTRAINT realtime_connections_protocol
        CHECK (protocol IN ('servicedesk.v1', 'graphql-transport-ws')),
    ADD COLUMN acked_at timestamptz;

CREATE TABLE graphql_subscriptions (
    tenant_id uuid NOT NULL,
    connection_id text NOT NULL,
    -- The client's operation id (graphql-transport-ws: unique per socket).
    operation_id text NOT NULL CHECK (length(operation_id) BETWEEN 1 AND 128),
    -- ticketEvents(ticketId:): one ticket; NULL: every ticket the subscriber may see.
    ticket_id uuid,
    document text NOT NULL CHECK (length(document) BETWEEN 1 AND 262144),
    variables jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(variables) = 'object'),
    operation_name text CHECK (length(operation_name) <= 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, operation_id),
    FOREIGN KEY (tenant_id, connection_id)
        REFERENCES realtime_connections (tenant_id, connection_id) ON DELETE CASCADE
);
-- The broadcaster's lookup: the subscriptions of this tenant for this ticket (or for all).
CREATE INDEX ix_graphql_subscriptions_ticket ON graphql_subscriptions (tenant_id, ticket_id);
-- The sweep's: GraphQL sockets still waiting for their connection_init.
CREATE INDEX ix_realtime_connections_uninitialised ON realtime_connections (connected_at)
    WHERE protocol = 'graphql-transport-ws' AND acked_at IS NULL;
"""

NEW_LOOKUP = definer_function(
    "realtime_connection(p_connection_id text)",
    "TABLE(tenant_id uuid, user_id uuid, expires_at timestamptz, protocol text,"
    " acked_at timestamptz)",
    "SELECT tenant_id, user_id, expires_at, protocol, acked_at FROM realtime_connections"
    " WHERE connection_id = p_connection_id",
)
# The sweep closes GraphQL sockets that sent no connection_init in time, in every tenant.
UNINITIALISED = definer_function(
    "graphql_uninitialised_connections(p_connected_before timestamptz, p_limit integer)",
    "TABLE(tenant_id uuid, connection_id text)",
    "SELECT tenant_id, connection_id FROM realtime_connections"
    " WHERE protocol = 'graphql-transport-ws' AND acked_at IS NULL"
    " AND connected_at < p_connected_before ORDER BY tenant_id LIMIT p_limit",
)
OLD_LOOKUP = definer_function(
    "realtime_connection(p_connection_id text)",
    "TABLE(tenant_id uuid, user_id uuid, expires_at timestamptz)",
    "SELECT tenant_id, user_id, expires_at FROM realtime_connections"
    " WHERE connection_id = p_connection_id",
)


def upgrade() -> None:
    op.execute(TABLES)
    for statement in tenant_rls("graphql_subscriptions"):
        op.execute(statement)
    op.execute(grant("graphql_subscriptions", "SELECT, INSERT, DELETE"))
    # The answer's columns change: CREATE OR REPLACE cannot do that.
    op.execute("DROP FUNCTION realtime_connection(text)")
    for statement in [*NEW_LOOKUP, *UNINITIALISED]:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS graphql_uninitialised_connections(timestamptz, integer)")
    op.execute("DROP FUNCTION realtime_connection(text)")
    for statement in OLD_LOOKUP:
        op.execute(statement)
    op.execute("DROP TABLE IF EXISTS graphql_subscriptions")
    op.execute("DROP INDEX IF EXISTS ix_realtime_connections_uninitialised")
    op.execute(
        "ALTER TABLE realtime_connections DROP COLUMN IF EXISTS acked_at,"
        " DROP COLUMN IF EXISTS protocol"
    )
