"""Approvals API: the inbox ("My approvals") and a request with its stages and decisions,
deciding, delegations, and the approval flows managers configure. Thin: parse, call a
service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from servicedesk.approvals import delegations, flows, links, service
from servicedesk.approvals.schemas import (
    ApprovalLinkDecision,
    ApprovalLinkPublic,
    ApprovalPublic,
    DecisionCreate,
    DelegationCreate,
    DelegationPublic,
    FlowCreate,
    FlowPublic,
    FlowUpdate,
    ManagerPublic,
    ManagerSet,
)
from servicedesk.platform.context import Ctx, Tx
from servicedesk.platform.endpoints import Once, Resource, listing, operation, route, tagged
from servicedesk.platform.params import IfMatch
from servicedesk.platform.rbac import Permission, public
from servicedesk.platform.versioning import parse_if_match

router = APIRouter(prefix="/v1", tags=["approvals"])


# Minimum role requester: an approver may be anyone (a requester's manager often is one);
# what each caller sees is the service's visibility rule (404 for the rest).
# Declared before /approvals/{approval_id}: routes match in order.
@route(
    router.put,
    "/approvals/managers/{user_id}",
    Permission.ADMIN_USERS,
    "Set a member's manager (the approver \"the requester's manager\"); null clears it",
)
def set_manager(user_id: uuid.UUID, body: ManagerSet, ctx: Ctx) -> ManagerPublic:
    found = delegations.set_manager(ctx, user_id=user_id, manager_id=body.manager_id)
    return ManagerPublic.model_validate(found)


approval_flows = Resource(
    router,
    "/approvals/flows",
    "flow_id",
    "approval_flow",
    FlowPublic,
    Permission.CONFIG_READ,
    Permission.APPROVAL_FLOW_MANAGE,
)
approval_flows.list("List approval flows by name", flows.list_flows, query={"active": bool | None})
approval_flows.create("Create an approval flow", FlowCreate, flows.create_flow)
approval_flows.get("Get an approval flow", flows.get_flow)
approval_flows.update(
    "Change an approval flow (needs If-Match or version; running requests keep their stages)",
    FlowUpdate,
    flows.update_flow,
)
approval_flows.delete("Delete an approval flow no category uses", flows.delete_flow)

approval_delegations = Resource(
    router,
    "/approvals/delegations",
    "delegation_id",
    "approval_delegation",
    DelegationPublic,
    Permission.APPROVAL_DECIDE,
    Permission.APPROVAL_DECIDE,
)
approval_delegations.list(
    "Your delegations, given and received (admins: all), latest end first",
    delegations.list_delegations,
    query={"current": Annotated[bool | None, Query(description="Only those not ended")]},
)
approval_delegations.create(
    "Delegate your approvals to another member for a window (admins: anyone's)",
    DelegationCreate,
    delegations.create_delegation,
)
operation(
    router.delete,
    "/approvals/delegations/{delegation_id}",
    Permission.APPROVAL_DECIDE,
    "End a delegation (its delegator, or an admin)",
    delegations.delete_delegation,
)


listing(
    router,
    "/approvals",
    Permission.APPROVAL_DECIDE,
    "My approvals: what waits for my decision (scope=awaiting, the default), what I asked"
    " for, what I decided, or all I may see",
    ApprovalPublic,
    service.list_approvals,
    query={
        "scope": Annotated[
            Literal["awaiting", "requested", "decided", "all"] | None,
            Query(description="awaiting (default), requested, decided, all"),
        ],
        "state": Literal["pending", "approved", "rejected", "cancelled"] | None,
        "subject_type": Literal["ticket", "change"] | None,
    },
)


@route(
    router.get,
    "/approvals/{approval_id}",
    Permission.APPROVAL_DECIDE,
    "An approval with its subject",
)
def get_approval(approval_id: uuid.UUID, ctx: Ctx, response: Response) -> ApprovalPublic:
    found = ApprovalPublic.model_validate(service.get_approval(ctx, approval_id=approval_id))
    return tagged(response, found)


@route(
    router.post,
    "/approvals/{approval_id}/decisions",
    Permission.APPROVAL_DECIDE,
    "Approve or reject the current stage (an approver, or their delegate; a rejection gives"
    " its reason; decided already 409, not the current stage 409, stale version 412)",
    status_code=201,
    responses={412: {"description": "The approval changed since it was read"}},
)
def decide(
    approval_id: uuid.UUID,
    body: DecisionCreate,
    ctx: Ctx,
    once: Once,
    response: Response,
    if_match: IfMatch = None,
) -> ApprovalPublic:
    def make() -> ApprovalPublic:
        decided = service.decide(
            ctx,
            approval_id=approval_id,
            decision=body.decision,
            comment=body.comment,
            stage_id=body.stage_id,
            on_behalf_of=body.on_behalf_of,
            version=body.version,
            if_match=parse_if_match(if_match),
        )
        return tagged(response, ApprovalPublic.model_validate(decided))

    return once(body, make)


LinkToken = Annotated[
    str,
    Path(min_length=1, max_length=links.MAX_TOKEN_LENGTH, description="The link's signed token"),
]


@router.get(
    "/approval-links/{token}",
    dependencies=[public("decision link: the signed token names the approver and decision")],
    summary="What an e-mailed approve/reject link would decide (no sign-in; records nothing)",
)
def show_link(token: LinkToken, session: Tx) -> ApprovalLinkPublic:
    return ApprovalLinkPublic.model_validate(service.show_link(session, token))


@router.post(
    "/approval-links/{token}",
    dependencies=[public("decision link: the signed token names the approver and decision")],
    summary="Record an e-mailed link's decision, once (used 409, expired 410, forged 404)",
)
def decide_by_link(token: LinkToken, body: ApprovalLinkDecision, session: Tx) -> ApprovalLinkPublic:
    return ApprovalLinkPublic.model_validate(
        service.decide_by_link(session, token, comment=body.comment)
    )
