"""Tickets: teams, categories, tickets, conversation, participants, timeline, links.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

from servicedesk.platform.rls import grant, tenant_rls

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES = "('new', 'open', 'in_progress', 'pending', 'resolved', 'closed', 'cancelled')"
LEVELS = "('low', 'medium', 'high', 'critical')"

TABLES = f"""
CREATE TABLE teams (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    assignment_strategy text NOT NULL DEFAULT 'manual'
        CHECK (assignment_strategy IN ('manual', 'round_robin', 'least_open')),
    last_assigned_user_id uuid,
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX uq_teams_name ON teams (tenant_id, lower(name));

CREATE TABLE team_members (
    tenant_id uuid NOT NULL,
    team_id uuid NOT NULL,
    user_id uuid NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id)
);
CREATE INDEX ix_team_members_user ON team_members (tenant_id, user_id);

CREATE TABLE categories (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    fields_schema jsonb NOT NULL DEFAULT '{{"type": "object", "properties": {{}}}}'::jsonb,
    default_team_id uuid,
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, default_team_id) REFERENCES teams (tenant_id, id)
);
CREATE UNIQUE INDEX uq_categories_name ON categories (tenant_id, lower(name));

-- One row per tenant and year; the row lock serializes concurrent creations, so numbers
-- are gap-free per year without retry loops.
CREATE TABLE ticket_counters (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    year integer NOT NULL,
    last_value bigint NOT NULL,
    PRIMARY KEY (tenant_id, year)
);

CREATE TABLE tickets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    number text NOT NULL,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    status text NOT NULL DEFAULT 'new' CHECK (status IN {STATUSES}),
    priority text NOT NULL CHECK (priority IN {LEVELS}),
    priority_rank smallint GENERATED ALWAYS AS (
        CASE priority WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 ELSE 4 END
    ) STORED,
    impact text CHECK (impact IN {LEVELS}),
    urgency text CHECK (urgency IN {LEVELS}),
    category_id uuid,
    requester_id uuid NOT NULL,
    assignee_id uuid,
    team_id uuid,
    tags text[] NOT NULL DEFAULT '{{}}',
    custom_fields jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    priority_locked boolean NOT NULL DEFAULT false,
    category_locked boolean NOT NULL DEFAULT false,
    assignment_locked boolean NOT NULL DEFAULT false,
    merged_into_id uuid,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    first_response_at timestamptz,
    resolved_at timestamptz,
    closed_at timestamptz,
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', number), 'A')
        || setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', description), 'B')
    ) STORED,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, category_id) REFERENCES categories (tenant_id, id),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id),
    FOREIGN KEY (tenant_id, requester_id) REFERENCES memberships (tenant_id, user_id),
    FOREIGN KEY (tenant_id, assignee_id) REFERENCES memberships (tenant_id, user_id),
    FOREIGN KEY (tenant_id, merged_into_id) REFERENCES tickets (tenant_id, id)
);
-- Keyset pages: every list orders by (sort key, id) inside one tenant.
CREATE INDEX ix_tickets_created ON tickets (tenant_id, created_at DESC, id DESC);
CREATE INDEX ix_tickets_updated ON tickets (tenant_id, updated_at DESC, id DESC);
CREATE INDEX ix_tickets_status ON tickets (tenant_id, status, created_at DESC, id DESC);
CREATE INDEX ix_tickets_assignee ON tickets (tenant_id, assignee_id, created_at DESC, id DESC);
CREATE INDEX ix_tickets_team ON tickets (tenant_id, team_id, created_at DESC, id DESC);
CREATE INDEX ix_tickets_requester ON tickets (tenant_id, requester_id, created_at DESC, id DESC);
CREATE INDEX ix_tickets_priority ON tickets (tenant_id, priority_rank DESC, created_at DESC, id DESC);
CREATE INDEX ix_tickets_tags ON tickets USING gin (tags);
CREATE INDEX ix_tickets_search ON tickets USING gin (search);
CREATE INDEX ix_tickets_number_trgm ON tickets USING gin (number gin_trgm_ops);
CREATE INDEX ix_tickets_title_trgm ON tickets USING gin (title gin_trgm_ops);

