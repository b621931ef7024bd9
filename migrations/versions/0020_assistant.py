"""The AI assistant (issue 18): conversations, their messages, the tenant's token usage.

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-06

``assistant_conversations``: one per (tenant, user) chat; ``ticket_id`` links the ticket
the assistant opened in it. ``assistant_messages``: the history sent back to the model
each turn (user, assistant, the assistant's tool calls and the tools' answers), in
``seq`` order. Both carry a restrictive policy on top of the tenant's: a user reads and
writes only their own conversations (staff included: a chat is personal, and what the
assistant did for someone is on the ticket and in the audit log). ``assistant_usage``:
tokens the model reported, per tenant and calendar month (UTC), for the monthly budget.
``tickets.channel`` gains ``assistant``.
"""

from alembic import op

from servicedesk.platform.rls import CURRENT_USER_ID, grant, tenant_rls

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE assistant_conversations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    user_id uuid NOT NULL REFERENCES users(id),
    title text NOT NULL DEFAULT '' CHECK (length(title) <= 200),
    ticket_id uuid,
    message_count integer NOT NULL DEFAULT 0,
    input_tokens bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
CREATE INDEX ix_assistant_conversations_user
    ON assistant_conversations (tenant_id, user_id, updated_at DESC, id);

CREATE TABLE assistant_messages (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    conversation_id uuid NOT NULL,
    user_id uuid NOT NULL,
    seq integer NOT NULL CHECK (seq >= 1),
    role text NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content text NOT NULL DEFAULT '' CHECK (length(content) <= 100000),
    -- role 'assistant': the calls it asked for [{id, name, arguments}]; role 'tool': the
    -- call it answers (tool_call_id, tool_name).
    tool_calls jsonb NOT NULL DEFAULT '[]',
    tool_call_id text CHECK (length(tool_call_id) <= 128),
    tool_name text CHECK (length(tool_name) <= 64),
    input_tokens integer NOT NULL DEFAULT 0,
    output_tokens integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, conversation_id, seq),
    FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES assistant_conversations (tenant_id, id) ON DELETE CASCADE
);
-- The per-user rate limit counts a user's recent messages.
CREATE INDEX ix_assistant_messages_user_recent
    ON assistant_messages (tenant_id, user_id, created_at) WHERE role = 'user';

CREATE TABLE assistant_usage (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    month date NOT NULL CHECK (extract(day FROM month) = 1),
    input_tokens bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    turns integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, month)
);

ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_channel_check;
ALTER TABLE tickets ADD CONSTRAINT tickets_channel_check
    CHECK (channel IN ('web', 'email', 'assistant'));
"""

TENANT_TABLES = {
    "assistant_conversations": "SELECT, INSERT, UPDATE",
    "assistant_messages": "SELECT, INSERT",
    "assistant_usage": "SELECT, INSERT, UPDATE",
}
PER_USER = ("assistant_conversations", "assistant_messages")


def own_rows(table: str) -> str:
    """Restrictive: ANDed with tenant_isolation, so a row is the tenant's AND the user's."""
    return (
        f"CREATE POLICY own_rows ON {table} AS RESTRICTIVE TO servicedesk_app"
        f" USING (user_id = {CURRENT_USER_ID}) WITH CHECK (user_id = {CURRENT_USER_ID})"
    )


def upgrade() -> None:
    op.execute(TABLES)
    for table, privileges in TENANT_TABLES.items():
        for statement in tenant_rls(table):
            op.execute(statement)
        op.execute(grant(table, privileges))
    for table in PER_USER:
        op.execute(own_rows(table))


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS assistant_messages, assistant_conversations, assistant_usage")
    op.execute("UPDATE tickets SET channel = 'web' WHERE channel = 'assistant'")
    op.execute("ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_channel_check")
    op.execute(
        "ALTER TABLE tickets ADD CONSTRAINT tickets_channel_check"
        " CHECK (channel IN ('web', 'email'))"
    )
