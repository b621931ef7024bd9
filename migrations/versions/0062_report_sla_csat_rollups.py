"""SLA outcomes, CSAT and one-touch resolutions are counted in the hourly rollup (issue 19).

Revision ID: 0062
Revises: 0061

sla-compliance and csat read ``ticket_sla_targets`` / ``csat_surveys`` joined to the facts
at every request, and one-touch read the facts: seconds at a million tickets. Their moments
become ``report_events`` kinds, written by ``servicedesk.reports.facts.refresh`` with the
others and counted into ``report_rollup_hourly``:

- ``sla_on_time_<target>`` / ``sla_late_<target>`` at a met target's ``met_at`` (late: it
  was breached before it was met), with the target's ``policy_id`` (a new column), also
  counted by the new rollup dimension ``policy``;
- ``csat_sent`` at a survey's ``sent_at``; ``csat_1`` … ``csat_5`` (the 1-5 scale) and
  ``csat_good`` / ``csat_bad`` at its ``answered_at``;
- ``resolved_last`` at a resolved ticket's last resolution (the facts' ``resolved_at``) and
  ``one_touch`` at the same moment when it had one public reply and no reopening.

Merged tickets have none of them (as the reports left them out). The upgrade fills the
events and their rollup rows from source in set-based statements, so a deployment's reports
stay whole without a rebuild; the downgrade removes them.

agent-performance's CSAT (answers on the tickets assigned to each agent now) joins the agent
summaries of closed periods (0038): ``report_agent_summaries.csat_answered``/``csat_good``,
counted from the answer kinds by the ticket's ``assignee_id``. The summaries' invalidation
triggers take the answer kinds' moments too (a reassignment rewrites the ticket's events, so
the periods of its answers are built again). A period's summary now also leaves out its
own repeats (a resolution whose previous one by the same agent is in the same period;
servicedesk.reports.agents). Existing summaries are deleted: they are built again lazily,
with the new counts and values. The columns are nullable: a summary the previous code
writes while a deployment rolls over has none, and the new code reads it as missing and
builds it again over it (UPDATE for the app role, for that).
"""

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

from servicedesk.platform.rls import APP_ROLE, grant

revision = "0062"
down_revision = "0061"
branch_labels = None
depends_on = None

TARGETS = ("first_response", "next_response", "resolution")
BASE_KINDS = ("created", "resolved", "reopened", "reply", "backlog_in", "backlog_out")
NEW_KINDS = (
    "resolved_last",
    "one_touch",
    *(f"sla_{o}_{t}" for t in TARGETS for o in ("on_time", "late")),
    "csat_sent",
    *(f"csat_{r}" for r in range(1, 6)),
    "csat_good",
    "csat_bad",
)
DIMS = {
    "team": "team_id",
    "agent": "assignee_id",
    "category": "category_id",
    "priority": "priority",
    "channel": "channel",
    "type": "type",
}
OLD_DIMS = ("all", *DIMS)


ANSWER_KINDS = tuple(k for k in NEW_KINDS if k.startswith("csat_") and k != "csat_sent")


def _summaries_0038() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "agent_summaries_0038", Path(__file__).with_name("0038_report_agent_summaries.py")
    )
    assert spec is not None and spec.loader is not None
    base = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(base)
    return base


