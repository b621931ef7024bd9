"""The schedule: the critical path method over a project's tasks and dependencies, and
rescheduling a task with its dependants.

``critical_path`` is pure: a forward pass in topological order (Kahn's, O(V+E)) gives each
task its earliest start (after every predecessor's finish, finish-to-start, or start,
start-to-start, plus lag; and not before its own planned start, "no earlier than"), a
backward pass its latest finish without delaying the project; slack is the difference and
the critical tasks are those without. Days are calendar days as offsets from the project
start; dates are the offsets' days (a finish is the last day worked, inclusive)."""

from __future__ import annotations

import math
import uuid
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import select

from servicedesk.platform import audit
from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.platform.tenancy import RequestContext
from servicedesk.projects import access, dependencies
from servicedesk.projects.access import Level
from servicedesk.projects.models import Dependency, Project, Task

N = TypeVar("N", bound=Hashable)
EPSILON = 1e-9


@dataclass(frozen=True)
class Edge(Generic[N]):
    before: N
    after: N
    kind: str = "finish_to_start"
    lag: float = 0.0


@dataclass
class Timing:
    duration: float
    earliest_start: float = 0.0
    earliest_finish: float = 0.0
    latest_start: float = 0.0
    latest_finish: float = 0.0

    @property
    def slack(self) -> float:
        return self.latest_start - self.earliest_start

    @property
    def critical(self) -> bool:
        return abs(self.slack) < EPSILON


@dataclass
class Plan(Generic[N]):
    timings: dict[N, Timing]
    finish: float
    path: list[N] = field(default_factory=list)


class CycleError(ValueError):
    pass


def topological(nodes: Iterable[N], edges: list[Edge[N]]) -> list[N]:
    """Kahn's algorithm; a cycle raises ``CycleError`` (the database keeps none)."""
    order_in = list(nodes)
    indegree = dict.fromkeys(order_in, 0)
    after: dict[N, list[N]] = {n: [] for n in order_in}
    for e in edges:
        after[e.before].append(e.after)
        indegree[e.after] += 1
    queue = deque(n for n in order_in if indegree[n] == 0)
    order: list[N] = []
    while queue:
        node = queue.popleft()
        order.append(node)
        for nxt in after[node]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                queue.append(nxt)
    if len(order) != len(order_in):
        raise CycleError("the dependencies form a cycle")
    return order


def _needs(e: Edge[N], before: Timing) -> float:
    """The earliest start an edge allows its successor."""
    return (
        before.earliest_finish if e.kind == "finish_to_start" else before.earliest_start
    ) + e.lag


def critical_path(
    durations: dict[N, float], edges: list[Edge[N]], not_before: dict[N, float] | None = None
) -> Plan[N]:
    """Earliest and latest starts and finishes, the project's finish and one critical path
    (first task to last)."""
    floors = not_before or {}
    order = topological(durations, edges)
    into: dict[N, list[Edge[N]]] = {n: [] for n in durations}
    out: dict[N, list[Edge[N]]] = {n: [] for n in durations}
    for e in edges:
        into[e.after].append(e)
        out[e.before].append(e)
    t = {n: Timing(duration=durations[n]) for n in durations}
    for n in order:
        start = max([0.0, floors.get(n, 0.0), *(_needs(e, t[e.before]) for e in into[n])])
        t[n].earliest_start, t[n].earliest_finish = start, start + t[n].duration
    finish = max((x.earliest_finish for x in t.values()), default=0.0)
    for n in reversed(order):
        latest = finish
        for e in out[n]:
            nxt = t[e.after]
            if e.kind == "finish_to_start":
                latest = min(latest, nxt.latest_start - e.lag)
            else:
                latest = min(latest, nxt.latest_start - e.lag + t[n].duration)
        t[n].latest_finish, t[n].latest_start = latest, latest - t[n].duration
    return Plan(timings=t, finish=finish, path=_chain(order, into, t, finish))


