"""Tickets at scale: search through the indexes, and a least-open count from an index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25

Under row-level security PostgreSQL evaluates no predicate whose operator is not LEAKPROOF
before the policy, and ``@@`` (full text) and ``ILIKE`` are not, so as the app role every
word search read all of the tenant's tickets and comments (docs/benchmarks.md, "Search").
``ticket_search_candidates`` runs as the owner (whose ``owner_maintenance`` policy is
``true``, so the GIN and trigram indexes apply) and returns the ids of the current
tenant's tickets that match in the ticket itself, in a comment the caller may read, or by
number fragment. The tenant and user come from the transaction's settings, never from a
parameter, so a caller cannot look into another tenant. The caller then selects the
tickets ``WHERE id IN (candidates)`` as the app role: RLS and the one visibility rule
(``tickets.visibility.visible``) still decide what is returned. Only the comment rule
(internal notes are for staff) is repeated here, because which comments match is decided
inside; the staff test is the caller's active membership role, as ``Role.is_staff``.

``ix_tickets_open_assignee`` serves the *least open* assignment strategy, which counts
each team member's open tickets while it holds the team row: with the status checked on
the heap that took 368 ms in a 200,000-ticket tenant; from this partial index it is an
index-only scan (docs/benchmarks.md, "Create"). Its predicate is exactly
``teams.service.OPEN_STATUSES``.
"""

from alembic import op

from servicedesk.platform.rls import definer_function

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SIGNATURE = "ticket_search_candidates(p_query tsquery, p_number text)"

CANDIDATES = """
    SELECT t.id FROM tickets t
     WHERE t.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
       AND t.search @@ p_query
    UNION
    SELECT c.ticket_id FROM ticket_comments c
     WHERE c.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
       AND c.deleted_at IS NULL
       AND c.search @@ p_query
       AND (c.visibility = 'public' OR EXISTS (
            SELECT 1 FROM memberships m
             WHERE m.tenant_id = c.tenant_id
               AND m.user_id = NULLIF(current_setting('app.user_id', true), '')::uuid
               AND m.active AND m.role <> 'requester'))
    UNION
    SELECT t.id FROM tickets t
     WHERE p_number IS NOT NULL
       AND t.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
       AND t.number ILIKE p_number
"""


OPEN_ASSIGNEE_INDEX = """
CREATE INDEX ix_tickets_open_assignee ON tickets (tenant_id, assignee_id)
 WHERE status IN ('new', 'open', 'in_progress', 'pending')
"""


def upgrade() -> None:
    op.execute(OPEN_ASSIGNEE_INDEX)
    for statement in definer_function(SIGNATURE, "TABLE (ticket_id uuid)", CANDIDATES):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS ticket_search_candidates(tsquery, text)")
    op.execute("DROP INDEX IF EXISTS ix_tickets_open_assignee")