def _invalidation(kinds: tuple[str, ...]) -> None:
    """The agent summaries' trigger functions (0038), over the moments of these kinds."""
    base = _summaries_0038()

    def moments(rows: str) -> str:
        return f"SELECT tenant_id, at FROM {rows} WHERE kind IN ({_in(kinds)})"

    for name, source in (
        ("report_agent_summaries_inserted", moments("new_rows")),
        ("report_agent_summaries_deleted", moments("old_rows")),
        (
            "report_agent_summaries_updated",
            f"{moments('old_rows')} UNION ALL {moments('new_rows')}",
        ),
    ):
        function = base._function(name, source)
        op.execute(function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _rollup(kinds: str, dims: dict[str, str]) -> list[str]:
    """The rollup rows of these kinds' events, one statement per dimension."""
    selects = {"all": "''", **{d: f"coalesce({c}::text, '')" for d, c in dims.items()}}
    return [
        "INSERT INTO report_rollup_hourly (tenant_id, dim, kind, hour, value, n)"
        f" SELECT tenant_id, '{dim}', kind, date_trunc('hour', at, 'UTC'), {value}, count(*)"
        f" FROM report_events WHERE kind IN ({kinds}) GROUP BY 1, 3, 4, 5"
        for dim, value in selects.items()
    ]


def upgrade() -> None:
    op.execute(
        "ALTER TABLE report_events ADD COLUMN policy_id uuid,"
        " DROP CONSTRAINT report_events_kind_check,"
        f" ADD CONSTRAINT report_events_kind_check CHECK (kind IN ({_in(BASE_KINDS + NEW_KINDS)}))"
    )
    op.execute(
        "ALTER TABLE report_rollup_hourly DROP CONSTRAINT report_rollup_hourly_dim_check,"
        " ADD CONSTRAINT report_rollup_hourly_dim_check"
        f" CHECK (dim IN ({_in((*OLD_DIMS, 'policy'))}))"
    )
    dims = "f.team_id, f.assignee_id, f.category_id, f.priority, f.channel, f.type"
    columns = "tenant_id, ticket_id, kind, at, team_id, assignee_id, category_id, priority,"
    columns += " channel, type"
    # One-touch: the facts' last resolution.
    op.execute(
        f"INSERT INTO report_events ({columns})"
        f" SELECT f.tenant_id, f.ticket_id, k.kind, f.resolved_at, {dims}"
        " FROM report_ticket_facts f CROSS JOIN LATERAL (VALUES ('resolved_last', true),"
        " ('one_touch', f.public_replies = 1 AND f.reopens = 0)) AS k(kind, holds)"
        " WHERE f.resolved_at IS NOT NULL AND NOT f.merged AND k.holds"
    )
    op.execute(
        f"INSERT INTO report_events ({columns}, policy_id)"
        " SELECT f.tenant_id, f.ticket_id, 'sla_' || CASE WHEN s.breached_at IS NULL"
        f" THEN 'on_time_' ELSE 'late_' END || s.target, s.met_at, {dims}, s.policy_id"
        " FROM ticket_sla_targets s JOIN report_ticket_facts f"
        " ON f.tenant_id = s.tenant_id AND f.ticket_id = s.ticket_id"
        " WHERE s.met_at IS NOT NULL AND NOT f.merged"
    )
    op.execute(
        f"INSERT INTO report_events ({columns})"
        f" SELECT f.tenant_id, f.ticket_id, 'csat_sent', s.sent_at, {dims}"
        " FROM csat_surveys s JOIN report_ticket_facts f"
        " ON f.tenant_id = s.tenant_id AND f.ticket_id = s.ticket_id"
        " WHERE s.sent_at IS NOT NULL AND NOT f.merged"
    )
    op.execute(
        f"INSERT INTO report_events ({columns})"
        " SELECT f.tenant_id, f.ticket_id, CASE WHEN s.scale = 'good-bad' THEN"
        " CASE WHEN s.rating >= 4 THEN 'csat_good' ELSE 'csat_bad' END"
        f" ELSE 'csat_' || s.rating END, s.answered_at, {dims}"
        " FROM csat_surveys s JOIN report_ticket_facts f"
        " ON f.tenant_id = s.tenant_id AND f.ticket_id = s.ticket_id"
        " WHERE s.answered_at IS NOT NULL AND s.rating IS NOT NULL AND NOT f.merged"
    )
    for statement in _rollup(_in(NEW_KINDS), DIMS):
        op.execute(statement)
    sla = _in(tuple(k for k in NEW_KINDS if k.startswith("sla_")))
    op.execute(
        "INSERT INTO report_rollup_hourly (tenant_id, dim, kind, hour, value, n)"
        " SELECT tenant_id, 'policy', kind, date_trunc('hour', at, 'UTC'),"
        f" coalesce(policy_id::text, ''), count(*) FROM report_events WHERE kind IN ({sla})"
        " GROUP BY 1, 3, 4, 5"
    )
    op.execute(
        "ALTER TABLE report_agent_summaries ADD COLUMN csat_answered integer,"
        " ADD COLUMN csat_good integer"
    )
    op.execute("DELETE FROM report_agent_summaries")
    op.execute(grant("report_agent_summaries", "UPDATE"))
    _invalidation(("resolved", "reply", *ANSWER_KINDS))
    # Cached answers were computed the old way: the reports' caches key on the generation.
    op.execute("UPDATE report_generations SET generation = generation + 1, updated_at = now()")


def downgrade() -> None:
    _invalidation(("resolved", "reply"))
    op.execute("DELETE FROM report_agent_summaries")
    op.execute(f"REVOKE UPDATE ON report_agent_summaries FROM {APP_ROLE}")
    op.execute(
        "ALTER TABLE report_agent_summaries DROP COLUMN csat_answered, DROP COLUMN csat_good"
    )
    kinds = _in(NEW_KINDS)
    op.execute(f"DELETE FROM report_rollup_hourly WHERE kind IN ({kinds}) OR dim = 'policy'")
    op.execute(f"DELETE FROM report_events WHERE kind IN ({kinds})")
    op.execute(
        "ALTER TABLE report_rollup_hourly DROP CONSTRAINT report_rollup_hourly_dim_check,"
        f" ADD CONSTRAINT report_rollup_hourly_dim_check CHECK (dim IN ({_in(OLD_DIMS)}))"
    )
    op.execute(
        "ALTER TABLE report_events DROP COLUMN policy_id,"
        " DROP CONSTRAINT report_events_kind_check,"
        f" ADD CONSTRAINT report_events_kind_check CHECK (kind IN ({_in(BASE_KINDS)}))"
    )
    op.execute("UPDATE report_generations SET generation = generation + 1, updated_at = now()")
