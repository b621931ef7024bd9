"""SLA compliance figures: met and breached targets per policy, team or priority."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import text

from servicedesk.platform.tenancy import RequestContext
from servicedesk.sla.schemas import ComplianceRow

GROUPS = {
    "policy": "coalesce(p.name, '(none)')",
    "team": "coalesce(tm.name, '(no team)')",
    "priority": "t.priority",
}


def compliance(
    ctx: RequestContext,
    *,
    group_by: Literal["policy", "team", "priority"],
    since: datetime,
    until: datetime,
) -> list[ComplianceRow]:
    """Targets finished (met) in [since, until), split into on time and late."""
    group = GROUPS[group_by]
    rows = ctx.session.execute(
        text(
            f"""
            SELECT {group} AS grp, s.target,
                   count(*) FILTER (WHERE s.breached_at IS NULL) AS met,
                   count(*) FILTER (WHERE s.breached_at IS NOT NULL) AS breached
            FROM ticket_sla_targets s
            JOIN tickets t ON t.tenant_id = s.tenant_id AND t.id = s.ticket_id
            LEFT JOIN sla_policies p ON p.tenant_id = s.tenant_id AND p.id = s.policy_id
            LEFT JOIN teams tm ON tm.tenant_id = t.tenant_id AND tm.id = t.team_id
            WHERE s.tenant_id = :t AND s.met_at >= :since AND s.met_at < :until
            GROUP BY 1, 2 ORDER BY 1, 2
            """
        ),
        {"t": ctx.tenant_id, "since": since, "until": until},
    ).all()
    return [
        ComplianceRow(
            group=r.grp,
            target=r.target,
            met=r.met,
            breached=r.breached,
            compliance=round(r.met / (r.met + r.breached), 4) if (r.met + r.breached) else None,
        )
        for r in rows
    ]
