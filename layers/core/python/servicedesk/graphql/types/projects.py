"""Project, Task and what hangs off them (columns, members, the schedule, dependencies,
ticket links, comments, watchers), as GET /v1/projects and GET /v1/projects/{id}/tasks
show them.

A project's first page of tasks resolves through the request's loaders (one statement for
every project of a page, then REST's task view once: ``views.tasks``); a page with
``after`` or a ``filter`` reads through the REST route's own list (``tasks.list_tasks``,
which checks the project again), so the cost limit weighs ``tasks`` per project. People
(owner, assignee, members, watchers, comment authors) come from the people loader;
columns, members and every task's first page of comments come through one loader each for
the whole page. ``schedule`` is REST's ``schedule.get_schedule`` once per project (the CPM
pass needs every task and edge of it): the cost limit weighs it as ``attachments``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from pydantic import Field, ValidationError
from strawberry.scalars import JSON

from servicedesk.graphql.context import Info, field_with
from servicedesk.graphql.limits import CONNECTIONS, DEFAULT_FIRST, page_size
from servicedesk.graphql.loaders import Member
from servicedesk.graphql.types.people import User
from servicedesk.graphql.types.tickets import Connection, connection
from servicedesk.platform.errors import ValidationProblem, field_error, validation_errors
from servicedesk.platform.schemas import Input
from servicedesk.projects import links as project_links
from servicedesk.projects import schedule as project_schedule
from servicedesk.projects import tasks as project_tasks
from servicedesk.projects.models import ProjectColumn
from servicedesk.projects.schemas import Priority, TaskOrder


class TaskFilter(Input):
    """GET /v1/projects/{id}/tasks's filters, as its query parameters declare them."""

    column_id: uuid.UUID | None = None
    assignee: Annotated[str | None, Field(max_length=40)] = None
    label: Annotated[str | None, Field(max_length=200)] = None
    q: Annotated[str | None, Field(max_length=200)] = None
    priority: Priority | None = None
    order: TaskOrder | None = None


def task_filter(value: object) -> TaskFilter:
    """``filter`` read as REST reads the query: a 422 naming an unknown or bad field."""
    if value is not None and not isinstance(value, dict):
        raise ValidationProblem(errors=[field_error("filter", "must be an object")])
    try:
        return TaskFilter.model_validate(value or {})
    except ValidationError as exc:
        raise ValidationProblem(errors=validation_errors(exc.errors())) from exc


