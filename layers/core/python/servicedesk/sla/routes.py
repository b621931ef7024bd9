"""SLA API: calendars, policies and compliance figures (a ticket's SLA is served by the
tickets routes, which own the ticket's visibility)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from servicedesk.platform.context import Ctx
from servicedesk.platform.csvexport import ExportFormat, export_response, openapi_responses
from servicedesk.platform.endpoints import Resource, route
from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.platform.rbac import Role, requires
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
calendar_routes = Resource(
    router, "/calendars", "calendar_id", "calendar", CalendarPublic, Role.AGENT, Role.MANAGER
)
policy_routes = Resource(
    router, "/sla-policies", "policy_id", "policy", PolicyPublic, Role.AGENT, Role.MANAGER
)
calendar_routes.list("Business calendars", calendars.list_calendars)
calendar_routes.create("Create a business calendar", CalendarCreate, calendars.create)
calendar_routes.get("Get a business calendar", calendars.get)
calendar_routes.update(
    "Change a business calendar (If-Match or version)", CalendarUpdate, calendars.update
)
calendar_routes.delete("Delete a calendar no policy uses", calendars.delete)


policy_routes.list("SLA policies in precedence order", policies.list_policies)
policy_routes.create("Create an SLA policy", PolicyCreate, policies.create)


@route(
    router.put,
    "/sla-policies/order",
    Role.MANAGER,
    "Set the policies' precedence: every policy's id, first to last",
)
def reorder_policies(body: PolicyOrder, ctx: Ctx) -> PolicyOrderPublic:
    ordered = policies.reorder(ctx, ids=body.ids)
    return PolicyOrderPublic(items=[PolicyPublic.model_validate(p) for p in ordered])


policy_routes.get("Get an SLA policy", policies.get)
policy_routes.update(
    "Replace an SLA policy (If-Match or version)",
    PolicyUpdate,
    policies.replace,
    method="PUT",
    verb="replace",
)
policy_routes.delete("Deactivate an SLA policy (running targets keep it)", policies.delete)


@router.get(
    "/reports/sla-compliance",
    dependencies=MANAGER,
    summary="SLA met/breached per policy, team or priority over a date range (JSON or CSV)",
    response_model=ComplianceReport,
    responses=openapi_responses("The report; format=csv: one row per group and target"),
)
def sla_compliance(
    ctx: Ctx,
    group_by: Literal["policy", "team", "priority"] = "policy",
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    format: Annotated[ExportFormat, Query(description="json (default) or csv")] = "json",
) -> ComplianceReport | Response:
    end = until or datetime.now(UTC)
    start = since or end - timedelta(days=30)
    if start >= end:
        raise ValidationProblem(errors=[field_error("since", "must be before until")])
    if end - start > timedelta(days=366):
        raise ValidationProblem(errors=[field_error("since", "at most one year at a time")])
    rows = reports.compliance(ctx, group_by=group_by, since=start, until=end)
    report = ComplianceReport(group_by=group_by, since=start, until=end, rows=rows)
    if format == "json":
        return report
    return export_response(
        "csv",
        f"sla-compliance-{start:%Y%m%d}-{end:%Y%m%d}",
        (group_by, "target", "met", "breached", "compliance"),
        ((r.group, r.target, r.met, r.breached, r.compliance) for r in report.rows),
    )
