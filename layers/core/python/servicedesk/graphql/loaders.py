"""Per-request DataLoaders: each relation of a page is one statement, whatever its size.

Every loader reads through the REST paths' visibility rule: comments through
``visible_comments`` (and a merged ticket's conversation under the ticket it was merged
into, as ``comments.list_comments``), people through ``participants.people`` (what the
participants list shows: whoever may see a ticket sees who is on it), teams' names only
with ``directory:read`` (as ``GET /v1/teams``). The parents come from the ticket list or
``get_visible``, so a relation is only ever asked for tickets the caller may see.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import and_, func, select, union_all
from strawberry.dataloader import DataLoader

from servicedesk.catalog.models import Category
from servicedesk.identity.models import User
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.projects import links as project_links
from servicedesk.projects import projects as project_service
from servicedesk.projects import tasks as project_tasks
from servicedesk.projects import views as project_views
from servicedesk.projects.models import ProjectColumn, ProjectMember, TaskComment
from servicedesk.projects.models import Task as ProjectTask
from servicedesk.sla.models import SlaTarget
from servicedesk.teams.models import Team
from servicedesk.tickets import participants, timeline
from servicedesk.tickets import service as ticket_service
from servicedesk.tickets.models import Comment, Ticket, TicketEvent
from servicedesk.tickets.visibility import visible_comments, visible_events


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    name: str
    avatar_url: str | None


@dataclass(frozen=True)
class Named:
    id: uuid.UUID
    name: str | None


@dataclass(frozen=True)
class CommentPage:
    """The first ``first`` comments of one ticket, oldest first, and whether more follow."""

    rows: list[Comment]
    has_more: bool


@dataclass(frozen=True)
class TaskPage:
    """The first ``first`` tasks of one project on its board (REST's task view of each),
    and the cursor to continue after them (``None``: no more)."""

    rows: list[dict[str, Any]]
    end_cursor: str | None


@dataclass(frozen=True)
class TaskCommentPage:
    """The first ``first`` comments of one task, oldest first (REST's comment view of
    each), and the cursor to continue after them (``None``: no more)."""

    rows: list[dict[str, Any]]
    end_cursor: str | None


@dataclass(frozen=True)
class Member:
    user_id: uuid.UUID
    role: str


@dataclass(frozen=True)
class EventPage:
    """The first ``first`` timeline events of one ticket as the caller may read them."""

    rows: list[timeline.EventView]
    has_more: bool


def _by_id(rows: Iterable[Any], keys: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    found = {row.id: row for row in rows}
    return {key: found.get(key) for key in keys}


P = TypeVar("P")


def _per_page_size(
    loaders: dict[int, DataLoader[uuid.UUID, P]],
    first: int,
    load: Callable[[list[uuid.UUID], int], list[P]],
) -> DataLoader[uuid.UUID, P]:
    """The loader of first pages of ``first`` rows (one per page size asked for)."""
    loader = loaders.get(first)
    if loader is None:

        async def batch(keys: list[uuid.UUID]) -> list[P]:
            return load(keys, first)

        loader = loaders[first] = DataLoader(batch)
    return loader


@dataclass
class Loaders:
    """The request's loaders (a fresh set per request: nothing is cached across requests)."""

    ctx: RequestContext
    _comments: dict[int, DataLoader[uuid.UUID, CommentPage]] = field(default_factory=dict)
    _events: dict[int, DataLoader[uuid.UUID, EventPage]] = field(default_factory=dict)
    _tasks: dict[int, DataLoader[uuid.UUID, TaskPage]] = field(default_factory=dict)
    _task_comments: dict[int, DataLoader[uuid.UUID, TaskCommentPage]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.people: DataLoader[uuid.UUID, Person] = DataLoader(self._load_people)
        self.teams: DataLoader[uuid.UUID, Named | None] = DataLoader(self._load_teams)
        self.categories: DataLoader[uuid.UUID, Named | None] = DataLoader(self._load_categories)
        self.sla_targets: DataLoader[uuid.UUID, list[SlaTarget]] = DataLoader(self._load_sla)
        self.project_columns: DataLoader[uuid.UUID, list[ProjectColumn]] = DataLoader(
            self._load_columns
        )
        self.project_members: DataLoader[uuid.UUID, list[Member]] = DataLoader(self._load_members)

    def comments(self, first: int) -> DataLoader[uuid.UUID, CommentPage]:
        return _per_page_size(self._comments, first, self._load_comments)

    def events(self, first: int) -> DataLoader[uuid.UUID, EventPage]:
        return _per_page_size(self._events, first, self._load_events)

    def project_tasks(self, first: int) -> DataLoader[uuid.UUID, TaskPage]:
        return _per_page_size(self._tasks, first, self._load_project_tasks)

    def task_comments(self, first: int) -> DataLoader[uuid.UUID, TaskCommentPage]:
        return _per_page_size(self._task_comments, first, self._load_task_comments)

    async def _load_people(self, keys: list[uuid.UUID]) -> list[Person]:
        named = participants.people(self.ctx, set(keys))
        return [Person(key, *named[key]) if key in named else Person(key, "", None) for key in keys]

    async def _load_teams(self, keys: list[uuid.UUID]) -> list[Named | None]:
        readable = self.ctx.can(Permission.DIRECTORY_READ)
        rows = self.ctx.session.execute(
            select(Team.id, Team.name).where(
                Team.tenant_id == self.ctx.tenant_id, Team.id.in_(keys)
            )
        )
        found = _by_id(rows, keys)
        return [
            Named(key, found[key].name if readable else None) if found[key] else None
            for key in keys
        ]

    async def _load_categories(self, keys: list[uuid.UUID]) -> list[Named | None]:
        rows = self.ctx.session.execute(
            select(Category.id, Category.name).where(
                Category.tenant_id == self.ctx.tenant_id, Category.id.in_(keys)
            )
        )
        found = _by_id(rows, keys)
        return [Named(key, found[key].name) if found[key] else None for key in keys]

    async def _load_sla(self, keys: list[uuid.UUID]) -> list[list[SlaTarget]]:
        rows = self.ctx.session.scalars(
            select(SlaTarget)
            .where(SlaTarget.tenant_id == self.ctx.tenant_id, SlaTarget.ticket_id.in_(keys))
            .order_by(SlaTarget.ticket_id, SlaTarget.target)
        )
        grouped: dict[uuid.UUID, list[SlaTarget]] = defaultdict(list)
        for row in rows:
            grouped[row.ticket_id].append(row)
        return [grouped.get(key, []) for key in keys]

    def _load_comments(self, keys: list[uuid.UUID], first: int) -> list[CommentPage]:
        """One statement for every ticket's first page: the ticket's own comments and those
        of the tickets merged into it, ranked per ticket (created_at, id)."""
        ctx = self.ctx
        own = select(
            Comment.id.label("cid"),
            Comment.ticket_id.label("owner"),
            Comment.created_at.label("at"),
        ).where(
            Comment.tenant_id == ctx.tenant_id, Comment.ticket_id.in_(keys), visible_comments(ctx)
        )
        merged = (
            select(
                Comment.id.label("cid"),
                Ticket.merged_into_id.label("owner"),
                Comment.created_at.label("at"),
            )
            .join(
                Ticket, and_(Ticket.id == Comment.ticket_id, Ticket.tenant_id == Comment.tenant_id)
            )
            .where(
                Comment.tenant_id == ctx.tenant_id,
                Ticket.merged_into_id.in_(keys),
                visible_comments(ctx),
            )
        )
        both = union_all(own, merged).subquery()
        ranked = select(
            both.c.cid,
            both.c.owner,
            func.row_number()
            .over(partition_by=both.c.owner, order_by=(both.c.at, both.c.cid))
            .label("rn"),
        ).subquery()
        rows = ctx.session.execute(
            select(Comment, ranked.c.owner)
            .join(ranked, ranked.c.cid == Comment.id)
            .where(Comment.tenant_id == ctx.tenant_id, ranked.c.rn <= first + 1)
            .order_by(ranked.c.owner, ranked.c.rn)
        ).all()
        grouped: dict[uuid.UUID, list[Comment]] = defaultdict(list)
        for comment, owner in rows:
            grouped[owner].append(comment)
        return [CommentPage(grouped[key][:first], len(grouped[key]) > first) for key in keys]

    def _load_events(self, keys: list[uuid.UUID], first: int) -> list[EventPage]:
        """One statement for every ticket's first page of its timeline (``visible_events``,
        oldest first, as ``queries.list_events``), then one ``timeline.viewable`` over all
        of them (what the events name, redacted where the caller may not see it)."""
        ctx = self.ctx
        rank = (
            func.row_number()
            .over(partition_by=TicketEvent.ticket_id, order_by=TicketEvent.id)
            .label("rn")
        )
        ranked = (
            select(TicketEvent.id, rank)
            .where(
                TicketEvent.tenant_id == ctx.tenant_id,
                TicketEvent.ticket_id.in_(keys),
                visible_events(ctx),
            )
            .subquery()
        )
        rows = ctx.session.scalars(
            select(TicketEvent)
            .join(ranked, ranked.c.id == TicketEvent.id)
            .where(TicketEvent.tenant_id == ctx.tenant_id, ranked.c.rn <= first + 1)
            .order_by(TicketEvent.ticket_id, TicketEvent.id)
        ).all()
        views = timeline.viewable(ctx, rows, ticket_service.load_settings(ctx))
        grouped: dict[uuid.UUID, list[timeline.EventView]] = defaultdict(list)
        for row, view in zip(rows, views, strict=True):
            grouped[row.ticket_id].append(view)
        return [EventPage(grouped[key][:first], len(grouped[key]) > first) for key in keys]

    def _load_project_tasks(self, keys: list[uuid.UUID], first: int) -> list[TaskPage]:
        """One statement for every project's first board page (column position, rank, id:
        ``tasks.ORDERS["board"]``, as GET /v1/projects/{id}/tasks), then REST's task view
        (``views.tasks``: key, category, assignee, blockers, visible ticket links) once
        over all of them. The projects come from ``access.visible``/``access.project``."""
        ctx = self.ctx
        rank = (
            func.row_number()
            .over(
                partition_by=ProjectTask.project_id,
                order_by=(ProjectColumn.position, ProjectTask.rank, ProjectTask.id),
            )
            .label("rn")
        )
        ranked = (
            select(ProjectTask.id, rank)
            .join(ProjectColumn, ProjectColumn.id == ProjectTask.column_id)
            .where(ProjectTask.tenant_id == ctx.tenant_id, ProjectTask.project_id.in_(keys))
            .subquery()
        )
        rows = ctx.session.execute(
            select(ProjectTask, ProjectColumn.position)
            .join(ranked, ranked.c.id == ProjectTask.id)
            .join(ProjectColumn, ProjectColumn.id == ProjectTask.column_id)
            .where(ranked.c.rn <= first + 1)
            .order_by(ProjectTask.project_id, ranked.c.rn)
        ).all()
        grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[row.Task.project_id].append(row)
        shown = [row for key in keys for row in grouped[key][:first]]
        views = {view["id"]: view for view in project_views.tasks(ctx, [r.Task for r in shown])}
        board = project_tasks.ORDERS["board"]
        pages = []
        for key in keys:
            page = grouped[key]
            end = board.encode(page[first - 1]) if len(page) > first else None
            pages.append(TaskPage([views[r.Task.id] for r in page[:first]], end))
        return pages

    async def _load_columns(self, keys: list[uuid.UUID]) -> list[list[ProjectColumn]]:
        """Every project's board columns in order (``projects.columns_of``), one statement."""
        rows = self.ctx.session.scalars(
            select(ProjectColumn)
            .where(
                ProjectColumn.tenant_id == self.ctx.tenant_id, ProjectColumn.project_id.in_(keys)
            )
            .order_by(ProjectColumn.project_id, ProjectColumn.position)
        )
        grouped: dict[uuid.UUID, list[ProjectColumn]] = defaultdict(list)
        for row in rows:
            grouped[row.project_id].append(row)
        return [grouped[key] for key in keys]

    async def _load_members(self, keys: list[uuid.UUID]) -> list[list[Member]]:
        """Every project's members as ``projects.list_members`` lists them (by name, at
        most ``MAX_MEMBERS``), one statement."""
        ctx = self.ctx
        rank = (
            func.row_number()
            .over(
                partition_by=ProjectMember.project_id,
                order_by=(func.lower(User.name), User.id),
            )
            .label("rn")
        )
        ranked = (
            select(ProjectMember.project_id, ProjectMember.user_id, ProjectMember.role, rank)
            .join(User, User.id == ProjectMember.user_id)
            .where(ProjectMember.tenant_id == ctx.tenant_id, ProjectMember.project_id.in_(keys))
            .subquery()
        )
        rows = ctx.session.execute(
            select(ranked.c.project_id, ranked.c.user_id, ranked.c.role)
            .where(ranked.c.rn <= project_service.MAX_MEMBERS)
            .order_by(ranked.c.project_id, ranked.c.rn)
        )
        grouped: dict[uuid.UUID, list[Member]] = defaultdict(list)
        for project_id, user_id, role in rows:
            grouped[project_id].append(Member(user_id, role))
        return [grouped[key] for key in keys]

    def _load_task_comments(self, keys: list[uuid.UUID], first: int) -> list[TaskCommentPage]:
        """One statement for every task's first page of comments, oldest first
        (``links.OLDEST``, as GET .../tasks/{id}/comments), then REST's comment view once.
        The tasks come from a project the caller sees."""
        ctx = self.ctx
        rank = (
            func.row_number()
            .over(
                partition_by=TaskComment.task_id,
                order_by=(TaskComment.created_at, TaskComment.id),
            )
            .label("rn")
        )
        ranked = (
            select(TaskComment.id, rank)
            .where(TaskComment.tenant_id == ctx.tenant_id, TaskComment.task_id.in_(keys))
            .subquery()
        )
        rows = ctx.session.scalars(
            select(TaskComment)
            .join(ranked, ranked.c.id == TaskComment.id)
            .where(ranked.c.rn <= first + 1)
            .order_by(TaskComment.task_id, ranked.c.rn)
        ).all()
        grouped: dict[uuid.UUID, list[TaskComment]] = defaultdict(list)
        for row in rows:
            grouped[row.task_id].append(row)
        shown = [row for key in keys for row in grouped[key][:first]]
        views = {view["id"]: view for view in project_links.comment_views(ctx, shown)}
        pages = []
        for key in keys:
            page = grouped[key]
            end = project_links.OLDEST.encode(page[first - 1]) if len(page) > first else None
            pages.append(TaskCommentPage([views[c.id] for c in page[:first]], end))
        return pages
