"""Dependencies between a project's tasks, kept a DAG.

An edge predecessor -> successor closes a cycle exactly when the predecessor is reachable
from the successor already; that is checked in SQL (a recursive CTE over the project's
edges) while holding the project's row lock, which every edge insert takes first. So two
concurrent inserts that together would close a cycle are serialised: the second runs its
check after the first committed (READ COMMITTED gives the statement a new snapshot) and is
refused. Dates that contradict an edge (a successor starting before its predecessor's due
date, plus lag) are warned in the schedule or refused, per the project's setting."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text

from servicedesk.platform import audit
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.tenancy import RequestContext
from servicedesk.projects import access, events
from servicedesk.projects.access import Level
from servicedesk.projects.models import Dependency, Project, Task
from servicedesk.projects.schemas import DependencyCreate

MAX_DEPENDENCIES = 100_000  # per project; the listing answers them all

_REACHES = text(
    """
    WITH RECURSIVE reach(id) AS (
        SELECT CAST(:start AS uuid)
        UNION
        SELECT d.successor_id FROM task_dependencies d JOIN reach r ON d.predecessor_id = r.id
        WHERE d.project_id = :p
    )
    SELECT EXISTS (SELECT 1 FROM reach WHERE id = :goal)
    """
)


def reaches(ctx: RequestContext, project_id: uuid.UUID, start: uuid.UUID, goal: uuid.UUID) -> bool:
    """Is there a path start -> ... -> goal over the project's edges (SQL)."""
    return bool(ctx.session.scalar(_REACHES, {"start": start, "goal": goal, "p": project_id}))


def edges_of(ctx: RequestContext, project_id: uuid.UUID) -> list[Dependency]:
    return list(
        ctx.session.scalars(
            select(Dependency)
            .where(Dependency.project_id == project_id)
            .order_by(Dependency.created_at, Dependency.id)
            .limit(MAX_DEPENDENCIES)
        )
    )


# One path start -> ... -> goal, named in SQL when an edge is refused as a cycle. ``back``:
# every task that reaches the goal (a backward walk; each task once, UNION). ``walk``: from
# the start, one step at a time to the first (lowest id) successor that is in ``back``,
# carrying the path array; every task of ``back`` but the goal has such a successor, and
# the graph is still acyclic under the project's lock, so the walk reaches the goal in at
# most |back| steps without backtracking (a path-carrying search over all paths could
# grow exponentially on a DAG). Bounded by the path's length all the same; the first row
# that reaches the goal ends it.
_PATH = text(
    """
    WITH RECURSIVE back(id) AS (
        SELECT CAST(:goal AS uuid)
        UNION
        SELECT d.predecessor_id FROM task_dependencies d JOIN back b ON d.successor_id = b.id
        WHERE d.project_id = :p
    ),
    walk(id, path) AS (
        SELECT CAST(:start AS uuid), ARRAY[CAST(:start AS uuid)]
        UNION ALL
        SELECT n.id, w.path || n.id
        FROM walk w
        CROSS JOIN LATERAL (
            SELECT d.successor_id AS id FROM task_dependencies d
            WHERE d.predecessor_id = w.id AND d.project_id = :p
              AND d.successor_id IN (SELECT id FROM back)
            ORDER BY d.successor_id
            LIMIT 1
        ) n
        WHERE w.id <> CAST(:goal AS uuid) AND cardinality(w.path) <= :bound
    )
    SELECT path FROM walk WHERE id = CAST(:goal AS uuid) LIMIT 1
    """
)


def cycle_path(
    ctx: RequestContext, project_id: uuid.UUID, start: uuid.UUID, goal: uuid.UUID
) -> list[uuid.UUID]:
    """One path start -> goal over the project's edges (SQL; only to name a refused cycle),
    or [] when there is none."""
    found = ctx.session.scalar(
        _PATH, {"start": start, "goal": goal, "p": project_id, "bound": MAX_DEPENDENCIES}
    )
    return [uuid.UUID(str(i)) for i in found] if found else []


def _keys(ctx: RequestContext, project: Project, ids: list[uuid.UUID]) -> list[str]:
    numbers = dict(ctx.session.execute(select(Task.id, Task.number).where(Task.id.in_(ids))).all())
    return [f"{project.key}-{numbers[i]}" for i in ids]


def list_dependencies(ctx: RequestContext, *, project_id: uuid.UUID) -> list[Dependency]:
    project = access.project(ctx, project_id)
    return edges_of(ctx, project.id)


def _task(ctx: RequestContext, project: Project, task_id: uuid.UUID, field: str) -> Task:
    found = ctx.session.scalars(
        select(Task).where(Task.project_id == project.id, Task.id == task_id)
    ).one_or_none()
    if found is None:
        raise ValidationProblem(errors=[field_error(field, "not a task of this project")])
    return found


