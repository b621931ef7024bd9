"""What every route declaration shares, so that a route states only what is its own.

- ``route``: the decorator with the route's minimum role (invariant 4) and summary;
- ``Once``: the POST's Idempotency-Key, bound to the request (``once(body, make)`` runs
  ``make`` once per key, ``platform.idempotency``);
- ``page_of``: a service's ``(rows, next_cursor)`` as the typed page the route returns;
- ``tagged``: a versioned resource with its ``ETag`` (the version) on the response.

Only the route modules import this (it is the FastAPI half of those platform pieces).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Request, Response
from pydantic import BaseModel

from servicedesk.platform import idempotency
from servicedesk.platform.context import Ctx
from servicedesk.platform.pagination import Page
from servicedesk.platform.rbac import requires
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T", bound=BaseModel | Response)


def route(
    method: Callable[..., Callable[[F], F]], path: str, role: Role, summary: str, **options: Any
) -> Callable[[F], F]:
    """``@route(router.post, "/things", Role.MANAGER, "Create a thing", status_code=201)``:
    ``router.post(path, ...)`` for callers with ``role`` or higher; ``options`` are
    FastAPI's (status code, responses, tags, ...)."""
    return method(path, dependencies=[requires(role)], summary=summary, **options)


@dataclass(frozen=True)
class Idempotent:
    """A POST's Idempotency-Key, bound to its request (see ``idempotency.once``)."""

    ctx: RequestContext
    path: str
    key: str | None

    def __call__(
        self,
        body: BaseModel | None,
        make: Callable[[], T],
        *,
        status: int = 201,
        redact: Collection[str] = (),
    ) -> T:
        return idempotency.once(
            self.ctx, self.path, self.key, body, make, status=status, redact=redact
        )


def _idempotent(request: Request, ctx: Ctx, key: idempotency.IdempotencyKey = None) -> Idempotent:
    return Idempotent(ctx, request.url.path, key)


Once = Annotated[Idempotent, Depends(_idempotent)]


def page_of(model: type[M], found: tuple[Sequence[Any], str | None]) -> Page[M]:
    """A service's ``(rows, next_cursor)``, each row read into ``model``."""
    rows, next_cursor = found
    return Page(items=[model.model_validate(row) for row in rows], next_cursor=next_cursor)


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)


def tagged(response: Response, resource: V) -> V:
    """``resource`` with its version as the response's ``ETag`` (what If-Match sends back)."""
    response.headers["ETag"] = f'"{resource.version}"'
    return resource