def _id(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.type(description="A board column (as the project answer's columns)")
class Column:
    id: strawberry.ID
    name: str
    category: str
    position: int
    wip_limit: int | None

    @classmethod
    def of(cls, column: ProjectColumn) -> Column:
        return cls(
            id=_id(column.id),
            name=column.name,
            category=column.category,
            position=column.position,
            wip_limit=column.wip_limit,
        )


@strawberry.type(description="A project member and their project role")
class ProjectMember:
    role: str
    user_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def user(self, info: Info) -> User:
        return User.of(await info.context.loaders.people.load(self.user_id))

    @classmethod
    def of(cls, member: Member) -> ProjectMember:
        return cls(role=member.role, user_id=member.user_id)


@strawberry.type(description="A comment on a task (GET .../tasks/{id}/comments)")
class TaskComment:
    id: strawberry.ID
    task_id: strawberry.ID
    body: str
    created_at: datetime
    author_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def author(self, info: Info) -> User:
        return User.of(await info.context.loaders.people.load(self.author_id))

    @classmethod
    def of(cls, view: dict[str, Any]) -> TaskComment:
        return cls(
            id=_id(view["id"]),
            task_id=_id(view["task_id"]),
            body=view["body"],
            created_at=view["created_at"],
            author_id=view["author"]["id"],
        )


@strawberry.type(description="A dependency between two tasks (GET .../dependencies)")
class Dependency:
    id: strawberry.ID
    predecessor_id: strawberry.ID
    successor_id: strawberry.ID
    type: str
    lag_days: int

    @classmethod
    def of(cls, edge: Any) -> Dependency:
        return cls(
            id=_id(edge.id),
            predecessor_id=_id(edge.predecessor_id),
            successor_id=_id(edge.successor_id),
            type=edge.type,
            lag_days=edge.lag_days,
        )


@strawberry.type(description="One task in the schedule: its CPM dates and slack")
class ScheduledTask:
    task_id: strawberry.ID
    key: str
    title: str
    duration_days: float
    earliest_start: date
    earliest_finish: date
    latest_start: date
    latest_finish: date
    slack_days: float
    critical: bool
    start_date: date | None
    due_date: date | None
    conflicts: list[str]


@strawberry.type(
    description="The schedule (GET .../schedule): earliest and latest dates, slack,"
    " the critical path, date conflicts"
)
class Schedule:
    project_start: date
    project_finish: date
    critical_path: list[strawberry.ID]
    tasks: list[ScheduledTask]

    @classmethod
    def of(cls, found: dict[str, Any]) -> Schedule:
        return cls(
            project_start=found["project_start"],
            project_finish=found["project_finish"],
            critical_path=[_id(t) for t in found["critical_path"]],
            tasks=[ScheduledTask(**{**t, "task_id": _id(t["task_id"])}) for t in found["tasks"]],
        )


@strawberry.type(description="A task that must finish (or start) before this one")
class TaskDependency:
    task_id: strawberry.ID
    key: str
    title: str
    open: bool


@strawberry.type(description="A ticket linked to a task (only tickets the caller may see)")
class TaskTicketLink:
    ticket_id: strawberry.ID
    number: str
    subject: str
    waits: bool


@strawberry.type(description="A project task (as GET /v1/projects/{id}/tasks/{task_id})")
class Task:
    id: strawberry.ID
    project_id: strawberry.ID
    number: int
    key: str
    title: str
    description: str
    column_id: strawberry.ID
    status_category: str
    estimate_days: float
    start_date: date | None
    due_date: date | None
    priority: str
    labels: list[str]
    checklist: JSON
    rank: str
    change_id: strawberry.ID | None
    version: int
    created_at: datetime
    updated_at: datetime
    view: strawberry.Private[dict[str, Any]]

    @classmethod
    def of(cls, view: dict[str, Any]) -> Task:
        return cls(
            id=_id(view["id"]),
            project_id=_id(view["project_id"]),
            number=view["number"],
            key=view["key"],
            title=view["title"],
            description=view["description"],
            column_id=_id(view["column_id"]),
            status_category=view["status_category"],
            estimate_days=view["estimate_days"],
            start_date=view["start_date"],
            due_date=view["due_date"],
            priority=view["priority"],
            labels=list(view["labels"] or []),
            checklist=JSON(list(view["checklist"] or [])),
            rank=view["rank"],
            change_id=_id(view["change_id"]) if view["change_id"] else None,
            version=view["version"],
            created_at=view["created_at"],
            updated_at=view["updated_at"],
            view=view,
        )

    @strawberry.field
    async def assignee(self, info: Info) -> User | None:
        assignee = self.view["assignee_id"]
        if assignee is None:
            return None
        return User.of(await info.context.loaders.people.load(assignee))

    @field_with("Who watches the task (read with the page's tasks)")
    async def watchers(self, info: Info) -> list[User]:
        people = info.context.loaders.people
        return [
            User.of(p) for p in await people.load_many([w["id"] for w in self.view["watchers"]])
        ]

    @field_with(
        "The task's comments, oldest first (GET .../tasks/{id}/comments; the first page of"
        " every task of a page in one statement)"
    )
    async def comments(
        self, info: Info, first: int = CONNECTIONS["comments"], after: str | None = None
    ) -> Connection[TaskComment]:
        first = page_size(first)
        if after is None:
            page = await info.context.loaders.task_comments(first).load(self.view["id"])
            return connection([TaskComment.of(c) for c in page.rows], page.end_cursor)
        rows, nxt = project_links.list_comments(
            info.context.ctx,
            project_id=self.view["project_id"],
            task_id=self.view["id"],
            limit=first,
            cursor=after,
        )
        return connection([TaskComment.of(c) for c in rows], nxt)

    @field_with("The tasks blocking this one (read with the page's tasks, one statement)")
    def blocked_by(self) -> list[TaskDependency]:
        return [
            TaskDependency(
                task_id=_id(b["task_id"]), key=b["key"], title=b["title"], open=b["open"]
            )
            for b in self.view["blocked_by"]
        ]

    @field_with("Linked tickets the caller may see (read with the page's tasks)")
    def ticket_links(self) -> list[TaskTicketLink]:
        return [
            TaskTicketLink(
                ticket_id=_id(link["ticket_id"]),
                number=link["number"],
                subject=link["subject"],
                waits=link["waits"],
            )
            for link in self.view["ticket_links"]
        ]


@strawberry.type(description="A project the caller sees (a member, or project:read_all)")
class Project:
    id: strawberry.ID
    key: str
    name: str
    description: str
    status: str
    start_date: date | None
    target_date: date | None
    archived: bool
    my_role: str | None
    task_count: int
    open_task_count: int
    version: int
    created_at: datetime
    updated_at: datetime
    owner_id: strawberry.Private[uuid.UUID]
    project_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, summary: dict[str, Any]) -> Project:
        return cls(
            id=_id(summary["id"]),
            key=summary["key"],
            name=summary["name"],
            description=summary["description"],
            status=summary["status"],
            start_date=summary["start_date"],
            target_date=summary["target_date"],
            archived=summary["archived"],
            my_role=summary["my_role"],
            task_count=summary["counts"]["tasks"],
            open_task_count=summary["counts"]["open_tasks"],
            version=summary["version"],
            created_at=summary["created_at"],
            updated_at=summary["updated_at"],
            owner_id=summary["owner_id"],
            project_id=summary["id"],
        )

    @strawberry.field
    async def owner(self, info: Info) -> User:
        return User.of(await info.context.loaders.people.load(self.owner_id))

    @field_with("The board's columns in order (one statement for a page of projects)")
    async def columns(self, info: Info) -> list[Column]:
        found = await info.context.loaders.project_columns.load(self.project_id)
        return [Column.of(c) for c in found]

    @field_with("The members and their project roles, by name (GET .../members)")
    async def members(self, info: Info) -> list[ProjectMember]:
        found = await info.context.loaders.project_members.load(self.project_id)
        return [ProjectMember.of(m) for m in found]

    @field_with(
        "The schedule (GET /v1/projects/{id}/schedule): CPM earliest and latest dates,"
        " slack, the critical path"
    )
    def schedule(self, info: Info) -> Schedule:
        return Schedule.of(
            project_schedule.get_schedule(info.context.ctx, project_id=self.project_id)
        )

    @field_with(
        "The project's tasks: GET /v1/projects/{id}/tasks's filters (column_id, assignee,"
        " label, q, priority, order) as a JSON object; the board order by default"
    )
    async def tasks(
        self,
        info: Info,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
        filter: JSON | None = None,
    ) -> Connection[Task]:
        first = page_size(first)
        query = task_filter(filter)
        if after is None and query == TaskFilter():
            page = await info.context.loaders.project_tasks(first).load(self.project_id)
            return connection([Task.of(view) for view in page.rows], page.end_cursor)
        rows, nxt = project_tasks.list_tasks(
            info.context.ctx,
            project_id=self.project_id,
            **query.model_dump(),
            limit=first,
            cursor=after,
        )
        return connection([Task.of(view) for view in rows], nxt)
