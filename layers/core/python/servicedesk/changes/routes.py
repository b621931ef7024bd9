"""Change management API under /v1/changes: the changes (list, create, read, edit, state
moves, review, ticket links), the calendar, the settings (approval flows, risk
questionnaire), templates and blackout windows. Served by the approvals function. Thin:
parse, call a service, shape the response. The fixed sub-paths are declared before
/changes/{change_id}: routes match in order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from servicedesk.changes import config, service
from servicedesk.changes.schemas import (
    BlackoutCreate,
    BlackoutPublic,
    BlackoutUpdate,
    ChangeCalendar,
    ChangeCreate,
    ChangePublic,
    ChangeSummary,
    ChangeUpdate,
    ReviewSet,
    RiskLevel,
    SettingsPublic,
    SettingsUpdate,
    StateName,
    TemplateCreate,
    TemplatePublic,
    TemplateUpdate,
    TicketLink,
    TransitionCreate,
    TypeName,
)
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import Once, Resource, listing, operation, route, tagged
from servicedesk.platform.params import IfMatch
from servicedesk.platform.rbac import Permission
from servicedesk.platform.versioning import parse_if_match

router = APIRouter(prefix="/v1", tags=["changes"])
STALE = {412: {"description": "The change changed since it was read"}}


@route(router.get, "/changes/settings", Permission.CHANGE_READ, "The change settings")
def get_settings(ctx: Ctx, response: Response) -> SettingsPublic:
    return tagged(response, SettingsPublic.model_validate(config.get_settings(ctx)))


@route(
    router.patch,
    "/changes/settings",
    Permission.CHANGE_SETTINGS_MANAGE,
    "Change the approval flows, risk questionnaire and thresholds (If-Match or version)",
    responses={412: {"description": "The settings changed since they were read"}},
)
def update_settings(
    body: SettingsUpdate, ctx: Ctx, response: Response, if_match: IfMatch = None
) -> SettingsPublic:
    found = config.update_settings(ctx, data=body, if_match=parse_if_match(if_match))
    return tagged(response, SettingsPublic.model_validate(found))


@route(
    router.get,
    "/changes/calendar",
    Permission.CHANGE_READ,
    "Changes planned in [from, to) (at most 92 days) and the blackout windows over it",
)
def calendar(
    ctx: Ctx,
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
) -> ChangeCalendar:
    return ChangeCalendar.model_validate(service.calendar(ctx, start=start, end=end))


templates = Resource(
    router,
    "/changes/templates",
    "template_id",
    "change_template",
    TemplatePublic,
    Permission.CHANGE_READ,
    Permission.CHANGE_SETTINGS_MANAGE,
)
templates.list(
    "Standard-change templates by name", config.list_templates, query={"active": bool | None}
)
templates.create("Create a standard-change template", TemplateCreate, config.create_template)
templates.get("Get a standard-change template", config.get_template)
templates.update("Change a template (If-Match or version)", TemplateUpdate, config.update_template)
templates.delete(
    "Delete a template (changes made from it keep their plans)", config.delete_template
)

blackouts = Resource(
    router,
    "/changes/blackouts",
    "blackout_id",
    "change_blackout",
    BlackoutPublic,
    Permission.CHANGE_READ,
    Permission.CHANGE_SETTINGS_MANAGE,
)
blackouts.list("Blackout windows, earliest first", config.list_blackouts)
blackouts.create("Create a blackout window", BlackoutCreate, config.create_blackout)
blackouts.update(
    "Edit a blackout window, checked as a new one (If-Match or version; stale: 412)",
    BlackoutUpdate,
    config.update_blackout,
)
blackouts.delete("Delete a blackout window", config.delete_blackout)


listing(
    router,
    "/changes",
    Permission.CHANGE_READ,
    "Changes, newest first (ticket_id: the changes linked to a ticket; ci_id: touching a CI;"
    " q: a number like CHG-12, or words in the title or description)",
    ChangeSummary,
    service.list_changes,
    query={
        "state": StateName | None,
        "type": TypeName | None,
        "risk_level": RiskLevel | None,
        "ticket_id": uuid.UUID | None,
        "ci_id": uuid.UUID | None,
        "q": Annotated[
            str | None,
            Query(
                max_length=200,
                description="CHG-12 (or 12), or words of 3+ characters all found in the title"
                " or description (at most 8)",
            ),
        ],
    },
)


@route(
    router.post,
    "/changes",
    Permission.CHANGE_CREATE,
    "Raise a change (standard: from a pre-approved template)",
    status_code=201,
)
def create_change(body: ChangeCreate, ctx: Ctx, once: Once) -> ChangePublic:
    return once(body, lambda: ChangePublic.model_validate(service.create_change(ctx, data=body)))


@route(
    router.get,
    "/changes/{change_id}",
    Permission.CHANGE_READ,
    "A change with its CIs, tickets, collisions, blackout overlaps and approvals",
)
def get_change(change_id: uuid.UUID, ctx: Ctx, response: Response) -> ChangePublic:
    found = ChangePublic.model_validate(service.get_change(ctx, change_id=change_id))
    return tagged(response, found)


@route(
    router.patch,
    "/changes/{change_id}",
    Permission.CHANGE_MANAGE,
    "Edit a change in draft or assessment (plans, window, CIs, risk answers; If-Match)",
    responses=STALE,
)
def update_change(
    change_id: uuid.UUID, body: ChangeUpdate, ctx: Ctx, response: Response, if_match: IfMatch = None
) -> ChangePublic:
    found = service.update_change(
        ctx, change_id=change_id, data=body, if_match=parse_if_match(if_match)
    )
    return tagged(response, ChangePublic.model_validate(found))


@route(
    router.post,
    "/changes/{change_id}/transitions",
    Permission.CHANGE_MANAGE,
    "Move a change to another state (into approval: opens its approval; not allowed 409;"
    " blackout 422 naming planned_start; stale version 412)",
    responses=STALE,
)
def transition(
    change_id: uuid.UUID,
    body: TransitionCreate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> ChangePublic:
    found = service.transition(
        ctx,
        change_id=change_id,
        state=body.state,
        reason=body.reason,
        version=body.version,
        if_match=parse_if_match(if_match),
    )
    return tagged(response, ChangePublic.model_validate(found))


@route(
    router.put,
    "/changes/{change_id}/review",
    Permission.CHANGE_MANAGE,
    "Record the post-implementation review (in review; needed to close)",
    responses=STALE,
)
def set_review(
    change_id: uuid.UUID, body: ReviewSet, ctx: Ctx, response: Response, if_match: IfMatch = None
) -> ChangePublic:
    found = service.set_review(
        ctx,
        change_id=change_id,
        outcome=body.outcome,
        notes=body.notes,
        version=body.version,
        if_match=parse_if_match(if_match),
    )
    return tagged(response, ChangePublic.model_validate(found))


@route(
    router.post,
    "/changes/{change_id}/tickets",
    Permission.CHANGE_MANAGE,
    "Link an incident or problem to the change (a ticket one may see)",
    status_code=201,
)
def link_ticket(change_id: uuid.UUID, body: TicketLink, ctx: Ctx, once: Once) -> ChangePublic:
    return once(
        body,
        lambda: ChangePublic.model_validate(
            service.link_ticket(ctx, change_id=change_id, ticket_id=body.ticket_id)
        ),
    )


operation(
    router.delete,
    "/changes/{change_id}/tickets/{ticket_id}",
    Permission.CHANGE_MANAGE,
    "Unlink a ticket from the change",
    service.unlink_ticket,
)
