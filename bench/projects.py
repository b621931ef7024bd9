"""Projects: a project of 10,000 tasks and 30,000 dependencies — adding an edge with its
cycle check, the schedule (critical path), the board's first page.

Embedded PostgreSQL of its own (``.data/bench-projects-pg``), database
``servicedesk_bench_projects`` migrated to head (dropped and made again each run). One
tenant and its admin; the project is made by the service (its default columns), then
``--tasks`` tasks (spread over the four columns, ranks spread evenly) and ``--edges``
dependencies (a DAG: from a lower task number to a higher one, 90 % finish-to-start) are
written with COPY as the administrator (RLS does not let the app COPY), then ANALYZE.
Each measured call is the route's service function in its own transaction, as a request:

- ``dependencies.add_dependency``, alternately between two random tasks from the lower
  number to the higher (never a cycle: the reachability walk explores all it reaches and
  the edge commits) and backwards along an existing edge (a cycle: refused, its path
  found and named);
- ``schedule.get_schedule`` and its response's JSON: every task and edge read, the
  forward and backward passes, the rows shaped and serialised; before (every row) and
  after (the web timeline's window: eight weeks, 200 rows) alternating in the same run,
  with their ratio, and what reading and the passes alone cost;
- the timeline's first window (eight weeks, 200 rows) with its arrows: before (the
  windowed schedule plus the whole ``list_dependencies`` and its JSON) and after (the
  windowed schedule carrying the edges of its rows), alternating, with the ratio
  (``--timeline-only``: this alone, after generating);
- ``tasks.list_tasks`` with the board order and the default page of 50;
- naming a refused cycle, before and after in the same run on the same edges: the path
  successor -> predecessor found in Python from every edge read (``python_path``, the code
  that was ``dependencies._path``) and in SQL (``dependencies.cycle_path``), with the
  ratio of their medians and 95th percentiles.

    PYTHONPATH=layers/core/python:. .venv/bin/python -m bench.projects [--tasks N]
        [--edges M] [--samples S] [--timeline-only]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.automation import admin_tenant

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data" / "bench-projects-pg"
NAME = "servicedesk_bench_projects"


def prepare() -> Any:
    from bench.sla import use_database
    from local import db as localdb

    admin = localdb.admin_url(DATA)
    localdb.drop_database(admin, NAME)
    db = localdb.ensure_database(admin, NAME)
    localdb.migrate(db)
    use_database(db)
    return admin


@contextmanager
def request(tenant: uuid.UUID, user: uuid.UUID) -> Iterator[Any]:
    from servicedesk.platform import db
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext

    with db.transaction() as session:
        db.set_tenant(session, tenant_id=tenant, user_id=user)
        yield RequestContext(session, tenant, user, Role.ADMIN)


def generate(
    admin: Any, tenant: uuid.UUID, user: uuid.UUID, tasks: int, edges: int
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """The project (by the service), then its tasks and edges by COPY."""
    from local import db as localdb
    from servicedesk.projects import projects, ranks
    from servicedesk.projects.schemas import ProjectCreate

    with request(tenant, user) as ctx:
        made = projects.create_project(ctx, data=ProjectCreate(name="Bench", key="BENCH"))
    project_id, columns = made["id"], [c.id for c in made["columns"]]
    rng = random.Random(7)
    ids = [uuid.uuid4() for _ in range(tasks)]
    per_column = {c: ranks.spread(None, None, tasks) for c in columns}
    with localdb.admin_connect(admin, NAME) as conn:
        with conn.cursor() as cur:
            with cur.copy(
                "COPY project_tasks (id, tenant_id, project_id, number, title, column_id,"
                " estimate_days, rank) FROM STDIN"
            ) as copy:
                for i, task_id in enumerate(ids):
                    column = columns[i % len(columns)]
                    copy.write_row(
                        (
                            task_id,
                            tenant,
                            project_id,
                            i + 1,
                            f"Task {i + 1}",
                            column,
                            rng.choice((0, 0.5, 1, 2, 3, 5)),
                            per_column[column][i],
                        )
                    )
            seen: set[tuple[int, int]] = set()
            with cur.copy(
                "COPY task_dependencies (tenant_id, project_id, predecessor_id, successor_id,"
                " type, lag_days) FROM STDIN"
            ) as copy:
                while len(seen) < edges:
                    a, b = sorted(rng.sample(range(tasks), 2))
                    if (a, b) in seen:
                        continue
                    seen.add((a, b))
                    kind = "finish_to_start" if rng.random() < 0.9 else "start_to_start"
                    copy.write_row((tenant, project_id, ids[a], ids[b], kind, rng.randrange(3)))
        conn.execute("UPDATE projects SET task_seq = %s WHERE id = %s", (tasks, project_id))
        for table in ("project_tasks", "task_dependencies", "project_columns", "projects"):
            conn.execute(f"ANALYZE {table}")
    return project_id, ids


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def summary(label: str, times: list[float]) -> None:
    times = sorted(times)
    p95 = times[max(0, round(len(times) * 0.95) - 1)]
    print(
        f"{label}: n={len(times)} p50 {statistics.median(times):.1f} ms,"
        f" p95 {p95:.1f} ms, max {times[-1]:.1f} ms"
    )


def add_edges(
    admin: Any,
    tenant: uuid.UUID,
    user: uuid.UUID,
    project_id: uuid.UUID,
    ids: list[uuid.UUID],
    samples: int,
) -> None:
    from local import db as localdb
    from servicedesk.platform.errors import ProblemError
    from servicedesk.projects import dependencies
    from servicedesk.projects.schemas import DependencyCreate

    with localdb.admin_connect(admin, NAME) as conn:
        existing = conn.execute(
            "SELECT predecessor_id, successor_id FROM task_dependencies ORDER BY random() LIMIT %s",
            (samples,),
        ).fetchall()
    rng = random.Random(11)
    added, refused = [], []
    for i in range(samples):
        if i % 2:
            b, a = existing[i]  # backwards along an edge: closes a cycle
        else:
            low, high = sorted(rng.sample(range(len(ids)), 2))
            a, b = ids[low], ids[high]
        data = DependencyCreate(predecessor_id=a, successor_id=b)
        start = time.perf_counter()
        try:
            with request(tenant, user) as ctx:
                dependencies.add_dependency(ctx, project_id=project_id, data=data)
            added.append((time.perf_counter() - start) * 1000)
        except ProblemError:
            refused.append((time.perf_counter() - start) * 1000)
    summary("add edge, committed", added)
    summary("add edge, refused (a cycle, or a duplicate)", refused)
    summary("add edge, all", added + refused)


def python_path(ctx: Any, project_id: uuid.UUID, start: uuid.UUID, goal: uuid.UUID) -> list[Any]:
    """Before: every edge of the project read into Python, then breadth first."""
    from collections import deque

    from sqlalchemy import select

    from servicedesk.projects.models import Dependency

    after: dict[Any, list[Any]] = {}
    rows = ctx.session.execute(
        select(Dependency.predecessor_id, Dependency.successor_id).where(
            Dependency.project_id == project_id
        )
    )
    for before, nxt in rows:
        after.setdefault(before, []).append(nxt)
    came: dict[Any, Any] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for nxt in after.get(node, []):
            if nxt not in came:
                came[nxt] = node
                queue.append(nxt)
    path: list[Any] = []
    node_or_none: Any = goal
    while node_or_none is not None:
        path.append(node_or_none)
        node_or_none = came.get(node_or_none)
    return path[::-1]


def cycle_naming(
    admin: Any, tenant: uuid.UUID, user: uuid.UUID, project_id: uuid.UUID, samples: int
) -> None:
    """The path a refused edge (backwards along an existing one) is named by, found the
    old way and the new way on the same edges, alternating which goes first."""
    from local import db as localdb
    from servicedesk.projects import dependencies

    with localdb.admin_connect(admin, NAME) as conn:
        edges = conn.execute(
            "SELECT predecessor_id, successor_id FROM task_dependencies ORDER BY random() LIMIT %s",
            (samples,),
        ).fetchall()
    finders: list[tuple[list[float], Callable[..., list[Any]]]] = [
        ([], python_path),
        ([], dependencies.cycle_path),
    ]
    for i, (start, goal) in enumerate(edges):
        with request(tenant, user) as ctx:
            for times, find in finders if i % 2 else finders[::-1]:
                begun = time.perf_counter()
                path = find(ctx, project_id, start, goal)
                times.append((time.perf_counter() - begun) * 1000)
                assert path[0] == start and path[-1] == goal, path
    before, after = finders[0][0], finders[1][0]
    summary("name a refused cycle, before (edges read into Python)", before)
    summary("name a refused cycle, after (SQL path)", after)
    b, a = sorted(before), sorted(after)
    p95 = max(0, round(len(b) * 0.95) - 1)
    print(
        f"  ratio before/after: p50 {statistics.median(b) / statistics.median(a):.1f}x,"
        f" p95 {b[p95] / a[p95]:.1f}x"
    )


def schedules(tenant: uuid.UUID, user: uuid.UUID, project_id: uuid.UUID, runs: int) -> None:
    """The route's work: the service and the response's serialization (pydantic, JSON),
    before (every row, as the route answered until the window) and after (an eight-week
    window from the project's start, the timeline's page of 200 rows), alternating in the
    same run."""
    from datetime import timedelta

    from servicedesk.projects import schedule
    from servicedesk.projects.models import Project
    from servicedesk.projects.schemas import Schedule

    with request(tenant, user) as ctx:
        first = schedule.get_schedule(ctx, project_id=project_id, window=schedule.Window(limit=1))
    start = first["project_start"]
    windows = {
        "before": schedule.Window(limit=first["total_tasks"]),
        # What the web timeline asks: eight weeks from the start, 200 rows.
        "after": schedule.Window(start, start + timedelta(days=55), limit=200),
    }
    times: dict[str, list[float]] = {name: [] for name in windows}
    sizes: dict[str, tuple[int, int]] = {}
    for i in range(runs):
        for name in list(windows) if i % 2 else list(windows)[::-1]:
            with request(tenant, user) as ctx:
                begun = time.perf_counter()
                found = schedule.get_schedule(ctx, project_id=project_id, window=windows[name])
                body = Schedule.model_validate(found).model_dump_json()
                times[name].append((time.perf_counter() - begun) * 1000)
            sizes[name] = (len(found["tasks"]), len(body))
    for name, label in (("before", "every row"), ("after", "8 weeks, 200 rows")):
        rows, size = sizes[name]
        summary(f"schedule + JSON, {label} ({rows} rows, {size / 1024:.0f} KiB)", times[name])
    b, a = sorted(times["before"]), sorted(times["after"])
    p95 = max(0, round(len(b) * 0.95) - 1)
    print(
        f"  ratio before/after: p50 {statistics.median(b) / statistics.median(a):.1f}x,"
        f" p95 {b[p95] / a[p95]:.1f}x, bytes {sizes['before'][1] / sizes['after'][1]:.0f}x"
    )
    with request(tenant, user) as ctx:
        project = ctx.session.get(Project, project_id)
        assert project is not None
        loads = [timed(lambda: schedule.load(ctx, project)) for _ in range(runs)]
        tasks, edges = schedule.load(ctx, project)
    summary("  of which reading the tasks and edges", loads)
    passes = [timed(lambda: schedule.plan_of(project, tasks, edges)) for _ in range(runs)]
    summary("  of which the passes alone (in memory)", passes)


def timeline_first_window(
    tenant: uuid.UUID, user: uuid.UUID, project_id: uuid.UUID, runs: int
) -> None:
    """The timeline's first window (eight weeks from the project's start, 200 rows) with
    what it needs for its arrows: before, the windowed schedule (its rows, without the
    edges it now carries) plus the whole dependency list (``list_dependencies`` and its
    JSON, as ``GET .../dependencies`` answered the timeline); after, the windowed schedule
    with the edges of its rows (arrows and stubs). Alternating in the same run."""
    from datetime import timedelta

    from pydantic import TypeAdapter

    from servicedesk.projects import dependencies, schedule
    from servicedesk.projects.schemas import DependencyPublic, Schedule

    edges_json = TypeAdapter(list[DependencyPublic])
    with request(tenant, user) as ctx:
        first = schedule.get_schedule(ctx, project_id=project_id, window=schedule.Window(limit=1))
    start = first["project_start"]
    window = schedule.Window(start, start + timedelta(days=55), limit=200)

    def before() -> tuple[int, int]:
        with request(tenant, user) as ctx:
            found = schedule.get_schedule(ctx, project_id=project_id, window=window)
            body = Schedule.model_validate(found).model_dump_json(
                exclude={"dependencies", "dependencies_matched"}
            )
        with request(tenant, user) as ctx:
            every = dependencies.list_dependencies(ctx, project_id=project_id)
            listed = edges_json.dump_json([DependencyPublic.model_validate(e) for e in every])
        return len(every), len(body) + len(listed)

    def after() -> tuple[int, int]:
        with request(tenant, user) as ctx:
            found = schedule.get_schedule(ctx, project_id=project_id, window=window)
            body = Schedule.model_validate(found).model_dump_json()
        return len(found["dependencies"]), len(body)

    calls = {"before": before, "after": after}
    times: dict[str, list[float]] = {name: [] for name in calls}
    sizes: dict[str, tuple[int, int]] = {}
    for i in range(runs):
        for name in list(calls) if i % 2 else list(calls)[::-1]:
            begun = time.perf_counter()
            sizes[name] = calls[name]()
            times[name].append((time.perf_counter() - begun) * 1000)
    for name, label in (
        ("before", "schedule window + every dependency"),
        ("after", "schedule window with its edges"),
    ):
        edges, size = sizes[name]
        summary(
            f"timeline first window, {label} ({edges} edges, {size / 1024:.0f} KiB)", times[name]
        )
    b, a = sorted(times["before"]), sorted(times["after"])
    p95 = max(0, round(len(b) * 0.95) - 1)
    print(
        f"  ratio before/after: p50 {statistics.median(b) / statistics.median(a):.1f}x,"
        f" p95 {b[p95] / a[p95]:.1f}x, bytes {sizes['before'][1] / sizes['after'][1]:.0f}x"
    )


def boards(tenant: uuid.UUID, user: uuid.UUID, project_id: uuid.UUID, samples: int) -> None:
    from servicedesk.projects import tasks

    def page() -> None:
        with request(tenant, user) as ctx:
            tasks.list_tasks(
                ctx,
                project_id=project_id,
                column_id=None,
                assignee=None,
                label=None,
                q=None,
                priority=None,
                order=None,
                limit=50,
                cursor=None,
            )

    summary("board, first page of 50", [timed(page) for _ in range(samples)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=30_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument(
        "--timeline-only", action="store_true", help="only the timeline's first window"
    )
    args = parser.parse_args()
    print(
        f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs;"
        f" load average {os.getloadavg()}"
    )
    admin = prepare()
    tenant, user = admin_tenant()
    start = time.perf_counter()
    project_id, ids = generate(admin, tenant, user, args.tasks, args.edges)
    print(
        f"generated {args.tasks} tasks, {args.edges} edges in {time.perf_counter() - start:.1f} s"
    )
    if not args.timeline_only:
        add_edges(admin, tenant, user, project_id, ids, args.samples)
        cycle_naming(admin, tenant, user, project_id, max(20, args.samples // 2))
        schedules(tenant, user, project_id, max(3, args.samples // 20))
    timeline_first_window(tenant, user, project_id, max(3, args.samples // 10))
    if not args.timeline_only:
        boards(tenant, user, project_id, args.samples)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
