"""Tasks: the board listing (column, then rank) and the other orders, my tasks across
projects, create (optionally from a ticket), read, edit, delete, and moves between columns
(fractional ranks; a task whose blocking predecessor is open does not start unless the
move overrides it, audited). No HTTP here, never a commit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, func, select, text, update

from servicedesk.platform import audit
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import (
    INTEGER,
    TEXT,
    TIMESTAMP,
    UUID,
    BadCursor,
    Key,
    Keyset,
    paginate,
)
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version
from servicedesk.projects import access, dependencies, events, ranks, views
from servicedesk.projects.access import Level
from servicedesk.projects.models import Project, ProjectColumn, ProjectMember, Task, TaskTicketLink
from servicedesk.projects.schemas import TaskCreate, TaskMove, TaskUpdate

PRIORITY = case(
    {"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=Task.priority, else_=4
).label("priority_order")
NO_DUE = date(9999, 12, 31)
DUE = func.coalesce(Task.due_date, NO_DUE).label("due_order")


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise BadCursor
    return date.fromisoformat(value)


ORDERS: dict[str, Keyset] = {
    "board": Keyset(
        [
            Key(ProjectColumn.position, INTEGER, read=lambda r: r.position),
            Key(Task.rank, TEXT, read=lambda r: r.Task.rank),
            Key(Task.id, UUID, read=lambda r: r.Task.id),
        ]
    ),
    "due": Keyset(
        [
            Key(DUE, _date, read=lambda r: r.due_order),
            Key(Task.id, UUID, read=lambda r: r.Task.id),
        ]
    ),
    "priority": Keyset(
        [
            Key(PRIORITY, INTEGER, read=lambda r: r.priority_order),
            Key(Task.created_at, TIMESTAMP, read=lambda r: r.Task.created_at),
            Key(Task.id, UUID, read=lambda r: r.Task.id),
        ]
    ),
    "created": Keyset(
        [
            Key(Task.created_at, TIMESTAMP, read=lambda r: r.Task.created_at),
            Key(Task.id, UUID, read=lambda r: r.Task.id),
        ],
        descending=True,
    ),
}


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _assignee(ctx: RequestContext, assignee: str | None) -> uuid.UUID | None:
    if assignee is None:
        return None
    if assignee == "me":
        return ctx.user_id
    try:
        return uuid.UUID(assignee)
    except ValueError:
        raise ValidationProblem(
            errors=[{**field_error("assignee", "me or a user id"), "in": "query"}]
        ) from None


def list_tasks(
    ctx: RequestContext,
    *,
    project_id: uuid.UUID,
    column_id: uuid.UUID | None,
    assignee: str | None,
    label: str | None,
    q: str | None,
    priority: str | None,
    order: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A project's tasks: the board (column position, then rank), or by due date, by
    priority, newest first."""
    project = access.project(ctx, project_id)
    keyset = ORDERS[order or "board"]
    query: Select[Any] = (
        select(Task, ProjectColumn.position, PRIORITY, DUE)
        .join(ProjectColumn, ProjectColumn.id == Task.column_id)
        .where(Task.project_id == project.id)
    )
    if column_id is not None:
        query = query.where(Task.column_id == column_id)
    who = _assignee(ctx, assignee)
    if who is not None:
        query = query.where(Task.assignee_id == who)
    if label is not None:
        query = query.where(Task.labels.any_() == label)
    if q:
        query = query.where(Task.title.ilike(_like(q)))
    if priority is not None:
        query = query.where(Task.priority == priority)
    rows, nxt = paginate(ctx.session, query, keyset, limit=limit, cursor=cursor, scalars=False)
    return views.tasks(ctx, [r.Task for r in rows]), nxt


MINE = Keyset([Key(Task.created_at, TIMESTAMP), Key(Task.id, UUID)], descending=True)


