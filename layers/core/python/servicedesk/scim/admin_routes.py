"""``/v1/scim``: the admin's SCIM settings, token and group mappings (problem+json, like
the rest of /v1; the IdP-facing ``/scim/v2`` is scim/routes.py)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from servicedesk.identity import memberships
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import route
from servicedesk.platform.params import IfMatch
from servicedesk.platform.rbac import Permission
from servicedesk.platform.roles import Role
from servicedesk.platform.versioning import parse_if_match
from servicedesk.scim import admin
from servicedesk.scim.errors import ScimError
from servicedesk.scim.schemas import (
    ScimGroupMapping,
    ScimGroupOut,
    ScimGroupsOut,
    ScimSettingsIn,
    ScimSettingsOut,
    ScimTokenInfo,
    ScimTokenOut,
)

router = APIRouter(prefix="/v1", tags=["scim"])


def _base_url(request: Request) -> str:
    url = str(request.url)
    return url[: url.index("/v1/scim")] + "/scim/v2"


def _settings(request: Request, row: Any) -> ScimSettingsOut:
    token = (
        ScimTokenInfo(
            prefix=row.token_prefix,
            created_at=row.token_created_at,
            created_by=row.token_created_by,
        )
        if row.token_prefix
        else None
    )
    return ScimSettingsOut(
        enabled=row.enabled,
        default_role=Role(row.default_role),
        token=token,
        base_url=_base_url(request),
        version=row.version,
    )


@route(
    router.get, "/scim/settings", Permission.ADMIN_IDENTITY, "SCIM provisioning: settings and token"
)
def get_settings(request: Request, ctx: Ctx, response: Response) -> ScimSettingsOut:
    out = _settings(request, admin.config(ctx))
    response.headers["ETag"] = f'"{out.version}"'
    return out


@route(
    router.put,
    "/scim/settings",
    Permission.ADMIN_IDENTITY,
    "Enable or disable SCIM provisioning, and the provisioned people's default role",
)
def put_settings(
    request: Request, data: ScimSettingsIn, ctx: Ctx, response: Response, if_match: IfMatch = None
) -> ScimSettingsOut:
    out = _settings(request, admin.update(ctx, data, if_match=parse_if_match(if_match)))
    response.headers["ETag"] = f'"{out.version}"'
    return out


@route(
    router.post,
    "/scim/token",
    Permission.ADMIN_IDENTITY,
    "Make a new SCIM token (the old one stops at once); shown once",
    status_code=201,
)
def rotate_token(ctx: Ctx, response: Response) -> ScimTokenOut:
    raw, row = admin.rotate_token(ctx)
    response.headers["Cache-Control"] = "no-store"
    return ScimTokenOut(token=raw, prefix=row.token_prefix, created_at=row.token_created_at)


@route(
    router.delete,
    "/scim/token",
    Permission.ADMIN_IDENTITY,
    "Revoke the SCIM token",
    status_code=204,
    response_class=Response,
)
def revoke_token(ctx: Ctx) -> Response:
    admin.revoke_token(ctx)
    return Response(status_code=204)


@route(
    router.get,
    "/scim/groups",
    Permission.ADMIN_IDENTITY,
    "The provisioned groups and their mappings",
)
def list_groups(ctx: Ctx) -> ScimGroupsOut:
    return ScimGroupsOut(
        items=[ScimGroupOut.model_validate(g, from_attributes=True) for g in admin.list_groups(ctx)]
    )


@route(
    router.put,
    "/scim/groups/{group_id}/mapping",
    Permission.ADMIN_IDENTITY,
    "Map a provisioned group to a team and/or a role (its members follow)",
)
def map_group(group_id: uuid.UUID, data: ScimGroupMapping, ctx: Ctx) -> ScimGroupOut:
    try:
        row = admin.map_group(ctx, group_id, data)
    except ScimError as exc:
        # The only refusal left after the group is found: a member is the tenant's last
        # admin and the mapped role would demote them (identity/memberships.py).
        raise memberships.LastAdmin("role") from exc
    return ScimGroupOut.model_validate(row, from_attributes=True)
