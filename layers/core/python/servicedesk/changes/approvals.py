"""Changes as the subject of approvals: a normal or emergency change entering ``approval``
opens a request (changes.service.transition); this adapter gives approvers the change's
summary and moves the change when its approval ends: approved schedules it, rejected sends
it back to draft with the reason. A change no longer in approval is left as it is."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from servicedesk.approvals import subjects
from servicedesk.approvals.models import ApprovalRequest
from servicedesk.changes import service, states
from servicedesk.changes.models import Change
from servicedesk.platform.tenancy import RequestContext

CHANGES = text(
    """
    SELECT c.id, 'CHG-' || c.number AS number, c.title, c.description, c.state AS status,
           c.type || ' change' AS category, u.name AS requester_name
    FROM changes c LEFT JOIN users u ON u.id = c.requested_by
    WHERE c.tenant_id = :t AND c.id = ANY(CAST(:ids AS uuid[]))
    """
)


def summaries(
    session: Session, tenant_id: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    rows = session.execute(CHANGES, {"t": tenant_id, "ids": [str(i) for i in ids]}).mappings()
    return {row["id"]: {"type": "change", **row} for row in rows}


def decided(ctx: RequestContext, request: ApprovalRequest, state: str, reason: str) -> None:
    change = ctx.session.scalars(
        select(Change)
        .where(Change.tenant_id == ctx.tenant_id, Change.id == request.subject_id)
        .with_for_update()
    ).one_or_none()
    if change is None or change.state != states.State.APPROVAL.value:
        return
    target = states.after_approval(state)
    why = "" if state == "approved" else f"The change was not approved: {reason}"
    service.move(ctx, change, target, why)


subjects.register("change", summaries, decided)
