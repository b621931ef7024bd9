"""Projects API schemas: projects (columns, members, settings), tasks (board, checklist,
ticket links, comments, watchers), dependencies, the schedule and reschedule moves."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from servicedesk.platform.schemas import Input, Output, not_null

ProjectStatus = Literal["planned", "active", "on_hold", "completed", "cancelled"]
ProjectRole = Literal["owner", "manager", "member", "viewer"]
Category = Literal["todo", "in_progress", "done"]
Priority = Literal["low", "normal", "high", "urgent"]
DependencyType = Literal["finish_to_start", "start_to_start"]
TaskOrder = Literal["board", "due", "created", "priority"]
DateConflicts = Literal["warn", "refuse"]
ProjectKey = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{1,9}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=60)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(max_length=20000)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=40)]
ItemText = Annotated[str, StringConstraints(min_length=1, max_length=500)]
CommentBody = Annotated[str, StringConstraints(min_length=1, max_length=20000)]
Estimate = Annotated[Decimal, Field(ge=0, le=3650, max_digits=7, decimal_places=2)]
Lag = Annotated[int, Field(ge=-365, le=365)]
Version = Annotated[int | None, Field(default=None, ge=1, description="Or send If-Match")]
MAX_COLUMNS = 12
MAX_LABELS = 20
MAX_CHECKLIST = 100


def _dates(start: date | None, end: date | None, field: str) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"{field} must not be before start_date")


# -- projects ----------------------------------------------------------------------------


class ProjectSettings(Input):
    date_conflicts: DateConflicts = Field(
        default="warn",
        description="Dates that contradict dependencies: warned in the schedule, or refused",
    )


class ProjectCreate(Input):
    name: Name
    key: ProjectKey = Field(description="2-10 capitals and digits, unique in the organisation")
    description: LongText = ""
    owner_id: uuid.UUID | None = Field(default=None, description="Default: the creator")
    start_date: date | None = None
    target_date: date | None = None
    status: ProjectStatus = "planned"

    @model_validator(mode="after")
    def _checks(self) -> ProjectCreate:
        _dates(self.start_date, self.target_date, "target_date")
        return self


class ProjectUpdate(Input):
    name: Name | None = None
    description: LongText | None = None
    owner_id: uuid.UUID | None = None
    status: ProjectStatus | None = None
    start_date: date | None = None
    target_date: date | None = None
    archived: bool | None = None
    settings: ProjectSettings | None = None
    version: Version = None

    _not_null = field_validator(
        "name", "description", "owner_id", "status", "archived", "settings", mode="before"
    )(not_null)


class ColumnIn(Input):
    id: uuid.UUID | None = Field(default=None, description="An existing column (kept)")
    name: ColumnName
    category: Category
    wip_limit: int | None = Field(default=None, ge=1, le=1000)


class ColumnsSet(Input):
    columns: list[ColumnIn] = Field(min_length=1, max_length=MAX_COLUMNS)
    version: Version = None


class ColumnPublic(Output):
    id: uuid.UUID
    name: str
    category: Category
    position: int
    wip_limit: int | None = None


class UserSummary(Output):
    id: uuid.UUID
    name: str
    email: str


class Counts(Output):
    tasks: int
    open_tasks: int


class ProjectSummary(Output):
    id: uuid.UUID
    key: str
    name: str
    status: ProjectStatus
    owner: UserSummary
    start_date: date | None
    target_date: date | None
    archived: bool
    my_role: ProjectRole | None
    counts: Counts
    version: int
    created_at: datetime
    updated_at: datetime


class ProjectPublic(ProjectSummary):
    description: str
    columns: list[ColumnPublic]
    settings: ProjectSettings


class MemberSet(Input):
    role: ProjectRole


class MemberPublic(Output):
    user: UserSummary
    role: ProjectRole


# -- tasks -------------------------------------------------------------------------------


class ChecklistItem(Input):
    id: uuid.UUID | None = Field(default=None, description="Kept when sent back; else new")
    text: ItemText
    done: bool = False


class ChecklistItemPublic(Output):
    id: uuid.UUID
    text: str
    done: bool


Labels = Annotated[list[Label], Field(max_length=MAX_LABELS)]
Checklist = Annotated[list[ChecklistItem], Field(max_length=MAX_CHECKLIST)]


class TaskCreate(Input):
    title: Title
    description: LongText = ""
    column_id: uuid.UUID | None = Field(default=None, description="Default: the first column")
    assignee_id: uuid.UUID | None = None
    estimate_days: Estimate = Decimal(1)
    start_date: date | None = None
    due_date: date | None = None
    priority: Priority = "normal"
    labels: Labels = Field(default_factory=list)
    checklist: Checklist = Field(default_factory=list)
    ticket_id: uuid.UUID | None = Field(
        default=None, description="Create from a ticket: linked both ways"
    )

    @model_validator(mode="after")
    def _checks(self) -> TaskCreate:
        _dates(self.start_date, self.due_date, "due_date")
        return self


class TaskUpdate(Input):
    title: Title | None = None
    description: LongText | None = None
    assignee_id: uuid.UUID | None = None
    estimate_days: Estimate | None = None
    start_date: date | None = None
    due_date: date | None = None
    priority: Priority | None = None
    labels: Labels | None = None
    checklist: Checklist | None = None
    version: Version = None

    _not_null = field_validator(
        "title", "description", "estimate_days", "priority", "labels", "checklist", mode="before"
    )(not_null)


class TaskMove(Input):
    column_id: uuid.UUID
    before_id: uuid.UUID | None = Field(default=None, description="Place just before this task")
    after_id: uuid.UUID | None = Field(default=None, description="Place just after this task")
    override: bool = Field(
        default=False, description="Start although a blocking task is open (audited)"
    )
    version: Version = None


class Blocker(Output):
    task_id: uuid.UUID
    key: str
    title: str
    open: bool


class TicketLinkPublic(Output):
    ticket_id: uuid.UUID
    number: str
    subject: str
    waits: bool


class TaskPublic(Output):
    id: uuid.UUID
    project_id: uuid.UUID
    number: int
    key: str
    title: str
    description: str
    column_id: uuid.UUID
    status_category: Category
    assignee: UserSummary | None
    estimate_days: float
    start_date: date | None
    due_date: date | None
    priority: Priority
    labels: list[str]
    checklist: list[ChecklistItemPublic]
    rank: str
    watchers: list[UserSummary]
    blocked_by: list[Blocker]
    ticket_links: list[TicketLinkPublic]
    change_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime


class TaskTicketLinkCreate(Input):
    ticket_id: uuid.UUID
    waits: bool = Field(default=False, description="The ticket is on hold until the task is done")


class FromChange(Input):
    change_id: uuid.UUID


class TasksMade(Output):
    items: list[TaskPublic]


class TaskCommentCreate(Input):
    body: CommentBody


class TaskCommentPublic(Output):
    id: uuid.UUID
    task_id: uuid.UUID
    author: UserSummary
    body: str
    created_at: datetime


# -- dependencies and the schedule -------------------------------------------------------


class DependencyCreate(Input):
    predecessor_id: uuid.UUID
    successor_id: uuid.UUID
    type: DependencyType = "finish_to_start"
    lag_days: Lag = 0


class DependencyPublic(Output):
    id: uuid.UUID
    predecessor_id: uuid.UUID
    successor_id: uuid.UUID
    type: DependencyType
    lag_days: int


class ScheduledTask(Output):
    task_id: uuid.UUID
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


class ScheduleDependency(Output):
    """A dependency of the rows answered: both ends among them (``outside`` null), or one
    (a stub: ``outside`` says which end is not among the rows; its key names it)."""

    id: uuid.UUID
    predecessor_id: uuid.UUID
    successor_id: uuid.UUID
    predecessor_key: str
    successor_key: str
    type: DependencyType
    lag_days: int
    outside: Literal["predecessor", "successor"] | None


class Schedule(Output):
    """The whole project's summary and critical path; the rows of the window asked for."""

    project_start: date
    project_finish: date
    critical_path: list[uuid.UUID]
    critical_keys: list[str] = Field(description="The critical path's task keys, in order")
    total_tasks: int = Field(description="Tasks in the project (the CPM saw them all)")
    window_start: date | None
    window_end: date | None
    matched: int = Field(description="Tasks whose earliest bar meets the window")
    offset: int
    next_offset: int | None = Field(description="The offset of the window's next rows")
    tasks: list[ScheduledTask]
    dependencies: list[ScheduleDependency] = Field(
        description="The edges among the rows answered, then those with one end among them"
        " (stubs), each in task number order; at most 10 per row of limit"
    )
    dependencies_matched: int = Field(
        description="Edges with an end among the rows (more than answered: the rest cut)"
    )


class Reschedule(Input):
    start_date: date
    apply: bool = Field(default=False, description="false: only preview the moves")
    version: Version = None


class Move(Output):
    task_id: uuid.UUID
    key: str
    old_start: date | None
    new_start: date
    old_due: date | None
    new_due: date | None


class Moves(Output):
    moves: list[Move]
