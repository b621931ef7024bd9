"""Duration histograms for exact percentiles (issue 19, point 2).

Revision ID: 0027
Revises: 0026

``report_duration_bin(seconds)``: a duration's log-scale bin, 16 bins per octave (bin 0:
below 1 s; bin k: [bound k, bound k+1) of BOUNDS below; each bin at most 1/16 of its
lower bound wide, below 32 s one second each). ``servicedesk.reports.histogram.BOUNDS`` is
the same list (a test compares them).

``report_duration_hist``: per tenant, metric (first_response | resolution), basis
(business | wall), dimension and value (as report_rollup_hourly: 'all' with value '', team,
agent, category, priority, channel; '' for none), UTC period (grain 'd': a UTC day, 'm': a
UTC month, ``period`` its first day) and bin (-1: the duration is unknown), the count ``n``
and the sum of seconds ``total`` of the non-merged tickets whose first response (resolution)
falls in the period. Maintained by ``servicedesk.reports.facts.refresh`` with the facts (old
contribution out, new in, one statement in key order), rebuilt by ``rebuild_rollup``.

Four partial expression indexes on the facts, (tenant, bin of one duration, its moment):
the second step of the percentile query reads only the rows of the bin that holds the
k-th value, over a cell's time range.
"""

from alembic import op

from servicedesk.platform.rls import grant, tenant_rls

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

PER_OCTAVE = 16
BOUNDS = sorted(
    b
    for b in {((PER_OCTAVE + m) << e) // PER_OCTAVE for e in range(31) for m in range(PER_OCTAVE)}
    if b < 2**31
)

FUNCTION = (
    "CREATE FUNCTION report_duration_bin(seconds integer) RETURNS integer"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT"
    f" AS $$ SELECT width_bucket(seconds, '{{{','.join(map(str, BOUNDS))}}}'::integer[]) $$"
)

TABLE = """
CREATE TABLE report_duration_hist (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    metric text NOT NULL CHECK (metric IN ('first_response', 'resolution')),
    dim text NOT NULL
        CHECK (dim IN ('all', 'team', 'agent', 'category', 'priority', 'channel')),
    grain text NOT NULL CHECK (grain IN ('d', 'm')),
    period date NOT NULL,
    value text NOT NULL,
    basis text NOT NULL CHECK (basis IN ('business', 'wall')),
    bin integer NOT NULL,
    n integer NOT NULL,
    total bigint NOT NULL,
    PRIMARY KEY (tenant_id, metric, dim, grain, period, value, basis, bin)
)
"""

INDEXES = [
    (
        "ix_report_facts_fr_business_bin",
        "report_duration_bin(first_response_business), first_response_at",
        "first_response_business, team_id, assignee_id, category_id, priority, channel",
        "first_response_at",
    ),
    (
        "ix_report_facts_fr_wall_bin",
        "report_duration_bin(first_response_wall), first_response_at",
        "first_response_wall, team_id, assignee_id, category_id, priority, channel",
        "first_response_at",
    ),
    (
        "ix_report_facts_res_business_bin",
        "report_duration_bin(resolution_business), resolved_at",
        "resolution_business, team_id, assignee_id, category_id, priority, channel",
        "resolved_at",
    ),
    (
        "ix_report_facts_res_wall_bin",
        "report_duration_bin(resolution_wall), resolved_at",
        "resolution_wall, team_id, assignee_id, category_id, priority, channel",
        "resolved_at",
    ),
]

DIM_VALUES = {
    "all": "''",
    "team": "coalesce(f.team_id::text, '')",
    "agent": "coalesce(f.assignee_id::text, '')",
    "category": "coalesce(f.category_id::text, '')",
    "priority": "f.priority",
    "channel": "f.channel",
}


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute(TABLE)
    for statement in tenant_rls("report_duration_hist"):
        op.execute(statement)
    op.execute(grant("report_duration_hist", "SELECT, INSERT, UPDATE, DELETE"))
    for name, keys, include, moment in INDEXES:
        op.execute(
            f"CREATE INDEX {name} ON report_ticket_facts (tenant_id, {keys}) INCLUDE ({include})"
            f" WHERE {moment} IS NOT NULL AND NOT merged"
        )
    # Existing facts: the histogram from them, per dimension, then the months from the
    # days (a fresh database has none; ``make reports-rebuild`` recounts a tenant).
    for dim, value in DIM_VALUES.items():
        op.execute(
            "INSERT INTO report_duration_hist (tenant_id, metric, dim, grain, period, value,"
            " basis, bin, n, total)"
            f" SELECT f.tenant_id, x.metric, '{dim}', 'd', (x.at AT TIME ZONE 'UTC')::date,"
            f" {value}, x.basis, coalesce(report_duration_bin(x.s), -1), count(*),"
            " coalesce(sum(x.s), 0)"
            " FROM report_ticket_facts f CROSS JOIN LATERAL (VALUES"
            " ('first_response', 'business', f.first_response_at, f.first_response_business),"
            " ('first_response', 'wall', f.first_response_at, f.first_response_wall),"
            " ('resolution', 'business', f.resolved_at, f.resolution_business),"
            " ('resolution', 'wall', f.resolved_at, f.resolution_wall)) x(metric, basis, at, s)"
            " WHERE NOT f.merged AND x.at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
        )
    op.execute(
        "INSERT INTO report_duration_hist (tenant_id, metric, dim, grain, period, value, basis,"
        " bin, n, total)"
        " SELECT tenant_id, metric, dim, 'm', date_trunc('month', period)::date, value, basis,"
        " bin, sum(n), sum(total) FROM report_duration_hist WHERE grain = 'd'"
        " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
    )


def downgrade() -> None:
    for name, _, _, _ in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS report_duration_hist")
    op.execute("DROP FUNCTION IF EXISTS report_duration_bin(integer)")
