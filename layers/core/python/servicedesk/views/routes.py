"""Saved views API (/v1/views): the queue's named filters. Thin: the Resource table."""

from __future__ import annotations

from fastapi import APIRouter

from servicedesk.platform.endpoints import Resource
from servicedesk.platform.rbac import Permission
from servicedesk.views import service
from servicedesk.views.schemas import ViewCreate, ViewPublic, ViewUpdate

router = APIRouter(prefix="/v1", tags=["views"])
views = Resource(
    router, "/views", "view_id", "view", ViewPublic, Permission.DESK_ACCESS, Permission.DESK_ACCESS
)
views.list(
    "Saved views the caller may use: their own and those shared with them", service.list_views
)
views.create(
    "Save a view (personal; shared with a team by its staff, with the tenant by an admin)",
    ViewCreate,
    service.create_view,
)
views.get("One saved view", service.get_view)
views.update(
    "Change a view (its owner, or an admin; needs If-Match or version)",
    ViewUpdate,
    service.update_view,
)
views.delete("Delete a view (its owner, or an admin)", service.delete_view)
