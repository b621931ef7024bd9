"""Ticket types and the category tree (issue 20, points 1-2).

``ticket_types``: each tenant's types, four built in (``incident``, ``service_request``,
``problem``, ``question``; seeded for every existing tenant and, by a trigger, for every new
one), renamable, archivable, never deleted. ``tickets.type`` names one (existing tickets
become ``incident``, the type a ticket gets when nothing else says). A problem links its
incidents with the new link kind ``problem_of``. ``categories`` gain a parent (a tree of at
most five levels, no cycles: the service checks, under a per-tenant lock), a position among
their siblings and a default type, and may be deleted (their tickets moved first). The
report facts, events and hourly rollup gain the type as a dimension (the rollup's ``type``
rows are counted here from the events, so reports grouped by type are right at once).

Revision ID: 0034
Revises: 0033
"""

import importlib.util
from pathlib import Path

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

BUILTIN = (
    ("incident", "Incident", "Something is broken or degraded", 0),
    ("service_request", "Service request", "A request for something new or a change", 1),
    ("problem", "Problem", "The underlying cause of one or more incidents", 2),
    ("question", "Question", "A question or a request for information", 3),
)
SEED_VALUES = ", ".join(
    f"('{key}', '{name}', '{description}', {position})"
    for key, name, description, position in BUILTIN
)

TABLES = """
CREATE TABLE ticket_types (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    position integer NOT NULL DEFAULT 0,
    builtin boolean NOT NULL DEFAULT false,
    archived_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, key),
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX uq_ticket_types_name ON ticket_types (tenant_id, lower(name));
"""

# SECURITY DEFINER: a tenant is created before any tenant transaction exists (signup, the
# seed), so the app role could not insert its types under RLS.
SEED = definer_function(
    "seed_ticket_types(p_tenant uuid)",
    "void",
    "INSERT INTO ticket_types (tenant_id, key, name, description, position, builtin)"
    f" SELECT p_tenant, v.* , true FROM (VALUES {SEED_VALUES}) AS v(key, name, description,"
    " position) ON CONFLICT (tenant_id, key) DO NOTHING",
    volatility="VOLATILE",
)
TRIGGER = [
    "CREATE OR REPLACE FUNCTION tenants_seed_ticket_types() RETURNS trigger LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path = public, pg_temp AS $fn$"
    " BEGIN PERFORM seed_ticket_types(NEW.id); RETURN NEW; END $fn$",
    "REVOKE ALL ON FUNCTION tenants_seed_ticket_types() FROM PUBLIC",
    "CREATE TRIGGER tenants_seed_ticket_types AFTER INSERT ON tenants"
    " FOR EACH ROW EXECUTE FUNCTION tenants_seed_ticket_types()",
]

