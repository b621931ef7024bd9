"""Projects and tasks with dependencies (issue 24): projects with their board columns and
members, tasks ordered on the board by fractional ranks, finish-to-start / start-to-start
dependencies between tasks of one project (a DAG: the service refuses an edge that closes
a cycle under the project's row lock), task comments, watchers and ticket links.

- ``projects``: a key per tenant (``NET``), owner, status, dates, archived, settings
  (``date_conflicts``), ``task_seq`` (the last task number handed out), ``version``.
- ``project_columns``: ordered board columns; ``category`` (todo, in_progress, done) says
  what a column means to dependencies and ticket links.
- ``project_members``: a project role per member (owner, manager, member, viewer).
- ``project_tasks``: ``rank`` is compared bytewise (COLLATE "C") within a column.
- ``task_dependencies``: unique per (predecessor, successor); both tasks of the project.
- ``task_comments``, ``task_watchers``, ``task_ticket_links`` (``waits``: the ticket is on
  hold until the task is done).
- ``realtime_subscriptions``: the channel check admits a project's room ``project:<id>``.

Revision ID: 0054
Revises: 0053
"""

from alembic import op

from servicedesk.platform.rls import grant, tenant_rls

revision = "0054"
down_revision = "0053"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE projects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key text NOT NULL CHECK (key ~ '^[A-Z][A-Z0-9]{1,9}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    owner_id uuid NOT NULL REFERENCES users(id),
    status text NOT NULL DEFAULT 'planned'
        CHECK (status IN ('planned', 'active', 'on_hold', 'completed', 'cancelled')),
    start_date date,
    target_date date,
    archived boolean NOT NULL DEFAULT false,
    settings jsonb NOT NULL DEFAULT '{"date_conflicts": "warn"}'::jsonb
        CHECK (jsonb_typeof(settings) = 'object'),
    task_seq integer NOT NULL DEFAULT 0,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, key),
    CHECK (target_date IS NULL OR start_date IS NULL OR target_date >= start_date)
);
CREATE INDEX ix_projects_name ON projects (tenant_id, lower(name), id);

CREATE TABLE project_columns (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    project_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    category text NOT NULL CHECK (category IN ('todo', 'in_progress', 'done')),
    position integer NOT NULL CHECK (position >= 0),
    wip_limit integer CHECK (wip_limit BETWEEN 1 AND 1000),
    UNIQUE (tenant_id, id),
    UNIQUE (project_id, id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_project_columns_project ON project_columns (project_id, position);

CREATE TABLE project_members (
    tenant_id uuid NOT NULL,
    project_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users(id),
    role text NOT NULL CHECK (role IN ('owner', 'manager', 'member', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, user_id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_project_members_user ON project_members (tenant_id, user_id);

CREATE TABLE project_tasks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    project_id uuid NOT NULL,
    number integer NOT NULL CHECK (number > 0),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    column_id uuid NOT NULL,
    assignee_id uuid REFERENCES users(id),
    estimate_days numeric(7, 2) NOT NULL DEFAULT 1 CHECK (estimate_days BETWEEN 0 AND 3650),
    start_date date,
    due_date date,
    priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    labels text[] NOT NULL DEFAULT '{}' CHECK (cardinality(labels) <= 20),
    checklist jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(checklist) = 'array'),
    rank text COLLATE "C" NOT NULL CHECK (length(rank) BETWEEN 1 AND 200),
    change_id uuid,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    UNIQUE (project_id, id),
    UNIQUE (project_id, number),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, column_id) REFERENCES project_columns (project_id, id),
    FOREIGN KEY (tenant_id, change_id) REFERENCES changes (tenant_id, id) ON DELETE SET NULL (change_id),
    CHECK (due_date IS NULL OR start_date IS NULL OR due_date >= start_date)
);
CREATE INDEX ix_project_tasks_board ON project_tasks (project_id, column_id, rank, id);
CREATE INDEX ix_project_tasks_assignee ON project_tasks (tenant_id, assignee_id, created_at, id);

CREATE TABLE task_dependencies (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    project_id uuid NOT NULL,
    predecessor_id uuid NOT NULL,
    successor_id uuid NOT NULL,
    type text NOT NULL DEFAULT 'finish_to_start'
        CHECK (type IN ('finish_to_start', 'start_to_start')),
    lag_days integer NOT NULL DEFAULT 0 CHECK (lag_days BETWEEN -365 AND 365),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (predecessor_id, successor_id),
    CHECK (predecessor_id <> successor_id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, predecessor_id) REFERENCES project_tasks (project_id, id)
        ON DELETE CASCADE,
    FOREIGN KEY (project_id, successor_id) REFERENCES project_tasks (project_id, id)
        ON DELETE CASCADE
);
CREATE INDEX ix_task_dependencies_successor ON task_dependencies (successor_id);
CREATE INDEX ix_task_dependencies_project ON task_dependencies (project_id, created_at, id);

CREATE TABLE task_comments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    task_id uuid NOT NULL,
    author_id uuid NOT NULL REFERENCES users(id),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, task_id) REFERENCES project_tasks (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_task_comments_task ON task_comments (task_id, created_at, id);

CREATE TABLE task_watchers (
    tenant_id uuid NOT NULL,
    task_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users(id),
    PRIMARY KEY (task_id, user_id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES project_tasks (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE task_ticket_links (
    tenant_id uuid NOT NULL,
    task_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    waits boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, ticket_id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES project_tasks (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_task_ticket_links_ticket ON task_ticket_links (tenant_id, ticket_id);
"""

GRANTS = (
    ("projects", "SELECT, INSERT, UPDATE"),
    ("project_columns", "SELECT, INSERT, UPDATE, DELETE"),
    ("project_members", "SELECT, INSERT, UPDATE, DELETE"),
    ("project_tasks", "SELECT, INSERT, UPDATE, DELETE"),
    ("task_dependencies", "SELECT, INSERT, DELETE"),
    ("task_comments", "SELECT, INSERT"),
    ("task_watchers", "SELECT, INSERT, DELETE"),
    ("task_ticket_links", "SELECT, INSERT, UPDATE, DELETE"),
)


UUID_RE = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _channels(pattern: str) -> None:
    op.execute(
        "ALTER TABLE realtime_subscriptions"
        " DROP CONSTRAINT IF EXISTS realtime_subscriptions_channel_check"
    )
    op.execute(
        "ALTER TABLE realtime_subscriptions ADD CONSTRAINT realtime_subscriptions_channel_check"
        f" CHECK (channel ~ '{pattern}')"
    )


def upgrade() -> None:
    op.execute(TABLES)
    for table, privileges in GRANTS:
        for statement in [*tenant_rls(table), grant(table, privileges)]:
            op.execute(statement)
    _channels(f"^((ticket|team|user|project):{UUID_RE}|queue:untriaged)$")


def downgrade() -> None:
    op.execute("DELETE FROM realtime_subscriptions WHERE channel LIKE 'project:%'")
    _channels(f"^((ticket|team|user):{UUID_RE}|queue:untriaged)$")
    for table in reversed([table for table, _ in GRANTS]):
        op.execute(f"DROP TABLE IF EXISTS {table}")
