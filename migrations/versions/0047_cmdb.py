"""CMDB: configuration items, their classes, typed relationships, ticket and user links,
and the history of every attribute change (issue 22, points 1-2).

``ci_classes``: each tenant's classes, five built in (seeded for every existing tenant and,
by a trigger, for every new one), plus tenant-defined ones whose ``attributes_schema`` (the
custom-field JSON-schema subset, catalog/jsonschema.py) the CIs' ``attributes`` must pass.
``cis``: a class, a lifecycle ``state`` (the service enforces the allowed transitions), an
owner, a location, serial, asset tag and an ``external_id`` unique per tenant (the key of
CSV imports and discovery). ``ci_relationships``: typed edges source -> target; the
service refuses cycles of the acyclic types (depends_on, runs_on, contains) under a
per-tenant lock. ``ci_tickets``/``ci_users``: links. ``ci_history``: one row per changed
field (who, when, from, to). All under RLS.

Revision ID: 0047
Revises: 0046
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None

BUILTIN = (
    ("hardware", "Hardware", "Servers, laptops, phones, peripherals", 0),
    ("software", "Software", "Applications, licences, installed software", 1),
    ("network_device", "Network device", "Switches, routers, firewalls, access points", 2),
    ("cloud_resource", "Cloud resource", "Instances, buckets, databases, functions", 3),
    ("business_service", "Business service", "A service the business consumes", 4),
)
SEED_VALUES = ", ".join(
    f"('{key}', '{name}', '{description}', {position})"
    for key, name, description, position in BUILTIN
)

TABLES = """
CREATE TABLE ci_classes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    attributes_schema jsonb NOT NULL DEFAULT '{"type": "object", "properties": {}}'::jsonb,
    position integer NOT NULL DEFAULT 0,
    builtin boolean NOT NULL DEFAULT false,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, key),
    UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX uq_ci_classes_name ON ci_classes (tenant_id, lower(name));

CREATE TABLE cis (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    class_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    state text NOT NULL DEFAULT 'ordered' CHECK (state IN
        ('ordered', 'in_stock', 'deployed', 'in_repair', 'retired', 'disposed')),
    owner_id uuid REFERENCES users(id),
    location text NOT NULL DEFAULT '' CHECK (length(location) <= 200),
    serial text CHECK (length(serial) BETWEEN 1 AND 200),
    asset_tag text CHECK (length(asset_tag) BETWEEN 1 AND 200),
    external_id text CHECK (length(external_id) BETWEEN 1 AND 200),
    attributes jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(attributes) = 'object'),
    created_by uuid REFERENCES users(id),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, class_id) REFERENCES ci_classes (tenant_id, id)
);
CREATE UNIQUE INDEX uq_cis_external_id ON cis (tenant_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX ix_cis_name ON cis (tenant_id, lower(name), id);
CREATE INDEX ix_cis_class ON cis (tenant_id, class_id);
CREATE INDEX ix_cis_owner ON cis (tenant_id, owner_id) WHERE owner_id IS NOT NULL;

CREATE TABLE ci_relationships (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    source_id uuid NOT NULL,
    target_id uuid NOT NULL,
    type text NOT NULL CHECK (type IN
        ('depends_on', 'runs_on', 'connected_to', 'contains', 'used_by')),
    created_by uuid REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (source_id <> target_id),
    FOREIGN KEY (tenant_id, source_id) REFERENCES cis (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, target_id) REFERENCES cis (tenant_id, id) ON DELETE CASCADE
);
-- Downstream walks (source -> targets) and the duplicate rule; upstream walks by target.
CREATE UNIQUE INDEX uq_ci_relationships ON ci_relationships
    (tenant_id, source_id, type, target_id);
CREATE INDEX ix_ci_relationships_source ON ci_relationships (source_id) INCLUDE (target_id, type);
CREATE INDEX ix_ci_relationships_target ON ci_relationships (target_id) INCLUDE (source_id, type);

CREATE TABLE ci_tickets (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    ci_id uuid NOT NULL,
    ticket_id uuid NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    created_by uuid REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ci_id, ticket_id),
    FOREIGN KEY (tenant_id, ci_id) REFERENCES cis (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_ci_tickets_ticket ON ci_tickets (ticket_id, ci_id);

CREATE TABLE ci_users (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    ci_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users(id),
    created_by uuid REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ci_id, user_id),
    FOREIGN KEY (tenant_id, ci_id) REFERENCES cis (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_ci_users_user ON ci_users (tenant_id, user_id);

CREATE TABLE ci_history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    ci_id uuid NOT NULL,
    actor_id uuid REFERENCES users(id),
    at timestamptz NOT NULL DEFAULT now(),
    field text NOT NULL,
    old_value jsonb,
    new_value jsonb,
    FOREIGN KEY (tenant_id, ci_id) REFERENCES cis (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_ci_history_ci ON ci_history (ci_id, id DESC);
"""

# SECURITY DEFINER: a tenant is created before any tenant transaction exists (signup, the
# seed), so the app role could not insert its classes under RLS.
SEED = definer_function(
    "seed_ci_classes(p_tenant uuid)",
    "void",
    "INSERT INTO ci_classes (tenant_id, key, name, description, position, builtin)"
    f" SELECT p_tenant, v.*, true FROM (VALUES {SEED_VALUES}) AS v(key, name, description,"
    " position) ON CONFLICT (tenant_id, key) DO NOTHING",
    volatility="VOLATILE",
)
TRIGGER = [
    "CREATE OR REPLACE FUNCTION tenants_seed_ci_classes() RETURNS trigger LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path = public, pg_temp AS $fn$"
    " BEGIN PERFORM seed_ci_classes(NEW.id); RETURN NEW; END $fn$",
    "REVOKE ALL ON FUNCTION tenants_seed_ci_classes() FROM PUBLIC",
    "CREATE TRIGGER tenants_seed_ci_classes AFTER INSERT ON tenants"
    " FOR EACH ROW EXECUTE FUNCTION tenants_seed_ci_classes()",
]

RLS_TABLES = ("ci_classes", "cis", "ci_relationships", "ci_tickets", "ci_users", "ci_history")


def upgrade() -> None:
    op.execute(TABLES)
    for statement in [*SEED, *TRIGGER]:
        op.execute(statement)
    op.execute("SELECT seed_ci_classes(id) FROM tenants")
    for table in RLS_TABLES:
        for statement in tenant_rls(table):
            op.execute(statement)
    for table in ("ci_classes", "cis", "ci_relationships", "ci_tickets", "ci_users"):
        op.execute(grant(table, "SELECT, INSERT, UPDATE, DELETE"))
    op.execute(grant("ci_history", "SELECT, INSERT"))


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS tenants_seed_ci_classes ON tenants")
    op.execute("DROP FUNCTION IF EXISTS tenants_seed_ci_classes()")
    op.execute("DROP FUNCTION IF EXISTS seed_ci_classes(uuid)")
    for table in reversed(RLS_TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table}")
