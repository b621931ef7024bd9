"""SLA API: calendars, policies and compliance figures (a ticket's SLA is served by the
tickets routes, which own the ticket's visibility)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from servicedesk.platform import idempotency
from servicedesk.platform.context import Ctx
from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.rbac import Role, requires
from servicedesk.platform.versioning import parse_if_match
from servicedesk.sla import calendars, policies, reports
from servicedesk.sla.schemas import (
    CalendarCreate,
    CalendarPublic,
    CalendarUpdate,
    ComplianceReport,
    PolicyCreate,
    PolicyOrder,
    PolicyOrderPublic,
    PolicyPublic,
    PolicyUpdate,
)

router = APIRouter(prefix="/v1", tags=["sla"])
MANAGER = [requires(Role.MANAGER)]


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


@router.get("/calendars", dependencies=[requires(Role.AGENT)], summary="Business calendars")
def list_calendars(ctx: Ctx, limit: Limit = 50, cursor: Cursor = None) -> Page[CalendarPublic]:
    rows, nxt = calendars.list_calendars(ctx, limit=limit, cursor=cursor)
    return Page(items=[CalendarPublic.model_validate(c) for c in rows], next_cursor=nxt)


@router.post(
    "/calendars",
    status_code=201,
    dependencies=MANAGER,
    response_model=CalendarPublic,
    summary="Create a business calendar",
)
def create_calendar(
    body: CalendarCreate, request: Request, ctx: Ctx, key: idempotency.IdempotencyKey = None
) -> CalendarPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: CalendarPublic.model_validate(calendars.create(ctx, data=body)),
    )


@router.get(
    "/calendars/{calendar_id}",
    dependencies=[requires(Role.AGENT)],
    summary="Get a business calendar",
)
def get_calendar(calendar_id: uuid.UUID, ctx: Ctx, response: Response) -> CalendarPublic:
    calendar = calendars.get(ctx, calendar_id)
    _etag(response, calendar.version)
    return CalendarPublic.model_validate(calendar)


@router.patch(
    "/calendars/{calendar_id}",
    dependencies=MANAGER,
    summary="Change a business calendar (If-Match or version)",
)
def update_calendar(
    calendar_id: uuid.UUID,
    body: CalendarUpdate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> CalendarPublic:
    calendar = calendars.update(
        ctx, calendar_id=calendar_id, data=body, if_match=parse_if_match(if_match)
    )
    _etag(response, calendar.version)
    return CalendarPublic.model_validate(calendar)


@router.delete(
    "/calendars/{calendar_id}",
    status_code=204,
    dependencies=MANAGER,
    summary="Delete a calendar no policy uses",
)
def delete_calendar(calendar_id: uuid.UUID, ctx: Ctx) -> Response:
    calendars.delete(ctx, calendar_id=calendar_id)
    return Response(status_code=204)


@router.get(
    "/sla-policies", dependencies=[requires(Role.AGENT)], summary="SLA policies in precedence order"
)
def list_policies(ctx: Ctx, limit: Limit = 50, cursor: Cursor = None) -> Page[PolicyPublic]:
    rows, nxt = policies.list_policies(ctx, limit=limit, cursor=cursor)
    return Page(items=[PolicyPublic.model_validate(p) for p in rows], next_cursor=nxt)


@router.post(
    "/sla-policies",
    status_code=201,
    dependencies=MANAGER,
    response_model=PolicyPublic,
    summary="Create an SLA policy",
)
def create_policy(
    body: PolicyCreate, request: Request, ctx: Ctx, key: idempotency.IdempotencyKey = None
) -> PolicyPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: PolicyPublic.model_validate(policies.create(ctx, data=body)),
    )


@router.put(
    "/sla-policies/order",
    dependencies=MANAGER,
    summary="Set the policies' precedence: every policy's id, first to last",
)
def reorder_policies(body: PolicyOrder, ctx: Ctx) -> PolicyOrderPublic:
    ordered = policies.reorder(ctx, ids=body.ids)
    return PolicyOrderPublic(items=[PolicyPublic.model_validate(p) for p in ordered])


@router.get(
    "/sla-policies/{policy_id}", dependencies=[requires(Role.AGENT)], summary="Get an SLA policy"
)
def get_policy(policy_id: uuid.UUID, ctx: Ctx, response: Response) -> PolicyPublic:
    policy = policies.get(ctx, policy_id)
    _etag(response, policy.version)
    return PolicyPublic.model_validate(policy)


@router.put(
    "/sla-policies/{policy_id}",
    dependencies=MANAGER,
    summary="Replace an SLA policy (If-Match or version)",
)
def replace_policy(
    policy_id: uuid.UUID, body: PolicyUpdate, ctx: Ctx, response: Response, if_match: IfMatch = None
) -> PolicyPublic:
    policy = policies.replace(
        ctx, policy_id=policy_id, data=body, if_match=parse_if_match(if_match)
    )
    _etag(response, policy.version)
    return PolicyPublic.model_validate(policy)


@router.delete(
    "/sla-policies/{policy_id}",
    status_code=204,
    dependencies=MANAGER,
    summary="Deactivate an SLA policy (running targets keep it)",
)
def delete_policy(policy_id: uuid.UUID, ctx: Ctx) -> Response:
    policies.delete(ctx, policy_id=policy_id)
    return Response(status_code=204)


@router.get(
    "/reports/sla-compliance",
    dependencies=MANAGER,
    summary="SLA met/breached per policy, team or priority over a date range",
)
def sla_compliance(
    ctx: Ctx,
    group_by: Literal["policy", "team", "priority"] = "policy",
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
) -> ComplianceReport:
    end = until or datetime.now(UTC)
    start = since or end - timedelta(days=30)
    if start >= end:
        raise ValidationProblem(errors=[field_error("since", "must be before until")])
    if end - start > timedelta(days=366):
        raise ValidationProblem(errors=[field_error("since", "at most one year at a time")])
    rows = reports.compliance(ctx, group_by=group_by, since=start, until=end)
    return ComplianceReport(group_by=group_by, since=start, until=end, rows=rows)