def _chain(
    order: list[N], into: dict[N, list[Edge[N]]], t: dict[N, Timing], finish: float
) -> list[N]:
    """Walk back from a critical task finishing last through the tight critical edges."""
    ends = [n for n in order if t[n].critical and abs(t[n].earliest_finish - finish) < EPSILON]
    if not ends:
        return []
    path = [ends[-1]]
    while True:
        node = path[-1]
        tight = [
            e.before
            for e in into[node]
            if t[e.before].critical
            and abs(_needs(e, t[e.before]) - t[node].earliest_start) < EPSILON
        ]
        if not tight:
            break
        path.append(tight[0])
    return path[::-1]


# -- the project's schedule --------------------------------------------------------------


def _start_of(project: Project, tasks: list[Any]) -> date:
    planned = [t.start_date for t in tasks if t.start_date is not None]
    if project.start_date is not None:
        return project.start_date
    return min(planned) if planned else date.today()


def _day(start: date, offset: float) -> date:
    return start + timedelta(days=math.floor(offset + EPSILON))


def _last_day(start: date, timing: Timing, finish: float) -> date:
    """The last day worked (inclusive); a milestone's is its start."""
    if timing.duration <= EPSILON:
        return _day(start, finish)
    return start + timedelta(
        days=max(math.ceil(finish - EPSILON) - 1, math.floor(finish - timing.duration + EPSILON))
    )


TASK_FIELDS = (Task.id, Task.number, Task.title, Task.estimate_days, Task.start_date, Task.due_date)
EDGE_FIELDS = (
    Dependency.id,
    Dependency.predecessor_id,
    Dependency.successor_id,
    Dependency.type,
    Dependency.lag_days,
)


def load(ctx: RequestContext, project: Project) -> tuple[list[Any], list[Any]]:
    """The project's tasks and edges as plain rows (what the passes read; ORM objects for
    10,000 tasks and 30,000 edges would cost more than the passes)."""
    tasks = ctx.session.execute(
        select(*TASK_FIELDS).where(Task.project_id == project.id).order_by(Task.number)
    ).all()
    edges = ctx.session.execute(
        select(*EDGE_FIELDS).where(Dependency.project_id == project.id)
    ).all()
    return list(tasks), list(edges)


def plan_of(project: Project, tasks: list[Any], edges: list[Any]) -> tuple[date, Plan[uuid.UUID]]:
    start = _start_of(project, tasks)
    durations = {t.id: float(t.estimate_days) for t in tasks}
    floors = {t.id: float((t.start_date - start).days) for t in tasks if t.start_date is not None}
    graph = [Edge(e.predecessor_id, e.successor_id, e.type, float(e.lag_days)) for e in edges]
    return start, critical_path(durations, graph, floors)


# A page of the schedule's rows at most (the CPM always sees the whole project).
MAX_ROWS = 1000
# The dependencies answered with a page: at most this many per row asked for (``limit``).
EDGES_PER_ROW = 10


@dataclass(frozen=True)
class Window:
    """What a timeline asks for: rows whose earliest bar meets [start, end] (either end
    open), from ``offset``, at most ``limit``."""

    start: date | None = None
    end: date | None = None
    offset: int = 0
    limit: int = MAX_ROWS

    def check(self) -> None:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValidationProblem(
                errors=[{**field_error("window_end", "before window_start"), "in": "query"}]
            )

    def meets(self, first: date, last: date) -> bool:
        return (self.end is None or first <= self.end) and (
            self.start is None or last >= self.start
        )


