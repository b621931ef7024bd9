"""Roles per tenant and the per-route minimum role (DESIGN invariant 4: deny by default)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Depends

from servicedesk.platform.context import Ctx
from servicedesk.platform.errors import Forbidden
from servicedesk.platform.roles import Role

__all__ = ["PUBLIC", "Role", "public", "requires", "route_policy"]


ROUTE_POLICY_ATTR = "__servicedesk_min_role__"
PUBLIC = "public"


def requires(role: Role) -> Any:
    """Route dependency: the caller's role in the tenant must be at least ``role``.

    ``async`` because it only compares roles: FastAPI then runs it on the event loop, not
    in a worker thread (one thread hop less per request).
    """

    async def check(ctx: Ctx) -> None:
        if not ctx.role.at_least(role):
            raise Forbidden(f"this action needs the {role.value} role or higher")

    setattr(check, ROUTE_POLICY_ATTR, role)
    return Depends(check)


def public(reason: str) -> Any:
    """Route dependency marking a route that deliberately needs no principal."""

    async def allow() -> None:
        return None

    setattr(allow, ROUTE_POLICY_ATTR, PUBLIC)
    allow.__doc__ = reason
    return Depends(allow)


def route_policy(dependant_calls: list[Callable[..., Any]]) -> Role | str | None:
    for call in dependant_calls:
        policy = getattr(call, ROUTE_POLICY_ATTR, None)
        if policy is not None:
            return policy  # type: ignore[no-any-return]
    return None
