"""Sorted duration summaries of closed local periods (issue 19): exact percentiles without
sorting a year of facts per report.

Revision ID: 0028
Revises: 0026

``report_duration_summaries``: per tenant, metric (first_response | resolution), IANA zone,
grain (a local day or month, ``period_start``/``period_end`` its UTC bounds), rollup
dimension and value: the count, the sums of the business and wall-clock seconds, and the
values themselves, sorted, packed as big-endian int32 (``int4send`` concatenated; docs/
reports.md, "Durations"). Built lazily by ``servicedesk.reports.summaries`` for CLOSED periods
only; a row with ``dim_value = '*'`` marks a (dimension, period) as complete (empty periods
have it too).

Invalidation: statement triggers on ``report_ticket_facts`` (insert, update, delete: every
writer, the consumer, the rebuild, a ticket's cascade delete) delete the summaries of the
periods that contain the OLD or NEW moment of a fact whose summarised columns changed. They
first take the tenant's summaries lock EXCLUSIVE (``pg_advisory_xact_lock``); a builder takes
it SHARED before reading the facts, so it never stores a summary from facts a concurrent
writer is changing (the trigger's DELETE runs after the lock, with a fresh snapshot).

``ix_report_events_resolved``: agent-performance's resolution events read by an index-only
scan (its ticket and durations were heap fetches).
"""

from alembic import op

from servicedesk.platform.rls import grant, tenant_rls

revision = "0028"
down_revision = "0026"
branch_labels = None
depends_on = None

TABLE = """
CREATE TABLE report_duration_summaries (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    metric text NOT NULL CHECK (metric IN ('first_response', 'resolution')),
    tz text NOT NULL,
    grain text NOT NULL CHECK (grain IN ('day', 'month')),
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    dim text NOT NULL
        CHECK (dim IN ('all', 'team', 'agent', 'category', 'priority', 'channel')),
    -- '' is "no team" (etc.), as in report_rollup_hourly; '*' marks the period complete
    dim_value text NOT NULL,
    n integer NOT NULL,
    sum_business bigint,
    sum_wall bigint,
    business bytea NOT NULL,
    wall bytea NOT NULL,
    built_at timestamptz NOT NULL DEFAULT now(),
    CHECK (period_end > period_start),
    PRIMARY KEY (tenant_id, metric, tz, dim, grain, period_start, dim_value)
);
-- The invalidation's lookup: the periods around a moment (a period is at most 32 days).
CREATE INDEX ix_report_duration_summaries_moment
    ON report_duration_summaries (tenant_id, metric, period_start);
-- agent-performance reads a year's resolution events with their ticket and durations: an
-- index-only scan instead of a bitmap heap scan of ~450,000 rows at 1,000,000 tickets.
CREATE INDEX ix_report_events_resolved ON report_events (tenant_id, at)
    INCLUDE (agent_id, ticket_id, first_response_business, resolution_business,
             team_id, assignee_id, category_id, priority, channel)
    WHERE kind = 'resolved';
"""

# The facts' summarised columns, per metric: (moment, business, wall).
METRICS = {
    "first_response": ("first_response_at", "first_response_business", "first_response_wall"),
    "resolution": ("resolved_at", "resolution_business", "resolution_wall"),
}
DIMS = "team_id, assignee_id, category_id, priority, channel"


def _moments(rows: str) -> str:
    return " UNION ALL ".join(
        f"SELECT tenant_id, '{metric}' AS metric, {at} AS at FROM {rows}"
        f" WHERE {at} IS NOT NULL AND NOT merged"
        for metric, (at, _, _) in METRICS.items()
    )


def _changed_moments(dims: str = DIMS) -> str:
    """The moments of updated facts whose summarised columns changed, old and new (0034
    adds ``type`` to ``dims``)."""
    parts = []
    for metric, (at, business, wall) in METRICS.items():
        columns = f"{at}, {business}, {wall}, merged, {dims}"
        differs = " OR ".join(
            f"o.{c.strip()} IS DISTINCT FROM n.{c.strip()}" for c in columns.split(",")
        )
        for side in ("o", "n"):
            parts.append(
                f"SELECT {side}.tenant_id, '{metric}' AS metric, {side}.{at} AS at"
                " FROM old_rows o JOIN new_rows n USING (tenant_id, ticket_id)"
                f" WHERE ({differs}) AND {side}.{at} IS NOT NULL AND NOT {side}.merged"
            )
    return " UNION ALL ".join(parts)


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
    DELETE FROM report_duration_summaries s USING ({moments}) m
     WHERE s.tenant_id = m.tenant_id AND s.metric = m.metric
       AND s.period_start <= m.at AND s.period_start > m.at - interval '32 days'
       AND s.period_end > m.at;
    RETURN NULL;
END
$fn$
"""


FUNCTIONS = {
    "report_summaries_inserted": _moments("new_rows"),
    "report_summaries_deleted": _moments("old_rows"),
    "report_summaries_updated": _changed_moments(),
}
TRIGGERS = """
CREATE TRIGGER report_summaries_inserted AFTER INSERT ON report_ticket_facts
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_summaries_inserted();
CREATE TRIGGER report_summaries_deleted AFTER DELETE ON report_ticket_facts
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_summaries_deleted();
CREATE TRIGGER report_summaries_updated AFTER UPDATE ON report_ticket_facts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_summaries_updated();
CREATE TRIGGER report_summaries_truncated AFTER TRUNCATE ON report_ticket_facts
    FOR EACH STATEMENT EXECUTE FUNCTION report_summaries_truncated();
"""
TRUNCATED = """
CREATE FUNCTION report_summaries_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    TRUNCATE report_duration_summaries;
    RETURN NULL;
END
$fn$
"""


def upgrade() -> None:
    op.execute(TABLE)
    for statement in tenant_rls("report_duration_summaries"):
        op.execute(statement)
    op.execute(grant("report_duration_summaries", "SELECT, INSERT, DELETE"))
    for name, moments in FUNCTIONS.items():
        op.execute(_function(name, moments))
    op.execute(TRUNCATED)
    op.execute(TRIGGERS)


def downgrade() -> None:
    for name in (*FUNCTIONS, "report_summaries_truncated"):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON report_ticket_facts")
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute("DROP TABLE IF EXISTS report_duration_summaries")
    op.execute("DROP INDEX IF EXISTS ix_report_events_resolved")
