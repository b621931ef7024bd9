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
- ``schedule.get_schedule``: every task and edge read, the forward and backward passes,
  the rows shaped;
- ``tasks.list_tasks`` with the board order and the default page of 50.

    PYTHONPATH=layers/core/python:. .venv/bin/python -m bench.projects [--tasks N]
        [--edges M] [--samples S]
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


def schedules(tenant: uuid.UUID, user: uuid.UUID, project_id: uuid.UUID, runs: int) -> None:
    from servicedesk.projects import schedule
    from servicedesk.projects.models import Project

    times = []
    for _ in range(runs):
        with request(tenant, user) as ctx:
            times.append(timed(lambda: schedule.get_schedule(ctx, project_id=project_id)))
    summary("schedule (critical path, whole project)", times)
    with request(tenant, user) as ctx:
        project = ctx.session.get(Project, project_id)
        assert project is not None
        tasks, edges = schedule.load(ctx, project)
    passes = [timed(lambda: schedule.plan_of(project, tasks, edges)) for _ in range(runs)]
    summary("  of which the passes alone (in memory)", passes)


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
    add_edges(admin, tenant, user, project_id, ids, args.samples)
    schedules(tenant, user, project_id, max(3, args.samples // 20))
    boards(tenant, user, project_id, args.samples)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
