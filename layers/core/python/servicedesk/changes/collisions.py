"""Collision detection: the other changes, not finished, whose planned window overlaps
ours and whose affected CIs are ours or reach ours through the CMDB's relationships (either
direction, at most ``DEPTH`` hops: the impact traversal of servicedesk.cmdb)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.cmdb.service import walk

DEPTH = 3
MAX_COLLISIONS = 50

_OVERLAPPING = text(
    """
    SELECT c.id AS change_id, c.number, c.title, c.state, c.planned_start, c.planned_end,
           cc.ci_id AS other_ci_id
    FROM changes c JOIN change_cis cc ON cc.tenant_id = c.tenant_id AND cc.change_id = c.id
    WHERE c.tenant_id = :t AND c.id <> :id
      AND c.state NOT IN ('closed', 'cancelled', 'failed')
      AND c.planned_start < :end AND c.planned_end > :start
      AND cc.ci_id = ANY(CAST(:reach AS uuid[]))
    ORDER BY c.planned_start, c.number, cc.ci_id
    LIMIT :limit
    """
)


def collisions(
    session: Session,
    tenant_id: uuid.UUID,
    change_id: uuid.UUID,
    ci_ids: list[uuid.UUID],
    start: datetime | None,
    end: datetime | None,
) -> list[dict[str, Any]]:
    """One row per (other change, its CI in reach), the nearest first per change; none
    without CIs or a planned window."""
    if not ci_ids or start is None or end is None:
        return []
    reach = walk(session, ci_ids, "both", DEPTH)
    rows = session.execute(
        _OVERLAPPING,
        {
            "t": tenant_id,
            "id": change_id,
            "start": start,
            "end": end,
            "reach": [str(i) for i in reach],
            "limit": MAX_COLLISIONS,
        },
    ).mappings()
    return [{**row, "depth": reach[row["other_ci_id"]]} for row in rows]
