"""``/scim/v2``: SCIM 2.0 for identity providers (RFC 7644). Thin: authenticate with the
tenant's SCIM token (scim/auth.py), parse, call, answer ``application/scim+json``; every
error in SCIM's own format (scim/errors.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from servicedesk.platform import inputs
from servicedesk.platform.config import get_settings
from servicedesk.platform.rbac import public
from servicedesk.platform.tenancy import RequestContext
from servicedesk.scim import common, groups, schemas, users
from servicedesk.scim.auth import scim_context
from servicedesk.scim.errors import SCIM_JSON, ScimError, not_found

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
    return method(
        path,
        dependencies=[TOKEN],
        summary=summary,
        response_model=model,
        response_class=ScimResponse,
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


# --- Users ------------------------------------------------------------------------------


@_options(router.get, "/Users", "List or filter provisioned users", schemas.ScimList)
def list_users(
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
    return _page(users.list_users(ctx, query, base=_base(request)), query, attributes, excluded)


@_options(
    router.post,
    "/Users",
    "Provision a user",
    schemas.ScimUser,
    status_code=201,
    openapi_extra=schemas.SCIM_BODY,
)
def create_user(request: Request, ctx: ScimCtx, body: Body) -> Response:
    role = groups.default_role(ctx)
    return _one(
        users.create(ctx, body, base=_base(request), default_role=role), status=201, created=True
    )


@_options(router.get, "/Users/{user_id}", "Get a provisioned user", schemas.ScimUser)
def get_user(
    user_id: str,
    request: Request,
    ctx: ScimCtx,
    attributes: Attributes = None,
    excluded: Excluded = None,
) -> Response:
    found = users.get(ctx, users.parse_id(user_id), base=_base(request))
    return _one(found, attributes=attributes, excluded=excluded)


@_options(
    router.put,
    "/Users/{user_id}",
    "Replace a provisioned user",
    schemas.ScimUser,
    openapi_extra=schemas.SCIM_BODY,
)
def replace_user(
    user_id: str, request: Request, ctx: ScimCtx, body: Body, if_match: IfMatch = None
) -> Response:
    return _one(
        users.replace(ctx, users.parse_id(user_id), body, base=_base(request), if_match=if_match)
    )


@_options(
    router.patch,
    "/Users/{user_id}",
    "Change a provisioned user (add, replace, remove)",
    schemas.ScimUser,
    openapi_extra=schemas.SCIM_BODY,
)
def patch_user(
    user_id: str, request: Request, ctx: ScimCtx, body: Body, if_match: IfMatch = None
) -> Response:
    return _one(
        users.patch(ctx, users.parse_id(user_id), body, base=_base(request), if_match=if_match)
    )


@router.delete(
    "/Users/{user_id}",
    dependencies=[TOKEN],
    summary="Deprovision a user: deactivated, sessions ended",
    status_code=204,
    response_class=Response,
)
def delete_user(user_id: str, ctx: ScimCtx, if_match: IfMatch = None) -> Response:
    users.delete(ctx, users.parse_id(user_id), if_match=if_match)
    return Response(status_code=204)


# --- Groups -----------------------------------------------------------------------------


@_options(router.get, "/Groups", "List or filter groups", schemas.ScimList)
def list_groups(
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
    # Members are read only when they are shown (Entra ID lists with excludedAttributes=members).
    shown = schemas.project({"members": []}, attributes=attributes, excluded=excluded)
    found = groups.list_groups(ctx, query, base=_base(request), with_members="members" in shown)
    return _page(found, query, attributes, excluded)


@_options(
    router.post,
    "/Groups",
    "Create a group",
    schemas.ScimGroup,
    status_code=201,
    openapi_extra=schemas.SCIM_BODY,
)
def create_group(request: Request, ctx: ScimCtx, body: Body) -> Response:
    return _one(groups.create(ctx, body, base=_base(request)), status=201, created=True)


@_options(router.get, "/Groups/{group_id}", "Get a group and its members", schemas.ScimGroup)
def get_group(
    group_id: str,
    request: Request,
    ctx: ScimCtx,
    attributes: Attributes = None,
    excluded: Excluded = None,
) -> Response:
    found = groups.get(ctx, users.parse_id(group_id), base=_base(request))
    return _one(found, attributes=attributes, excluded=excluded)


@_options(
    router.put,
    "/Groups/{group_id}",
    "Replace a group",
    schemas.ScimGroup,
    openapi_extra=schemas.SCIM_BODY,
)
def replace_group(
    group_id: str, request: Request, ctx: ScimCtx, body: Body, if_match: IfMatch = None
) -> Response:
    return _one(
        groups.replace(ctx, users.parse_id(group_id), body, base=_base(request), if_match=if_match)
    )


@_options(
    router.patch,
    "/Groups/{group_id}",
    "Change a group (members, name)",
    schemas.ScimGroup,
    openapi_extra=schemas.SCIM_BODY,
)
def patch_group(
    group_id: str, request: Request, ctx: ScimCtx, body: Body, if_match: IfMatch = None
) -> Response:
    found = groups.patch(
        ctx, users.parse_id(group_id), body, base=_base(request), if_match=if_match
    )
    assert found is not None
    return _one(found)


@router.delete(
    "/Groups/{group_id}",
    dependencies=[TOKEN],
    summary="Delete a group (its mapped memberships end)",
    status_code=204,
    response_class=Response,
)
def delete_group(group_id: str, ctx: ScimCtx, if_match: IfMatch = None) -> Response:
    groups.delete(ctx, users.parse_id(group_id), if_match=if_match)
    return Response(status_code=204)


# --- discovery (RFC 7644 §4) -----------------------------------------------------------


@_options(
    router.get, "/ServiceProviderConfig", "What this SCIM service supports", schemas.ScimDocument
)
def service_provider_config(request: Request, ctx: ScimCtx) -> Response:
    del ctx  # the token is checked; the answer is the same for every tenant
    return ScimResponse(
        schemas.service_provider_config(_base(request), get_settings().scim_max_count)
    )


@_options(router.get, "/ResourceTypes", "The resource types (User, Group)", schemas.ScimList)
def resource_types(request: Request, ctx: ScimCtx) -> Response:
    del ctx
    found = schemas.resource_types(_base(request))
    return ScimResponse(schemas.list_response(found, total=len(found), start_index=1))


@_options(router.get, "/ResourceTypes/{name}", "One resource type", schemas.ScimDocument)
def resource_type(name: str, request: Request, ctx: ScimCtx) -> Response:
    del ctx
    for found in schemas.resource_types(_base(request)):
        if found["id"].lower() == name.lower():
            return ScimResponse(found)
    raise not_found("resource type")


@_options(router.get, "/Schemas", "The schemas (User, Group)", schemas.ScimList)
def list_schemas(request: Request, ctx: ScimCtx) -> Response:
    del ctx
    found = schemas.schemas(_base(request))
    return ScimResponse(schemas.list_response(found, total=len(found), start_index=1))


@_options(router.get, "/Schemas/{schema_id}", "One schema", schemas.ScimDocument)
def get_schema(schema_id: str, request: Request, ctx: ScimCtx) -> Response:
    del ctx
    for found in schemas.schemas(_base(request)):
        if found["id"].lower() == schema_id.lower():
            return ScimResponse(found)
    raise not_found("schema")