CREATE TABLE ticket_comments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    author_id uuid NOT NULL,
    visibility text NOT NULL CHECK (visibility IN ('public', 'internal')),
    body text NOT NULL CHECK (length(body) <= 50000),
    created_at timestamptz NOT NULL DEFAULT now(),
    edited_at timestamptz,
    deleted_at timestamptz,
    deleted_by uuid,
    search tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    FOREIGN KEY (tenant_id, author_id) REFERENCES memberships (tenant_id, user_id)
);
CREATE INDEX ix_ticket_comments_ticket ON ticket_comments (tenant_id, ticket_id, created_at, id);
CREATE INDEX ix_ticket_comments_search ON ticket_comments USING gin (search);

CREATE TABLE ticket_participants (
    tenant_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    user_id uuid NOT NULL,
    kind text NOT NULL DEFAULT 'participant' CHECK (kind IN ('cc', 'participant')),
    can_comment boolean NOT NULL DEFAULT true,
    can_edit boolean NOT NULL DEFAULT false,
    added_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ticket_id, user_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id)
);
CREATE INDEX ix_ticket_participants_user ON ticket_participants (tenant_id, user_id);

CREATE TABLE ticket_invitations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    user_id uuid NOT NULL,
    invited_by uuid NOT NULL,
    can_comment boolean NOT NULL DEFAULT true,
    can_edit boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'declined', 'cancelled')),
    created_at timestamptz NOT NULL DEFAULT now(),
    responded_at timestamptz,
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id)
);
CREATE UNIQUE INDEX uq_ticket_invitations_pending ON ticket_invitations (ticket_id, user_id)
    WHERE status = 'pending';

CREATE TABLE ticket_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    type text NOT NULL,
    actor_id uuid,
    visibility text NOT NULL CHECK (visibility IN ('public', 'internal', 'personal')),
    audience uuid[] NOT NULL DEFAULT '{{}}',
    payload jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
CREATE INDEX ix_ticket_events_ticket ON ticket_events (tenant_id, ticket_id, id);

CREATE TABLE ticket_links (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    source_id uuid NOT NULL,
    target_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('relates_to', 'duplicate_of', 'parent_of')),
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (source_id <> target_id),
    UNIQUE (tenant_id, source_id, target_id, kind),
    FOREIGN KEY (tenant_id, source_id) REFERENCES tickets (tenant_id, id),
    FOREIGN KEY (tenant_id, target_id) REFERENCES tickets (tenant_id, id)
);
CREATE INDEX ix_ticket_links_target ON ticket_links (tenant_id, target_id);
"""

TENANT_TABLES = {
    "teams": "SELECT, INSERT, UPDATE",
    "team_members": "SELECT, INSERT, UPDATE, DELETE",
    "categories": "SELECT, INSERT, UPDATE",
    "ticket_counters": "SELECT, INSERT, UPDATE",
    "tickets": "SELECT, INSERT, UPDATE",
    "ticket_comments": "SELECT, INSERT, UPDATE",
    "ticket_participants": "SELECT, INSERT, UPDATE, DELETE",
    "ticket_invitations": "SELECT, INSERT, UPDATE",
    "ticket_events": "SELECT, INSERT",
    "ticket_links": "SELECT, INSERT, DELETE",
}


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(TABLES)
    for table, privileges in TENANT_TABLES.items():
        for statement in tenant_rls(table):
            op.execute(statement)
        op.execute(grant(table, privileges))


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS ticket_links, ticket_events, ticket_invitations,"
        " ticket_participants, ticket_comments, tickets, ticket_counters, categories,"
        " team_members, teams CASCADE"
    )
