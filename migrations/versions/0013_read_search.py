"""Reads and search at a million tickets: a covering participants index, tenant-leading GIN.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

``ix_ticket_participants_user`` becomes ``(tenant_id, user_id) INCLUDE (ticket_id)``: the
visibility rule asks "the tickets this user takes part in" on every agent and requester
list, and with the ticket id in the index that is an index-only scan instead of one heap
visit per participation (docs/benchmarks.md, "Tickets").

Where the server offers ``btree_gin`` (Aurora PostgreSQL does; the embedded test server
may not), the full-text indexes of tickets and comments lead with ``tenant_id``: a word
search then reads only its tenant's postings instead of intersecting every tenant's
matches with the tenant's whole index range. ``CREATE EXTENSION`` needs a privilege the
migrating role may lack (on Aurora, ``rds_superuser``; btree_gin is a trusted extension,
so a database owner with CREATE may). Without the extension, or without the privilege,
the all-tenant indexes stay as they are and the migration still succeeds: the search
function's queries are the same either way, only their plans differ.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PARTICIPANTS_COVERING = [
    "DROP INDEX IF EXISTS ix_ticket_participants_user",
    "CREATE INDEX ix_ticket_participants_user ON ticket_participants (tenant_id, user_id)"
    " INCLUDE (ticket_id)",
]

TENANT_LEADING_GIN = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gin')
       AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'btree_gin') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS btree_gin;
        EXCEPTION WHEN insufficient_privilege OR feature_not_supported
                       OR undefined_file OR object_not_in_prerequisite_state THEN
            RAISE NOTICE 'btree_gin not installed (%): keeping the all-tenant search indexes',
                SQLERRM;
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gin') THEN
        CREATE INDEX IF NOT EXISTS ix_tickets_tenant_search
            ON tickets USING gin (tenant_id, search);
        CREATE INDEX IF NOT EXISTS ix_ticket_comments_tenant_search
            ON ticket_comments USING gin (tenant_id, search);
        DROP INDEX IF EXISTS ix_tickets_search;
        DROP INDEX IF EXISTS ix_ticket_comments_search;
    END IF;
END
$$
"""

RESTORE_ALL_TENANT_GIN = [
    "CREATE INDEX IF NOT EXISTS ix_tickets_search ON tickets USING gin (search)",
    "CREATE INDEX IF NOT EXISTS ix_ticket_comments_search ON ticket_comments USING gin (search)",
    "DROP INDEX IF EXISTS ix_tickets_tenant_search",
    "DROP INDEX IF EXISTS ix_ticket_comments_tenant_search",
]


def upgrade() -> None:
    for statement in PARTICIPANTS_COVERING:
        op.execute(statement)
    op.execute(TENANT_LEADING_GIN)


def downgrade() -> None:
    # btree_gin stays installed: other objects may have come to depend on it.
    for statement in RESTORE_ALL_TENANT_GIN:
        op.execute(statement)
    op.execute("DROP INDEX IF EXISTS ix_ticket_participants_user")
    op.execute(
        "CREATE INDEX ix_ticket_participants_user ON ticket_participants (tenant_id, user_id)"
    )
