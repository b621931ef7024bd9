"""``/scim/v2``: SCIM 2.0 for identity providers (RFC 7644). Thin: authenticate with the
tenant's SCIM token (scim/auth.py), parse, call, answer ``application/scim+json``; every
error in SCIM's own format (scim/errors.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from servicedesk.platform import inputs
from servicedesk.platform.config import get_settings
from servicedesk.platform.rbac import public
from servicedesk.platform.tenancy import RequestContext
from servicedesk.scim import common, groups, schemas, users
from servicedesk.scim.auth import scim_context
from servicedesk.scim.errors import SCIM_JSON, ScimError, not_found
from servicedesk.scim.users import parse_id

router = APIRouter(prefix="/scim/v2", tags=["scim"])

ScimCtx = Annotated[RequestContext, Depends(scim_context, scope="function")]
IfMatch = Annotated[str | None, Header(alias="If-Match")]
Filter = Annotated[str | None, Query(alias="filter", max_length=2000)]
StartIndex = Annotated[str | None, Query(alias="startIndex", max_length=12)]
Count = Annotated[str | None, Query(alias="count", max_length=12)]
SortBy = Annotated[str | None, Query(alias="sortBy", max_length=200)]
SortOrder = Annotated[str | None, Query(alias="sortOrder", max_length=20)]
Attributes = Annotated[str | None, Query(alias="attributes", max_length=2000)]
Excluded = Annotated[str | None, Query(alias="excludedAttributes", max_length=2000)]

TOKEN = public("the tenant's SCIM bearer token is the credential (servicedesk/scim/auth.py)")


class ScimResponse(JSONResponse):
    media_type = SCIM_JSON


async def _body(request: Request) -> Any:
    content_type = request.headers.get("content-type")
    if content_type and not inputs.is_json(content_type):
        raise ScimError(400, "Content-Type: must be application/scim+json", "invalidSyntax")
    raw = await request.body()
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ScimError(400, "the body is not JSON", "invalidSyntax") from exc


Body = Annotated[Any, Depends(_body)]


def _base(request: Request) -> str:
    url = str(request.url)
    return url[: url.index("/scim/v2") + len("/scim/v2")]


def _one(
    resource: dict[str, Any],
    *,
    status: int = 200,
    created: bool = False,
    attributes: str | None = None,
    excluded: str | None = None,
) -> ScimResponse:
    headers = {"ETag": resource["meta"]["version"]}
    if created:
        headers["Location"] = resource["meta"]["location"]
    shown = schemas.project(resource, attributes=attributes, excluded=excluded)
    return ScimResponse(shown, status_code=status, headers=headers)


F = TypeVar("F", bound=Callable[..., Any])


def _options(
    method: Callable[..., Callable[[F], F]], path: str, summary: str, model: Any, **extra: Any
) -> Callable[[F], F]:
    written = method.__name__ in ("put", "patch")
    statuses = (400, 401, 404, 409, 412, 429) if written else (400, 401, 404, 409, 429)
    return method(
        path,
        dependencies=[TOKEN],
        summary=summary,
        response_model=model,
        response_class=ScimResponse,
        responses=schemas.error_responses(*statuses),
        **extra,
    )


def _query(
    filter_: str | None,
    start: str | None,
    count: str | None,
    sort_by: str | None,
    order: str | None,
) -> common.ListQuery:
    return common.list_query(
        filter_=filter_,
        start_index=start,
        count=count,
        sort_by=sort_by,
        sort_order=order,
        max_count=get_settings().scim_max_count,
    )


def _page(
    found: tuple[list[dict[str, Any]], int],
    query: common.ListQuery,
    attributes: str | None,
    excluded: str | None,
) -> ScimResponse:
    resources, total = found
    shown = [schemas.project(r, attributes=attributes, excluded=excluded) for r in resources]
    return ScimResponse(schemas.list_response(shown, total=total, start_index=query.start_index))


# --- Users and Groups: the same six routes over each service ---------------------------


@dataclass(frozen=True)
class _Service:
    """What a resource type's service module offers the routes (scim/users.py, groups.py)."""

    list_resources: Callable[..., tuple[list[dict[str, Any]], int]]
    create: Callable[..., dict[str, Any]]
    get: Callable[..., dict[str, Any]]
    replace: Callable[..., dict[str, Any]]
    patch: Callable[..., dict[str, Any]]
    delete: Callable[..., None]


