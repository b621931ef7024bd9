"""Custom roles API (admin:roles): the permission catalogue, the roles (built-in and
custom), and the custom roles' create, get, change (If-Match) and delete. Thin: parse,
call, shape."""

from __future__ import annotations

from fastapi import APIRouter

from servicedesk.identity import roles
from servicedesk.identity.role_schemas import (
    PermissionPublic,
    RoleCreate,
    RolePublic,
    RoleUpdate,
)
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import Resource, route
from servicedesk.platform.permissions import Permission

router = APIRouter(prefix="/v1", tags=["roles"])
ROLES = Permission.ADMIN_ROLES


@route(router.get, "/roles/permissions", ROLES, "The permission catalogue, in display order")
def list_permissions(ctx: Ctx) -> list[PermissionPublic]:
    return roles.catalogue()


@route(router.get, "/roles", ROLES, "The built-in roles (read-only), then the custom roles")
def list_roles(ctx: Ctx) -> list[RolePublic]:
    return roles.list_roles(ctx)


custom = Resource(router, "/roles", "role_id", "role", RolePublic, ROLES, ROLES)
custom.create("Create a custom role", RoleCreate, roles.create_role)
custom.get("Get a custom role", roles.get_role)
custom.update(
    "Change a custom role (needs If-Match or version); its members get it at once",
    RoleUpdate,
    roles.update_role,
)
custom.delete("Delete a custom role no member holds (409 names how many do)", roles.delete_role)
