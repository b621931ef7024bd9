"""Catalog API: the categories employees pick from (a tree) and the ticket types. Thin:
parse, call, shape."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from servicedesk.catalog import service, types
from servicedesk.catalog.schemas import (
    CategoryCreate,
    CategoryOrder,
    CategoryPublic,
    CategoryUpdate,
    TicketTypeCreate,
    TicketTypeOrder,
    TicketTypePublic,
    TicketTypeUpdate,
)
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import Resource, operation, route
from servicedesk.platform.rbac import Permission

router = APIRouter(prefix="/v1", tags=["categories"])
categories = Resource(
    router,
    "/categories",
    "category_id",
    "category",
    CategoryPublic,
    Permission.TICKET_READ,
    Permission.CATEGORY_MANAGE,
)
categories.list(
    "List categories by name, or (tree=true) all of them in tree order (requesters see the"
    " active ones)",
    service.list_categories,
    query={
        "active": bool | None,
        "tree": Annotated[
            bool,
            Query(description="Every category, depth first, siblings by position; one page"),
        ],
    },
)
categories.create("Create a category", CategoryCreate, service.create_category)


@route(
    router.put,
    "/categories/order",
    Permission.CATEGORY_MANAGE,
    "Reorder the children of one parent (null: the top level); the list names each once",
)
def reorder_categories(body: CategoryOrder, ctx: Ctx) -> list[CategoryPublic]:
    ordered = service.reorder(ctx, parent_id=body.parent_id, ids=body.ids)
    return [CategoryPublic.model_validate(c) for c in ordered]


categories.get("Get a category", service.get_category)
categories.update(
    "Change a category, move it in the tree (needs If-Match or version)",
    CategoryUpdate,
    service.update_category,
)


def archive_category(ctx: Ctx, category_id: uuid.UUID) -> object:
    return service.set_archived(ctx, category_id=category_id, archived=True)


def unarchive_category(ctx: Ctx, category_id: uuid.UUID) -> object:
    return service.set_archived(ctx, category_id=category_id, archived=False)


operation(
    router.post,
    "/categories/{category_id}/archive",
    Permission.CATEGORY_MANAGE,
    "Archive a category and its subtree (not offered for new tickets; tickets keep it)",
    archive_category,
    public=CategoryPublic,
)
operation(
    router.post,
    "/categories/{category_id}/unarchive",
    Permission.CATEGORY_MANAGE,
    "Restore an archived category and its subtree (its parent must be active)",
    unarchive_category,
    public=CategoryPublic,
)


ticket_types = Resource(
    router,
    "/ticket-types",
    "type_id",
    "ticket_type",
    TicketTypePublic,
    Permission.TICKET_READ,
    Permission.TICKET_TYPE_MANAGE,
    tags=("ticket-types",),
)
ticket_types.list(
    "List ticket types in their order (requesters see the ones not archived)",
    types.list_types,
    query={"archived": bool | None},
)
ticket_types.create(
    "Add a ticket type (its key never changes)", TicketTypeCreate, types.create_type
)


@route(
    router.put,
    "/ticket-types/order",
    Permission.TICKET_TYPE_MANAGE,
    "Reorder the ticket types; the list names each once",
    tags=["ticket-types"],
)
def reorder_ticket_types(body: TicketTypeOrder, ctx: Ctx) -> list[TicketTypePublic]:
    return [TicketTypePublic.model_validate(t) for t in types.reorder_types(ctx, ids=body.ids)]


ticket_types.get("Get a ticket type", types.get_type)
ticket_types.update(
    "Rename, describe, move or archive a ticket type (needs If-Match or version)",
    TicketTypeUpdate,
    types.update_type,
)
