"""Projects: list, create (default columns, the creator as owner), read, edit, the board
columns and the members. No HTTP here, never a commit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.exc import IntegrityError

from servicedesk.platform import audit
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TEXT, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version
from servicedesk.projects import access, events
from servicedesk.projects.access import Level
from servicedesk.projects.models import Project, ProjectColumn, ProjectMember, Task
from servicedesk.projects.schemas import ColumnsSet, ProjectCreate, ProjectUpdate

BY_NAME = Keyset(
    [
        Key(func.lower(Project.name), TEXT, read=lambda p: p.name.lower()),
        Key(Project.id, UUID),
    ]
)
DEFAULT_COLUMNS = (
    ("To do", "todo"),
    ("In progress", "in_progress"),
    ("Blocked", "in_progress"),
    ("Done", "done"),
)
MAX_MEMBERS = 200


def columns_of(ctx: RequestContext, project_id: uuid.UUID) -> list[ProjectColumn]:
    return list(
        ctx.session.scalars(
            select(ProjectColumn)
            .where(ProjectColumn.project_id == project_id)
            .order_by(ProjectColumn.position)
        )
    )


_COUNTS = text(
    """
    SELECT t.project_id, count(*) AS tasks,
           count(*) FILTER (WHERE c.category <> 'done') AS open_tasks
    FROM project_tasks t JOIN project_columns c ON c.id = t.column_id
    WHERE t.project_id = ANY(CAST(:ids AS uuid[])) GROUP BY t.project_id
    """
)
_ROLES = text(
    "SELECT project_id, role FROM project_members"
    " WHERE project_id = ANY(CAST(:ids AS uuid[])) AND user_id = :u"
)


def summaries(ctx: RequestContext, projects: list[Project]) -> list[dict[str, Any]]:
    ids = [str(p.id) for p in projects]
    counts = {r["project_id"]: r for r in ctx.session.execute(_COUNTS, {"ids": ids}).mappings()}
    roles: dict[uuid.UUID, str] = dict(
        ctx.session.execute(_ROLES, {"ids": ids, "u": ctx.user_id}).all()
    )
    owners = access.users(ctx, {p.owner_id for p in projects})
    out = []
    for p in projects:
        found = counts.get(p.id)
        out.append(
            {
                **{c.key: getattr(p, c.key) for c in Project.__table__.columns},
                "owner": owners[p.owner_id],
                "my_role": roles.get(p.id),
                "counts": {
                    "tasks": found["tasks"] if found else 0,
                    "open_tasks": found["open_tasks"] if found else 0,
                },
            }
        )
    return out


def view(ctx: RequestContext, project: Project) -> dict[str, Any]:
    return {**summaries(ctx, [project])[0], "columns": columns_of(ctx, project.id)}


def list_projects(
    ctx: RequestContext,
    *,
    q: str | None,
    status: str | None,
    archived: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    query: Select[Any] = select(Project).where(access.visible(ctx))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Project.name.ilike(pattern), Project.key.ilike(pattern)))
    if status is not None:
        query = query.where(Project.status == status)
    query = query.where(Project.archived.is_(bool(archived)))
    rows, nxt = paginate(ctx.session, query, BY_NAME, limit=limit, cursor=cursor)
    return summaries(ctx, rows), nxt


def get_project(ctx: RequestContext, *, project_id: uuid.UUID) -> dict[str, Any]:
    return view(ctx, access.project(ctx, project_id))


def _check_owner(ctx: RequestContext, user_id: uuid.UUID, field: str = "owner_id") -> None:
    if not access.is_staff_member(ctx, user_id):
        raise ValidationProblem(errors=[field_error(field, "not a staff member")])


def _set_member(ctx: RequestContext, project_id: uuid.UUID, user_id: uuid.UUID, role: str) -> None:
    ctx.session.execute(
        text(
            "INSERT INTO project_members (tenant_id, project_id, user_id, role)"
            " VALUES (:t, :p, :u, :r)"
            " ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role"
        ),
        {"t": ctx.tenant_id, "p": project_id, "u": user_id, "r": role},
    )


def create_project(ctx: RequestContext, *, data: ProjectCreate) -> dict[str, Any]:
    """The creator becomes owner (and ``owner_id``, when named, an owner too); key taken:
    409 naming ``key``."""
    owner_id = data.owner_id or ctx.user_id
    if owner_id != ctx.user_id:
        _check_owner(ctx, owner_id)
    project = Project(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        owner_id=owner_id,
        settings={"date_conflicts": "warn"},
        **data.model_dump(exclude={"owner_id"}),
    )
    try:
        with ctx.session.begin_nested():
            ctx.session.add(project)
            ctx.session.flush()
    except IntegrityError:
        raise Conflict(
            "a project with this key exists", errors=[field_error("key", "already taken")]
        ) from None
    ctx.session.add_all(
        ProjectColumn(
            tenant_id=ctx.tenant_id, project_id=project.id, name=name, category=cat, position=i
        )
        for i, (name, cat) in enumerate(DEFAULT_COLUMNS)
    )
    _set_member(ctx, project.id, ctx.user_id, "owner")
    if owner_id != ctx.user_id:
        _set_member(ctx, project.id, owner_id, "owner")
    ctx.session.flush()
    ctx.session.refresh(project)
    audit.record(
        ctx,
        action="project.created",
        entity_type="project",
        entity_id=project.id,
        data={"after": data.model_dump(mode="json")},
    )
    _emit(ctx, "project.created", project)
    return view(ctx, project)


def _emit(ctx: RequestContext, kind: str, project: Project, **extra: Any) -> None:
    events.emit(
        ctx,
        kind,
        project_id=project.id,
        aggregate_type="project",
        aggregate_id=project.id,
        key=project.key,
        name=project.name,
        status=project.status,
        archived=project.archived,
        **extra,
    )


def _saved(ctx: RequestContext, project: Project, data: dict[str, Any], changed: list[str]) -> None:
    project.version += 1
    project.updated_at = func.now()
    ctx.session.flush()
    ctx.session.refresh(project)
    audit.record(
        ctx, action="project.updated", entity_type="project", entity_id=project.id, data=data
    )
    _emit(ctx, "project.updated", project, changed=changed)


def _locked(
    ctx: RequestContext,
    project_id: uuid.UUID,
    level: Level,
    version: int | None,
    if_match: int | None,
) -> Project:
    expected = expected_version(version, if_match)
    project = access.project(ctx, project_id, level, lock=True)
    check_version(project.version, expected, what="project")
    return project


def update_project(
    ctx: RequestContext, *, project_id: uuid.UUID, data: ProjectUpdate, if_match: int | None
) -> dict[str, Any]:
    project = _locked(ctx, project_id, Level.MANAGE, data.version, if_match)
    sent = data.model_dump(exclude_unset=True, exclude={"version"})
    if not sent:
        return view(ctx, project)
    start = sent.get("start_date", project.start_date)
    target = sent.get("target_date", project.target_date)
    if start is not None and target is not None and target < start:
        raise ValidationProblem(errors=[field_error("target_date", "before start_date")])
    if "owner_id" in sent and sent["owner_id"] != project.owner_id:
        _check_owner(ctx, sent["owner_id"])
        _set_member(ctx, project.id, sent["owner_id"], "owner")
    for key, value in sent.items():
        setattr(project, key, value)
    changed = sorted(sent)
    _saved(ctx, project, {"changed": changed}, changed)
    return view(ctx, project)


def set_columns(
    ctx: RequestContext, *, project_id: uuid.UUID, data: ColumnsSet, if_match: int | None
) -> dict[str, Any]:
    """Replace the ordered columns: existing ids kept (renamed, re-categorised, moved), new
    ones made; a removed column that still holds tasks: 409 naming it; at least one
    ``done`` column (422 naming ``columns``)."""
    project = _locked(ctx, project_id, Level.MANAGE, data.version, if_match)
    current = {c.id: c for c in columns_of(ctx, project.id)}
    errors = []
    seen: set[uuid.UUID] = set()
    for i, column in enumerate(data.columns):
        if column.id is not None and (column.id not in current or column.id in seen):
            errors.append(field_error(f"columns.{i}.id", "not a column of this project"))
        if column.id is not None:
            seen.add(column.id)
    if not any(c.category == "done" for c in data.columns):
        errors.append(field_error("columns", "needs at least one done column"))
    if errors:
        raise ValidationProblem(errors=errors)
    removed = [c for cid, c in current.items() if cid not in seen]
    held = {
        row[0]
        for row in ctx.session.execute(
            text(
                "SELECT DISTINCT column_id FROM project_tasks WHERE project_id = :p"
                " AND column_id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"p": project.id, "ids": [str(c.id) for c in removed]},
        )
    }
    busy = [c for c in removed if c.id in held]
    if busy:
        positions = {c.id: c.position for c in current.values()}
        raise Conflict(
            "move the tasks out of a column before removing it",
            errors=[
                field_error(f"columns[{positions[c.id]}]", f"{c.name!r} still holds tasks")
                for c in busy
            ],
        )
    for gone in removed:
        ctx.session.delete(gone)
    for i, sent in enumerate(data.columns):
        if sent.id is not None:
            row = current[sent.id]
            row.name, row.category, row.position = sent.name, sent.category, i
            row.wip_limit = sent.wip_limit
        else:
            ctx.session.add(
                ProjectColumn(
                    tenant_id=ctx.tenant_id,
                    project_id=project.id,
                    name=sent.name,
                    category=sent.category,
                    position=i,
                    wip_limit=sent.wip_limit,
                )
            )
    ctx.session.flush()
    _saved(ctx, project, {"columns": data.model_dump(mode="json")["columns"]}, ["columns"])
    return view(ctx, project)


# -- members -----------------------------------------------------------------------------


def list_members(ctx: RequestContext, *, project_id: uuid.UUID) -> list[dict[str, Any]]:
    access.project(ctx, project_id)
    rows = ctx.session.execute(
        text(
            "SELECT u.id, u.name, u.email, m.role FROM project_members m"
            " JOIN users u ON u.id = m.user_id WHERE m.project_id = :p"
            " ORDER BY lower(u.name), u.id LIMIT :n"
        ),
        {"p": project_id, "n": MAX_MEMBERS},
    ).mappings()
    return [
        {"user": {"id": r["id"], "name": r["name"], "email": r["email"]}, "role": r["role"]}
        for r in rows
    ]


def _owners(ctx: RequestContext, project_id: uuid.UUID) -> int:
    return int(
        ctx.session.scalar(
            select(func.count()).where(
                ProjectMember.project_id == project_id, ProjectMember.role == "owner"
            )
        )
        or 0
    )


def set_member(
    ctx: RequestContext, *, project_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> dict[str, Any]:
    """Add or change a member (a staff member of the organisation, else 404); making an
    owner takes an owner (or ``project:manage_all``); the last owner stays an owner (409)."""
    level = Level.OWN if role == "owner" else Level.MANAGE
    project = access.project(ctx, project_id, level, lock=True)
    if not access.is_staff_member(ctx, user_id):
        raise NotFound("no such staff member")
    before = ctx.session.get(ProjectMember, (project.id, user_id))
    if before is not None and before.role == "owner" and role != "owner":
        access.project(ctx, project_id, Level.OWN)
        if _owners(ctx, project.id) <= 1:
            raise Conflict(
                "a project keeps at least one owner", errors=[field_error("role", "last owner")]
            )
    count = ctx.session.scalar(select(func.count()).where(ProjectMember.project_id == project.id))
    if before is None and int(count or 0) >= MAX_MEMBERS:
        raise Conflict(f"at most {MAX_MEMBERS} members", errors=[field_error("user_id", "full")])
    _set_member(ctx, project.id, user_id, role)
    ctx.session.expire_all()
    audit.record(
        ctx,
        action="project.member_set",
        entity_type="project",
        entity_id=project.id,
        data={"user_id": str(user_id), "role": role},
    )
    _emit(ctx, "project.updated", project, changed=["members"], user_id=user_id)
    member = access.users(ctx, {user_id})[user_id]
    return {"user": member, "role": role}


def remove_member(ctx: RequestContext, *, project_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Managers remove members; anyone may leave; owners are removed by owners; the last
    owner cannot leave (409)."""
    level = Level.READ if user_id == ctx.user_id else Level.MANAGE
    project = access.project(ctx, project_id, level, lock=True)
    found = ctx.session.get(ProjectMember, (project.id, user_id))
    if found is None:
        raise NotFound("not a member")
    if found.role == "owner":
        if user_id != ctx.user_id:
            access.project(ctx, project_id, Level.OWN)
        if _owners(ctx, project.id) <= 1:
            raise Conflict(
                "the last owner cannot leave", errors=[field_error("user_id", "last owner")]
            )
    ctx.session.delete(found)
    ctx.session.flush()
    audit.record(
        ctx,
        action="project.member_removed",
        entity_type="project",
        entity_id=project.id,
        data={"user_id": str(user_id)},
    )
    _emit(ctx, "project.updated", project, changed=["members"], user_id=user_id)


def count_tasks_in(ctx: RequestContext, column_id: uuid.UUID) -> int:
    return int(ctx.session.scalar(select(func.count()).where(Task.column_id == column_id)) or 0)
