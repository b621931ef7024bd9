"""Catalog API: the categories employees pick from. Thin: parse, call, shape."""

from __future__ import annotations

from fastapi import APIRouter

from servicedesk.catalog import service
from servicedesk.catalog.schemas import CategoryCreate, CategoryPublic, CategoryUpdate
from servicedesk.platform.endpoints import Resource
from servicedesk.platform.rbac import Role

router = APIRouter(prefix="/v1", tags=["categories"])
categories = Resource(
    router, "/categories", "category_id", "category", CategoryPublic, Role.REQUESTER, Role.MANAGER
)
categories.list(
    "List categories by name (requesters see the active ones)",
    service.list_categories,
    query={"active": bool | None},
)
categories.create("Create a category", CategoryCreate, service.create_category)
categories.get("Get a category", service.get_category)
categories.update(
    "Change a category (needs If-Match or version)", CategoryUpdate, service.update_category
)
