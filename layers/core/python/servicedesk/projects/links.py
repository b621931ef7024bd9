"""Tasks meeting tickets and changes, and the talk around a task.

- Ticket links, both ways: the ticket's timeline says it (internal events); a ticket that
  waits on a task is put on hold (``pending``) with an event naming the task, and
  reopened when the task reaches a done column (or is deleted).
- A change's implementation plan as tasks: one per non-empty line, chained
  finish-to-start, linked to the change.
- Comments (markdown, at most 20,000 characters) and watchers.
No HTTP here, never a commit."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select, text

from servicedesk.platform import audit
from servicedesk.platform.errors import (
    Forbidden,
    NotFound,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.projects import access, tasks
from servicedesk.projects.access import Level
from servicedesk.projects.models import Dependency, Project, Task, TaskComment, TaskTicketLink
from servicedesk.projects.schemas import TaskCreate

ON_HOLD = "pending"
HOLDABLE = ("new", "open", "in_progress")
MAX_PLAN_TASKS = 100
LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def _ticket(ctx: RequestContext, ticket_id: uuid.UUID, field: str) -> Any:
    from servicedesk.tickets import service as tickets

    try:
        return tickets.get_visible(ctx, ticket_id, for_update=True)
    except NotFound:
        raise ValidationProblem(errors=[field_error(field, "no such ticket")]) from None


def _timeline(
    ctx: RequestContext, ticket: Any, kind: str, project: Project, task: Task, **extra: Any
) -> None:
    from servicedesk.tickets import timeline

    payload = {
        "project_id": str(project.id),
        "task_id": str(task.id),
        "task_key": f"{project.key}-{task.number}",
        "task_title": task.title,
        **extra,
    }
    timeline.event(ctx, ticket, kind, payload=payload, visibility="internal")


def _hold(ctx: RequestContext, project: Project, task: Task, ticket: Any) -> None:
    from servicedesk.tickets import service as tickets
    from servicedesk.tickets.states import Status

    if not ctx.can_on(Permission.TICKET_WORK, ticket.team_id):
        raise Forbidden(errors=[field_error("waits", "putting a ticket on hold needs ticket:work")])
    _timeline(ctx, ticket, "waiting_on_task", project, task)
    if ticket.status in HOLDABLE:
        tickets.apply_status(ctx, ticket, Status(ON_HOLD))


def link(
    ctx: RequestContext,
    project: Project,
    task: Task,
    ticket_id: uuid.UUID,
    *,
    waits: bool,
    field: str,
) -> None:
    ticket = _ticket(ctx, ticket_id, field)
    existing = ctx.session.get(TaskTicketLink, (task.id, ticket.id))
    if existing is not None:
        if existing.waits == waits:
            return
        existing.waits = waits
    else:
        ctx.session.add(
            TaskTicketLink(
                tenant_id=ctx.tenant_id, task_id=task.id, ticket_id=ticket.id, waits=waits
            )
        )
        _timeline(ctx, ticket, "task_linked", project, task)
    ctx.session.flush()
    if waits and tasks.category_of(ctx, task) != "done":
        _hold(ctx, project, task, ticket)


def add_ticket_link(
    ctx: RequestContext,
    *,
    project_id: uuid.UUID,
    task_id: uuid.UUID,
    ticket_id: uuid.UUID,
    waits: bool,
) -> dict[str, Any]:
    """Link a ticket the caller sees (else 422 naming ``ticket_id``); ``waits``: the ticket
    is put on hold until the task is done (needs ``ticket:work`` on it, else 403)."""
    project, task = tasks.find(ctx, project_id, task_id, Level.WORK, lock=True)
    link(ctx, project, task, ticket_id, waits=waits, field="ticket_id")
    tasks.saved(ctx, task)
    audit.record(
        ctx,
        action="task.ticket_linked",
        entity_type="task",
        entity_id=task.id,
        data={"ticket_id": str(ticket_id), "waits": waits},
    )
    tasks.emit(ctx, "updated", project, task, changed=["ticket_links"], ticket_id=ticket_id)
    from servicedesk.projects import views

    return views.task(ctx, task)


def remove_ticket_link(
    ctx: RequestContext, *, project_id: uuid.UUID, task_id: uuid.UUID, ticket_id: uuid.UUID
) -> None:
    project, task = tasks.find(ctx, project_id, task_id, Level.WORK, lock=True)
    found = ctx.session.get(TaskTicketLink, (task.id, ticket_id))
    if found is None:
        raise NotFound("the ticket is not linked to this task")
    ticket = _ticket(ctx, ticket_id, "ticket_id")
    if found.waits:
        _release(ctx, project, task, ticket, "unlinked")
    _timeline(ctx, ticket, "task_unlinked", project, task)
    ctx.session.delete(found)
    tasks.saved(ctx, task)
    audit.record(
        ctx,
        action="task.ticket_unlinked",
        entity_type="task",
        entity_id=task.id,
        data={"ticket_id": str(ticket_id)},
    )
    tasks.emit(ctx, "updated", project, task, changed=["ticket_links"], ticket_id=ticket_id)


def _release(ctx: RequestContext, project: Project, task: Task, ticket: Any, reason: str) -> None:
    """The ticket stops waiting: reopened if it is still on hold."""
    from servicedesk.tickets import service as tickets
    from servicedesk.tickets.states import Status

    _timeline(ctx, ticket, "task_done", project, task, reason=reason)
    if ticket.status == ON_HOLD:
        tickets.apply_status(ctx, ticket, Status.OPEN)


def _waiting(ctx: RequestContext, task: Task) -> list[Any]:
    from servicedesk.tickets.models import Ticket

    return list(
        ctx.session.scalars(
            select(Ticket)
            .join(TaskTicketLink, TaskTicketLink.ticket_id == Ticket.id)
            .where(TaskTicketLink.task_id == task.id, TaskTicketLink.waits.is_(True))
            .with_for_update(of=Ticket)
        )
    )


def task_done(ctx: RequestContext, project: Project, task: Task) -> None:
    """The task reached a done column: the tickets waiting on it are reopened (a ticket
    is released whether or not the mover may see it: the wait was the task's)."""
    for ticket in _waiting(ctx, task):
        _release(ctx, project, task, ticket, "done")
    ctx.session.execute(
        text("UPDATE task_ticket_links SET waits = false WHERE task_id = :k AND waits"),
        {"k": task.id},
    )


def release_waiting(ctx: RequestContext, project: Project, task: Task, *, reason: str) -> None:
    for ticket in _waiting(ctx, task):
        _release(ctx, project, task, ticket, reason)


# -- a change's plan as tasks ------------------------------------------------------------


def from_change(
    ctx: RequestContext, *, project_id: uuid.UUID, change_id: uuid.UUID
) -> dict[str, Any]:
    """One task per non-empty line of the change's implementation plan (list markers
    dropped), chained finish-to-start, each linked to the change. A change the caller may
    not read, or an empty plan: 422 naming ``change_id``."""
    from servicedesk.changes import service as changes
    from servicedesk.projects import views

    project = access.project(ctx, project_id, Level.WORK, lock=True)
    if not ctx.can(Permission.CHANGE_READ):
        raise ValidationProblem(errors=[field_error("change_id", "no such change")])
    try:
        change = changes.find(ctx, change_id)
    except NotFound:
        raise ValidationProblem(errors=[field_error("change_id", "no such change")]) from None
    lines = [LIST_MARKER.sub("", line).strip() for line in change.implementation_plan.splitlines()]
    steps = [line[:300] for line in lines if line]
    if not steps:
        raise ValidationProblem(
            errors=[field_error("change_id", "the implementation plan is empty")]
        )
    if len(steps) > MAX_PLAN_TASKS:
        raise ValidationProblem(
            errors=[field_error("change_id", f"the plan has more than {MAX_PLAN_TASKS} steps")]
        )
    made: list[Task] = []
    for step in steps:
        task = tasks.new_task(ctx, project, TaskCreate(title=step), change_id=change.id)
        if made:
            ctx.session.add(
                Dependency(
                    tenant_id=ctx.tenant_id,
                    project_id=project.id,
                    predecessor_id=made[-1].id,
                    successor_id=task.id,
                )
            )
        made.append(task)
        tasks.emit(ctx, "created", project, task, change_id=change.id)
    ctx.session.flush()
    audit.record(
        ctx,
        action="task.created_from_change",
        entity_type="project",
        entity_id=project.id,
        data={"change_id": str(change.id), "tasks": [str(t.id) for t in made]},
    )
    return {"items": views.tasks(ctx, made)}


# -- comments and watchers ---------------------------------------------------------------

OLDEST = Keyset([Key(TaskComment.created_at, TIMESTAMP), Key(TaskComment.id, UUID)])


def comment_views(ctx: RequestContext, rows: list[TaskComment]) -> list[dict[str, Any]]:
    people = access.users(ctx, {c.author_id for c in rows})
    return [
        {
            "id": c.id,
            "task_id": c.task_id,
            "author": people[c.author_id],
            "body": c.body,
            "created_at": c.created_at,
        }
        for c in rows
    ]


def list_comments(
    ctx: RequestContext,
    *,
    project_id: uuid.UUID,
    task_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    _, task = tasks.find(ctx, project_id, task_id)
    query = select(TaskComment).where(TaskComment.task_id == task.id)
    rows, nxt = paginate(ctx.session, query, OLDEST, limit=limit, cursor=cursor)
    return comment_views(ctx, rows), nxt


def get_comment(
    ctx: RequestContext, *, project_id: uuid.UUID, task_id: uuid.UUID, comment_id: uuid.UUID
) -> dict[str, Any]:
    _, task = tasks.find(ctx, project_id, task_id)
    found = ctx.session.scalars(
        select(TaskComment).where(TaskComment.task_id == task.id, TaskComment.id == comment_id)
    ).one_or_none()
    if found is None:
        raise NotFound("no such comment")
    return comment_views(ctx, [found])[0]


def add_comment(
    ctx: RequestContext, *, project_id: uuid.UUID, task_id: uuid.UUID, body: str
) -> dict[str, Any]:
    """Members (not viewers) comment; the author starts watching."""
    project, task = tasks.find(ctx, project_id, task_id, Level.WORK)
    comment = TaskComment(
        id=uuid.uuid4(), tenant_id=ctx.tenant_id, task_id=task.id, author_id=ctx.user_id, body=body
    )
    ctx.session.add(comment)
    tasks.watch(ctx, task, ctx.user_id)
    ctx.session.flush()
    ctx.session.refresh(comment)
    audit.record(
        ctx,
        action="task.commented",
        entity_type="task",
        entity_id=task.id,
        data={"comment_id": str(comment.id)},
    )
    tasks.emit(ctx, "commented", project, task, comment_id=comment.id)
    return comment_views(ctx, [comment])[0]


def watch(ctx: RequestContext, *, project_id: uuid.UUID, task_id: uuid.UUID) -> dict[str, Any]:
    """Anyone who sees the task may watch it (viewers too)."""
    from servicedesk.projects import views

    _, task = tasks.find(ctx, project_id, task_id)
    tasks.watch(ctx, task, ctx.user_id)
    return views.task(ctx, task)


def unwatch(ctx: RequestContext, *, project_id: uuid.UUID, task_id: uuid.UUID) -> None:
    _, task = tasks.find(ctx, project_id, task_id)
    ctx.session.execute(
        text("DELETE FROM task_watchers WHERE task_id = :k AND user_id = :u"),
        {"k": task.id, "u": ctx.user_id},
    )