def _resource_routes(kind: str, service: _Service, model: type[BaseModel], what: str) -> None:
    """``/{kind}s`` (GET list, POST) and ``/{kind}s/{resource_id}`` (GET, PUT, PATCH,
    DELETE) for one resource type; ``what`` words the summaries."""
    many, one = f"/{kind}s", f"/{kind}s/{{resource_id}}"
    name = kind.lower()

    @_options(router.get, many, f"List or filter {what}s", schemas.ScimList, name=f"list_{name}s")
    def listing(
        request: Request,
        ctx: ScimCtx,
        filter_: Filter = None,
        start_index: StartIndex = None,
        count: Count = None,
        sort_by: SortBy = None,
        sort_order: SortOrder = None,
        attributes: Attributes = None,
        excluded: Excluded = None,
    ) -> Response:
        query = _query(filter_, start_index, count, sort_by, sort_order)
        # Members and groups are read only when they are shown.
        probe = schemas.project(
            {"members": [], "groups": []}, attributes=attributes, excluded=excluded
        )
        found = service.list_resources(ctx, query, base=_base(request), shown=frozenset(probe))
        return _page(found, query, attributes, excluded)

    @_options(
        router.post,
        many,
        f"Provision a {what}",
        model,
        status_code=201,
        openapi_extra=schemas.SCIM_BODY,
        name=f"create_{name}",
    )
    def create(request: Request, ctx: ScimCtx, body: Body) -> Response:
        return _one(service.create(ctx, body, base=_base(request)), status=201, created=True)

    @_options(router.get, one, f"Get a {what}", model, name=f"get_{name}")
    def get(
        resource_id: str,
        request: Request,
        ctx: ScimCtx,
        attributes: Attributes = None,
        excluded: Excluded = None,
    ) -> Response:
        found = service.get(ctx, parse_id(resource_id), base=_base(request))
        return _one(found, attributes=attributes, excluded=excluded)

    @_options(
        router.put,
        one,
        f"Replace a {what}",
        model,
        openapi_extra=schemas.SCIM_BODY,
        name=f"replace_{name}",
    )
    def replace(
        resource_id: str, request: Request, ctx: ScimCtx, body: Body, if_match: IfMatch = None
    ) -> Response:
        found = service.replace(
            ctx, parse_id(resource_id), body, base=_base(request), if_match=if_match
        )
        return _one(found)

    @_options(
        router.patch,
        one,
        f"Change a {what} (add, replace, remove)",
        model,
        openapi_extra=schemas.SCIM_BODY,
        name=f"patch_{name}",
    )
    def patch(
        resource_id: str, request: Request, ctx: ScimCtx, body: Body, if_match: IfMatch = None
    ) -> Response:
        found = service.patch(
            ctx, parse_id(resource_id), body, base=_base(request), if_match=if_match
        )
        return _one(found)

    @router.delete(
        one,
        dependencies=[TOKEN],
        summary=f"Deprovision a {what}",
        status_code=204,
        response_class=Response,
        responses=schemas.error_responses(401, 404, 409, 412, 429),
        name=f"delete_{name}",
    )
    def delete(resource_id: str, ctx: ScimCtx, if_match: IfMatch = None) -> Response:
        service.delete(ctx, parse_id(resource_id), if_match=if_match)
        return Response(status_code=204)


_resource_routes(
    "User",
    _Service(
        users.list_resources, users.create, users.get, users.replace, users.patch, users.delete
    ),
    schemas.ScimUser,
    "user",
)
_resource_routes(
    "Group",
    _Service(
        groups.list_resources,
        groups.create,
        groups.get,
        groups.replace,
        groups.patch,
        groups.delete,
    ),
    schemas.ScimGroup,
    "group",
)


# --- discovery (RFC 7644 §4) -----------------------------------------------------------


@_options(
    router.get, "/ServiceProviderConfig", "What this SCIM service supports", schemas.ScimDocument
)
def service_provider_config(request: Request, ctx: ScimCtx) -> Response:
    del ctx  # the token is checked; the answer is the same for every tenant
    return ScimResponse(
        schemas.service_provider_config(_base(request), get_settings().scim_max_count)
    )


def _discovery(
    path: str, documents: Callable[[str], list[dict[str, Any]]], what: str, key: str
) -> None:
    """``/{path}`` (a list of every document) and ``/{path}/{key}`` (one, by id, any case)."""

    @_options(router.get, f"/{path}", f"The {what}s (User, Group)", schemas.ScimList)
    def listing(request: Request, ctx: ScimCtx) -> Response:
        del ctx  # the token is checked; the answer is the same for every tenant
        found = documents(_base(request))
        return ScimResponse(schemas.list_response(found, total=len(found), start_index=1))

    parameter = {"name": key, "in": "path", "required": True, "schema": {"type": "string"}}

    @_options(
        router.get,
        f"/{path}/{{{key}}}",
        f"One {what}",
        schemas.ScimDocument,
        openapi_extra={"parameters": [parameter]},
    )
    def one(request: Request, ctx: ScimCtx) -> Response:
        del ctx
        wanted = str(request.path_params[key]).lower()
        for found in documents(_base(request)):
            if found["id"].lower() == wanted:
                return ScimResponse(found)
        raise not_found(what)

    listing.__name__, one.__name__ = f"list_{key}s", f"get_{key}"


_discovery("ResourceTypes", schemas.resource_types, "resource type", "name")
_discovery("Schemas", schemas.schemas, "schema", "schema_id")
