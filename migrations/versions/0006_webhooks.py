"""Webhooks: outbound endpoints and their delivery log; inbound hook dedupe; e-mail suppressions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

``inbound_hook_events`` and ``email_suppressions`` are global on purpose (no tenant_id):
an inbound notification is deduplicated on the provider's own id, which is unique across
tenants and must be checked whether or not the notification can be attributed to one; an
address that hard-bounces or complains does so for every tenant (SES reputation is per
account), so the mailer skips it for all. Neither is exposed through any API; the app role
may only insert and look up (no UPDATE, no DELETE).
"""

from alembic import op

from servicedesk.platform.rls import grant, tenant_rls

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE webhook_endpoints (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    event_types text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 20),
    active boolean NOT NULL DEFAULT true,
    -- Kept in clear because it must sign; never returned after creation/rotation.
    secret text NOT NULL,
    -- After a rotation the old secret keeps signing (a second v1) until it expires.
    previous_secret text,
    previous_secret_expires_at timestamptz,
    consecutive_failures integer NOT NULL DEFAULT 0,
    disabled_at timestamptz,
    disabled_reason text,
    created_by uuid,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE INDEX ix_webhook_endpoints_list ON webhook_endpoints (tenant_id, created_at, id);

CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    endpoint_id uuid NOT NULL,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    seq bigint NOT NULL,
    attempt integer NOT NULL CHECK (attempt >= 1),
    trigger text NOT NULL CHECK (trigger IN ('event', 'retry', 'redeliver', 'ping')),
    -- The exact bytes sent (minus the signature), so a redelivery sends the same payload.
    request_body text NOT NULL,
    success boolean NOT NULL,
    status_code integer,
    latency_ms integer NOT NULL DEFAULT 0,
    response_snippet text NOT NULL DEFAULT '' CHECK (length(response_snippet) <= 500),
    error text CHECK (length(error) <= 500),
    retry_in_seconds integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id)
        ON DELETE CASCADE
);
CREATE INDEX ix_webhook_deliveries_log
    ON webhook_deliveries (tenant_id, endpoint_id, created_at DESC, id DESC);

CREATE TABLE inbound_hook_events (
    provider text NOT NULL,
    external_id text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 256),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, external_id)
);

CREATE TABLE email_suppressions (
    address text PRIMARY KEY CHECK (address = lower(address) AND length(address) <= 320),
    reason text NOT NULL CHECK (reason IN ('bounce', 'complaint')),
    detail text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

TENANT_TABLES = {
    "webhook_endpoints": "SELECT, INSERT, UPDATE, DELETE",
    # The delivery log is append-only for the app; rows go with their endpoint (cascade).
    "webhook_deliveries": "SELECT, INSERT",
}
GLOBAL_TABLES = {
    "inbound_hook_events": "SELECT, INSERT",
    "email_suppressions": "SELECT, INSERT",
}


def upgrade() -> None:
    op.execute(TABLES)
    for table, privileges in TENANT_TABLES.items():
        for statement in tenant_rls(table):
            op.execute(statement)
        op.execute(grant(table, privileges))
    for table, privileges in GLOBAL_TABLES.items():
        op.execute(grant(table, privileges))


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS email_suppressions, inbound_hook_events, webhook_deliveries,"
        " webhook_endpoints"
    )
