"""Reports (issue 19): per-ticket facts and event facts, maintained by the reports consumer.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06

``report_ticket_facts``: one row per ticket, recomputed from source (tickets, ticket_events,
ticket_comments, ticket_sla_pauses, the SLA calendar) by servicedesk.reports.facts: the
ticket's dimensions, its first response and last resolution with business and wall-clock
durations, public reply and reopen counts. ``report_events``: the countable moments of a
ticket (creation, resolution, reopen, public staff reply, entering and leaving the backlog) with the
ticket's dimensions and the agent then. Both are rewritten per ticket, so a recomputation is
idempotent and order-independent. ``report_processed_events``: outbox event ids already
applied (a duplicate is skipped cheaply). ``report_generations``: a per-tenant counter the
consumer bumps; the report cache keys on it.
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE report_ticket_facts (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    ticket_id uuid NOT NULL,
    team_id uuid,
    assignee_id uuid,
    category_id uuid,
    priority text NOT NULL,
    channel text NOT NULL,
    requester_id uuid NOT NULL,
    status text NOT NULL,
    merged boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    first_response_at timestamptz,
    first_response_business integer,
    first_response_wall integer,
    resolved_at timestamptz,
    resolution_business integer,
    resolution_wall integer,
    public_replies integer NOT NULL DEFAULT 0,
    reopens integer NOT NULL DEFAULT 0,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE
);
-- Covering indexes: each report reads one range of one timestamp and the dimensions.
CREATE INDEX ix_report_facts_created ON report_ticket_facts (tenant_id, created_at)
    INCLUDE (team_id, assignee_id, category_id, priority, channel, merged);
CREATE INDEX ix_report_facts_first_response ON report_ticket_facts (tenant_id, first_response_at)
    INCLUDE (team_id, assignee_id, category_id, priority, channel,
             first_response_business, first_response_wall)
    WHERE first_response_at IS NOT NULL AND NOT merged;
CREATE INDEX ix_report_facts_resolved ON report_ticket_facts (tenant_id, resolved_at)
    INCLUDE (team_id, assignee_id, category_id, priority, channel,
             resolution_business, resolution_wall, public_replies, reopens)
    WHERE resolved_at IS NOT NULL AND NOT merged;
CREATE INDEX ix_report_facts_open ON report_ticket_facts (tenant_id, status)
    INCLUDE (team_id, assignee_id, category_id, priority, channel, created_at)
    WHERE NOT merged;

CREATE TABLE report_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    ticket_id uuid NOT NULL,
    kind text NOT NULL
        CHECK (kind IN ('created', 'resolved', 'reopened', 'reply', 'backlog_in', 'backlog_out')),
    at timestamptz NOT NULL,
    -- resolved: the assignee at that moment; reply: its author
    agent_id uuid,
    team_id uuid,
    assignee_id uuid,
    category_id uuid,
    priority text NOT NULL,
    channel text NOT NULL,
    -- resolved: the ticket's business durations (agent-performance's medians, no join)
    first_response_business integer,
    resolution_business integer,
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES report_ticket_facts (tenant_id, ticket_id)
        ON DELETE CASCADE
);
CREATE INDEX ix_report_events_kind_at ON report_events (tenant_id, kind, at)
    INCLUDE (agent_id, team_id, assignee_id, category_id, priority, channel);
CREATE INDEX ix_report_events_ticket ON report_events (tenant_id, ticket_id);

-- Counts per UTC hour of the countable moments, by one dimension at a time ('all': none;
-- value '' is "no team" etc.): a report grouped or filtered by at most one dimension sums
-- these instead of counting events. Maintained with the events (old contribution out, new
-- in, in one statement in key order).
CREATE TABLE report_rollup_hourly (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    dim text NOT NULL
        CHECK (dim IN ('all', 'team', 'agent', 'category', 'priority', 'channel')),
    kind text NOT NULL,
    hour timestamptz NOT NULL,
    value text NOT NULL,
    n integer NOT NULL,
    PRIMARY KEY (tenant_id, dim, kind, hour, value)
);

CREATE TABLE report_processed_events (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    event_id uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX ix_report_processed_at ON report_processed_events (processed_at);

CREATE TABLE report_generations (
    tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
    generation bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""

GRANTS = {
    "report_ticket_facts": "SELECT, INSERT, UPDATE, DELETE",
    "report_events": "SELECT, INSERT, DELETE",
    "report_rollup_hourly": "SELECT, INSERT, UPDATE, DELETE",
    "report_processed_events": "SELECT, INSERT, DELETE",
    "report_generations": "SELECT, INSERT, UPDATE",
}


def upgrade() -> None:
    op.execute(TABLES)
    for table, privileges in GRANTS.items():
        for statement in tenant_rls(table):
            op.execute(statement)
        op.execute(grant(table, privileges))
    # The rebuild's list of tenants (tenants is under RLS: no tenant is set yet).
    for statement in definer_function(
        "report_tenants()", "SETOF uuid", "SELECT id FROM tenants ORDER BY id"
    ):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS report_tenants()")
    for table in reversed(list(GRANTS)):
        op.execute(f"DROP TABLE IF EXISTS {table}")
