"""What every route declaration shares, so that a route states only what is its own.

- ``route``: the decorator with the route's permission (invariant 4) and summary;
- ``Once``: the POST's Idempotency-Key, bound to the request (``once(body, make)`` runs
  ``make`` once per key, ``platform.idempotency``);
- ``page_of``: a service's ``(rows, next_cursor)`` as the typed page the route returns, and
  ``listing``, the whole route of a list that is nothing more;
- ``operation``: the whole route of an action on ids in the path that answers the service's
  result as a model, or 204 (removals);
- ``tagged``: a versioned resource with its ``ETag`` (the version) on the response;
- ``Resource``: the create, get, change and delete routes of a tenant's configuration
  resource (``/things``, ``/things/{thing_id}``), declared as a table of permission, summary and
  the service function each calls, instead of written out again in every domain.

Only the route modules import this (it is the FastAPI half of those platform pieces).
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from servicedesk.platform import idempotency
from servicedesk.platform.context import Ctx
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.permissions import Permission
from servicedesk.platform.preconditions import CALLS
from servicedesk.platform.rbac import requires
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import parse_if_match

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T", bound=BaseModel | Response)


def route(
    method: Callable[..., Callable[[F], F]],
    path: str,
    permission: Permission,
    summary: str,
    *,
    ticket_scope: bool = False,
    **options: Any,
) -> Callable[[F], F]:
    """``@route(router.post, "/things", Permission.SLA_MANAGE, "Create a thing", status_code=201)``:
    ``router.post(path, ...)`` for callers holding ``permission`` (``ticket_scope``: a
    magic-link session limited to one ticket may call it too, see ``rbac.requires``);
    ``options`` are FastAPI's (status code, responses, tags, ...)."""
    return method(
        path,
        dependencies=[requires(permission, ticket_scope=ticket_scope)],
        summary=summary,
        **options,
    )


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


def listing(
    router: APIRouter,
    path: str,
    permission: Permission,
    summary: str,
    public: type[BaseModel],
    fetch: Callable[..., tuple[Sequence[Any], str | None]],
    *,
    name: str | None = None,
    limit: int = 50,
    query: dict[str, Any] | None = None,
    ticket_scope: bool = False,
    **options: Any,
) -> None:
    """``GET path``: one page of ``fetch(ctx, <path ids>=..., <query>=..., limit=, cursor=)``
    read into ``public``. The path's ``{ids}`` are UUIDs; ``query`` names the list's filters
    and their annotations (each optional). The endpoint has the signature (hence OpenAPI
    parameters) and ``name`` (the operation id; by default the service function's) of the
    route it replaces."""
    ids = _path_ids(path)
    filters = [_parameter(key, annotation, None) for key, annotation in (query or {}).items()]

    def endpoint(ctx: RequestContext, limit: int, cursor: str | None, **values: Any) -> Any:
        return page_of(public, fetch(ctx, **values, limit=limit, cursor=cursor))

    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            *ids,
            _parameter("ctx", Ctx),
            _parameter("limit", Limit, limit),
            _parameter("cursor", Cursor, None),
            *filters,
        ]
    )
    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        dependencies=[requires(permission, ticket_scope=ticket_scope)],
        summary=summary,
        name=name or fetch.__name__,
        response_model=Page[public],  # type: ignore[valid-type]
        **options,
    )


def _path_ids(path: str) -> list[Any]:
    return [_parameter(found, uuid.UUID) for found in re.findall(r"{(\w+)}", path)]


def operation(
    method: Callable[..., Any],
    path: str,
    permission: Permission,
    summary: str,
    call: Callable[..., Any],
    *,
    public: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    many: bool = False,
    name: str | None = None,
    **options: Any,
) -> None:
    """``method`` (``router.post``, ...) ``path``: ``call(ctx, <path ids>=...)``, answered as
    ``public`` (``many``: a list of them), or 204 without one. With a ``body`` model (a
    creation: 201, and an Idempotency-Key, ``Once``) the body's fields are passed to
    ``call`` as keywords too. The endpoint has the signature (hence OpenAPI parameters)
    and ``name`` (the operation id; by default the service function's) of the route it
    replaces."""

    def answer(result: Any) -> Any:
        if public is None:
            return Response(status_code=204)
        if many:
            return [public.model_validate(item) for item in result]
        return public.model_validate(result)

    def endpoint(ctx: RequestContext, **values: Any) -> Any:
        if body is None:
            return answer(call(ctx, **values))
        sent, once = values.pop("body"), values.pop("once")
        fields = sent.model_dump()
        return once(sent, lambda: answer(call(ctx, **values, **fields)), status=status)

    ids = _path_ids(path)
    parameters = [*ids, _parameter("ctx", Ctx)]
    if body is not None:
        parameters = [
            *ids,
            _parameter("body", body),
            _parameter("ctx", Ctx),
            _parameter("once", Once),
        ]
        options.setdefault("status_code", 201)
    status = options.get("status_code", 200)
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    setattr(endpoint, CALLS, (call,))
    if public is None:
        options.setdefault("status_code", 204)
    else:
        options.setdefault("response_model", list[public] if many else public)  # type: ignore[valid-type]
    route(method, path, permission, summary, name=name or call.__name__, **options)(endpoint)


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)


def tagged(response: Response, resource: V) -> V:
    """``resource`` with its version as the response's ``ETag`` (what If-Match sends back)."""
    response.headers["ETag"] = f'"{resource.version}"'
    return resource