CHANGES = """
SELECT seed_ticket_types(id) FROM tenants;

ALTER TABLE tickets ADD COLUMN type text NOT NULL DEFAULT 'incident';
ALTER TABLE tickets ADD CONSTRAINT fk_tickets_type
    FOREIGN KEY (tenant_id, type) REFERENCES ticket_types (tenant_id, key);
CREATE INDEX ix_tickets_type ON tickets (tenant_id, type, created_at DESC, id DESC);

ALTER TABLE ticket_links DROP CONSTRAINT ticket_links_kind_check;
ALTER TABLE ticket_links ADD CONSTRAINT ticket_links_kind_check
    CHECK (kind IN ('relates_to', 'duplicate_of', 'parent_of', 'problem_of'));
-- An incident belongs to one problem (the service checks; this makes it hold under races).
CREATE UNIQUE INDEX uq_ticket_links_problem ON ticket_links (tenant_id, target_id)
    WHERE kind = 'problem_of';
CREATE INDEX ix_ticket_links_source ON ticket_links (tenant_id, source_id, kind);

ALTER TABLE categories ADD COLUMN parent_id uuid;
ALTER TABLE categories ADD COLUMN position integer NOT NULL DEFAULT 0;
ALTER TABLE categories ADD COLUMN default_type text;
ALTER TABLE categories ADD CONSTRAINT fk_categories_parent
    FOREIGN KEY (tenant_id, parent_id) REFERENCES categories (tenant_id, id);
ALTER TABLE categories ADD CONSTRAINT fk_categories_default_type
    FOREIGN KEY (tenant_id, default_type) REFERENCES ticket_types (tenant_id, key);
ALTER TABLE categories ADD CONSTRAINT ck_categories_parent CHECK (parent_id <> id);
CREATE INDEX ix_categories_parent ON categories (tenant_id, parent_id, position);
CREATE INDEX ix_tickets_category ON tickets (tenant_id, category_id);
-- Existing categories keep their alphabetical order as positions.
UPDATE categories c SET position = o.n FROM (
    SELECT id, row_number() OVER (PARTITION BY tenant_id ORDER BY lower(name), id) - 1 AS n
    FROM categories) o WHERE o.id = c.id;

ALTER TABLE report_ticket_facts ADD COLUMN type text NOT NULL DEFAULT 'incident';
ALTER TABLE report_events ADD COLUMN type text NOT NULL DEFAULT 'incident';
DROP INDEX ix_report_facts_created;
CREATE INDEX ix_report_facts_created ON report_ticket_facts (tenant_id, created_at)
    INCLUDE (team_id, assignee_id, category_id, priority, channel, type, merged);
DROP INDEX ix_report_facts_first_response;
CREATE INDEX ix_report_facts_first_response ON report_ticket_facts (tenant_id, first_response_at)
    INCLUDE (team_id, assignee_id, category_id, priority, channel, type,
             first_response_business, first_response_wall)
    WHERE first_response_at IS NOT NULL AND NOT merged;
DROP INDEX ix_report_facts_resolved;
CREATE INDEX ix_report_facts_resolved ON report_ticket_facts (tenant_id, resolved_at)
    INCLUDE (team_id, assignee_id, category_id, priority, channel, type,
             resolution_business, resolution_wall, public_replies, reopens)
    WHERE resolved_at IS NOT NULL AND NOT merged;
DROP INDEX ix_report_facts_open;
CREATE INDEX ix_report_facts_open ON report_ticket_facts (tenant_id, status)
    INCLUDE (team_id, assignee_id, category_id, priority, channel, type, created_at)
    WHERE NOT merged;
DROP INDEX ix_report_events_kind_at;
CREATE INDEX ix_report_events_kind_at ON report_events (tenant_id, kind, at)
    INCLUDE (agent_id, team_id, assignee_id, category_id, priority, channel, type);

ALTER TABLE report_rollup_hourly DROP CONSTRAINT report_rollup_hourly_dim_check;
ALTER TABLE report_rollup_hourly ADD CONSTRAINT report_rollup_hourly_dim_check
    CHECK (dim IN ('all', 'team', 'agent', 'category', 'priority', 'channel', 'type'));
INSERT INTO report_rollup_hourly (tenant_id, dim, kind, hour, value, n)
    SELECT tenant_id, 'type', kind, date_trunc('hour', at, 'UTC'), type, count(*)
    FROM report_events
    WHERE kind IN ('created', 'resolved', 'reopened', 'backlog_in', 'backlog_out')
    GROUP BY 1, 3, 4, 5;
"""


def upgrade() -> None:
    op.execute(TABLES)
    for statement in tenant_rls("ticket_types"):
        op.execute(statement)
    op.execute(grant("ticket_types", "SELECT, INSERT, UPDATE"))
    op.execute(grant("categories", "DELETE"))
    for statement in [*SEED, *TRIGGER]:
        op.execute(statement)
    op.execute(CHANGES)
    _summaries_know_type(True)


