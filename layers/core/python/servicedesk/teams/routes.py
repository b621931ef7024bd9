"""Teams API: CRUD and membership. Thin: parse, call, shape."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import Resource, operation, route, tagged
from servicedesk.platform.rbac import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.teams import service
from servicedesk.teams.schemas import (
    TeamCreate,
    TeamDetail,
    TeamMemberPublic,
    TeamPublic,
    TeamUpdate,
)

router = APIRouter(prefix="/v1", tags=["teams"])
teams = Resource(
    router,
    "/teams",
    "team_id",
    "team",
    TeamPublic,
    Permission.DIRECTORY_READ,
    Permission.TEAM_MANAGE,
)


def _detail(ctx: RequestContext, team_id: uuid.UUID) -> TeamDetail:
    team = TeamPublic.model_validate(service.get_team(ctx, team_id=team_id))
    members = [
        TeamMemberPublic.model_validate(m) for m in service.team_members(ctx, team_id=team_id)
    ]
    return TeamDetail(**team.model_dump(), members=members)


teams.list("List teams by name", service.list_teams, query={"active": bool | None})
teams.create("Create a team", TeamCreate, service.create_team)


@route(router.get, "/teams/{team_id}", Permission.DIRECTORY_READ, "Get a team and its members")
def get_team(team_id: uuid.UUID, ctx: Ctx, response: Response) -> TeamDetail:
    return tagged(response, _detail(ctx, team_id))


teams.update("Change a team (needs If-Match or version)", TeamUpdate, service.update_team)


@route(
    router.put,
    "/teams/{team_id}/members/{user_id}",
    Permission.TEAM_MANAGE,
    "Add an agent to the team, or reactivate them",
)
def put_member(team_id: uuid.UUID, user_id: uuid.UUID, ctx: Ctx) -> TeamDetail:
    service.put_member(ctx, team_id=team_id, user_id=user_id)
    return _detail(ctx, team_id)


operation(
    router.delete,
    "/teams/{team_id}/members/{user_id}",
    Permission.TEAM_MANAGE,
    "Remove a member from the team",
    service.remove_member,
)
