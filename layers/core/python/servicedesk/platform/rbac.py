"""The per-route permission (DESIGN invariant 4: deny by default).

Every route names the permission it needs (``platform.permissions``); its floor, the lowest
built-in role holding it, is what the route's minimum role was before custom roles.

Also the one gate for ticket-scoped (magic-link) sessions: every route that requires a role
refuses them unless it declares ``ticket_scope=True``, and then only for the scope's ticket
when the path names one (the visibility rule limits the rest, e.g. an attachment by id).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request

from servicedesk.platform.context import Ctx
from servicedesk.platform.errors import Forbidden, NotFound
from servicedesk.platform.permissions import Permission

__all__ = ["PUBLIC", "Permission", "accepts_ticket_scope", "public", "requires", "route_policy"]


ROUTE_POLICY_ATTR = "__servicedesk_permission__"
TICKET_SCOPE_ATTR = "__servicedesk_ticket_scope__"
PUBLIC = "public"


def requires(permission: Permission, *, ticket_scope: bool = False) -> Any:
    """Route dependency: the caller must hold ``permission`` (``RequestContext.can``); a
    ticket-scoped session passes only a route declaring ``ticket_scope``, and only for its
    ticket (``ticket_id`` in the path; anything else answers 404, as an invisible ticket).

    ``async`` because it only compares: FastAPI then runs it on the event loop, not in a
    worker thread (one thread hop less per request).
    """

    async def check(ctx: Ctx, request: Request) -> None:
        if ctx.ticket_scope is not None:
            if not ticket_scope:
                raise Forbidden("this session is limited to one ticket")
            named = request.path_params.get("ticket_id")
            if named is not None and str(named).lower() != str(ctx.ticket_scope):
                raise NotFound("no such ticket")
        if not ctx.can(permission):
            raise Forbidden(f"this action needs the {permission.value} permission")

    setattr(check, ROUTE_POLICY_ATTR, permission)
    setattr(check, TICKET_SCOPE_ATTR, ticket_scope)
    return Depends(check)


def public(reason: str) -> Any:
    """Route dependency marking a route that deliberately needs no principal."""

    async def allow() -> None:
        return None

    setattr(allow, ROUTE_POLICY_ATTR, PUBLIC)
    allow.__doc__ = reason
    return Depends(allow)


def accepts_ticket_scope(dependant_calls: list[Callable[..., Any]]) -> bool:
    return any(getattr(call, TICKET_SCOPE_ATTR, False) for call in dependant_calls)


def route_policy(dependant_calls: list[Callable[..., Any]]) -> Permission | str | None:
    for call in dependant_calls:
        policy = getattr(call, ROUTE_POLICY_ATTR, None)
        if policy is not None:
            return policy  # type: ignore[no-any-return]
    return None
