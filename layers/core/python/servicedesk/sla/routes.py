"""SLA API: calendars, policies and compliance figures (a ticket's SLA is served by the
tickets routes, which own the ticket's visibility)."""

from __future__ import annotations

from fastapi import APIRouter

from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import Resource, route
from servicedesk.platform.rbac import Permission, requires
from servicedesk.sla import calendars, policies
from servicedesk.sla.schemas import (
    CalendarCreate,
    CalendarPublic,
    CalendarUpdate,
    PolicyCreate,
    PolicyOrder,
    PolicyOrderPublic,
    PolicyPublic,
    PolicyUpdate,
)

router = APIRouter(prefix="/v1", tags=["sla"])
MANAGER = [requires(Permission.SLA_MANAGE)]
calendar_routes = Resource(
    router,
    "/calendars",
    "calendar_id",
    "calendar",
    CalendarPublic,
    Permission.CONFIG_READ,
    Permission.SLA_MANAGE,
)
policy_routes = Resource(
    router,
    "/sla-policies",
    "policy_id",
    "policy",
    PolicyPublic,
    Permission.CONFIG_READ,
    Permission.SLA_MANAGE,
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
    Permission.SLA_MANAGE,
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


# GET /v1/reports/sla-compliance moved to servicedesk.reports.routes (the reports function).
