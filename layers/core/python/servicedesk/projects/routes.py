"""Projects API under /v1/projects: projects (columns, members), tasks (board, moves,
ticket links, a change's plan as tasks, comments, watchers), dependencies and the schedule.
Served by the projects function. Thin: parse, call a service, shape the response. Every
route needs ``project:use`` (requesters: 403); a project one may not see answers 404 and
the project role decides writes (services.access). The fixed sub-paths are declared before
/projects/{project_id}: routes match in order."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import Once, listing, operation, route, tagged
from servicedesk.platform.params import IfMatch
from servicedesk.platform.rbac import Permission
from servicedesk.platform.versioning import parse_if_match
from servicedesk.projects import dependencies, links, projects, schedule, tasks
from servicedesk.projects.schemas import (
    ColumnsSet,
    DependencyCreate,
    DependencyPublic,
    FromChange,
    MemberPublic,
    MemberSet,
    Moves,
    Priority,
    ProjectCreate,
    ProjectPublic,
    ProjectStatus,
    ProjectSummary,
    ProjectUpdate,
    Reschedule,
    Schedule,
    TaskCommentCreate,
    TaskCommentPublic,
    TaskCreate,
    TaskMove,
    TaskOrder,
    TaskPublic,
    TasksMade,
    TaskTicketLinkCreate,
    TaskUpdate,
)

router = APIRouter(prefix="/v1", tags=["projects"])
USE = Permission.PROJECT_USE
STALE = {412: {"description": "Changed since it was read"}}
Text = Annotated[str | None, Query(max_length=200)]
Assignee = Annotated[str | None, Query(max_length=40, description="me, or a user id")]

listing(
    router,
    "/projects/tasks",
    USE,
    "Tasks across the projects one sees, newest first (assignee=me: my tasks;"
    " ticket_id: the tasks linked to a ticket)",
    TaskPublic,
    tasks.list_all_tasks,
    query={"assignee": Assignee, "open": bool | None, "ticket_id": uuid.UUID | None},
)
listing(
    router,
    "/projects",
    USE,
    "The projects one sees (a member, or project:read_all), by name",
    ProjectSummary,
    projects.list_projects,
    query={"q": Text, "status": ProjectStatus | None, "archived": bool | None},
)


@route(
    router.post,
    "/projects",
    Permission.PROJECT_CREATE,
    "Create a project (default columns; the creator is its owner; key taken: 409)",
    status_code=201,
)
def create_project(body: ProjectCreate, ctx: Ctx, once: Once) -> ProjectPublic:
    return once(body, lambda: ProjectPublic.model_validate(projects.create_project(ctx, data=body)))


@route(router.get, "/projects/{project_id}", USE, "A project with its columns, my role, counts")
def get_project(project_id: uuid.UUID, ctx: Ctx, response: Response) -> ProjectPublic:
    found = projects.get_project(ctx, project_id=project_id)
    return tagged(response, ProjectPublic.model_validate(found))


@route(
    router.patch,
    "/projects/{project_id}",
    USE,
    "Edit a project (project managers; If-Match or version)",
    responses=STALE,
)
def update_project(
    project_id: uuid.UUID,
    body: ProjectUpdate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> ProjectPublic:
    found = projects.update_project(
        ctx, project_id=project_id, data=body, if_match=parse_if_match(if_match)
    )
    return tagged(response, ProjectPublic.model_validate(found))


@route(
    router.put,
    "/projects/{project_id}/columns",
    USE,
    "Replace the board's ordered columns (a removed column holding tasks: 409; a done column"
    " needed)",
    responses=STALE,
)
def set_columns(
    project_id: uuid.UUID, body: ColumnsSet, ctx: Ctx, response: Response, if_match: IfMatch = None
) -> ProjectPublic:
    found = projects.set_columns(
        ctx, project_id=project_id, data=body, if_match=parse_if_match(if_match)
    )
    return tagged(response, ProjectPublic.model_validate(found))


operation(
    router.get,
    "/projects/{project_id}/members",
    USE,
    "The project's members and their project roles",
    projects.list_members,
    public=MemberPublic,
    many=True,
)


@route(
    router.put,
    "/projects/{project_id}/members/{user_id}",
    USE,
    "Add a member or change their role (project managers; owners make owners)",
)
def set_member(
    project_id: uuid.UUID, user_id: uuid.UUID, body: MemberSet, ctx: Ctx
) -> MemberPublic:
    found = projects.set_member(ctx, project_id=project_id, user_id=user_id, role=body.role)
    return MemberPublic.model_validate(found)


operation(
    router.delete,
    "/projects/{project_id}/members/{user_id}",
    USE,
    "Remove a member, or leave (the last owner cannot)",
    projects.remove_member,
)

# -- tasks -------------------------------------------------------------------------------

listing(
    router,
    "/projects/{project_id}/tasks",
    USE,
    "A project's tasks: the board (column, then rank) or by due date, priority, newest",
    TaskPublic,
    tasks.list_tasks,
    query={
        "column_id": uuid.UUID | None,
        "assignee": Assignee,
        "label": Text,
        "q": Text,
        "priority": Priority | None,
        "order": TaskOrder | None,
    },
)


@route(
    router.post,
    "/projects/{project_id}/tasks/from-change",
    USE,
    "Tasks from a change's implementation plan (one per line, chained finish-to-start)",
    status_code=201,
)
def from_change(project_id: uuid.UUID, body: FromChange, ctx: Ctx, once: Once) -> TasksMade:
    return once(
        body,
        lambda: TasksMade.model_validate(
            links.from_change(ctx, project_id=project_id, change_id=body.change_id)
        ),
    )


@route(
    router.post,
    "/projects/{project_id}/tasks",
    USE,
    "Create a task (ticket_id: from a ticket, linked both ways)",
    status_code=201,
)
def create_task(project_id: uuid.UUID, body: TaskCreate, ctx: Ctx, once: Once) -> TaskPublic:
    return once(
        body,
        lambda: TaskPublic.model_validate(tasks.create_task(ctx, project_id=project_id, data=body)),
    )


@route(router.get, "/projects/{project_id}/tasks/{task_id}", USE, "A task")
def get_task(project_id: uuid.UUID, task_id: uuid.UUID, ctx: Ctx, response: Response) -> TaskPublic:
    found = tasks.get_task(ctx, project_id=project_id, task_id=task_id)
    return tagged(response, TaskPublic.model_validate(found))


@route(
    router.patch,
    "/projects/{project_id}/tasks/{task_id}",
    USE,
    "Edit a task (If-Match or version)",
    responses=STALE,
)
def update_task(
    project_id: uuid.UUID,
    task_id: uuid.UUID,
    body: TaskUpdate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> TaskPublic:
    found = tasks.update_task(
        ctx, project_id=project_id, task_id=task_id, data=body, if_match=parse_if_match(if_match)
    )
    return tagged(response, TaskPublic.model_validate(found))


@route(
    router.delete,
    "/projects/{project_id}/tasks/{task_id}",
    USE,
    "Delete a task with its dependencies, comments and links (If-Match)",
    status_code=204,
    responses=STALE,
)
def delete_task(
    project_id: uuid.UUID, task_id: uuid.UUID, ctx: Ctx, if_match: IfMatch = None
) -> Response:
    tasks.delete_task(
        ctx, project_id=project_id, task_id=task_id, if_match=parse_if_match(if_match)
    )
    return Response(status_code=204)


@route(
    router.post,
    "/projects/{project_id}/tasks/{task_id}/move",
    USE,
    "Move a task to a column, between two neighbours (a blocking task open: 409 naming"
    " column_id unless override)",
    responses=STALE,
)
def move_task(
    project_id: uuid.UUID,
    task_id: uuid.UUID,
    body: TaskMove,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> TaskPublic:
    found = tasks.move_task(
        ctx, project_id=project_id, task_id=task_id, data=body, if_match=parse_if_match(if_match)
    )
    return tagged(response, TaskPublic.model_validate(found))


@route(
    router.post,
    "/projects/{project_id}/tasks/{task_id}/reschedule",
    USE,
    "Move a task's start and shift its dependants (apply=false: preview)",
    responses=STALE,
)
def reschedule(
    project_id: uuid.UUID, task_id: uuid.UUID, body: Reschedule, ctx: Ctx, if_match: IfMatch = None
) -> Moves:
    found = schedule.reschedule(
        ctx,
        project_id=project_id,
        task_id=task_id,
        start_date=body.start_date,
        apply=body.apply,
        version=body.version,
        if_match=parse_if_match(if_match),
    )
    return Moves.model_validate(found)


@route(
    router.post,
    "/projects/{project_id}/tasks/{task_id}/ticket-links",
    USE,
    "Link a ticket to the task (waits: the ticket is on hold until the task is done)",
    status_code=201,
)
def add_ticket_link(
    project_id: uuid.UUID, task_id: uuid.UUID, body: TaskTicketLinkCreate, ctx: Ctx, once: Once
) -> TaskPublic:
    return once(
        body,
        lambda: TaskPublic.model_validate(
            links.add_ticket_link(
                ctx,
                project_id=project_id,
                task_id=task_id,
                ticket_id=body.ticket_id,
                waits=body.waits,
            )
        ),
    )


operation(
    router.delete,
    "/projects/{project_id}/tasks/{task_id}/ticket-links/{ticket_id}",
    USE,
    "Unlink a ticket (one waiting on the task is reopened)",
    links.remove_ticket_link,
)
listing(
    router,
    "/projects/{project_id}/tasks/{task_id}/comments",
    USE,
    "A task's comments, oldest first",
    TaskCommentPublic,
    links.list_comments,
)
operation(
    router.post,
    "/projects/{project_id}/tasks/{task_id}/comments",
    USE,
    "Comment on a task (markdown; the author starts watching)",
    links.add_comment,
    public=TaskCommentPublic,
    body=TaskCommentCreate,
)
operation(
    router.put,
    "/projects/{project_id}/tasks/{task_id}/watchers/me",
    USE,
    "Watch a task",
    links.watch,
    public=TaskPublic,
)
operation(
    router.delete,
    "/projects/{project_id}/tasks/{task_id}/watchers/me",
    USE,
    "Stop watching a task",
    links.unwatch,
)

# -- dependencies and the schedule -------------------------------------------------------

operation(
    router.get,
    "/projects/{project_id}/dependencies",
    USE,
    "The project's dependencies",
    dependencies.list_dependencies,
    public=DependencyPublic,
    many=True,
)


@route(
    router.post,
    "/projects/{project_id}/dependencies",
    USE,
    "Add a dependency (a cycle: 422 naming predecessor_id; self: successor_id; twice: 409)",
    status_code=201,
)
def add_dependency(
    project_id: uuid.UUID, body: DependencyCreate, ctx: Ctx, once: Once
) -> DependencyPublic:
    return once(
        body,
        lambda: DependencyPublic.model_validate(
            dependencies.add_dependency(ctx, project_id=project_id, data=body)
        ),
    )


operation(
    router.delete,
    "/projects/{project_id}/dependencies/{dependency_id}",
    USE,
    "Remove a dependency",
    dependencies.remove_dependency,
)


@route(
    router.get,
    "/projects/{project_id}/schedule",
    USE,
    "The schedule: earliest and latest dates, slack, the critical path, date conflicts."
    " The critical path method sees the whole project; the rows are those whose earliest"
    " bar meets [window_start, window_end] (either end open), in task number order, from"
    " offset, at most limit (window_end before window_start: 422); with the dependencies"
    " among those rows, then those with one end among them (stubs), at most 10 per row of"
    " limit",
)
def get_schedule(
    project_id: uuid.UUID,
    ctx: Ctx,
    window_start: Annotated[date | None, Query(description="First day shown")] = None,
    window_end: Annotated[date | None, Query(description="Last day shown")] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=schedule.MAX_ROWS)] = schedule.MAX_ROWS,
) -> Schedule:
    window = schedule.Window(window_start, window_end, offset, limit)
    return Schedule.model_validate(schedule.get_schedule(ctx, project_id=project_id, window=window))