def _conflicts(
    project: Project, by_id: dict[uuid.UUID, Any], edges: list[Any], ids: set[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """The date conflicts of the tasks ``ids`` (their incoming edges only)."""
    found: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    for e in edges:
        if e.successor_id not in ids:
            continue
        broken = dependencies.edge_conflict(
            by_id[e.predecessor_id], by_id[e.successor_id], e.type, e.lag_days
        )
        if broken:
            before = by_id[e.predecessor_id]
            found[e.successor_id].append(f"{project.key}-{before.number}: {broken}")
    return found


def window_edges(
    project: Project, by_id: dict[uuid.UUID, Any], edges: list[Any], ids: set[uuid.UUID], most: int
) -> tuple[list[dict[str, Any]], int]:
    """The edges a timeline draws for the rows ``ids``: those with both ends among them
    (arrows), then those with exactly one (stubs naming the other task's key, ``outside``
    the end not among the rows), each in (predecessor, successor) task number order; at
    most ``most`` of them, with how many there were."""
    inner: list[tuple[int, int, Any, str | None]] = []
    stubs: list[tuple[int, int, Any, str | None]] = []
    for e in edges:
        before, after = e.predecessor_id in ids, e.successor_id in ids
        if before and after:
            inner.append((by_id[e.predecessor_id].number, by_id[e.successor_id].number, e, None))
        elif before or after:
            stubs.append(
                (
                    by_id[e.predecessor_id].number,
                    by_id[e.successor_id].number,
                    e,
                    "successor" if before else "predecessor",
                )
            )
    inner.sort(key=lambda x: (x[0], x[1]))
    stubs.sort(key=lambda x: (x[0], x[1]))
    chosen = (inner + stubs)[:most]
    return [
        {
            "id": e.id,
            "predecessor_id": e.predecessor_id,
            "successor_id": e.successor_id,
            "predecessor_key": f"{project.key}-{p}",
            "successor_key": f"{project.key}-{n}",
            "type": e.type,
            "lag_days": e.lag_days,
            "outside": outside,
        }
        for p, n, e, outside in chosen
    ], len(inner) + len(stubs)


def get_schedule(
    ctx: RequestContext, *, project_id: uuid.UUID, window: Window | None = None
) -> dict[str, Any]:
    """The whole project's CPM; the rows of ``window`` only (in task number order), with
    the critical path (ids and keys) and the summary of the whole."""
    window = window or Window()
    window.check()
    project = access.project(ctx, project_id)
    tasks, edges = load(ctx, project)
    start, plan = plan_of(project, tasks, edges)
    by_id = {t.id: t for t in tasks}
    matched = []
    for t in tasks:
        x = plan.timings[t.id]
        first, last = _day(start, x.earliest_start), _last_day(start, x, x.earliest_finish)
        if window.meets(first, last):
            matched.append((t, x, first, last))
    page = matched[window.offset : window.offset + window.limit]
    shown = {t.id for t, *_ in page}
    conflicts = _conflicts(project, by_id, edges, shown)
    drawn, touching = window_edges(project, by_id, edges, shown, EDGES_PER_ROW * window.limit)
    rows = []
    for t, x, first, earliest_finish in page:
        if t.due_date is not None and t.due_date < earliest_finish:
            conflicts[t.id].append(f"due {t.due_date} before the earliest finish {earliest_finish}")
        rows.append(
            {
                "task_id": t.id,
                "key": f"{project.key}-{t.number}",
                "title": t.title,
                "duration_days": x.duration,
                "earliest_start": first,
                "earliest_finish": earliest_finish,
                "latest_start": _day(start, x.latest_start),
                "latest_finish": _last_day(start, x, x.latest_finish),
                "slack_days": round(x.slack, 2),
                "critical": x.critical,
                "start_date": t.start_date,
                "due_date": t.due_date,
                "conflicts": conflicts[t.id],
            }
        )
    following = window.offset + window.limit
    return {
        "project_start": start,
        "project_finish": _day(start, plan.finish),
        "critical_path": plan.path,
        "critical_keys": [f"{project.key}-{by_id[i].number}" for i in plan.path],
        "total_tasks": len(tasks),
        "window_start": window.start,
        "window_end": window.end,
        "matched": len(matched),
        "offset": window.offset,
        "next_offset": following if following < len(matched) else None,
        "tasks": rows,
        "dependencies": drawn,
        "dependencies_matched": touching,
    }


# -- rescheduling ------------------------------------------------------------------------


def _required(edge: Any, before_start: date, before: Task) -> date:
    """The earliest start an edge allows its successor, from the predecessor's start."""
    if edge.type == "start_to_start":
        return before_start + timedelta(days=edge.lag_days)
    length = max(math.ceil(float(before.estimate_days)), 1)
    return before_start + timedelta(days=length + edge.lag_days)


def _shifts(
    task: Task,
    start_date: date,
    tasks: list[Any],
    edges: list[Any],
    earliest: dict[uuid.UUID, date],
) -> list[tuple[Any, date, date | None]]:
    """(task, new start, new due) for the task and each planned dependant it pushes, in
    dependency order. A dependant without a planned start floats: it is not moved, but
    what it pushes in turn is."""
    by_id = {t.id: t for t in tasks}
    into: dict[uuid.UUID, list[Any]] = {}
    for e in edges:
        into.setdefault(e.successor_id, []).append(e)
    order = topological(
        [t.id for t in tasks], [Edge(e.predecessor_id, e.successor_id) for e in edges]
    )
    position = {n: i for i, n in enumerate(order)}
    new_start: dict[uuid.UUID, date] = {task.id: start_date}
    for node in order[position[task.id] + 1 :]:
        needs = [
            _required(e, new_start[e.predecessor_id], by_id[e.predecessor_id])
            for e in into.get(node, [])
            if e.predecessor_id in new_start
        ]
        if needs and max(needs) > (by_id[node].start_date or earliest[node]):
            new_start[node] = max(needs)
    shifts = []
    for node in sorted(new_start, key=position.__getitem__):
        t = by_id[node]
        if t.start_date == new_start[node] or (t.start_date is None and node != task.id):
            continue
        delta = new_start[node] - (t.start_date or earliest[node])
        shifts.append((t, new_start[node], t.due_date + delta if t.due_date else None))
    return shifts


def reschedule(
    ctx: RequestContext,
    *,
    project_id: uuid.UUID,
    task_id: uuid.UUID,
    start_date: date,
    apply: bool,
    version: int | None,
    if_match: int | None,
) -> dict[str, Any]:
    """Move the task's start (its due date keeps its distance) and every dependant that
    would otherwise start before a dependency allows it, shifted as little as needed.
    ``apply=false`` answers the moves only; applying needs the task's version (412)."""
    from servicedesk.projects import tasks as task_service

    if apply:
        project, task = task_service.locked(ctx, project_id, task_id, version, if_match)
    else:
        project, task = task_service.find(ctx, project_id, task_id, Level.READ)
    tasks, edges = load(ctx, project)
    start, plan = plan_of(project, tasks, edges)
    earliest = {t.id: _day(start, plan.timings[t.id].earliest_start) for t in tasks}
    if (
        dependencies.refuses(project)
        and start_date < earliest[task.id]
        and any(e.successor_id == task.id for e in edges)
    ):
        raise ValidationProblem(
            errors=[
                field_error(
                    "start_date", f"before {earliest[task.id]}, which its dependencies allow"
                )
            ]
        )
    shifts = _shifts(task, start_date, tasks, edges, earliest)
    moves = [
        {
            "task_id": t.id,
            "key": f"{project.key}-{t.number}",
            "old_start": t.start_date,
            "new_start": new_start,
            "old_due": t.due_date,
            "new_due": new_due,
        }
        for t, new_start, new_due in shifts
    ]
    if apply and moves:
        for row, new_start, new_due in shifts:
            t = ctx.session.get(Task, row.id, with_for_update=True)
            assert t is not None  # under the project's lock: no task goes meanwhile
            t.start_date, t.due_date = new_start, new_due
            task_service.saved(ctx, t)
            task_service.emit(ctx, "updated", project, t, changed=["due_date", "start_date"])
        audit.record(
            ctx,
            action="task.rescheduled",
            entity_type="task",
            entity_id=task.id,
            data={"moves": [{k: str(v) for k, v in m.items()} for m in moves]},
        )
    return {"moves": moves}
