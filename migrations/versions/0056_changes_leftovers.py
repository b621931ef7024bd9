"""Changes: the text filter of ``GET /v1/changes``, the realtime change room and recurring
blackout windows (issue 22 leftovers).

``ix_changes_text_trgm`` is a trigram index on the lower-cased title and description, so a
word anywhere in them (``LIKE '%word%'``) is found from the index rather than by reading
every change. Under row-level security PostgreSQL evaluates no predicate whose operator is
not LEAKPROOF before the policy, and ``LIKE`` is not (migration 0009 says the same of the
tickets' search), so as the app role the index would never apply. ``change_search_candidates``
runs as the owner (whose ``owner_maintenance`` policy is ``true``) and returns the ids of
the current tenant's changes whose text holds every pattern, or whose number is the one
asked for; the tenant comes from the transaction's setting, never from a parameter. The
caller selects ``WHERE id IN (candidates)`` as the app role, under RLS.

The first pattern is the index condition (the caller puts the longest word first: the most
selective trigrams); ``LIKE ALL`` checks the others on the rows found. At most the newest
``p_window`` text matches are returned (2,000: a word in more changes than that finds the
newest 2,000 of them, as the tickets' search ranks only its newest matches), so a common
word costs a walk down the newest-first index, not a read of every change holding it.

The realtime subscriptions' channel check admits ``changes``, the room where staff with
``change:read`` hear changes created, edited and moved (servicedesk.realtime.rooms).

``change_blackouts.recurrence`` (jsonb, servicedesk.changes.recurrence): a recurring
window's rule. Its ``starts_at`` is then the first day's start and ``ends_at`` the end of
the last day's occurrence, or NULL for a series with no last day, so the window index
still finds every series a window can meet; the occurrences are expanded in the
application, bounded by the window asked about.

Revision ID: 0056
Revises: 0055
"""

from alembic import op

from servicedesk.platform.rls import CURRENT_TENANT, definer_function

revision = "0056"
down_revision = "0055"
branch_labels = None
depends_on = None

UUID_RE = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SIGNATURE = "change_search_candidates(p_words text[], p_number integer, p_window integer)"
# Under RLS (which binds the owner too: FORCE) PostgreSQL keeps non-leakproof operators
# such as LIKE away from the column statistics, so it believes every word rare and would
# read a common word's every change through the trigram index. The function decides
# instead: first the newest ``p_window * 5`` changes, down the newest-first index; if they
# hold ``p_window`` matches the word is common and those are the answer; else the word is
# rarer than one change in five, and the trigram index finds its matches.
CANDIDATES = f"""
DECLARE
    tenant uuid := {CURRENT_TENANT};
    found integer;
BEGIN
    IF cardinality(p_words) > 0 THEN
        RETURN QUERY
            SELECT n.id FROM (
                SELECT c.id, c.title, c.description, c.created_at FROM changes c
                 WHERE c.tenant_id = tenant
                 ORDER BY c.created_at DESC, c.id DESC LIMIT p_window * 5
            ) n
             WHERE lower(n.title || ' ' || n.description) LIKE ALL (p_words)
             ORDER BY n.created_at DESC, n.id DESC LIMIT p_window;
        GET DIAGNOSTICS found = ROW_COUNT;
        IF found < p_window THEN
            RETURN QUERY
                SELECT c.id FROM changes c
                 WHERE c.tenant_id = tenant
                   AND lower(c.title || ' ' || c.description) LIKE p_words[1]
                   AND lower(c.title || ' ' || c.description) LIKE ALL (p_words[2:])
                 ORDER BY c.created_at DESC, c.id DESC LIMIT p_window;
        END IF;
    END IF;
    RETURN QUERY
        SELECT c.id FROM changes c
         WHERE p_number IS NOT NULL AND c.tenant_id = tenant AND c.number = p_number;
END
"""


def _channels(pattern: str) -> None:
    """The subscriptions' channel check, replaced in one statement (0010 wrote it first)."""
    op.execute(
        "ALTER TABLE realtime_subscriptions"
        " DROP CONSTRAINT realtime_subscriptions_channel_check,"
        f" ADD CONSTRAINT realtime_subscriptions_channel_check CHECK (channel ~ '{pattern}')"
    )


BLACKOUT_CHECK = """
ALTER TABLE change_blackouts
    DROP CONSTRAINT change_blackouts_check,
    ADD COLUMN recurrence jsonb CHECK (jsonb_typeof(recurrence) = 'object'),
    ALTER COLUMN ends_at DROP NOT NULL,
    ADD CONSTRAINT change_blackouts_window CHECK (
        (ends_at IS NULL AND recurrence IS NOT NULL) OR ends_at > starts_at
    )
"""


def upgrade() -> None:
    op.execute(BLACKOUT_CHECK)
    _channels(f"^((ticket|team|user|project):{UUID_RE}|queue:untriaged|changes)$")
    op.execute(
        "CREATE INDEX ix_changes_text_trgm ON changes USING gin (lower(title || ' ' || description) gin_trgm_ops)"
    )
    function = definer_function(SIGNATURE, "TABLE (change_id uuid)", CANDIDATES, language="plpgsql")
    for statement in function:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DELETE FROM change_blackouts WHERE recurrence IS NOT NULL")
    op.execute(
        "ALTER TABLE change_blackouts DROP CONSTRAINT change_blackouts_window,"
        " DROP COLUMN recurrence, ALTER COLUMN ends_at SET NOT NULL,"
        " ADD CONSTRAINT change_blackouts_check CHECK (ends_at > starts_at)"
    )
    op.execute("DELETE FROM realtime_subscriptions WHERE channel = 'changes'")
    _channels(f"^((ticket|team|user|project):{UUID_RE}|queue:untriaged)$")
    op.execute("DROP FUNCTION IF EXISTS change_search_candidates(text[], integer, integer)")
    op.execute("DROP INDEX IF EXISTS ix_changes_text_trgm")
