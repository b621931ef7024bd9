"""Teams API: CRUD and membership. Thin: parse, call, shape."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from servicedesk.platform.context import Ctx
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.rbac import Role
from servicedesk.platform.endpoints import Once, page_of, route, tagged
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


@route(router.get, "/teams", Role.AGENT, "List teams by name")
def list_teams(
    ctx: Ctx, limit: Limit = 50, cursor: Cursor = None, active: bool | None = None
) -> Page[TeamPublic]:
    return page_of(TeamPublic, service.list_teams(ctx, active=active, limit=limit, cursor=cursor))


@route(router.post, "/teams", Role.MANAGER, "Create a team", status_code=201)
def create_team(body: TeamCreate, ctx: Ctx, once: Once) -> TeamPublic:
    return once(body, lambda: TeamPublic.model_validate(service.create_team(ctx, data=body)))


@route(router.get, "/teams/{team_id}", Role.AGENT, "Get a team and its members")
def get_team(team_id: uuid.UUID, ctx: Ctx, response: Response) -> TeamDetail:
    return tagged(response, _detail(ctx, team_id))


@route(router.patch, "/teams/{team_id}", Role.MANAGER, "Change a team (needs If-Match or version)")
def update_team(
    team_id: uuid.UUID, body: TeamUpdate, ctx: Ctx, response: Response, if_match: IfMatch = None
) -> TeamPublic:
    team = service.update_team(ctx, team_id=team_id, data=body, if_match=parse_if_match(if_match))
    return tagged(response, TeamPublic.model_validate(team))


@route(
    router.put,
    "/teams/{team_id}/members/{user_id}",
    Role.MANAGER,
    "Add an agent to the team, or reactivate them",
)
def put_member(team_id: uuid.UUID, user_id: uuid.UUID, ctx: Ctx) -> TeamDetail:
    service.put_member(ctx, team_id=team_id, user_id=user_id)
    return _detail(ctx, team_id)


@route(
    router.delete,
    "/teams/{team_id}/members/{user_id}",
    Role.MANAGER,
    "Remove a member from the team",
    status_code=204,
)
def remove_member(team_id: uuid.UUID, user_id: uuid.UUID, ctx: Ctx) -> Response:
    service.remove_member(ctx, team_id=team_id, user_id=user_id)
    return Response(status_code=204)
