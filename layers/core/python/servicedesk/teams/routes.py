"""Teams API: CRUD and membership. Thin: parse, call, shape."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from servicedesk.platform import idempotency
from servicedesk.platform.context import Ctx
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.rbac import Role, requires
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import parse_if_match
from servicedesk.teams import service
from servicedesk.teams.schemas import (
    TeamCreate,
    TeamDetail,
    TeamMemberPublic,
    TeamPublic,
    TeamUpdate,
)

router = APIRouter(prefix="/v1", tags=["teams"])


def _detail(ctx: RequestContext, team_id: uuid.UUID) -> TeamDetail:
    team = TeamPublic.model_validate(service.get_team(ctx, team_id=team_id))
    members = [
        TeamMemberPublic.model_validate(m) for m in service.team_members(ctx, team_id=team_id)
    ]
    return TeamDetail(**team.model_dump(), members=members)


@router.get("/teams", dependencies=[requires(Role.AGENT)], summary="List teams by name")
def list_teams(
    ctx: Ctx, limit: Limit = 50, cursor: Cursor = None, active: bool | None = None
) -> Page[TeamPublic]:
    rows, nxt = service.list_teams(ctx, active=active, limit=limit, cursor=cursor)
    return Page(items=[TeamPublic.model_validate(r) for r in rows], next_cursor=nxt)


@router.post(
    "/teams",
    status_code=201,
    dependencies=[requires(Role.MANAGER)],
    summary="Create a team",
    response_model=TeamPublic,
)
def create_team(
    body: TeamCreate, request: Request, ctx: Ctx, key: idempotency.IdempotencyKey = None
) -> TeamPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: TeamPublic.model_validate(service.create_team(ctx, data=body)),
    )


@router.get(
    "/teams/{team_id}", dependencies=[requires(Role.AGENT)], summary="Get a team and its members"
)
def get_team(team_id: uuid.UUID, ctx: Ctx, response: Response) -> TeamDetail:
    team = _detail(ctx, team_id)
    response.headers["ETag"] = f'"{team.version}"'
    return team


@router.patch(
    "/teams/{team_id}",
    dependencies=[requires(Role.MANAGER)],
    summary="Change a team (needs If-Match or version)",
)
def update_team(
    team_id: uuid.UUID, body: TeamUpdate, ctx: Ctx, response: Response, if_match: IfMatch = None
) -> TeamPublic:
    updated = TeamPublic.model_validate(
        service.update_team(ctx, team_id=team_id, data=body, if_match=parse_if_match(if_match))
    )
    response.headers["ETag"] = f'"{updated.version}"'
    return updated


@router.put(
    "/teams/{team_id}/members/{user_id}",
    dependencies=[requires(Role.MANAGER)],
    summary="Add an agent to the team, or reactivate them",
)
def put_member(team_id: uuid.UUID, user_id: uuid.UUID, ctx: Ctx) -> TeamDetail:
    service.put_member(ctx, team_id=team_id, user_id=user_id)
    return _detail(ctx, team_id)


@router.delete(
    "/teams/{team_id}/members/{user_id}",
    status_code=204,
    dependencies=[requires(Role.MANAGER)],
    summary="Remove a member from the team",
)
def remove_member(team_id: uuid.UUID, user_id: uuid.UUID, ctx: Ctx) -> Response:
    service.remove_member(ctx, team_id=team_id, user_id=user_id)
    return Response(status_code=204)
