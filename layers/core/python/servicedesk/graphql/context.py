"""What every resolver gets: the REST request's RequestContext and the request's loaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import strawberry

from servicedesk.graphql.loaders import Loaders
from servicedesk.platform.errors import Forbidden
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext


@dataclass
class GraphContext:
    ctx: RequestContext
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.ctx)

    def require(self, permission: Permission) -> RequestContext:
        """The context if the caller holds ``permission`` (what ``requires`` is to a route)."""
        if not self.ctx.can(permission):
            raise Forbidden(f"this needs the {permission.value} permission")
        return self.ctx


Info = strawberry.Info[GraphContext, None]


F = TypeVar("F", bound=Callable[..., Any])


def field_with(description: str) -> Callable[[F], F]:
    """``strawberry.field(description=...)``, typed (its overloads are not, with arguments)."""
    return cast(Callable[[F], F], strawberry.field(description=description))


def mutation_with(description: str) -> Callable[[F], F]:
    """``strawberry.mutation(description=...)``, typed."""
    return cast(Callable[[F], F], strawberry.mutation(description=description))
