"""The CSAT summary for managers: score (% of 4-5 ratings), average, response rate and
counts, over surveys sent in a period, by the ticket's team or assignee."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import text

from servicedesk.csat.schemas import CsatRow
from servicedesk.platform.tenancy import RequestContext

GROUPS = {
    "team": ("t.team_id", "LEFT JOIN teams g ON g.tenant_id = t.tenant_id AND g.id = t.team_id"),
    "agent": ("t.assignee_id", "LEFT JOIN users g ON g.id = t.assignee_id"),
    "none": ("NULL::uuid", "LEFT JOIN (SELECT NULL::text AS name) g ON true"),
}


def _row(
    group_id: uuid.UUID | None,
    group_name: str | None,
    sent: int,
    answered: int,
    satisfied: int,
    rating_sum: int,
    rated: int,
) -> CsatRow:
    """``rating_sum`` and ``rated``: the answered 1-5 surveys only (a good/bad answer is
    stored as 5 or 1, which counts for the score but would skew an average)."""
    return CsatRow(
        group_id=group_id,
        group_name=group_name,
        sent=sent,
        answered=answered,
        satisfied=satisfied,
        score=round(100.0 * satisfied / answered, 2) if answered else None,
        average=round(rating_sum / rated, 2) if rated else None,
        response_rate=round(100.0 * answered / sent, 2) if sent else None,
    )


def summary(
    ctx: RequestContext,
    *,
    group_by: Literal["team", "agent", "none"],
    since: datetime,
    until: datetime,
) -> tuple[CsatRow, list[CsatRow]]:
    column, join = GROUPS[group_by]
    rows = ctx.session.execute(
        text(
            f"SELECT {column} AS group_id, min(g.name) AS group_name,"
            " count(*) AS sent, count(s.rating) AS answered,"
            " count(*) FILTER (WHERE s.rating >= 4) AS satisfied,"
            " coalesce(sum(s.rating) FILTER (WHERE s.scale = '1-5'), 0) AS total,"
            " count(s.rating) FILTER (WHERE s.scale = '1-5') AS rated FROM csat_surveys s"
            " JOIN tickets t ON t.tenant_id = s.tenant_id AND t.id = s.ticket_id"
            f" {join} WHERE s.tenant_id = :tn AND s.sent_at IS NOT NULL"
            " AND s.sent_at >= :since AND s.sent_at < :until"
            f" GROUP BY {column} ORDER BY min(g.name) NULLS LAST, {column}"
        ),
        {"tn": ctx.tenant_id, "since": since, "until": until},
    ).all()
    counts = [
        (
            r.group_id,
            r.group_name,
            int(r.sent),
            int(r.answered),
            int(r.satisfied),
            int(r.total),
            int(r.rated),
        )
        for r in rows
    ]
    total = _row(None, None, *(sum(c[n] for c in counts) for n in range(2, 7)))
    return total, [_row(*c) for c in counts]
