"""GitHub and Slack integrations (issue 23 points 6-8; servicedesk/integrations).

- ``integrations``: a tenant's connections to GitHub repositories and Slack workspaces.
  ``kind`` is ``github`` or ``slack``; ``config`` holds what is not secret (owner/repo,
  the API base URL, the PR-merged status, Slack's team and channels per desk team);
  ``secret_arn`` points at a JSON secret in Secrets Manager (GitHub token and webhook
  secret; Slack client secret, signing secret, bot token). ``external_id`` is the Slack
  workspace (team) id once installed: one tenant per workspace.
- ``integration_links``: a ticket's links to GitHub issues and pull requests and to the
  Slack notification thread (``kind``, ``external_id``), unique per integration.
- ``integration_deliveries``: inbound deliveries already accepted, by (integration,
  delivery id): GitHub's ``X-GitHub-Delivery``, Slack's event id (invariant 9's dedupe).
- ``integration_oauth_states``: a Slack install in flight: the state (hashed), the admin it
  is bound to, a short expiry, single use.
- ``tickets.channel`` admits ``slack`` (a ticket opened with Slack's ``/ticket``).
- ``integration_tenant(id)`` / ``integration_oauth_tenant(state hash)``: the tenant of an
  inbound request before any tenant is known (the public routes).

Revision ID: 0049
Revises: 0048
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0049"
down_revision = "0048"
branch_labels = None
depends_on = None

FUNCTIONS = [
    *definer_function(
        "integration_tenant(p_id uuid)",
        "uuid",
        "SELECT tenant_id FROM integrations WHERE id = p_id",
    ),
    *definer_function(
        "integration_oauth_tenant(p_hash bytea)",
        "uuid",
        "SELECT tenant_id FROM integration_oauth_states WHERE state_hash = p_hash",
    ),
]


def upgrade() -> None:
    op.execute(
        """
ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_channel_check;
ALTER TABLE tickets ADD CONSTRAINT tickets_channel_check
    CHECK (channel IN ('web', 'email', 'assistant', 'slack'));

CREATE TABLE integrations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('github', 'slack')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    enabled boolean NOT NULL DEFAULT true,
    config jsonb NOT NULL DEFAULT '{}',
    secret_arn text,
    external_id text,
    created_by uuid,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX integrations_name ON integrations (tenant_id, kind, name);
CREATE UNIQUE INDEX integrations_external ON integrations (kind, external_id)
    WHERE external_id IS NOT NULL;

CREATE TABLE integration_links (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    ticket_id uuid NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind text NOT NULL
        CHECK (kind IN ('github_issue', 'github_pull_request', 'slack_thread')),
    external_id text NOT NULL,
    status text NOT NULL DEFAULT 'linked' CHECK (status IN ('pending', 'linked', 'failed')),
    url text,
    title text,
    data jsonb NOT NULL DEFAULT '{}',
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX integration_links_unique
    ON integration_links (integration_id, ticket_id, kind, external_id);
CREATE INDEX integration_links_ticket ON integration_links (tenant_id, ticket_id);
CREATE INDEX integration_links_external ON integration_links (integration_id, kind, external_id);

CREATE TABLE integration_deliveries (
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    delivery_id text NOT NULL CHECK (length(delivery_id) BETWEEN 1 AND 200),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, delivery_id)
);
CREATE INDEX integration_deliveries_age ON integration_deliveries (tenant_id, received_at);

CREATE TABLE integration_oauth_states (
    state_hash bytea PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""
    )
    for statement in [
        *tenant_rls("integrations"),
        grant("integrations", "SELECT, INSERT, UPDATE, DELETE"),
        *tenant_rls("integration_links"),
        grant("integration_links", "SELECT, INSERT, UPDATE, DELETE"),
        *tenant_rls("integration_deliveries"),
        grant("integration_deliveries", "SELECT, INSERT"),
        *tenant_rls("integration_oauth_states"),
        grant("integration_oauth_states", "SELECT, INSERT, UPDATE"),
        *FUNCTIONS,
    ]:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS integration_tenant(uuid)")
    op.execute("DROP FUNCTION IF EXISTS integration_oauth_tenant(bytea)")
    for table in (
        "integration_oauth_states",
        "integration_deliveries",
        "integration_links",
        "integrations",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.execute("UPDATE tickets SET channel = 'web' WHERE channel = 'slack'")
    op.execute("ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_channel_check")
    op.execute(
        "ALTER TABLE tickets ADD CONSTRAINT tickets_channel_check"
        " CHECK (channel IN ('web', 'email', 'assistant'))"
    )
