"""Saved views: named ticket-list filters, personal or shared with a team or the tenant.

No HTTP here and no commit. Who sees a view (one predicate, ``_visible``, for the list and
the direct read: what the caller may not see is 404): its owner; staff of its team
(admins: every team's) for a team view; every staff member for a tenant view. Who changes
or deletes one: its owner, or an admin (a shared view). Who shares: a team view needs a
staff member of that team (or an admin), a tenant view an admin. The filters are checked by
the ticket list's own filter model and stored as it normalises them.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, false, or_, select, text

from servicedesk.exports.schemas import TicketExportParams
from servicedesk.platform import audit, crud
from servicedesk.platform.errors import (
    Forbidden,
    NotFound,
    ValidationProblem,
    field_error,
    validation_errors,
)
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.teams.models import TeamMember
from servicedesk.views.models import SavedView
from servicedesk.views.schemas import ViewCreate, ViewUpdate

UNIQUE = "uq_saved_views_owner_name"


def check_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters as GET /v1/tickets would read them (422 naming ``filters.<name>``),
    without the defaults."""
    try:
        checked = TicketExportParams.model_validate(filters)
    except ValidationError as exc:
        raise ValidationProblem(errors=validation_errors(exc.errors(), prefix="filters.")) from exc
    return checked.model_dump(mode="json", exclude_defaults=True)


def _my_teams(ctx: RequestContext) -> Any:
    return select(TeamMember.team_id).where(
        TeamMember.tenant_id == ctx.tenant_id,
        TeamMember.user_id == ctx.user_id,
        TeamMember.active,
    )


def _visible(ctx: RequestContext) -> ColumnElement[bool]:
    shared: ColumnElement[bool] = false()
    if ctx.is_staff:
        team = SavedView.scope == "team"
        if not ctx.can(Permission.VIEW_SHARE_TENANT):
            team = and_(team, SavedView.team_id.in_(_my_teams(ctx)))
        shared = or_(SavedView.scope == "tenant", team)
    return and_(
        SavedView.tenant_id == ctx.tenant_id, or_(SavedView.owner_id == ctx.user_id, shared)
    )


def _check_sharing(ctx: RequestContext, scope: str, team_id: uuid.UUID | None) -> None:
    if scope != "team":
        if team_id is not None:
            raise ValidationProblem(errors=[field_error("team_id", "only for scope team")])
        if scope == "tenant" and not ctx.can(Permission.VIEW_SHARE_TENANT):
            raise Forbidden(
                "admins share views with the organisation",
                errors=[field_error("scope", "tenant views are shared by admins")],
            )
        return
    if team_id is None:
        raise ValidationProblem(errors=[field_error("team_id", "required for scope team")])
    if not ctx.is_staff:
        raise Forbidden(
            "staff share views with a team",
            errors=[field_error("scope", "team views are shared by agents")],
        )
    _check_team(ctx, team_id)


def _check_team(ctx: RequestContext, team_id: uuid.UUID) -> None:
    """An active team of the tenant, and (but for admins) one of the caller's."""
    active = ctx.session.execute(
        text("SELECT 1 FROM teams WHERE tenant_id = :t AND id = :id AND active"),
        {"t": ctx.tenant_id, "id": team_id},
    ).first()
    if active is None:
        raise ValidationProblem(errors=[field_error("team_id", "no such active team")])
    if ctx.can(Permission.VIEW_SHARE_TENANT):
        return
    member = ctx.session.execute(_my_teams(ctx).where(TeamMember.team_id == team_id)).first()
    if member is None:
        raise Forbidden(
            "you share views with your own teams",
            errors=[field_error("team_id", "not one of your teams")],
        )


def create_view(ctx: RequestContext, *, data: ViewCreate) -> SavedView:
    _check_sharing(ctx, data.scope, data.team_id)
    view = SavedView(
        tenant_id=ctx.tenant_id,
        owner_id=ctx.user_id,
        name=data.name,
        scope=data.scope,
        team_id=data.team_id,
        filters=check_filters(data.filters),
    )
    return crud.created(
        ctx,
        view,
        crud.unique_name(ctx.session, constraint=UNIQUE, what="view"),
        "saved_view",
        after={"name": data.name, "scope": data.scope, "team_id": str(data.team_id or "")},
    )


BY_CREATION = Keyset([Key(SavedView.created_at, TIMESTAMP), Key(SavedView.id, UUID)])


def list_views(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[SavedView], str | None]:
    return paginate(
        ctx.session, select(SavedView).where(_visible(ctx)), BY_CREATION, limit=limit, cursor=cursor
    )


def get_view(ctx: RequestContext, *, view_id: uuid.UUID, lock: bool = False) -> SavedView:
    query = select(SavedView).where(SavedView.id == view_id, _visible(ctx))
    view = ctx.session.scalars(query.with_for_update() if lock else query).one_or_none()
    if view is None:
        raise NotFound("no such view")
    return view


def _writable(ctx: RequestContext, view_id: uuid.UUID) -> SavedView:
    view = get_view(ctx, view_id=view_id, lock=True)
    if view.owner_id != ctx.user_id and not ctx.can(Permission.VIEW_SHARE_TENANT):
        raise Forbidden("only its owner or an admin changes a shared view")
    return view


def update_view(
    ctx: RequestContext, *, view_id: uuid.UUID, data: ViewUpdate, if_match: int | None
) -> SavedView:
    for name in ("name", "scope", "filters"):
        if name in data.model_fields_set and getattr(data, name) is None:
            raise ValidationProblem(errors=[field_error(name, "may not be null")])
    view, diff = crud.changes(lambda: _writable(ctx, view_id), data, if_match, "view", "json")
    after = diff["after"]
    if "filters" in after:
        after["filters"] = check_filters(after["filters"])
        if after["filters"] == view.filters:
            del after["filters"]
    if "scope" in after or "team_id" in data.model_fields_set:
        scope = after.get("scope", view.scope)
        team = data.team_id if "team_id" in data.model_fields_set else view.team_id
        if scope != "team" and "team_id" not in data.model_fields_set:
            team = None
        _check_sharing(ctx, scope, team)
        after["scope"], after["team_id"] = scope, team
        after = {k: v for k, v in after.items() if getattr(view, k) != v}
    if not after:
        return view
    crud.changed(
        ctx, view, after, guard=crud.unique_name(ctx.session, constraint=UNIQUE, what="view")
    )
    audit.record(
        ctx,
        action="saved_view.updated",
        entity_type="saved_view",
        entity_id=view_id,
        data={"after": {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in after.items()}},
    )
    return view


def delete_view(ctx: RequestContext, *, view_id: uuid.UUID) -> None:
    view = _writable(ctx, view_id)
    ctx.session.delete(view)
    ctx.session.flush()
    audit.record(ctx, action="saved_view.deleted", entity_type="saved_view", entity_id=view_id)
