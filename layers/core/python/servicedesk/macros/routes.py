"""Macros API: the macros (staff; requesters get 404 everywhere, as for anything they may
not see) and their use on a ticket. Thin: parse, call a service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from servicedesk.actions import placeholders
from servicedesk.macros import service
from servicedesk.macros.schemas import (
    MacroApplied,
    MacroCreate,
    MacroDraft,
    MacroPreview,
    MacroPublic,
    MacroRendered,
    MacroUpdate,
    PlaceholderPublic,
    Scope,
)
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import Once, Resource, operation, route
from servicedesk.platform.rbac import Permission
from servicedesk.tickets import service as tickets
from servicedesk.tickets.schemas import TicketPublic

router = APIRouter(prefix="/v1", tags=["macros"])

# Minimum role requester: the service answers 404 to anyone who is not staff (a macro is
# invisible to them, like a ticket they may not see); the edit rights are per macro.
macros = Resource(
    router,
    "/macros",
    "macro_id",
    "macro",
    MacroPublic,
    Permission.DESK_ACCESS,
    Permission.DESK_ACCESS,
)
macros.list(
    "List the macros you may use (picker order), each with its unresolved references",
    service.list_macros,
    query={
        "q": Annotated[str | None, Query(max_length=120, description="Part of the name, any case")],
        "scope": Scope | None,
        "team_id": uuid.UUID | None,
        "include_archived": Annotated[
            bool | None, Query(description="Archived macros too (default: not)")
        ],
    },
)


@route(
    router.get,
    "/macros/placeholders",
    Permission.DESK_ACCESS,
    "The placeholders a template may use",
)
def list_placeholders(ctx: Ctx) -> list[PlaceholderPublic]:
    service.get_placeholders(ctx)
    return [
        PlaceholderPublic(name=name, description=placeholders.DESCRIPTIONS[name])
        for name in placeholders.CATALOGUE
    ]


macros.create(
    "Create a macro (personal; team and tenant macros: managers and admins)",
    MacroCreate,
    service.create_macro,
)
macros.get("Get a macro", service.get_macro)
macros.update(
    "Change a macro (needs If-Match or version; its owner, or a manager for shared ones)",
    MacroUpdate,
    service.update_macro,
)
macros.delete("Delete a macro", service.delete_macro)


def _ticket(ctx: Ctx, ticket: Any) -> TicketPublic:
    public = TicketPublic.model_validate(ticket)
    public.allowed_transitions = sorted(tickets.allowed_transitions(ctx, ticket))
    return public


@route(
    router.post,
    "/tickets/{ticket_id}/macros/{macro_id}/apply",
    Permission.DESK_ACCESS,
    "Apply a macro to a ticket: every action or none (Idempotency-Key: applied once)",
)
def apply_macro(ticket_id: uuid.UUID, macro_id: uuid.UUID, ctx: Ctx, once: Once) -> MacroApplied:
    def make() -> MacroApplied:
        ticket, outcomes = service.apply_macro(ctx, ticket_id=ticket_id, macro_id=macro_id)
        return MacroApplied(ticket=_ticket(ctx, ticket), outcomes=[vars(o) for o in outcomes])

    return once(None, make, status=200)


@route(
    router.post,
    "/tickets/{ticket_id}/macros/preview",
    Permission.DESK_ACCESS,
    "What a macro being edited would change on a ticket (the editor's preview); nothing written",
)
def preview_draft(ticket_id: uuid.UUID, body: MacroDraft, ctx: Ctx) -> MacroPreview:
    found = service.preview_draft(ctx, ticket_id=ticket_id, actions=list(body.actions))
    return MacroPreview.model_validate(found)


operation(
    router.post,
    "/tickets/{ticket_id}/macros/{macro_id}/preview",
    Permission.DESK_ACCESS,
    "What applying a macro would change, and its replies and notes rendered; nothing written",
    service.preview_macro,
    public=MacroPreview,
)
operation(
    router.post,
    "/tickets/{ticket_id}/macros/{macro_id}/render",
    Permission.DESK_ACCESS,
    "A canned response (replies and notes only) rendered for the composer; nothing written",
    service.render_macro,
    public=MacroRendered,
)
