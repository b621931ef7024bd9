"""A ticket's approvals (the ticket page's approval status), for whoever may see the
ticket; deciding is the approvals API's (servicedesk/approvals/routes.py)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from servicedesk.approvals import service as approvals
from servicedesk.approvals.schemas import ApprovalPublic
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import route
from servicedesk.platform.rbac import Permission
from servicedesk.tickets import service

router = APIRouter(prefix="/v1", tags=["approvals"])


@route(
    router.get,
    "/tickets/{ticket_id}/approvals",
    Permission.TICKET_READ,
    "The approvals of a ticket (newest first), for whoever may see the ticket",
)
def ticket_approvals(ticket_id: uuid.UUID, ctx: Ctx) -> list[ApprovalPublic]:
    service.get_visible(ctx, ticket_id)
    found = approvals.for_subject(ctx, "ticket", ticket_id)
    return [ApprovalPublic.model_validate(a) for a in found]
