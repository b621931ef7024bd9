"""Team rules: CRUD, membership, and the automatic assignment inside a team. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import and_, column, delete, func, literal, select, table, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from servicedesk.identity.models import Membership, User
from servicedesk.platform import audit, crud
from servicedesk.platform.errors import (
    NotFound,
    ProblemError,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.pagination import TEXT, UUID, Key, Keyset, paginate
from servicedesk.platform.roles import STAFF_ROLES
from servicedesk.platform.tenancy import RequestContext
from servicedesk.teams.models import Team, TeamMember
from servicedesk.teams.schemas import AssignmentStrategy, TeamCreate, TeamUpdate

# Only the columns least_open reads; the tickets domain owns the table and its model.
_tickets = table("tickets", column("tenant_id"), column("assignee_id"), column("status"))


BY_NAME = Keyset([Key(func.lower(Team.name), TEXT, lambda t: t.name.lower()), Key(Team.id, UUID)])


def list_teams(
    ctx: RequestContext, *, active: bool | None, limit: int, cursor: str | None
) -> tuple[list[Team], str | None]:
    query = select(Team).where(Team.tenant_id == ctx.tenant_id)
    if active is not None:
        query = query.where(Team.active.is_(active))
    return paginate(ctx.session, query, BY_NAME, limit=limit, cursor=cursor)


def get_team(ctx: RequestContext, *, team_id: uuid.UUID, lock: bool = False) -> Team:
    team = ctx.session.get(Team, team_id, with_for_update=lock or None)
    if team is None or team.tenant_id != ctx.tenant_id:
        raise NotFound("no such team")
    return team


def team_members(ctx: RequestContext, *, team_id: uuid.UUID) -> list[Any]:
    query = (
        select(
            TeamMember.user_id,
            User.name,
            User.email,
            Membership.role,
            TeamMember.active,
            Membership.active.label("user_active"),
            TeamMember.created_at,
        )
        .join(
            Membership,
            and_(
                Membership.tenant_id == TeamMember.tenant_id,
                Membership.user_id == TeamMember.user_id,
            ),
        )
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.tenant_id == ctx.tenant_id, TeamMember.team_id == team_id)
        .order_by(func.lower(User.name), TeamMember.user_id)
    )
    return list(ctx.session.execute(query).all())


def _unique_name(ctx: RequestContext) -> AbstractContextManager[None]:
    return crud.unique_name(ctx.session, constraint="uq_teams_name", what="team")


def create_team(ctx: RequestContext, *, data: TeamCreate) -> Team:
    team = Team(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        name=data.name,
        description=data.description,
        assignment_strategy=data.assignment_strategy.value,
    )
    return crud.created(ctx, team, _unique_name(ctx), "team", after=data.model_dump(mode="json"))


def update_team(
    ctx: RequestContext, *, team_id: uuid.UUID, data: TeamUpdate, if_match: int | None
) -> Team:
    team, diff = crud.changes(
        lambda: get_team(ctx, team_id=team_id, lock=True), data, if_match, "team", "json"
    )
    if not diff["after"]:
        return team
    crud.changed(ctx, team, diff["after"], guard=_unique_name(ctx))
    audit.record(ctx, action="team.updated", entity_type="team", entity_id=team_id, data=diff)
    return team


def _check_assignable(ctx: RequestContext, user_id: uuid.UUID) -> None:
    row = ctx.session.execute(
        select(Membership.role, Membership.active).where(
            Membership.tenant_id == ctx.tenant_id, Membership.user_id == user_id
        )
    ).one_or_none()
    if row is None or not row.active or row.role not in STAFF_ROLES:
        raise ValidationProblem(
            "only active agents, managers and admins of this tenant can be team members",
            errors=[field_error("user_id", "not an active agent of this tenant")],
        )


def put_member(ctx: RequestContext, *, team_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Add the user to the team, or reactivate them; a no-op when already active."""
    get_team(ctx, team_id=team_id)
    _check_assignable(ctx, user_id)
    # Insert-or-nothing, then reactivate: safe against a concurrent PUT of the same member.
    inserted = ctx.session.execute(
        insert(TeamMember)
        .values(tenant_id=ctx.tenant_id, team_id=team_id, user_id=user_id)
        .on_conflict_do_nothing()
        .returning(TeamMember.user_id)
    ).first()
    before: dict[str, Any] | None = None
    if inserted is None:
        reactivated = ctx.session.execute(
            update(TeamMember)
            .where(
                TeamMember.tenant_id == ctx.tenant_id,
                TeamMember.team_id == team_id,
                TeamMember.user_id == user_id,
                TeamMember.active.is_(False),
            )
            .values(active=True)
            .returning(TeamMember.user_id)
        ).first()
        if reactivated is None:
            return
        before = {"active": False}
    audit.record(
        ctx,
        action="team.member_added",
        entity_type="team",
        entity_id=team_id,
        data={"user_id": user_id, "before": before, "after": {"active": True}},
    )


