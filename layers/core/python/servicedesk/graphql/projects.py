"""Project and task mutations: each is its REST route's service function, with the route's
permission (``project:use``; ``project:create`` for a project), the project role the
service checks, a project the caller may not see as 404, ``version`` as the REST body's
(stale: 412), and ``idempotencyKey`` as the ticket mutations' (``inputs.once``)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import strawberry
from strawberry.scalars import JSON

from servicedesk.graphql.context import Info, mutation_with
from servicedesk.graphql.inputs import Ref, once, once_view, parsed, plain, sent, uuid_of
from servicedesk.graphql.types.projects import Dependency, Project, Task, TaskComment
from servicedesk.platform.permissions import Permission
from servicedesk.projects import dependencies, links, projects, tasks
from servicedesk.projects.schemas import (
    DependencyCreate,
    ProjectCreate,
    ProjectUpdate,
    TaskCommentCreate,
    TaskCreate,
    TaskMove,
    TaskUpdate,
)

UNSET = strawberry.UNSET


@strawberry.input(description="POST /v1/projects's body")
class CreateProjectInput:
    name: str
    key: str
    description: str | None = None
    owner_id: strawberry.ID | None = None
    start_date: date | None = None
    target_date: date | None = None
    status: str | None = None


@strawberry.input(description="PATCH /v1/projects/{id}'s body: what is sent is changed")
class UpdateProjectInput:
    name: str | None = UNSET
    description: str | None = UNSET
    owner_id: strawberry.ID | None = UNSET
    status: str | None = UNSET
    start_date: date | None = UNSET
    target_date: date | None = UNSET
    archived: bool | None = UNSET
    settings: JSON | None = UNSET


@strawberry.input(description="POST /v1/projects/{id}/tasks's body")
class CreateTaskInput:
    title: str
    description: str | None = None
    column_id: strawberry.ID | None = None
    assignee_id: strawberry.ID | None = None
    estimate_days: float | None = None
    start_date: date | None = None
    due_date: date | None = None
    priority: str | None = None
    labels: list[str] | None = None
    checklist: JSON | None = None
    ticket_id: strawberry.ID | None = None


@strawberry.input(description="PATCH /v1/projects/{id}/tasks/{task_id}'s body")
class UpdateTaskInput:
    title: str | None = UNSET
    description: str | None = UNSET
    assignee_id: strawberry.ID | None = UNSET
    estimate_days: float | None = UNSET
    start_date: date | None = UNSET
    due_date: date | None = UNSET
    priority: str | None = UNSET
    labels: list[str] | None = UNSET
    checklist: JSON | None = UNSET


def _made(view: dict[str, Any]) -> tuple[uuid.UUID, dict[str, Any]]:
    return view["id"], view


def _edge(edge: Any) -> tuple[uuid.UUID, Dependency]:
    return edge.id, Dependency.of(edge)


@strawberry.type
class ProjectMutation:
    @mutation_with("Create a project (POST /v1/projects; key taken: 409)")
    def create_project(
        self, info: Info, input: CreateProjectInput, idempotency_key: str | None = None
    ) -> Project | None:
        ctx = info.context.require(Permission.PROJECT_CREATE)
        body: ProjectCreate = parsed(ProjectCreate, plain(input))
        return Project.of(
            once_view(
                ctx,
                "createProject",
                idempotency_key,
                body,
                lambda: _made(projects.create_project(ctx, data=body)),
                lambda made: projects.get_project(ctx, project_id=made),
            )
        )

    @mutation_with("Edit a project (PATCH /v1/projects/{id}; project managers; stale: 412)")
    def update_project(
        self,
        info: Info,
        project_id: strawberry.ID,
        input: UpdateProjectInput,
        version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Project | None:
        ctx = info.context.require(Permission.PROJECT_USE)
        project = uuid_of(project_id, "projectId")
        body: ProjectUpdate = parsed(ProjectUpdate, {**sent(input), "version": version})
        return Project.of(
            once_view(
                ctx,
                f"updateProject/{project}",
                idempotency_key,
                body,
                lambda: _made(
                    projects.update_project(ctx, project_id=project, data=body, if_match=None)
                ),
                lambda made: projects.get_project(ctx, project_id=made),
            )
        )

    @mutation_with("Create a task (POST /v1/projects/{id}/tasks; ticketId: linked both ways)")
    def create_task(
        self,
        info: Info,
        project_id: strawberry.ID,
        input: CreateTaskInput,
        idempotency_key: str | None = None,
    ) -> Task | None:
        ctx = info.context.require(Permission.PROJECT_USE)
        project = uuid_of(project_id, "projectId")
        body: TaskCreate = parsed(TaskCreate, plain(input))
        return Task.of(
            once_view(
                ctx,
                f"createTask/{project}",
                idempotency_key,
                body,
                lambda: _made(tasks.create_task(ctx, project_id=project, data=body)),
                lambda made: tasks.get_task(ctx, project_id=project, task_id=made),
            )
        )

    @mutation_with("Edit a task (PATCH .../tasks/{task_id}; stale: 412)")
    def update_task(
        self,
        info: Info,
        project_id: strawberry.ID,
        task_id: strawberry.ID,
        input: UpdateTaskInput,
        version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Task | None:
        ctx = info.context.require(Permission.PROJECT_USE)
        project, task = uuid_of(project_id, "projectId"), uuid_of(task_id, "taskId")
        body: TaskUpdate = parsed(TaskUpdate, {**sent(input), "version": version})
        return Task.of(
            once_view(
                ctx,
                f"updateTask/{task}",
                idempotency_key,
                body,
                lambda: _made(
                    tasks.update_task(
                        ctx, project_id=project, task_id=task, data=body, if_match=None
                    )
                ),
                lambda made: tasks.get_task(ctx, project_id=project, task_id=made),
            )
        )

    @mutation_with(
        "Move a task to a column between two neighbours (POST .../move): a blocking task"
        " open is 409 naming column_id unless override; stale: 412"
    )
    def move_task(
        self,
        info: Info,
        project_id: strawberry.ID,
        task_id: strawberry.ID,
        column_id: strawberry.ID,
        before_id: strawberry.ID | None = None,
        after_id: strawberry.ID | None = None,
        override: bool = False,
        version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Task | None:
        ctx = info.context.require(Permission.PROJECT_USE)
        project, task = uuid_of(project_id, "projectId"), uuid_of(task_id, "taskId")
        body: TaskMove = parsed(
            TaskMove,
            {
                "column_id": column_id,
                "before_id": before_id,
                "after_id": after_id,
                "override": override,
                "version": version,
            },
        )
        return Task.of(
            once_view(
                ctx,
                f"moveTask/{task}",
                idempotency_key,
                body,
                lambda: _made(
                    tasks.move_task(ctx, project_id=project, task_id=task, data=body, if_match=None)
                ),
                lambda made: tasks.get_task(ctx, project_id=project, task_id=made),
            )
        )

    @mutation_with(
        "Add a dependency (POST .../dependencies): a cycle is 422 naming predecessor_id with"
        " the cycle; self: successor_id; twice: 409"
    )
    def add_task_dependency(
        self,
        info: Info,
        project_id: strawberry.ID,
        predecessor_id: strawberry.ID,
        successor_id: strawberry.ID,
        type: str = "finish_to_start",
        lag_days: int = 0,
        idempotency_key: str | None = None,
    ) -> Dependency | None:
        ctx = info.context.require(Permission.PROJECT_USE)
        project = uuid_of(project_id, "projectId")
        body: DependencyCreate = parsed(
            DependencyCreate,
            {
                "predecessor_id": predecessor_id,
                "successor_id": successor_id,
                "type": type,
                "lag_days": lag_days,
            },
        )

        def read(made: uuid.UUID) -> Dependency:
            edges = dependencies.list_dependencies(ctx, project_id=project)
            return Dependency.of(next(e for e in edges if e.id == made))

        return once_view(
            ctx,
            f"addTaskDependency/{project}",
            idempotency_key,
            body,
            lambda: _edge(dependencies.add_dependency(ctx, project_id=project, data=body)),
            read,
        )

    @mutation_with("Remove a dependency (DELETE .../dependencies/{id}); answers its id")
    def remove_task_dependency(
        self,
        info: Info,
        project_id: strawberry.ID,
        dependency_id: strawberry.ID,
        idempotency_key: str | None = None,
    ) -> strawberry.ID | None:
        ctx = info.context.require(Permission.PROJECT_USE)
        project, edge = uuid_of(project_id, "projectId"), uuid_of(dependency_id, "dependencyId")

        def remove() -> uuid.UUID:
            dependencies.remove_dependency(ctx, project_id=project, dependency_id=edge)
            return edge

        made = once(ctx, f"removeTaskDependency/{project}", idempotency_key, Ref(id=edge), remove)
        return strawberry.ID(str(made))

    @mutation_with(
        "Comment on a task (POST .../comments; members, not viewers; the author watches)"
    )
    def add_task_comment(
        self,
        info: Info,
        project_id: strawberry.ID,
        task_id: strawberry.ID,
        body: str,
        idempotency_key: str | None = None,
    ) -> TaskComment | None:
        ctx = info.context.require(Permission.PROJECT_USE)
        project, task = uuid_of(project_id, "projectId"), uuid_of(task_id, "taskId")
        data: TaskCommentCreate = parsed(TaskCommentCreate, {"body": body})
        return TaskComment.of(
            once_view(
                ctx,
                f"addTaskComment/{task}",
                idempotency_key,
                data,
                lambda: _made(
                    links.add_comment(ctx, project_id=project, task_id=task, body=data.body)
                ),
                lambda made: links.get_comment(
                    ctx, project_id=project, task_id=task, comment_id=made
                ),
            )
        )

    @mutation_with("Watch a task (PUT .../watchers/me; viewers too)")
    def watch_task(
        self,
        info: Info,
        project_id: strawberry.ID,
        task_id: strawberry.ID,
        idempotency_key: str | None = None,
    ) -> Task | None:
        ctx = info.context.require(Permission.PROJECT_USE)
        project, task = uuid_of(project_id, "projectId"), uuid_of(task_id, "taskId")
        return Task.of(
            once_view(
                ctx,
                f"watchTask/{task}",
                idempotency_key,
                Ref(id=task),
                lambda: _made(links.watch(ctx, project_id=project, task_id=task)),
                lambda made: tasks.get_task(ctx, project_id=project, task_id=made),
            )
        )

    @mutation_with("Stop watching a task (DELETE .../watchers/me)")
    def unwatch_task(
        self,
        info: Info,
        project_id: strawberry.ID,
        task_id: strawberry.ID,
        idempotency_key: str | None = None,
    ) -> Task | None:
        ctx = info.context.require(Permission.PROJECT_USE)
        project, task = uuid_of(project_id, "projectId"), uuid_of(task_id, "taskId")

        def unwatch() -> uuid.UUID:
            links.unwatch(ctx, project_id=project, task_id=task)
            return task

        once(ctx, f"unwatchTask/{task}", idempotency_key, Ref(id=task), unwatch)
        return Task.of(tasks.get_task(ctx, project_id=project, task_id=task))
