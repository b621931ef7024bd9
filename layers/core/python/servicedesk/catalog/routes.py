"""Catalog API: the categories employees pick from. Thin: parse, call, shape."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from servicedesk.catalog import service
from servicedesk.catalog.schemas import CategoryCreate, CategoryPublic, CategoryUpdate
from servicedesk.platform.context import Ctx
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.rbac import Role
from servicedesk.platform.endpoints import Once, page_of, route, tagged
from servicedesk.platform.versioning import parse_if_match

router = APIRouter(prefix="/v1", tags=["categories"])


@route(
    router.get,
    "/categories",
    Role.REQUESTER,
    "List categories by name (requesters see the active ones)",
)
def list_categories(
    ctx: Ctx, limit: Limit = 50, cursor: Cursor = None, active: bool | None = None
) -> Page[CategoryPublic]:
    found = service.list_categories(ctx, active=active, limit=limit, cursor=cursor)
    return page_of(CategoryPublic, found)


@route(router.post, "/categories", Role.MANAGER, "Create a category", status_code=201)
def create_category(body: CategoryCreate, ctx: Ctx, once: Once) -> CategoryPublic:
    return once(
        body, lambda: CategoryPublic.model_validate(service.create_category(ctx, data=body))
    )


@route(router.get, "/categories/{category_id}", Role.REQUESTER, "Get a category")
def get_category(category_id: uuid.UUID, ctx: Ctx, response: Response) -> CategoryPublic:
    category = service.get_category(ctx, category_id=category_id)
    return tagged(response, CategoryPublic.model_validate(category))


@route(
    router.patch,
    "/categories/{category_id}",
    Role.MANAGER,
    "Change a category (needs If-Match or version)",
)
def update_category(
    category_id: uuid.UUID,
    body: CategoryUpdate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> CategoryPublic:
    version = parse_if_match(if_match)
    category = service.update_category(ctx, category_id=category_id, data=body, if_match=version)
    return tagged(response, CategoryPublic.model_validate(category))
