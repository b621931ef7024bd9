"""Knowledge base articles API (issue 18): related tickets, votes, views, article files.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

``kb_article_tickets``: an article linked to the tickets it answers (staff link them; both
directions are listed). ``kb_article_feedback``: one helpful/not-helpful vote per user and
article, changeable; the counts live on the article. ``kb_article_views``: per reader and
article the last day a view was counted, so a view counts once a day per reader by one
upsert.
``attachments`` now belong to a ticket or to an article (exactly one): the same presigned
upload, check and cleanup pipeline serves both.

Votes and views are a person's own rows: besides the tenant rule, restrictive policies
let the app role write only the caller's rows and read only those, except that staff read
the votes (their comments are how an article gets better).
"""

from alembic import op

from servicedesk.platform.rls import CURRENT_USER_ID, grant, tenant_rls

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE kb_article_tickets (
    tenant_id uuid NOT NULL,
    article_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, article_id, ticket_id),
    FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_kb_article_tickets_ticket ON kb_article_tickets (tenant_id, ticket_id);

CREATE TABLE kb_article_feedback (
    tenant_id uuid NOT NULL,
    article_id uuid NOT NULL,
    user_id uuid NOT NULL,
    helpful boolean NOT NULL,
    comment text NOT NULL DEFAULT '' CHECK (length(comment) <= 1000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, article_id, user_id),
    FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id) ON DELETE CASCADE
);

-- One row per reader and article: the last day their view was counted (so the table grows
-- with readers x articles, never with days).
CREATE TABLE kb_article_views (
    tenant_id uuid NOT NULL,
    article_id uuid NOT NULL,
    user_id uuid NOT NULL,
    day date NOT NULL,
    PRIMARY KEY (tenant_id, article_id, user_id),
    FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE attachments ALTER COLUMN ticket_id DROP NOT NULL;
ALTER TABLE attachments ADD COLUMN article_id uuid;
ALTER TABLE attachments ADD CONSTRAINT attachments_article_fk
    FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id);
-- A file belongs to a ticket (maybe one of its comments) or to an article, never both.
ALTER TABLE attachments ADD CONSTRAINT attachments_owner CHECK (
    (ticket_id IS NOT NULL AND article_id IS NULL)
    OR (ticket_id IS NULL AND article_id IS NOT NULL AND comment_id IS NULL)
);
CREATE INDEX ix_attachments_article ON attachments (tenant_id, article_id, created_at, id)
    WHERE article_id IS NOT NULL;
"""

TENANT_TABLES = {
    "kb_article_tickets": "SELECT, INSERT, DELETE",
    "kb_article_feedback": "SELECT, INSERT, UPDATE",
    "kb_article_views": "SELECT, INSERT, UPDATE",
}
MINE = f"user_id = {CURRENT_USER_ID}"
# The caller is an active agent, manager or admin of the tenant (memberships is itself
# under the tenant rule).
STAFF = (
    "EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = {table}.tenant_id"
    f" AND m.user_id = {CURRENT_USER_ID} AND m.active AND m.role <> 'requester')"
)
# table -> whether staff read everyone's rows
OWN_ROWS = {"kb_article_feedback": True, "kb_article_views": False}


def own_rows(table: str, *, staff_read: bool) -> list[str]:
    read = f"{MINE} OR {STAFF.format(table=table)}" if staff_read else MINE

    def policy(name: str, command: str, rule: str) -> str:
        return (
            f"CREATE POLICY own_rows_{name} ON {table} AS RESTRICTIVE FOR {command}"
            f" TO servicedesk_app {rule}"
        )

    return [
        policy("read", "SELECT", f"USING ({read})"),
        policy("insert", "INSERT", f"WITH CHECK ({MINE})"),
        policy("update", "UPDATE", f"USING ({MINE}) WITH CHECK ({MINE})"),
    ]


def upgrade() -> None:
    op.execute(TABLES)
    for table, privileges in TENANT_TABLES.items():
        for statement in tenant_rls(table):
            op.execute(statement)
        op.execute(grant(table, privileges))
    for table, staff_read in OWN_ROWS.items():
        for statement in own_rows(table, staff_read=staff_read):
            op.execute(statement)


def downgrade() -> None:
    op.execute(
        "DELETE FROM attachments WHERE article_id IS NOT NULL;"
        " DROP INDEX IF EXISTS ix_attachments_article;"
        " ALTER TABLE attachments DROP CONSTRAINT IF EXISTS attachments_owner,"
        " DROP CONSTRAINT IF EXISTS attachments_article_fk, DROP COLUMN IF EXISTS article_id;"
        " ALTER TABLE attachments ALTER COLUMN ticket_id SET NOT NULL;"
        " DROP TABLE IF EXISTS kb_article_views, kb_article_feedback, kb_article_tickets"
    )
