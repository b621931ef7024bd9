"""Mail sources: provider hooks and IMAP mailboxes per tenant (issue 17, the other doors).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

``mail_hooks``: a tenant's inbound-mail hook at a provider (Mailgun, Postmark, SendGrid, or
our generic signed raw MIME); its secret lives in Secrets Manager (only the ARN is here).
A hook is called before any tenant is known, so ``mail_hook_lookup`` (SECURITY DEFINER)
answers, for an enabled hook id, the least the verification needs: the tenant, its slug,
the provider and the secret's ARN. ``mail_hook_receipts`` dedupes deliveries on (provider,
the provider's message id or the Message-ID). ``mail_mailboxes``: external IMAP mailboxes
polled on a schedule; the password in Secrets Manager; the poll's state (UIDVALIDITY, the
last UID taken, the last error) for admins. ``mail_mailbox_tenants`` lists the tenants
with an enabled mailbox, so the poller opens a transaction only for those.
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE mail_hooks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    provider text NOT NULL CHECK (provider IN ('mailgun', 'postmark', 'sendgrid', 'generic')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    enabled boolean NOT NULL DEFAULT true,
    secret_arn text NOT NULL CHECK (length(secret_arn) BETWEEN 1 AND 2048),
    last_received_at timestamptz,
    created_by uuid,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE INDEX ix_mail_hooks_list ON mail_hooks (tenant_id, created_at, id);

CREATE TABLE mail_hook_receipts (
    tenant_id uuid NOT NULL,
    hook_id uuid NOT NULL,
    provider text NOT NULL,
    external_id text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 998),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, provider, external_id),
    FOREIGN KEY (tenant_id, hook_id) REFERENCES mail_hooks (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_mail_hook_receipts_hook ON mail_hook_receipts (tenant_id, hook_id);

CREATE TABLE mail_mailboxes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    host text NOT NULL CHECK (length(host) BETWEEN 1 AND 253),
    port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    tls_mode text NOT NULL CHECK (tls_mode IN ('implicit', 'starttls')),
    username text NOT NULL CHECK (length(username) BETWEEN 1 AND 320),
    folder text NOT NULL DEFAULT 'INBOX' CHECK (length(folder) BETWEEN 1 AND 200),
    enabled boolean NOT NULL DEFAULT true,
    secret_arn text NOT NULL CHECK (length(secret_arn) BETWEEN 1 AND 2048),
    uid_validity bigint,
    last_uid bigint,
    last_polled_at timestamptz,
    last_success_at timestamptz,
    last_error text CHECK (length(last_error) <= 500),
    last_error_at timestamptz,
    consecutive_failures integer NOT NULL DEFAULT 0,
    messages_taken bigint NOT NULL DEFAULT 0,
    created_by uuid,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE INDEX ix_mail_mailboxes_list ON mail_mailboxes (tenant_id, created_at, id);
CREATE INDEX ix_mail_mailboxes_enabled ON mail_mailboxes (tenant_id) WHERE enabled;
"""

TENANT_TABLES = {
    "mail_hooks": "SELECT, INSERT, UPDATE, DELETE",
    # Receipts are append-only for the app; they go with their hook (cascade).
    "mail_hook_receipts": "SELECT, INSERT",
    "mail_mailboxes": "SELECT, INSERT, UPDATE, DELETE",
}

FUNCTIONS = [
    # The hook a provider calls, before any tenant is known: only enabled hooks, and only
    # what verifying and depositing the delivery needs.
    *definer_function(
        "mail_hook_lookup(p_id uuid)",
        "TABLE(tenant_id uuid, slug text, provider text, secret_arn text)",
        """SELECT h.tenant_id, t.slug, h.provider, h.secret_arn
           FROM mail_hooks h JOIN tenants t ON t.id = h.tenant_id
           WHERE h.id = p_id AND h.enabled""",
    ),
    # The tenants the IMAP poller has work for.
    *definer_function(
        "mail_mailbox_tenants()",
        "SETOF uuid",
        "SELECT DISTINCT tenant_id FROM mail_mailboxes WHERE enabled ORDER BY tenant_id",
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
    op.execute("DROP FUNCTION IF EXISTS mail_hook_lookup(uuid)")
    op.execute("DROP FUNCTION IF EXISTS mail_mailbox_tenants()")
    op.execute("DROP TABLE IF EXISTS mail_hook_receipts, mail_hooks, mail_mailboxes")
