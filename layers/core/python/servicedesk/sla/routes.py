"""SLA API: calendars, policies and compliance figures (a ticket's SLA is served by the
tickets routes, which own the ticket's visibility)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from servicedesk.platform.context import Ctx
from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.rbac import Role, requires
from servicedesk.platform.endpoints import Once, page_of, route, tagged
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


@route(router.get, "/calendars", Role.AGENT, "Business calendars")
def list_calendars(ctx: Ctx, limit: Limit = 50, cursor: Cursor = None) -> Page[CalendarPublic]:
    return page_of(CalendarPublic, calendars.list_calendars(ctx, limit=limit, cursor=cursor))


@route(router.post, "/calendars", Role.MANAGER, "Create a business calendar", status_code=201)
def create_calendar(body: CalendarCreate, ctx: Ctx, once: Once) -> CalendarPublic:
    return once(body, lambda: CalendarPublic.model_validate(calendars.create(ctx, data=body)))


@route(router.get, "/calendars/{calendar_id}", Role.AGENT, "Get a business calendar")
def get_calendar(calendar_id: uuid.UUID, ctx: Ctx, response: Response) -> CalendarPublic:
    return tagged(response, CalendarPublic.model_validate(calendars.get(ctx, calendar_id)))


@route(
    router.patch,
    "/calendars/{calendar_id}",
    Role.MANAGER,
    "Change a business calendar (If-Match or version)",
)
def update_calendar(
    calendar_id: uuid.UUID,
    body: CalendarUpdate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> CalendarPublic:
    version = parse_if_match(if_match)
    calendar = calendars.update(ctx, calendar_id=calendar_id, data=body, if_match=version)
    return tagged(response, CalendarPublic.model_validate(calendar))


@route(
    router.delete,
    "/calendars/{calendar_id}",
    Role.MANAGER,
    "Delete a calendar no policy uses",
    status_code=204,
)
def delete_calendar(calendar_id: uuid.UUID, ctx: Ctx) -> Response:
    calendars.delete(ctx, calendar_id=calendar_id)
    return Response(status_code=204)


@route(router.get, "/sla-policies", Role.AGENT, "SLA policies in precedence order")
def list_policies(ctx: Ctx, limit: Limit = 50, cursor: Cursor = None) -> Page[PolicyPublic]:
    return page_of(PolicyPublic, policies.list_policies(ctx, limit=limit, cursor=cursor))


@route(router.post, "/sla-policies", Role.MANAGER, "Create an SLA policy", status_code=201)
def create_policy(body: PolicyCreate, ctx: Ctx, once: Once) -> PolicyPublic:
    return once(body, lambda: PolicyPublic.model_validate(policies.create(ctx, data=body)))


@route(
    router.put,
    "/sla-policies/order",
    Role.MANAGER,
    "Set the policies' precedence: every policy's id, first to last",
)
def reorder_policies(body: PolicyOrder, ctx: Ctx) -> PolicyOrderPublic:
    ordered = policies.reorder(ctx, ids=body.ids)
    return PolicyOrderPublic(items=[PolicyPublic.model_validate(p) for p in ordered])


@route(router.get, "/sla-policies/{policy_id}", Role.AGENT, "Get an SLA policy")
def get_policy(policy_id: uuid.UUID, ctx: Ctx, response: Response) -> PolicyPublic:
    return tagged(response, PolicyPublic.model_validate(policies.get(ctx, policy_id)))


@route(
    router.put,
    "/sla-policies/{policy_id}",
    Role.MANAGER,
    "Replace an SLA policy (If-Match or version)",
)
def replace_policy(
    policy_id: uuid.UUID, body: PolicyUpdate, ctx: Ctx, response: Response, if_match: IfMatch = None
) -> PolicyPublic:
    version = parse_if_match(if_match)
    policy = policies.replace(ctx, policy_id=policy_id, data=body, if_match=version)
    return tagged(response, PolicyPublic.model_validate(policy))


@route(
    router.delete,
    "/sla-policies/{policy_id}",
    Role.MANAGER,
    "Deactivate an SLA policy (running targets keep it)",
    status_code=204,
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