def add_dependency(
    ctx: RequestContext, *, project_id: uuid.UUID, data: DependencyCreate
) -> Dependency:
    """Self: 422 naming ``successor_id``; a cycle: 422 naming ``predecessor_id`` with the
    cycle's keys; a task not of this project: 422 naming its field; twice: 409."""
    project = access.project(ctx, project_id, Level.WORK, lock=True)
    if data.predecessor_id == data.successor_id:
        raise ValidationProblem(
            errors=[field_error("successor_id", "a task cannot depend on itself")]
        )
    before = _task(ctx, project, data.predecessor_id, "predecessor_id")
    after = _task(ctx, project, data.successor_id, "successor_id")
    exists = ctx.session.scalar(
        select(Dependency.id).where(
            Dependency.predecessor_id == before.id, Dependency.successor_id == after.id
        )
    )
    if exists is not None:
        raise Conflict("the dependency exists", errors=[field_error("successor_id", "duplicate")])
    if reaches(ctx, project.id, after.id, before.id):
        cycle = _keys(ctx, project, [before.id, *cycle_path(ctx, project.id, after.id, before.id)])
        raise ValidationProblem(
            "the dependency would close a cycle: " + " -> ".join(cycle),
            errors=[field_error("predecessor_id", "closes the cycle " + " -> ".join(cycle))],
            cycle=cycle,
        )
    if refuses(project):
        broken = edge_conflict(before, after, data.type, data.lag_days)
        if broken:
            raise ValidationProblem(errors=[field_error("successor_id", broken)])
    edge = Dependency(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        project_id=project.id,
        predecessor_id=before.id,
        successor_id=after.id,
        type=data.type,
        lag_days=data.lag_days,
    )
    ctx.session.add(edge)
    ctx.session.flush()
    ctx.session.refresh(edge)
    audit.record(
        ctx,
        action="task.dependency_added",
        entity_type="project",
        entity_id=project.id,
        data=data.model_dump(mode="json"),
    )
    _emit(ctx, "task.dependency_added", project, edge)
    return edge


def remove_dependency(
    ctx: RequestContext, *, project_id: uuid.UUID, dependency_id: uuid.UUID
) -> None:
    project = access.project(ctx, project_id, Level.WORK, lock=True)
    edge = ctx.session.scalars(
        select(Dependency).where(
            Dependency.project_id == project.id, Dependency.id == dependency_id
        )
    ).one_or_none()
    if edge is None:
        raise NotFound("no such dependency")
    _emit(ctx, "task.dependency_removed", project, edge)
    audit.record(
        ctx,
        action="task.dependency_removed",
        entity_type="project",
        entity_id=project.id,
        data={"predecessor_id": str(edge.predecessor_id), "successor_id": str(edge.successor_id)},
    )
    ctx.session.delete(edge)
    ctx.session.flush()


def _emit(ctx: RequestContext, kind: str, project: Project, edge: Dependency) -> None:
    events.emit(
        ctx,
        kind,
        project_id=project.id,
        aggregate_type="task",
        aggregate_id=edge.successor_id,
        dependency_id=edge.id,
        predecessor_id=edge.predecessor_id,
        successor_id=edge.successor_id,
        type=edge.type,
        lag_days=edge.lag_days,
    )


# -- what dependencies mean for moves and dates ------------------------------------------

_PREDECESSORS = text(
    """
    SELECT p.id AS task_id, :key || '-' || p.number AS key, p.title, d.type, c.category
    FROM task_dependencies d
    JOIN project_tasks p ON p.id = d.predecessor_id
    JOIN project_columns c ON c.id = p.column_id
    WHERE d.successor_id = :task ORDER BY p.number
    """
)


def open_blockers(
    ctx: RequestContext, project: Project, task: Task, category: str
) -> list[dict[str, Any]]:
    """What keeps ``task`` from entering a ``category`` column: a finish-to-start
    predecessor not done; a start-to-start one not started."""
    blockers = []
    for row in ctx.session.execute(_PREDECESSORS, {"key": project.key, "task": task.id}).mappings():
        open_fs = row["type"] == "finish_to_start" and row["category"] != "done"
        open_ss = row["type"] == "start_to_start" and row["category"] == "todo"
        if category in ("in_progress", "done") and (open_fs or open_ss):
            blockers.append(
                {"task_id": row["task_id"], "key": row["key"], "title": row["title"], "open": True}
            )
    return blockers


def refuses(project: Project) -> bool:
    return (project.settings or {}).get("date_conflicts") == "refuse"


def edge_conflict(before: Any, after: Any, kind: str, lag: int) -> str | None:
    """The successor's planned start against the predecessor's planned dates, or None.
    Finish-to-start: it starts after the predecessor's due date plus lag; start-to-start:
    not before its start plus lag."""
    if after.start_date is None:
        return None
    if kind == "finish_to_start" and before.due_date is not None:
        earliest = before.due_date + timedelta(days=1 + lag)
    elif kind == "start_to_start" and before.start_date is not None:
        earliest = before.start_date + timedelta(days=lag)
    else:
        return None
    if after.start_date < earliest:
        return f"starts {after.start_date} before {earliest}, which the dependency needs"
    return None


class _Dates:
    def __init__(self, start: date | None, due: date | None) -> None:
        self.start_date, self.due_date = start, due


def check_dates(
    ctx: RequestContext,
    project: Project,
    task: Task | None,
    start: date | None,
    due: date | None,
    *,
    estimate: Decimal | None = None,
) -> None:
    """Under the ``refuse`` setting, new dates that contradict one of the task's
    dependencies: 422 naming ``start_date`` (a predecessor) or ``due_date`` (a
    successor)."""
    if task is None or not refuses(project):
        return
    mine = _Dates(start, due)
    rows = ctx.session.execute(
        select(Dependency, Task)
        .join(Task, Task.id == Dependency.predecessor_id)
        .where(Dependency.successor_id == task.id)
    )
    for edge, before in rows:
        broken = edge_conflict(before, mine, edge.type, edge.lag_days)
        if broken:
            raise ValidationProblem(errors=[field_error("start_date", broken)])
    rows = ctx.session.execute(
        select(Dependency, Task)
        .join(Task, Task.id == Dependency.successor_id)
        .where(Dependency.predecessor_id == task.id)
    )
    for edge, after in rows:
        broken = edge_conflict(mine, after, edge.type, edge.lag_days)
        if broken:
            field = "due_date" if edge.type == "finish_to_start" else "start_date"
            raise ValidationProblem(errors=[field_error(field, f"a dependant {broken}")])