def _parameter(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> Any:
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=annotation, default=default
    )


@dataclass(frozen=True)
class Resource:
    """``path`` and ``path/{id}`` on ``router``, answered as ``public``, read by ``read`` and
    written (created, changed, deleted) by ``write`` and above, tagged ``tags`` (else the
    router's); ``options`` are FastAPI's. Each method adds one route that calls the service
    function it is given, by keyword, as every configuration service is written:
    ``list(ctx, limit=, cursor=)``, ``create(ctx, data=)``, ``get(ctx, <id>=)``,
    ``update(ctx, <id>=, data=, if_match=)``, ``delete(ctx, <id>=)``. The endpoints have the
    signatures (hence OpenAPI parameters) and names (hence operation ids:
    ``create_<noun>``, ...) the hand-written routes had, and name the function they call
    for ``platform.preconditions``. Routes are matched in
    the order they are added."""

    router: APIRouter
    path: str
    id: str
    noun: str
    public: type[BaseModel]
    read: Permission
    write: Permission
    tags: tuple[str, ...] = ()

    def _add(
        self,
        method: str,
        path: str,
        endpoint: Callable[..., Any],
        parameters: list[Any],
        permission: Permission,
        summary: str,
        *,
        name: str,
        calls: Callable[..., Any],
        **options: Any,
    ) -> None:
        endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        setattr(endpoint, CALLS, (calls,))
        if self.tags:
            options.setdefault("tags", list(self.tags))
        self.router.add_api_route(
            path,
            endpoint,
            methods=[method],
            dependencies=[requires(permission)],
            summary=summary,
            name=name,
            **options,
        )

    def list(self, summary: str, fetch: Callable[..., Any], **options: Any) -> None:
        """``GET path``, read by ``read``: see ``listing``."""
        if self.tags:
            options.setdefault("tags", list(self.tags))
        listing(self.router, self.path, self.read, summary, self.public, fetch, **options)

    def create(
        self,
        summary: str,
        body: type[BaseModel],
        make: Callable[..., Any],
        *,
        public: type[BaseModel] | None = None,
        redact: Collection[str] = (),
        **options: Any,
    ) -> None:
        """``POST path`` (201, Idempotency-Key; ``redact``: see ``idempotency.once``):
        ``make(ctx, data=body)``."""
        answer = public or self.public

        def endpoint(body: BaseModel, ctx: RequestContext, once: Idempotent) -> Any:
            made = lambda: answer.model_validate(make(ctx, data=body))  # noqa: E731
            return once(body, made, redact=redact)

        parameters = [_parameter("body", body), _parameter("ctx", Ctx), _parameter("once", Once)]
        self._add(
            "POST",
            self.path,
            endpoint,
            parameters,
            self.write,
            summary,
            name=f"create_{self.noun}",
            calls=make,
            status_code=201,
            response_model=answer,
            **options,
        )

    def get(self, summary: str, fetch: Callable[..., Any], **options: Any) -> None:
        """``GET path/{id}`` with its ETag: ``fetch(ctx, <id>=...)``."""

        def endpoint(ctx: RequestContext, response: Response, **ids: uuid.UUID) -> Any:
            found: Any = self.public.model_validate(fetch(ctx, **ids))  # has a version
            return tagged(response, found)

        self._add(
            "GET",
            f"{self.path}/{{{self.id}}}",
            endpoint,
            [
                _parameter(self.id, uuid.UUID),
                _parameter("ctx", Ctx),
                _parameter("response", Response),
            ],
            self.read,
            summary,
            name=f"get_{self.noun}",
            calls=fetch,
            response_model=self.public,
            **options,
        )

    def update(
        self,
        summary: str,
        body: type[BaseModel],
        change: Callable[..., Any],
        *,
        method: str = "PATCH",
        verb: str = "update",
        **options: Any,
    ) -> None:
        """``PATCH`` (or ``PUT``) ``path/{id}`` with If-Match, answered with the new ETag:
        ``change(ctx, <id>=..., data=body, if_match=version)``."""

        def endpoint(
            body: BaseModel,
            ctx: RequestContext,
            response: Response,
            if_match: str | None = None,
            **ids: uuid.UUID,
        ) -> Any:
            changed = change(ctx, **ids, data=body, if_match=parse_if_match(if_match))
            public: Any = self.public.model_validate(changed)  # has a version
            return tagged(response, public)

        parameters = [
            _parameter(self.id, uuid.UUID),
            _parameter("body", body),
            _parameter("ctx", Ctx),
            _parameter("response", Response),
            _parameter("if_match", IfMatch, None),
        ]
        self._add(
            method,
            f"{self.path}/{{{self.id}}}",
            endpoint,
            parameters,
            self.write,
            summary,
            name=f"{verb}_{self.noun}",
            calls=change,
            response_model=self.public,
            **options,
        )

    def delete(self, summary: str, remove: Callable[..., Any]) -> None:
        """``DELETE path/{id}``, 204: ``remove(ctx, <id>=...)``."""
        path = f"{self.path}/{{{self.id}}}"
        tags: dict[str, Any] = {"tags": list(self.tags)} if self.tags else {}
        operation(
            self.router.delete,
            path,
            self.write,
            summary,
            remove,
            name=f"delete_{self.noun}",
            **tags,
        )
