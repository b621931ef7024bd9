"""Catalog API: the categories employees pick from. Thin: parse, call, shape."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from servicedesk.catalog import service
from servicedesk.catalog.schemas import CategoryCreate, CategoryPublic, CategoryUpdate
from servicedesk.platform import idempotency
from servicedesk.platform.context import Ctx
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.rbac import Role, requires
from servicedesk.platform.versioning import parse_if_match

router = APIRouter(prefix="/v1", tags=["categories"])


@router.get(
    "/categories",
    dependencies=[requires(Role.REQUESTER)],
    summary="List categories by name (requesters see the active ones)",
)
def list_categories(
    ctx: Ctx, limit: Limit = 50, cursor: Cursor = None, active: bool | None = None
) -> Page[CategoryPublic]:
    rows, nxt = service.list_categories(ctx, active=active, limit=limit, cursor=cursor)
    return Page(items=[CategoryPublic.model_validate(r) for r in rows], next_cursor=nxt)


@router.post(
    "/categories",
    status_code=201,
    dependencies=[requires(Role.MANAGER)],
    summary="Create a category",
    response_model=CategoryPublic,
)
def create_category(
    body: CategoryCreate, request: Request, ctx: Ctx, key: idempotency.IdempotencyKey = None
) -> CategoryPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: CategoryPublic.model_validate(service.create_category(ctx, data=body)),
    )


@router.get(
    "/categories/{category_id}", dependencies=[requires(Role.REQUESTER)], summary="Get a category"
)
def get_category(category_id: uuid.UUID, ctx: Ctx, response: Response) -> CategoryPublic:
    category = CategoryPublic.model_validate(service.get_category(ctx, category_id=category_id))
    response.headers["ETag"] = f'"{category.version}"'
    return category


@router.patch(
    "/categories/{category_id}",
    dependencies=[requires(Role.MANAGER)],
    summary="Change a category (needs If-Match or version)",
)
def update_category(
    category_id: uuid.UUID,
    body: CategoryUpdate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> CategoryPublic:
    updated = CategoryPublic.model_validate(
        service.update_category(
            ctx, category_id=category_id, data=body, if_match=parse_if_match(if_match)
        )
    )
    response.headers["ETag"] = f'"{updated.version}"'
    return updated