def list_all_tasks(
    ctx: RequestContext,
    *,
    assignee: str | None,
    open: bool | None,
    ticket_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Tasks across the projects the caller sees (``assignee=me``: my tasks; ``ticket_id``:
    the tasks linked to that ticket), newest first."""
    query = (
        select(Task)
        .join(Project, Project.id == Task.project_id)
        .join(ProjectColumn, ProjectColumn.id == Task.column_id)
        .where(access.visible(ctx), Project.archived.is_(False))
    )
    who = _assignee(ctx, assignee)
    if who is not None:
        query = query.where(Task.assignee_id == who)
    if open is not None:
        query = query.where(
            (ProjectColumn.category != "done") if open else (ProjectColumn.category == "done")
        )
    if ticket_id is not None:
        linked = select(TaskTicketLink.task_id).where(TaskTicketLink.ticket_id == ticket_id)
        query = query.where(Task.id.in_(linked))
    rows, nxt = paginate(ctx.session, query, MINE, limit=limit, cursor=cursor)
    return views.tasks(ctx, rows), nxt


# -- one task ----------------------------------------------------------------------------


def find(
    ctx: RequestContext,
    project_id: uuid.UUID,
    task_id: uuid.UUID,
    level: Level = Level.READ,
    *,
    lock: bool = False,
) -> tuple[Project, Task]:
    """The project at ``level`` (``lock``: its row lock, then the task's) and its task."""
    project = access.project(ctx, project_id, level, lock=lock)
    query = select(Task).where(Task.project_id == project.id, Task.id == task_id)
    if lock:
        query = query.with_for_update()
    task = ctx.session.scalars(query).one_or_none()
    if task is None:
        raise NotFound("no such task")
    return project, task


def get_task(ctx: RequestContext, *, project_id: uuid.UUID, task_id: uuid.UUID) -> dict[str, Any]:
    _, task = find(ctx, project_id, task_id)
    return views.task(ctx, task)


def _column(ctx: RequestContext, project: Project, column_id: uuid.UUID | None) -> ProjectColumn:
    query = select(ProjectColumn).where(ProjectColumn.project_id == project.id)
    if column_id is None:
        found = ctx.session.scalars(query.order_by(ProjectColumn.position).limit(1)).first()
    else:
        found = ctx.session.scalars(query.where(ProjectColumn.id == column_id)).one_or_none()
    if found is None:
        raise ValidationProblem(errors=[field_error("column_id", "not a column of this project")])
    return found


def _check_assignee(ctx: RequestContext, project: Project, user_id: uuid.UUID) -> None:
    """Assignees are the project's members who work on it (not viewers)."""
    role = ctx.session.scalar(
        select(ProjectMember.role).where(
            ProjectMember.project_id == project.id, ProjectMember.user_id == user_id
        )
    )
    if role is None or role == "viewer":
        raise ValidationProblem(
            errors=[field_error("assignee_id", "not a member who works on this project")]
        )


def _checklist(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"id": str(item.get("id") or uuid.uuid4()), "text": item["text"], "done": item["done"]}
        for item in items
    ]


def _last_rank(ctx: RequestContext, column_id: uuid.UUID) -> str | None:
    return ctx.session.scalar(
        select(Task.rank).where(Task.column_id == column_id).order_by(Task.rank.desc()).limit(1)
    )


def audience(ctx: RequestContext, task: Task) -> list[str]:
    """Who hears of a task's news: its assignee and watchers (the actor is left out by
    the notification rules)."""
    watchers = ctx.session.execute(
        text("SELECT user_id FROM task_watchers WHERE task_id = :k ORDER BY user_id"),
        {"k": task.id},
    ).scalars()
    named = dict.fromkeys([*([task.assignee_id] if task.assignee_id else []), *watchers])
    return [str(u) for u in named]


def emit(ctx: RequestContext, kind: str, project: Project, task: Task, **extra: Any) -> None:
    if kind != "deleted":
        extra.setdefault("user_ids", audience(ctx, task))
    events.emit(
        ctx,
        f"task.{kind}",
        project_id=project.id,
        aggregate_type="task",
        aggregate_id=task.id,
        task_id=task.id,
        key=f"{project.key}-{task.number}",
        title=task.title,
        column_id=task.column_id,
        assignee_id=task.assignee_id,
        **extra,
    )


def new_task(
    ctx: RequestContext,
    project: Project,
    data: TaskCreate,
    *,
    change_id: uuid.UUID | None = None,
) -> Task:
    """A task at the end of its column, numbered from the project's sequence (the caller
    holds the project's row lock)."""
    column = _column(ctx, project, data.column_id)
    if data.assignee_id is not None:
        _check_assignee(ctx, project, data.assignee_id)
    number = ctx.session.scalar(
        text("UPDATE projects SET task_seq = task_seq + 1 WHERE id = :p RETURNING task_seq"),
        {"p": project.id},
    )
    fields = data.model_dump(exclude={"column_id", "ticket_id", "checklist"})
    task = Task(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        project_id=project.id,
        number=int(number or 0),
        column_id=column.id,
        rank=ranks.between(_last_rank(ctx, column.id), None),
        checklist=_checklist(data.model_dump(mode="json")["checklist"]),
        change_id=change_id,
        **fields,
    )
    ctx.session.add(task)
    ctx.session.flush()
    ctx.session.refresh(task)
    return task


def create_task(ctx: RequestContext, *, project_id: uuid.UUID, data: TaskCreate) -> dict[str, Any]:
    from servicedesk.projects import links  # links builds on tasks

    project = access.project(ctx, project_id, Level.WORK, lock=True)
    if project.archived:
        raise Conflict("the project is archived", errors=[field_error("project_id", "archived")])
    dependencies.check_dates(ctx, project, None, data.start_date, data.due_date)
    task = new_task(ctx, project, data)
    if data.ticket_id is not None:
        links.link(ctx, project, task, data.ticket_id, waits=False, field="ticket_id")
    if task.assignee_id is not None and task.assignee_id != ctx.user_id:
        watch(ctx, task, task.assignee_id)
    audit.record(
        ctx,
        action="task.created",
        entity_type="task",
        entity_id=task.id,
        data={"after": data.model_dump(mode="json")},
    )
    emit(ctx, "created", project, task)
    return views.task(ctx, task)


def watch(ctx: RequestContext, task: Task, user_id: uuid.UUID) -> None:
    """``user_id`` watches the task (again: nothing)."""
    ctx.session.execute(
        text(
            "INSERT INTO task_watchers (tenant_id, task_id, user_id) VALUES (:t, :k, :u)"
            " ON CONFLICT DO NOTHING"
        ),
        {"t": ctx.tenant_id, "k": task.id, "u": user_id},
    )


def locked(
    ctx: RequestContext,
    project_id: uuid.UUID,
    task_id: uuid.UUID,
    version: int | None,
    if_match: int | None,
) -> tuple[Project, Task]:
    """The project (row lock) and task at the version the client read (428, 412)."""
    expected = expected_version(version, if_match)
    project, task = find(ctx, project_id, task_id, Level.WORK, lock=True)
    check_version(task.version, expected, what="task")
    return project, task


def saved(ctx: RequestContext, task: Task) -> None:
    task.version += 1
    task.updated_at = func.now()
    ctx.session.flush()
    ctx.session.refresh(task)


def update_task(
    ctx: RequestContext,
    *,
    project_id: uuid.UUID,
    task_id: uuid.UUID,
    data: TaskUpdate,
    if_match: int | None,
) -> dict[str, Any]:
    project, task = locked(ctx, project_id, task_id, data.version, if_match)
    sent = data.model_dump(exclude_unset=True, exclude={"version"})
    if not sent:
        return views.task(ctx, task)
    start = sent.get("start_date", task.start_date)
    due = sent.get("due_date", task.due_date)
    if start is not None and due is not None and due < start:
        raise ValidationProblem(errors=[field_error("due_date", "before start_date")])
    if sent.get("assignee_id") is not None:
        _check_assignee(ctx, project, sent["assignee_id"])
    if {"start_date", "due_date", "estimate_days"} & set(sent):
        estimate = sent.get("estimate_days", task.estimate_days)
        dependencies.check_dates(ctx, project, task, start, due, estimate=estimate)
    if "checklist" in sent:
        sent["checklist"] = _checklist(data.model_dump(mode="json")["checklist"])
    before = {key: getattr(task, key) for key in sent}
    for key, value in sent.items():
        setattr(task, key, value)
    if sent.get("assignee_id") not in (None, ctx.user_id, before.get("assignee_id")):
        watch(ctx, task, sent["assignee_id"])
    saved(ctx, task)
    changed = sorted(sent)
    audit.record(
        ctx,
        action="task.updated",
        entity_type="task",
        entity_id=task.id,
        data={
            "changed": changed,
            "before": {
                k: v if isinstance(v, (str, int, list)) or v is None else str(v)
                for k, v in before.items()
                if k not in ("description", "checklist")
            },
        },
    )
    emit(ctx, "updated", project, task, changed=changed)
    return views.task(ctx, task)


# What other domains do before a task goes (its files become tombstones: attachments'
# task_files registers itself, as the ticket timeline's resolvers do; projects imports no
# attachments).
_ON_DELETE: list[Callable[[RequestContext, Task], None]] = []


def on_delete(hook: Callable[[RequestContext, Task], None]) -> None:
    _ON_DELETE.append(hook)


def delete_task(
    ctx: RequestContext,
    *,
    project_id: uuid.UUID,
    task_id: uuid.UUID,
    version: int | None = None,
    if_match: int | None,
) -> None:
    """Deletes the task with its dependencies, comments, watchers and ticket links (a
    ticket waiting on it is released first)."""
    from servicedesk.projects import links

    project, task = locked(ctx, project_id, task_id, version, if_match)
    links.release_waiting(ctx, project, task, reason="task_deleted")
    for hook in _ON_DELETE:
        hook(ctx, task)
    emit(ctx, "deleted", project, task)
    audit.record(
        ctx,
        action="task.deleted",
        entity_type="task",
        entity_id=task.id,
        data={"key": f"{project.key}-{task.number}", "title": task.title},
    )
    ctx.session.delete(task)
    ctx.session.flush()


# -- moves -------------------------------------------------------------------------------

REBALANCE_WINDOW = 8


def _neighbour(ctx: RequestContext, column_id: uuid.UUID, task_id: uuid.UUID, field: str) -> Task:
    found = ctx.session.scalars(
        select(Task).where(Task.column_id == column_id, Task.id == task_id)
    ).one_or_none()
    if found is None:
        raise ValidationProblem(errors=[field_error(field, "not a task of that column")])
    return found


def _bounds(
    ctx: RequestContext, task: Task, column_id: uuid.UUID, data: TaskMove
) -> tuple[str | None, str | None]:
    """The ranks the task goes between (the moving task itself left out)."""
    others = and_(Task.column_id == column_id, Task.id != task.id)
    if task.id in (data.before_id, data.after_id):
        field = "before_id" if data.before_id == task.id else "after_id"
        raise ValidationProblem(errors=[field_error(field, "not the task itself")])
    if data.after_id is not None:
        low: str | None = _neighbour(ctx, column_id, data.after_id, "after_id").rank
        if data.before_id is not None:
            return low, _neighbour(ctx, column_id, data.before_id, "before_id").rank
        high = ctx.session.scalar(select(func.min(Task.rank)).where(others, Task.rank > low))
        return low, high
    if data.before_id is not None:
        high_rank = _neighbour(ctx, column_id, data.before_id, "before_id").rank
        return ctx.session.scalar(
            select(func.max(Task.rank)).where(others, Task.rank < high_rank)
        ), high_rank
    return ctx.session.scalar(select(func.max(Task.rank)).where(others)), None


def place(
    ctx: RequestContext, task: Task, column_id: uuid.UUID, low: str | None, high: str | None
) -> int:
    """Give ``task`` a rank between ``low`` and ``high`` in the column; when that key would
    be too long (or the bounds are equal, never under the project lock), re-spread a run of
    neighbours around the spot, widening it until the keys are short. Returns how many
    other rows were re-ranked."""
    if low is None or high is None or low < high:
        key = ranks.between(low, high)
        if len(key) <= ranks.MAX_LENGTH:
            task.rank = key
            return 0
    rows = list(
        ctx.session.execute(
            select(Task.id, Task.rank)
            .where(Task.column_id == column_id, Task.id != task.id)
            .order_by(Task.rank, Task.id)
        )
    )
    at = sum(1 for _, rank in rows if low is not None and rank <= low)
    radius = REBALANCE_WINDOW
    while True:
        start, end = max(0, at - radius), min(len(rows), at + radius)
        lo = rows[start - 1][1] if start > 0 else None
        hi = rows[end][1] if end < len(rows) else None
        if lo is None or hi is None or lo < hi:
            keys = ranks.spread(lo, hi, end - start + 1)
            if max(len(k) for k in keys) <= ranks.MAX_LENGTH // 2 or (lo is None and hi is None):
                break
        radius *= 2
    window = [*rows[start:at], (task.id, ""), *rows[at:end]]
    for (row_id, _), key in zip(window, keys, strict=True):
        if row_id == task.id:
            task.rank = key
        else:
            # ORM update: a loaded neighbour sees its new rank too.
            ctx.session.execute(update(Task).where(Task.id == row_id).values(rank=key))
    return len(window) - 1


def move_task(
    ctx: RequestContext,
    *,
    project_id: uuid.UUID,
    task_id: uuid.UUID,
    data: TaskMove,
    if_match: int | None,
) -> dict[str, Any]:
    """Into an in-progress or done column while a blocking predecessor is open: 409 naming
    ``column_id`` with the blockers, unless ``override`` (audited)."""
    from servicedesk.projects import links

    project, task = locked(ctx, project_id, task_id, data.version, if_match)
    source = _column(ctx, project, task.column_id)
    target = _column(ctx, project, data.column_id)
    blockers: list[dict[str, Any]] = []
    if target.category != "todo" and target.id != task.column_id:
        blockers = dependencies.open_blockers(ctx, project, task, target.category)
        if blockers and not data.override:
            raise Conflict(
                "a blocking task is still open",
                errors=[
                    field_error("column_id", "blocked by " + ", ".join(b["key"] for b in blockers))
                ],
                blockers=[{**b, "task_id": str(b["task_id"])} for b in blockers],
            )
    low, high = _bounds(ctx, task, target.id, data)
    renumbered = place(ctx, task, target.id, low, high)
    task.column_id = target.id
    saved(ctx, task)
    audit.record(
        ctx,
        action="task.moved",
        entity_type="task",
        entity_id=task.id,
        data={
            "from": str(source.id),
            "to": str(target.id),
            "override": bool(blockers),
            "blockers": [b["key"] for b in blockers],
            "reranked": renumbered,
        },
    )
    emit(
        ctx,
        "moved",
        project,
        task,
        from_column_id=source.id,
        status_category=target.category,
        rank=task.rank,
        override=bool(blockers),
    )
    if target.category == "done" and source.category != "done":
        links.task_done(ctx, project, task)
    return views.task(ctx, task)


def category_of(ctx: RequestContext, task: Task) -> str:
    return str(
        ctx.session.scalar(select(ProjectColumn.category).where(ProjectColumn.id == task.column_id))
    )
