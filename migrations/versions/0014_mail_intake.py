"""The e-mail intake: addresses (aliases), the inbound-mail log, the Message-IDs of a
ticket's mail, and the tickets' channel.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

``mail_addresses`` holds a tenant's aliases (its default address, ``<slug>@<inbound
domain>``, is computed and never stored). An alias is unique across tenants: the unique
constraint decides, and RLS keeps the holder unseen. ``inbound_mail`` records the outcome
of every message the intake took for a tenant, once: (tenant, object key) and (tenant,
sender, Message-ID) are unique, so a redelivered or duplicated message finds its outcome
and does nothing twice, also under concurrent delivery. ``mail_message_ids`` maps the
Message-IDs we sent (the e-mail consumer) and received (the intake) to their ticket, for
threading by In-Reply-To/References and for recognising our own mail coming back.

The tenant of an arriving message is known before any tenant transaction, from its
envelope recipients, through two SECURITY DEFINER functions returning the least they can:
``mail_address_tenant(address)`` (an alias's tenant and id) and
``mail_reply_tickets(number)`` (the (tenant, ticket) pairs with that number, for checking a
signed reply address, whose HMAC names the ticket id).
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE mail_addresses (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    address text NOT NULL CHECK (address = lower(address) AND length(address) BETWEEN 3 AND 254),
    category_id uuid,
    team_id uuid,
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
    created_by uuid,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_mail_addresses_address UNIQUE (address)
);
CREATE INDEX ix_mail_addresses_list ON mail_addresses (tenant_id, address);

CREATE TABLE inbound_mail (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    door text NOT NULL CHECK (door IN ('ses', 'smtp', 'imap', 'hook')),
    object_key text NOT NULL CHECK (length(object_key) <= 1024),
    bucket text NOT NULL CHECK (length(bucket) <= 255),
    ses_message_id text NOT NULL CHECK (length(ses_message_id) <= 256),
    message_id text CHECK (length(message_id) <= 998),
    mail_from text NOT NULL DEFAULT '' CHECK (length(mail_from) <= 320),
    from_address text CHECK (length(from_address) <= 320),
    from_name text NOT NULL DEFAULT '' CHECK (length(from_name) <= 200),
    subject text NOT NULL DEFAULT '' CHECK (length(subject) <= 998),
    recipients text[] NOT NULL DEFAULT '{}',
    size_bytes integer NOT NULL CHECK (size_bytes >= 0),
    verdicts jsonb NOT NULL DEFAULT '{}',
    auto text CHECK (length(auto) <= 64),
    outcome text NOT NULL
        CHECK (outcome IN ('ticket', 'comment', 'held', 'ignored', 'rejected')),
    reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 64),
    detail text NOT NULL DEFAULT '' CHECK (length(detail) <= 1000),
    -- What the sender wrote (reply_text) and the whole body, for staff and for accepting
    -- held mail; attachments refused on the way in, and other notes.
    body text NOT NULL DEFAULT '' CHECK (length(body) <= 200000),
    reply_text text NOT NULL DEFAULT '' CHECK (length(reply_text) <= 200000),
    notes jsonb NOT NULL DEFAULT '[]',
    sender_id uuid,
    alias_id uuid,
    ticket_id uuid,
    comment_id uuid,
    -- Held mail: where an agent sent it (a comment, a ticket) or that it was discarded.
    resolution text CHECK (resolution IN ('comment', 'ticket', 'discarded')),
    resolved_by uuid,
    resolved_at timestamptz,
    received_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT uq_inbound_mail_object UNIQUE (tenant_id, object_key),
    CONSTRAINT uq_inbound_mail_message UNIQUE (tenant_id, from_address, message_id)
);
CREATE INDEX ix_inbound_mail_log ON inbound_mail (tenant_id, created_at DESC, id DESC);
CREATE INDEX ix_inbound_mail_held ON inbound_mail (tenant_id, created_at DESC, id DESC)
    WHERE outcome = 'held' AND resolved_at IS NULL;
CREATE INDEX ix_inbound_mail_sender ON inbound_mail (tenant_id, from_address, created_at);
CREATE INDEX ix_inbound_mail_ticket ON inbound_mail (tenant_id, ticket_id)
    WHERE ticket_id IS NOT NULL;

CREATE TABLE mail_message_ids (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    message_id text NOT NULL CHECK (length(message_id) BETWEEN 3 AND 998),
    ticket_id uuid NOT NULL,
    direction text NOT NULL CHECK (direction IN ('in', 'out')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, message_id)
);
CREATE INDEX ix_mail_message_ids_ticket ON mail_message_ids (tenant_id, ticket_id);

ALTER TABLE tickets ADD COLUMN channel text NOT NULL DEFAULT 'web'
    CHECK (channel IN ('web', 'email'));
-- mail_reply_tickets looks a number up across tenants (the unique key leads with tenant).
CREATE INDEX ix_tickets_number ON tickets (number);
"""

TENANT_TABLES = {
    "mail_addresses": "SELECT, INSERT, UPDATE, DELETE",
    # The log is kept: the app records outcomes and resolves held mail, never deletes.
    "inbound_mail": "SELECT, INSERT, UPDATE",
    "mail_message_ids": "SELECT, INSERT",
}

FUNCTIONS = [
    # An alias's tenant (never the platform tenant's: it has none).
    *definer_function(
        "mail_address_tenant(p_address text)",
        "TABLE(tenant_id uuid, alias_id uuid)",
        "SELECT tenant_id, id FROM mail_addresses WHERE address = lower(p_address)",
    ),
    # The tickets bearing a number, for checking a signed reply address (whose HMAC covers
    # the ticket id): a handful of (tenant, ticket) ids, nothing else.
    *definer_function(
        "mail_reply_tickets(p_number text)",
        "TABLE(tenant_id uuid, ticket_id uuid)",
        "SELECT tenant_id, id FROM tickets WHERE number = p_number LIMIT 20",
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
    op.execute("DROP FUNCTION IF EXISTS mail_address_tenant(text)")
    op.execute("DROP FUNCTION IF EXISTS mail_reply_tickets(text)")
    op.execute("DROP INDEX IF EXISTS ix_tickets_number")
    op.execute("ALTER TABLE tickets DROP COLUMN IF EXISTS channel")
    op.execute("DROP TABLE IF EXISTS mail_message_ids, inbound_mail, mail_addresses")