def follow_groups(
    ctx: RequestContext,
    user_id: uuid.UUID,
    *,
    mapped: Collection[uuid.UUID],
    member_of: Collection[uuid.UUID],
) -> None:
    """An identity source's group → team mapping (SCIM groups, LDAP groups) applied to one
    person: into each mapped team whose group they are in, out of the mapped teams whose
    group they are not, through the same rules and audit as the API. Nothing happens for
    whom teams do not take (requesters, the inactive), teams deleted since, or memberships
    already as they should be."""
    for team_id in mapped:
        try:
            if team_id in member_of:
                put_member(ctx, team_id=team_id, user_id=user_id)
            else:
                remove_member(ctx, team_id=team_id, user_id=user_id)
        except ProblemError:
            continue


def remove_member(ctx: RequestContext, *, team_id: uuid.UUID, user_id: uuid.UUID) -> None:
    get_team(ctx, team_id=team_id)
    removed = ctx.session.execute(
        delete(TeamMember)
        .where(
            TeamMember.tenant_id == ctx.tenant_id,
            TeamMember.team_id == team_id,
            TeamMember.user_id == user_id,
        )
        .returning(TeamMember.active)
    ).first()
    if removed is None:
        raise NotFound("not a member of this team")
    audit.record(
        ctx,
        action="team.member_removed",
        entity_type="team",
        entity_id=team_id,
        data={"user_id": user_id, "before": {"active": removed.active}, "after": None},
    )


def _eligible(tenant_id: uuid.UUID, team_id: uuid.UUID) -> Any:
    """Members who can take work: active in the team, active in the tenant, and staff."""
    return (
        select(TeamMember.user_id)
        .join(
            Membership,
            and_(
                Membership.tenant_id == TeamMember.tenant_id,
                Membership.user_id == TeamMember.user_id,
            ),
        )
        .where(
            TeamMember.tenant_id == tenant_id,
            TeamMember.team_id == team_id,
            TeamMember.active.is_(True),
            Membership.active.is_(True),
            Membership.role.in_(STAFF_ROLES),
        )
    )


MANUAL = AssignmentStrategy.MANUAL


def pick_assignee(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    team_id: uuid.UUID,
    open_statuses: Collection[str],
    strategy: AssignmentStrategy | None = None,
) -> uuid.UUID | None:
    """The member a new ticket for the team goes to, by the team's strategy (or
    ``strategy``, an automatic one an action names); None for nobody.

    ``least_open`` counts each member's tickets in ``open_statuses`` (the tickets domain
    defines them; ix_tickets_open_assignee covers exactly those).

    Runs in the ticket-creating transaction. For an automatic strategy the team row stays
    locked until it commits, so concurrent creations take turns and each sees the
    assignment the previous one made. FOR NO KEY UPDATE, not FOR UPDATE: it still excludes
    other pickers, but does not block inserts that merely reference the team
    (tickets.team_id takes a KEY SHARE lock). A manual or inactive team picks nobody and is
    not locked at all, so its tickets do not queue behind each other's commits.
    """
    columns = (Team.assignment_strategy, Team.last_assigned_user_id, Team.active)
    where = (Team.tenant_id == tenant_id, Team.id == team_id)
    team = session.execute(select(*columns).where(*where)).one_or_none()
    if team is None or not team.active or (strategy or team.assignment_strategy) == MANUAL:
        return None
    # Read again under the lock: the strategy or the rotation may have moved meanwhile.
    team = session.execute(
        select(*columns).where(*where).with_for_update(key_share=True)
    ).one_or_none()
    chosen_strategy = strategy or (team.assignment_strategy if team is not None else MANUAL)
    if team is None or not team.active or chosen_strategy == MANUAL:
        return None
    query = _eligible(tenant_id, team_id)
    if chosen_strategy == AssignmentStrategy.ROUND_ROBIN:
        last = team.last_assigned_user_id
        # Members after the last one come first, then the rotation wraps around.
        wrapped = TeamMember.user_id <= last if last is not None else literal(False)
        query = query.order_by(wrapped, TeamMember.user_id)
    else:
        open_tickets = (
            select(func.count())
            .select_from(_tickets)
            .where(
                _tickets.c.tenant_id == tenant_id,
                _tickets.c.assignee_id == TeamMember.user_id,
                _tickets.c.status.in_(open_statuses),
            )
            .scalar_subquery()
        )
        query = query.order_by(open_tickets, TeamMember.user_id)
    chosen: uuid.UUID | None = session.scalar(query.limit(1))
    if chosen is not None:
        # Not a change a manager made: no version bump, so no spurious 412 on their edit.
        session.execute(
            update(Team)
            .where(Team.tenant_id == tenant_id, Team.id == team_id)
            .values(last_assigned_user_id=chosen)
        )
    return chosen
