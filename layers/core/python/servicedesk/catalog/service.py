"""Catalog rules: categories, their custom-field schemas and default teams. Never commits."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from servicedesk.catalog import jsonschema
from servicedesk.catalog.models import Category
from servicedesk.catalog.schemas import CategoryCreate, CategoryUpdate
from servicedesk.platform import audit, crud
from servicedesk.platform.errors import NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TEXT, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.teams.models import Team

EMPTY_FIELDS_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}

BY_NAME = Keyset(
    [Key(func.lower(Category.name), TEXT, lambda c: c.name.lower()), Key(Category.id, UUID)]
)


def _visible(ctx: RequestContext) -> list[ColumnElement[bool]]:
    """One rule for lists and reads: requesters see only the categories they may pick."""
    where = [Category.tenant_id == ctx.tenant_id]
    if not ctx.is_staff:
        where.append(Category.active.is_(True))
    return where


def list_categories(
    ctx: RequestContext, *, active: bool | None, limit: int, cursor: str | None
) -> tuple[list[Category], str | None]:
    query = select(Category).where(*_visible(ctx))
    if active is not None:
        query = query.where(Category.active.is_(active))
    return paginate(ctx.session, query, BY_NAME, limit=limit, cursor=cursor)


def get_category(ctx: RequestContext, *, category_id: uuid.UUID, lock: bool = False) -> Category:
    query = select(Category).where(*_visible(ctx), Category.id == category_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    category = ctx.session.scalars(query).one_or_none()
    if category is None:
        raise NotFound("no such category")
    return category


def get_active_category(
    session: Session, *, tenant_id: uuid.UUID, category_id: uuid.UUID
) -> Category | None:
    """The category a new ticket names, if it is one of the tenant's active categories."""
    return session.scalars(
        select(Category).where(
            Category.tenant_id == tenant_id,
            Category.id == category_id,
            Category.active.is_(True),
        )
    ).one_or_none()


def _problems(
    ctx: RequestContext, *, fields_schema: object, team_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    errors = [] if fields_schema is None else jsonschema.check_schema(fields_schema)
    if team_id is not None:
        team = ctx.session.execute(
            select(Team.id).where(
                Team.tenant_id == ctx.tenant_id, Team.id == team_id, Team.active.is_(True)
            )
        ).first()
        if team is None:
            errors.append(field_error("default_team_id", "no such active team"))
    return errors


def _unique_name(ctx: RequestContext) -> AbstractContextManager[None]:
    return crud.unique_name(ctx.session, constraint="uq_categories_name", what="category")


def create_category(ctx: RequestContext, *, data: CategoryCreate) -> Category:
    errors = _problems(ctx, fields_schema=data.fields_schema, team_id=data.default_team_id)
    if errors:
        raise ValidationProblem(errors=errors)
    category = Category(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        name=data.name,
        description=data.description,
        fields_schema=data.fields_schema or EMPTY_FIELDS_SCHEMA,
        default_team_id=data.default_team_id,
    )
    return crud.created(
        ctx, category, _unique_name(ctx), "category", after=data.model_dump(mode="json")
    )


def update_category(
    ctx: RequestContext, *, category_id: uuid.UUID, data: CategoryUpdate, if_match: int | None
) -> Category:
    category, diff = crud.changes(
        lambda: get_category(ctx, category_id=category_id, lock=True), data, if_match, "category"
    )
    if not diff["after"]:
        return category
    # Only what changes is checked: sending back a default team retired since is no error.
    changes = diff["after"]
    errors = _problems(
        ctx, fields_schema=changes.get("fields_schema"), team_id=changes.get("default_team_id")
    )
    if errors:
        raise ValidationProblem(errors=errors)
    crud.changed(ctx, category, diff["after"], guard=_unique_name(ctx))
    audit.record(
        ctx, action="category.updated", entity_type="category", entity_id=category_id, data=diff
    )
    return category
