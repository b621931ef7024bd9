"""Who sees and who may change a project.

A project is visible to its members and to holders of ``project:read_all``; anything else
answers 404, as if it did not exist. Changing it needs a project role high enough for the
change (viewer < member < manager < owner), or ``project:manage_all``: a principal who
sees the project without that answers 403 naming the role needed.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import ColumnElement, exists, select, text

from servicedesk.platform.errors import Forbidden, NotFound, field_error
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.projects.models import Project, ProjectMember
from servicedesk.tickets import timeline


class Level(enum.IntEnum):
    """What a change needs, by project role."""

    READ = 0  # viewer
    WORK = 1  # member: tasks, dependencies, comments
    MANAGE = 2  # manager: settings, columns, members
    OWN = 3  # owner


ROLE_LEVEL = {
    "viewer": Level.READ,
    "member": Level.WORK,
    "manager": Level.MANAGE,
    "owner": Level.OWN,
}


def visible(ctx: RequestContext) -> ColumnElement[bool]:
    """The SQL rule "the caller may see this project" (for lists and reads)."""
    if ctx.can(Permission.PROJECT_READ_ALL):
        return Project.tenant_id == ctx.tenant_id
    member = exists().where(
        ProjectMember.project_id == Project.id, ProjectMember.user_id == ctx.user_id
    )
    return (Project.tenant_id == ctx.tenant_id) & member


def may_see(ctx: RequestContext, project_id: uuid.UUID) -> bool:
    """The rule of ``visible`` for one project (the realtime room's join rule)."""
    return bool(ctx.session.scalar(select(exists().where(Project.id == project_id, visible(ctx)))))


def visible_ids(ctx: RequestContext, ids: set[uuid.UUID]) -> set[str]:
    """Which of ``ids`` the caller may see (a ticket timeline's task events name them)."""
    query = select(Project.id).where(Project.id.in_(ids), visible(ctx))
    return {str(i) for i in ctx.session.scalars(query)}


timeline.resolves("project", visible_ids)


def role_of(ctx: RequestContext, project_id: uuid.UUID) -> str | None:
    found = ctx.session.scalar(
        select(ProjectMember.role).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id == ctx.user_id
        )
    )
    return str(found) if found is not None else None


def project(
    ctx: RequestContext, project_id: uuid.UUID, level: Level = Level.READ, *, lock: bool = False
) -> Project:
    """The project at ``level`` for the caller: 404 unseen, 403 seen but not allowed.

    ``lock``: the row FOR UPDATE, which serialises a project's structural writes (task
    numbers, board ranks, dependency edges: the cycle check reads under it)."""
    query = select(Project).where(Project.id == project_id, visible(ctx))
    if lock:
        query = query.with_for_update(of=Project)
    found = ctx.session.scalars(query).one_or_none()
    if found is None:
        raise NotFound("no such project")
    if level > Level.READ and not ctx.can(Permission.PROJECT_MANAGE_ALL):
        role = role_of(ctx, found.id)
        if role is None or ROLE_LEVEL[role] < level:
            needed = {Level.WORK: "member", Level.MANAGE: "manager", Level.OWN: "owner"}[level]
            raise Forbidden(
                f"this needs the project role {needed} or above",
                errors=[field_error("project_id", f"needs project role {needed}")],
            )
    return found


def lock_project(ctx: RequestContext, project_id: uuid.UUID) -> None:
    """Take the project's row lock (already checked visible)."""
    ctx.session.execute(text("SELECT 1 FROM projects WHERE id = :p FOR UPDATE"), {"p": project_id})


def users(ctx: RequestContext, ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """User summaries ({id, name, email}) by id."""
    if not ids:
        return {}
    rows = ctx.session.execute(
        text("SELECT id, name, email FROM users WHERE id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": [str(i) for i in ids]},
    ).mappings()
    return {row["id"]: dict(row) for row in rows}


def is_staff_member(ctx: RequestContext, user_id: uuid.UUID) -> bool:
    """An active staff member of the tenant (requesters hold no project permission)."""
    return bool(
        ctx.session.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM memberships WHERE tenant_id = :t AND user_id = :u"
                " AND active AND role <> 'requester')"
            ),
            {"t": ctx.tenant_id, "u": user_id},
        )
    )
