"""Agent summaries of closed local periods (issue 19): agent-performance without sorting a
year of resolution events and counting a year of replies per request.

Revision ID: 0038
Revises: 0035

``report_agent_summaries``: per tenant, IANA zone, grain (a local day or month,
``period_start``/``period_end`` its UTC bounds) and agent (the resolving agent of
``report_events`` kind ``resolved``, or the author of kind ``reply``; its uuid as text,
``'*'`` the row that marks the period built; replies without an author are no agent's): the
resolutions (``handled``), the public replies, and the business seconds of the resolved
tickets' first response and resolution, one value per resolution event, sorted, packed as
big-endian int32 like ``report_duration_summaries`` (migration 0028). Built lazily by
``servicedesk.reports.agents`` for CLOSED periods only.

Invalidation: statement triggers on ``report_events`` (insert, update, delete, truncate)
delete the agent summaries of the periods that contain a written ``resolved`` or ``reply``
event's moment, after taking the tenant's summaries lock EXCLUSIVE (the same key as 0028's
triggers: one lock order for every writer and builder); a builder takes it SHARED before
reading the events.

``report_events.prev_same_at``: on a resolution event, the moment of the previous resolution
of the same ticket by the same agent (backfilled here, then written by ``facts.refresh``);
``ix_report_events_repeats`` holds the few rows that have one: agent-performance's medians
count each ticket once per agent, and the repeats in a range are the resolution events in it
whose ``prev_same_at`` is in it too.

``facts.refresh`` rewrites all of a ticket's events, so a refresh invalidates every period
holding one of its resolutions or replies (changed or not): the cost is a rebuild of those
periods at the next report, never a stale answer.
"""

from alembic import op

from servicedesk.platform.rls import grant, tenant_rls

revision = "0038"
down_revision = "0035"
branch_labels = None
depends_on = None

TABLE = """
ALTER TABLE report_events ADD COLUMN prev_same_at timestamptz;
UPDATE report_events e SET prev_same_at = p.prev
  FROM (SELECT id, lag(at) OVER (PARTITION BY tenant_id, ticket_id, agent_id ORDER BY at, id)
               AS prev
          FROM report_events WHERE kind = 'resolved' AND agent_id IS NOT NULL) p
 WHERE e.id = p.id AND p.prev IS NOT NULL;
CREATE TABLE report_agent_summaries (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    tz text NOT NULL,
    grain text NOT NULL CHECK (grain IN ('day', 'month')),
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    -- the agent's uuid as text; '*' marks the period built
    agent text NOT NULL,
    handled integer NOT NULL,
    replies integer NOT NULL,
    first_response bytea NOT NULL,
    resolution bytea NOT NULL,
    built_at timestamptz NOT NULL DEFAULT now(),
    CHECK (period_end > period_start),
    PRIMARY KEY (tenant_id, tz, grain, period_start, agent)
);
-- The invalidation's lookup: the periods around a moment (a period is at most 32 days).
CREATE INDEX ix_report_agent_summaries_moment ON report_agent_summaries (tenant_id, period_start);
-- A ticket resolved twice by one agent in a range counts once in its medians: each
-- resolution event carries the moment of the same agent's previous resolution of the ticket
-- (facts.refresh writes it), so the repeats in [start, end) are the few rows below.
CREATE INDEX ix_report_events_repeats ON report_events (tenant_id, at)
    INCLUDE (prev_same_at, agent_id, first_response_business, resolution_business)
    WHERE kind = 'resolved' AND prev_same_at IS NOT NULL;
"""


def _moments(rows: str) -> str:
    return f"SELECT tenant_id, at FROM {rows} WHERE kind IN ('resolved', 'reply')"


def _function(name: str, moments: str) -> str:
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    t uuid;
BEGIN
    FOR t IN SELECT DISTINCT m.tenant_id FROM ({moments}) m ORDER BY 1 LOOP
        -- Exclusive against builders (shared): see servicedesk.reports.summaries.
        PERFORM pg_advisory_xact_lock(hashtext('report-summaries:' || t::text));
    END LOOP;
    -- After the lock, with a fresh snapshot: a builder that held it has committed.
    DELETE FROM report_agent_summaries s USING (SELECT DISTINCT * FROM ({moments}) d) m
     WHERE s.tenant_id = m.tenant_id
       AND s.period_start <= m.at AND s.period_start > m.at - interval '32 days'
       AND s.period_end > m.at;
    RETURN NULL;
END
$fn$
"""


FUNCTIONS = {
    "report_agent_summaries_inserted": _moments("new_rows"),
    "report_agent_summaries_deleted": _moments("old_rows"),
    "report_agent_summaries_updated": (f"{_moments('old_rows')} UNION ALL {_moments('new_rows')}"),
}
TRIGGERS = """
CREATE TRIGGER report_agent_summaries_inserted AFTER INSERT ON report_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_agent_summaries_inserted();
CREATE TRIGGER report_agent_summaries_deleted AFTER DELETE ON report_events
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_agent_summaries_deleted();
CREATE TRIGGER report_agent_summaries_updated AFTER UPDATE ON report_events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_agent_summaries_updated();
CREATE TRIGGER report_agent_summaries_truncated AFTER TRUNCATE ON report_events
    FOR EACH STATEMENT EXECUTE FUNCTION report_agent_summaries_truncated();
"""
TRUNCATED = """
CREATE FUNCTION report_agent_summaries_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    TRUNCATE report_agent_summaries;
    RETURN NULL;
END
$fn$
"""


def upgrade() -> None:
    op.execute(TABLE)
    for statement in tenant_rls("report_agent_summaries"):
        op.execute(statement)
    op.execute(grant("report_agent_summaries", "SELECT, INSERT, DELETE"))
    for name, moments in FUNCTIONS.items():
        op.execute(_function(name, moments))
    op.execute(TRUNCATED)
    op.execute(TRIGGERS)


def downgrade() -> None:
    for name in (*FUNCTIONS, "report_agent_summaries_truncated"):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON report_events")
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute("DROP TABLE IF EXISTS report_agent_summaries")
    op.execute("DROP INDEX IF EXISTS ix_report_events_repeats")
    op.execute("ALTER TABLE report_events DROP COLUMN IF EXISTS prev_same_at")