def _summaries_know_type(known: bool) -> None:
    """The duration summaries (0028) take the type dimension: their dim check, and the
    invalidation when a fact's type changes (0028's trigger function, with ``type``)."""
    spec = importlib.util.spec_from_file_location(
        "summaries_0028", Path(__file__).with_name("0028_report_duration_summaries.py")
    )
    assert spec is not None and spec.loader is not None
    base = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(base)
    dims = "'all', 'team', 'agent', 'category', 'priority', 'channel'" + (", 'type'" * known)
    if not known:
        op.execute("DELETE FROM report_duration_summaries WHERE dim = 'type'")
    op.execute(
        "ALTER TABLE report_duration_summaries"
        " DROP CONSTRAINT report_duration_summaries_dim_check,"
        f" ADD CONSTRAINT report_duration_summaries_dim_check CHECK (dim IN ({dims}))"
    )
    columns = base.DIMS + (", type" if known else "")
    moments = base._changed_moments(columns)
    function = base._function("report_summaries_updated", moments)
    op.execute(function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))


def downgrade() -> None:
    _summaries_know_type(False)
    op.execute(
        """
        DELETE FROM report_rollup_hourly WHERE dim = 'type';
        ALTER TABLE report_rollup_hourly DROP CONSTRAINT report_rollup_hourly_dim_check;
        ALTER TABLE report_rollup_hourly ADD CONSTRAINT report_rollup_hourly_dim_check
            CHECK (dim IN ('all', 'team', 'agent', 'category', 'priority', 'channel'));
        ALTER TABLE report_events DROP COLUMN type;
        ALTER TABLE report_ticket_facts DROP COLUMN type;
        CREATE INDEX IF NOT EXISTS ix_report_events_kind_at ON report_events (tenant_id, kind, at)
            INCLUDE (agent_id, team_id, assignee_id, category_id, priority, channel);
        CREATE INDEX IF NOT EXISTS ix_report_facts_created
            ON report_ticket_facts (tenant_id, created_at)
            INCLUDE (team_id, assignee_id, category_id, priority, channel, merged);
        CREATE INDEX IF NOT EXISTS ix_report_facts_first_response
            ON report_ticket_facts (tenant_id, first_response_at)
            INCLUDE (team_id, assignee_id, category_id, priority, channel,
                     first_response_business, first_response_wall)
            WHERE first_response_at IS NOT NULL AND NOT merged;
        CREATE INDEX IF NOT EXISTS ix_report_facts_resolved
            ON report_ticket_facts (tenant_id, resolved_at)
            INCLUDE (team_id, assignee_id, category_id, priority, channel,
                     resolution_business, resolution_wall, public_replies, reopens)
            WHERE resolved_at IS NOT NULL AND NOT merged;
        CREATE INDEX IF NOT EXISTS ix_report_facts_open ON report_ticket_facts (tenant_id, status)
            INCLUDE (team_id, assignee_id, category_id, priority, channel, created_at)
            WHERE NOT merged;
        DROP INDEX IF EXISTS ix_tickets_category;
        DROP INDEX IF EXISTS ix_categories_parent;
        ALTER TABLE categories DROP COLUMN default_type, DROP COLUMN position,
            DROP COLUMN parent_id;
        DELETE FROM ticket_links WHERE kind = 'problem_of';
        DROP INDEX IF EXISTS ix_ticket_links_source;
        DROP INDEX IF EXISTS uq_ticket_links_problem;
        ALTER TABLE ticket_links DROP CONSTRAINT ticket_links_kind_check;
        ALTER TABLE ticket_links ADD CONSTRAINT ticket_links_kind_check
            CHECK (kind IN ('relates_to', 'duplicate_of', 'parent_of'));
        ALTER TABLE tickets DROP COLUMN type;
        DROP TRIGGER IF EXISTS tenants_seed_ticket_types ON tenants;
        DROP FUNCTION IF EXISTS tenants_seed_ticket_types();
        DROP FUNCTION IF EXISTS seed_ticket_types(uuid);
        REVOKE DELETE ON categories FROM servicedesk_app;
        DROP TABLE IF EXISTS ticket_types;
        """
    )
