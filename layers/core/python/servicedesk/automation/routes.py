"""Automation rules API: admins write, managers read. Thin: parse, call, shape."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from servicedesk.automation import service
from servicedesk.automation.schemas import (
    DryRun,
    DryRunResult,
    Reorder,
    RuleCreate,
    RulePublic,
    RuleUpdate,
    RunPublic,
)
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import Resource, listing, route
from servicedesk.platform.rbac import Permission

router = APIRouter(prefix="/v1", tags=["automation"])


@route(
    router.get,
    "/automations",
    Permission.AUTOMATION_READ,
    "List automation rules in evaluation order",
)
def list_automations(
    ctx: Ctx, kind: Annotated[Literal["event", "time"] | None, Query()] = None
) -> list[RulePublic]:
    return [RulePublic.model_validate(r) for r in service.list_rules(ctx, kind=kind)]


rules = Resource(
    router,
    "/automations",
    "rule_id",
    "automation",
    RulePublic,
    Permission.AUTOMATION_READ,
    Permission.AUTOMATION_MANAGE,
)
rules.create("Create an automation rule (422 names every problem)", RuleCreate, service.create_rule)


@route(
    router.post,
    "/automations/reorder",
    Permission.AUTOMATION_MANAGE,
    "Set the evaluation order of the event or time rules (every one, once)",
)
def reorder_automations(body: Reorder, ctx: Ctx) -> list[RulePublic]:
    ordered = service.reorder(ctx, kind=body.kind, ids=body.ids)
    return [RulePublic.model_validate(r) for r in ordered]


@route(
    router.post,
    "/automations/dry-run",
    Permission.AUTOMATION_MANAGE,
    "Which tickets these conditions match now: the exact count and the first page; writes nothing",
)
def dry_run_automation(body: DryRun, ctx: Ctx) -> DryRunResult:
    return DryRunResult.model_validate(service.dry_run(ctx, data=body))


rules.get("Get an automation rule", service.get_rule)
rules.update(
    "Change an automation rule (needs If-Match or version)", RuleUpdate, service.update_rule
)
rules.delete("Delete an automation rule and its run log", service.delete_rule)

listing(
    router,
    "/automations/{rule_id}/runs",
    Permission.AUTOMATION_READ,
    "The rule's run log, newest first",
    RunPublic,
    service.list_runs,
    name="list_automation_runs",
)
