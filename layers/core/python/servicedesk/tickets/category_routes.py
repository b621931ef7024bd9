"""``DELETE /v1/categories/{id}``: served by the admin function with the catalog's routes,
written here because it moves tickets (the catalog does not import tickets)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import route
from servicedesk.platform.rbac import Permission
from servicedesk.tickets import reassign

router = APIRouter(prefix="/v1", tags=["categories"])


@route(
    router.delete,
    "/categories/{category_id}",
    Permission.CATEGORY_MANAGE,
    "Delete a category and its subtree; their tickets move to reassign_to (required when"
    " there are any: 409 otherwise)",
    status_code=204,
)
def delete_category(
    category_id: uuid.UUID,
    ctx: Ctx,
    reassign_to: Annotated[
        uuid.UUID | None,
        Query(description="The active category (outside the subtree) the tickets move to"),
    ] = None,
) -> None:
    reassign.delete_category(ctx, category_id=category_id, reassign_to=reassign_to)
