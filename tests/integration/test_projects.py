"""Projects and tasks on the real database: projects with default columns and their
owner, unique keys, stale versions, columns and members, tasks on the board (fractional
ranks, moves blocked by an open predecessor unless overridden), dependencies kept a DAG
(self, cycle naming its keys, duplicate, another project's task), the schedule and
rescheduling, ticket links (the ticket on hold while it waits, reopened when the task is
done), a change's plan as tasks, comments, watchers, events through the outbox, and
nothing half-written on refusal."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from tests.conftest import make_tenant

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent", "manager", "requester"))


def _h(actor: Any, version: int | None = None) -> dict[str, str]:
    headers = dict(actor.headers)
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return headers


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def _field(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["errors"][0]["field"])


def _key() -> str:
    return "P" + uuid.uuid4().hex[:6].upper()


def _project(client, actor, **body: Any) -> dict[str, Any]:
    return _ok(
        client.post(
            "/v1/projects", headers=actor.headers, json={"name": "Rollout", "key": _key(), **body}
        ),
        201,
    )


def _task(client, actor, project, **body: Any) -> dict[str, Any]:
    return _ok(
        client.post(
            f"/v1/projects/{project['id']}/tasks",
            headers=actor.headers,
            json={"title": f"Task {uuid.uuid4().hex[:4]}", **body},
        ),
        201,
    )


def _dep(client, actor, project, before, after, **body: Any) -> Any:
    return client.post(
        f"/v1/projects/{project['id']}/dependencies",
        headers=actor.headers,
        json={"predecessor_id": before["id"], "successor_id": after["id"], **body},
    )


def _move(client, actor, project, task, column, **body: Any) -> Any:
    return client.post(
        f"/v1/projects/{project['id']}/tasks/{task['id']}/move",
        headers=actor.headers,
        json={"column_id": column["id"], "version": task["version"], **body},
    )


def _col(project, name: str) -> dict[str, Any]:
    return next(c for c in project["columns"] if c["name"] == name)


def _rows(database, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(
        database.owner_url.set(drivername="postgresql").render_as_string(False)
    ) as c:
        return list(c.execute(sql, args).fetchall())


def test_a_new_project_has_default_columns_and_its_creator_as_owner(client, org):
    agent = org.members["agent"]
    project = _project(client, agent, description="Network refresh")
    assert [(c["name"], c["category"]) for c in project["columns"]] == [
        ("To do", "todo"),
        ("In progress", "in_progress"),
        ("Blocked", "in_progress"),
        ("Done", "done"),
    ]
    assert project["my_role"] == "owner" and project["owner"]["id"] == agent.user_id
    assert project["counts"] == {"tasks": 0, "open_tasks": 0}
    got = client.get(f"/v1/projects/{project['id']}", headers=agent.headers)
    assert got.headers["ETag"] == '"1"'
    members = _ok(client.get(f"/v1/projects/{project['id']}/members", headers=agent.headers))
    assert [(m["user"]["id"], m["role"]) for m in members] == [(agent.user_id, "owner")]


def test_a_project_key_is_unique_and_well_formed(client, org, database):
    agent = org.members["agent"]
    project = _project(client, agent)
    again = client.post(
        "/v1/projects", headers=agent.headers, json={"name": "X", "key": project["key"]}
    )
    assert _field(again, 409) == "key"
    assert (
        _field(
            client.post("/v1/projects", headers=agent.headers, json={"name": "X", "key": "a1"}), 422
        )
        == "key"
    )
    assert (
        _field(
            client.post("/v1/projects", headers=agent.headers, json={"name": "X", "key": "A"}), 422
        )
        == "key"
    )
    (count,) = _rows(database, "SELECT count(*) FROM projects WHERE key = %s", project["key"])[0]
    assert count == 1


def test_editing_a_project_needs_the_version_read(client, org):
    agent = org.members["agent"]
    project = _project(client, agent)
    url = f"/v1/projects/{project['id']}"
    assert client.patch(url, headers=agent.headers, json={"name": "New"}).status_code == 428
    changed = _ok(client.patch(url, headers=_h(agent, 1), json={"name": "New", "status": "active"}))
    assert (changed["name"], changed["status"], changed["version"]) == ("New", "active", 2)
    assert client.patch(url, headers=_h(agent, 1), json={"name": "Stale"}).status_code == 412
    bad = client.patch(
        url, headers=_h(agent, 2), json={"start_date": "2031-05-01", "target_date": "2031-04-01"}
    )
    assert _field(bad, 422) == "target_date"
    assert _ok(client.get(url, headers=agent.headers))["name"] == "New"


def test_columns_are_replaced_whole_and_a_column_holding_tasks_stays(client, org):
    agent = org.members["agent"]
    project = _project(client, agent)
    url = f"/v1/projects/{project['id']}/columns"
    todo, doing, blocked, done = project["columns"]
    _task(client, agent, project, column_id=blocked["id"])
    keep = [
        {"id": c["id"], "name": c["name"], "category": c["category"]} for c in (todo, doing, done)
    ]
    refused = client.put(url, headers=_h(agent, 1), json={"columns": keep})
    assert _field(refused, 409) == "columns[2]"
    no_done = client.put(
        url,
        headers=_h(agent, 1),
        json={
            "columns": [*keep[:2], {"id": blocked["id"], "name": "B", "category": "in_progress"}]
        },
    )
    assert _field(no_done, 422) == "columns"
    renamed = [
        *keep[:2],
        {"id": blocked["id"], "name": "Waiting", "category": "in_progress", "wip_limit": 3},
        keep[2],
        {"name": "Review", "category": "in_progress"},
    ]
    after = _ok(client.put(url, headers=_h(agent, 1), json={"columns": renamed}))
    assert [c["name"] for c in after["columns"]] == [
        "To do",
        "In progress",
        "Waiting",
        "Done",
        "Review",
    ]
    assert after["columns"][2]["wip_limit"] == 3 and after["version"] == 2


def test_tasks_are_numbered_keyed_and_listed_on_the_board_in_rank_order(client, org):
    agent = org.members["agent"]
    project = _project(client, agent)
    todo = _col(project, "To do")
    a, b, c = (_task(client, agent, project, title=t) for t in ("A", "B", "C"))
    assert [t["key"] for t in (a, b, c)] == [f"{project['key']}-{n}" for n in (1, 2, 3)]
    assert a["status_category"] == "todo" and a["column_id"] == todo["id"]
    # C to the top, then B between C and A: no other task is renumbered.
    c = _ok(_move(client, agent, project, c, todo, before_id=a["id"]))
    b = _ok(_move(client, agent, project, b, todo, after_id=c["id"], before_id=a["id"]))
    board = _ok(client.get(f"/v1/projects/{project['id']}/tasks", headers=agent.headers))
    assert [t["title"] for t in board["items"]] == ["C", "B", "A"]
    assert (
        _ok(client.get(f"/v1/projects/{project['id']}/tasks/{a['id']}", headers=agent.headers))[
            "rank"
        ]
        == a["rank"]
    )
    page = _ok(client.get(f"/v1/projects/{project['id']}/tasks?limit=2", headers=agent.headers))
    rest = _ok(
        client.get(
            f"/v1/projects/{project['id']}/tasks?limit=2&cursor={page['next_cursor']}",
            headers=agent.headers,
        )
    )
    assert [t["title"] for t in page["items"] + rest["items"]] == ["C", "B", "A"]
    by_due = _ok(
        client.get(f"/v1/projects/{project['id']}/tasks?order=due&q=b", headers=agent.headers)
    )
    assert [t["title"] for t in by_due["items"]] == ["B"]


def test_moving_to_a_column_that_does_not_exist_is_refused_naming_it(client, org):
    agent = org.members["agent"]
    project = _project(client, agent)
    other = _project(client, agent)
    task = _task(client, agent, project)
    assert _field(_move(client, agent, project, task, _col(other, "Done")), 422) == "column_id"
    assert (
        _field(_move(client, agent, project, task, {"id": str(uuid.uuid4())}), 422) == "column_id"
    )
    stale = _move(client, agent, project, {**task, "version": 9}, _col(project, "Done"))
    assert stale.status_code == 412


def test_an_open_predecessor_blocks_starting_unless_overridden(client, org, database):
    agent = org.members["agent"]
    project = _project(client, agent)
    first, second = (
        _task(client, agent, project, title="Order"),
        _task(client, agent, project, title="Install"),
    )
    _ok(_dep(client, agent, project, first, second), 201)
    blocked = _move(client, agent, project, second, _col(project, "In progress"))
    assert _field(blocked, 409) == "column_id"
    assert [b["key"] for b in blocked.json()["blockers"]] == [first["key"]]
    # Into another to-do column is fine; overriding is audited.
    moved = _ok(_move(client, agent, project, second, _col(project, "In progress"), override=True))
    assert moved["status_category"] == "in_progress"
    assert moved["blocked_by"] == [
        {"task_id": first["id"], "key": first["key"], "title": "Order", "open": True}
    ]
    (data,) = _rows(
        database,
        "SELECT data FROM audit_log WHERE action = 'task.moved' AND entity_id = %s",
        second["id"],
    )[0]
    assert data["override"] is True and data["blockers"] == [first["key"]]
    done = _ok(_move(client, agent, project, first, _col(project, "Done")))
    assert done["status_category"] == "done"


def test_dependencies_refuse_self_cycles_duplicates_and_other_projects_tasks(client, org, database):
    agent = org.members["agent"]
    project = _project(client, agent)
    a, b, c = (_task(client, agent, project) for _ in range(3))
    assert _field(_dep(client, agent, project, a, a), 422) == "successor_id"
    _ok(_dep(client, agent, project, a, b), 201)
    _ok(_dep(client, agent, project, b, c, type="start_to_start", lag_days=2), 201)
    assert _field(_dep(client, agent, project, a, b), 409) == "successor_id"
    cycle = _dep(client, agent, project, c, a)
    assert _field(cycle, 422) == "predecessor_id"
    assert cycle.json()["cycle"] == [c["key"], a["key"], b["key"], c["key"]]
    elsewhere = _task(client, agent, _project(client, agent))
    assert _field(_dep(client, agent, project, a, elsewhere), 422) == "successor_id"
    assert _field(_dep(client, agent, project, elsewhere, a), 422) == "predecessor_id"
    edges = _ok(client.get(f"/v1/projects/{project['id']}/dependencies", headers=agent.headers))
    assert {(e["predecessor_id"], e["successor_id"], e["type"], e["lag_days"]) for e in edges} == {
        (a["id"], b["id"], "finish_to_start", 0),
        (b["id"], c["id"], "start_to_start", 2),
    }
    gone = client.delete(
        f"/v1/projects/{project['id']}/dependencies/{edges[0]['id']}", headers=agent.headers
    )
    assert gone.status_code == 204
    _ok(_dep(client, agent, project, c, a), 201)  # no cycle any more


def test_the_schedule_gives_the_critical_path_slack_and_conflicts(client, org):
    agent = org.members["agent"]
    project = _project(client, agent, start_date="2031-03-03")
    a = _task(client, agent, project, title="A", estimate_days=3)
    b = _task(client, agent, project, title="B", estimate_days=2)
    c = _task(client, agent, project, title="C", estimate_days=1)
    d = _task(client, agent, project, title="D", estimate_days=0, due_date="2031-03-04")
    for before, after in ((a, c), (b, c), (c, d)):
        _ok(_dep(client, agent, project, before, after), 201)
    plan = _ok(client.get(f"/v1/projects/{project['id']}/schedule", headers=agent.headers))
    assert plan["critical_path"] == [a["id"], c["id"], d["id"]]
    assert (plan["project_start"], plan["project_finish"]) == ("2031-03-03", "2031-03-07")
    rows = {r["key"]: r for r in plan["tasks"]}
    assert rows[b["key"]]["slack_days"] == 1 and not rows[b["key"]]["critical"]
    assert (rows[c["key"]]["earliest_start"], rows[c["key"]]["earliest_finish"]) == (
        "2031-03-06",
        "2031-03-06",
    )
    assert rows[d["key"]]["conflicts"] and rows[a["key"]]["conflicts"] == []


def test_the_schedule_answers_a_window_of_rows_with_the_whole_critical_path(client, org):
    agent = org.members["agent"]
    project = _project(client, agent, start_date="2031-03-03")
    a = _task(client, agent, project, title="A", estimate_days=3)
    b = _task(client, agent, project, title="B", estimate_days=2)
    c = _task(client, agent, project, title="C", estimate_days=1, due_date="2031-03-01")
    d = _task(client, agent, project, title="D", estimate_days=0)
    e = _task(client, agent, project, title="E", estimate_days=2, start_date="2031-04-01")
    for before, after in ((a, c), (b, c), (c, d)):
        _ok(_dep(client, agent, project, before, after), 201)
    url = f"/v1/projects/{project['id']}/schedule"
    whole = _ok(client.get(url, headers=agent.headers))
    assert whole["total_tasks"] == whole["matched"] == 5 and whole["next_offset"] is None
    assert whole["critical_keys"] == [e["key"]]  # E, floored on 1 April, ends last

    # 6 March: C's day (A ends the 5th, D the milestone of the 7th starts after).
    day = _ok(
        client.get(
            url,
            headers=agent.headers,
            params={"window_start": "2031-03-06", "window_end": "2031-03-06"},
        )
    )
    assert [r["key"] for r in day["tasks"]] == [c["key"]]
    assert day["matched"] == 1 and day["total_tasks"] == 5
    assert day["critical_path"] == whole["critical_path"]
    assert day["critical_keys"] == whole["critical_keys"]
    assert day["tasks"][0]["conflicts"] == whole["tasks"][2]["conflicts"] != []
    assert (day["project_start"], day["project_finish"]) == (
        whole["project_start"],
        whole["project_finish"],
    )
    # Open-ended, and paged: from March on, two rows at a time.
    first = _ok(
        client.get(url, headers=agent.headers, params={"window_start": "2031-03-05", "limit": 2})
    )
    assert [r["key"] for r in first["tasks"]] == [a["key"], c["key"]]
    assert (first["matched"], first["next_offset"]) == (4, 2)
    rest = _ok(
        client.get(
            url,
            headers=agent.headers,
            params={"window_start": "2031-03-05", "limit": 2, "offset": 2},
        )
    )
    assert [r["key"] for r in rest["tasks"]] == [d["key"], e["key"]]
    assert rest["next_offset"] is None

    # Bad windows: 422 naming the field, in the query.
    for params, field in (
        ({"window_start": "2031-03-07", "window_end": "2031-03-06"}, "window_end"),
        ({"limit": 1001}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 100_001}, "offset"),
        ({"window_start": "March"}, "window_start"),
    ):
        assert _field(client.get(url, headers=agent.headers, params=params), 422) == field


def test_the_schedule_answers_the_dependencies_of_its_window_only(client, org):
    """Arrows for the rows answered: the edges among them, then stubs (one end outside,
    naming its key), equal to what the whole dependency list gives for those rows."""
    agent = org.members["agent"]
    project = _project(client, agent, start_date="2031-03-03")
    ts = [_task(client, agent, project, title=f"T{i}", estimate_days=1 + i % 3) for i in range(9)]
    pairs = [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (4, 5), (5, 6), (2, 7), (7, 8), (1, 8)]
    for i, j in pairs:
        _ok(
            _dep(
                client,
                agent,
                project,
                ts[i],
                ts[j],
                type="start_to_start" if j == 7 else "finish_to_start",
            ),
            201,
        )
    url = f"/v1/projects/{project['id']}/schedule"
    every = _ok(client.get(f"/v1/projects/{project['id']}/dependencies", headers=agent.headers))
    every = every["items"] if isinstance(every, dict) else every
    keys = {t["id"]: t["key"] for t in ts}
    seen: set[str | None] = set()
    for params in (
        {},
        {"window_start": "2031-03-06", "window_end": "2031-03-09"},
        {"window_start": "2031-03-04", "limit": 3},
        {"window_start": "2031-03-04", "limit": 3, "offset": 3},
        {"window_end": "2031-03-03"},
    ):
        got = _ok(client.get(url, headers=agent.headers, params=params))
        rows = {r["task_id"] for r in got["tasks"]}
        expected = {}
        for e in every:
            ends = (e["predecessor_id"] in rows, e["successor_id"] in rows)
            if any(ends):
                outside = None if all(ends) else ("successor" if ends[0] else "predecessor")
                expected[e["id"]] = (
                    e["predecessor_id"],
                    e["successor_id"],
                    keys[e["predecessor_id"]],
                    keys[e["successor_id"]],
                    e["type"],
                    e["lag_days"],
                    outside,
                )
        answered = {
            d["id"]: (
                d["predecessor_id"],
                d["successor_id"],
                d["predecessor_key"],
                d["successor_key"],
                d["type"],
                d["lag_days"],
                d["outside"],
            )
            for d in got["dependencies"]
        }
        assert answered == expected, params
        seen |= {x[-1] for x in expected.values()}
        assert got["dependencies_matched"] == len(expected)
        # The arrows first, the stubs after.
        outside = [d["outside"] is not None for d in got["dependencies"]]
        assert outside == sorted(outside)
    assert seen == {None, "predecessor", "successor"}  # arrows and both kinds of stub
    assert len(_ok(client.get(url, headers=agent.headers))["dependencies"]) == len(pairs)

    # Bounded by the page: at most 10 edges per row of limit, the rest counted.
    hub = _project(client, agent, start_date="2031-03-03")
    centre = _task(client, agent, hub, title="Hub", estimate_days=1)
    for _ in range(12):
        _ok(_dep(client, agent, hub, centre, _task(client, agent, hub, estimate_days=1)), 201)
    one = _ok(
        client.get(f"/v1/projects/{hub['id']}/schedule", headers=agent.headers, params={"limit": 1})
    )
    assert [r["key"] for r in one["tasks"]] == [centre["key"]]
    assert len(one["dependencies"]) == 10 and one["dependencies_matched"] == 12
    assert {d["outside"] for d in one["dependencies"]} == {"successor"}

    # Bad params: 422 naming the field, in the query.
    for params, field in (
        ({"window_start": "2031-03-07", "window_end": "2031-03-06"}, "window_end"),
        ({"limit": "many"}, "limit"),
        ({"offset": "x"}, "offset"),
        ({"window_end": "soon"}, "window_end"),
    ):
        assert _field(client.get(url, headers=agent.headers, params=params), 422) == field


def test_dates_that_contradict_a_dependency_are_refused_when_the_project_says_so(client, org):
    agent = org.members["agent"]
    project = _project(client, agent)
    project = _ok(
        client.patch(
            f"/v1/projects/{project['id']}",
            headers=_h(agent, 1),
            json={"settings": {"date_conflicts": "refuse"}},
        )
    )
    a = _task(client, agent, project, start_date="2031-03-03", due_date="2031-03-05")
    b = _task(client, agent, project, start_date="2031-03-04")
    assert _field(_dep(client, agent, project, a, b), 422) == "successor_id"
    b = _ok(
        client.patch(
            f"/v1/projects/{project['id']}/tasks/{b['id']}",
            headers=_h(agent, 1),
            json={"start_date": "2031-03-06"},
        )
    )
    _ok(_dep(client, agent, project, a, b), 201)
    early = client.patch(
        f"/v1/projects/{project['id']}/tasks/{b['id']}",
        headers=_h(agent, 2),
        json={"start_date": "2031-03-05"},
    )
    assert _field(early, 422) == "start_date"


def test_rescheduling_previews_then_shifts_the_dependants(client, org):
    agent = org.members["agent"]
    project = _project(client, agent, start_date="2031-03-03")
    a = _task(
        client, agent, project, estimate_days=2, start_date="2031-03-03", due_date="2031-03-04"
    )
    b = _task(
        client, agent, project, estimate_days=1, start_date="2031-03-05", due_date="2031-03-05"
    )
    c = _task(client, agent, project, estimate_days=1, start_date="2031-03-20")
    _ok(_dep(client, agent, project, a, b), 201)
    _ok(_dep(client, agent, project, b, c), 201)
    url = f"/v1/projects/{project['id']}/tasks/{a['id']}/reschedule"
    preview = _ok(
        client.post(url, headers=agent.headers, json={"start_date": "2031-03-10", "apply": False})
    )
    assert [(m["key"], m["new_start"], m["new_due"]) for m in preview["moves"]] == [
        (a["key"], "2031-03-10", "2031-03-11"),
        (b["key"], "2031-03-12", "2031-03-12"),
    ]
    unchanged = _ok(
        client.get(f"/v1/projects/{project['id']}/tasks/{b['id']}", headers=agent.headers)
    )
    assert unchanged["start_date"] == "2031-03-05"
    assert (
        client.post(
            url,
            headers=agent.headers,
            json={"start_date": "2031-03-10", "apply": True, "version": 9},
        ).status_code
        == 412
    )
    _ok(
        client.post(
            url,
            headers=agent.headers,
            json={"start_date": "2031-03-10", "apply": True, "version": a["version"]},
        )
    )
    moved = _ok(client.get(f"/v1/projects/{project['id']}/tasks/{b['id']}", headers=agent.headers))
    assert (moved["start_date"], moved["due_date"]) == ("2031-03-12", "2031-03-12")


def _ticket(client, org) -> dict[str, Any]:
    return _ok(
        client.post(
            "/v1/tickets",
            headers=org.members["requester"].headers,
            json={"title": "VPN drops", "description": "since monday"},
        ),
        201,
    )


def test_a_ticket_waiting_on_a_task_is_on_hold_until_the_task_is_done(client, org, database):
    agent = org.members["manager"]
    project = _project(client, agent)
    ticket = _ticket(client, org)
    task = _task(client, agent, project, ticket_id=ticket["id"])
    assert [link["ticket_id"] for link in task["ticket_links"]] == [ticket["id"]]
    mine = _ok(client.get(f"/v1/projects/tasks?ticket_id={ticket['id']}", headers=agent.headers))
    assert [t["id"] for t in mine["items"]] == [task["id"]]
    task = _ok(
        client.post(
            f"/v1/projects/{project['id']}/tasks/{task['id']}/ticket-links",
            headers=agent.headers,
            json={"ticket_id": ticket["id"], "waits": True},
        ),
        201,
    )
    assert task["ticket_links"][0]["waits"] is True
    held = _ok(client.get(f"/v1/tickets/{ticket['id']}", headers=agent.headers))
    assert held["status"] == "pending"
    _ok(_move(client, agent, project, task, _col(project, "Done")))
    assert _ok(client.get(f"/v1/tickets/{ticket['id']}", headers=agent.headers))["status"] == "open"
    kinds = [
        k
        for (k,) in _rows(
            database,
            "SELECT type FROM ticket_events WHERE ticket_id = %s ORDER BY created_at",
            uuid.UUID(ticket["id"]),
        )
    ]
    assert {"task_linked", "waiting_on_task", "task_done"} <= set(kinds)
    assert (
        _field(
            client.post(
                f"/v1/projects/{project['id']}/tasks/{task['id']}/ticket-links",
                headers=agent.headers,
                json={"ticket_id": str(uuid.uuid4())},
            ),
            422,
        )
        == "ticket_id"
    )


def test_a_change_plan_becomes_chained_tasks(client, org):
    manager = org.members["manager"]
    project = _project(client, manager)
    change = _ok(
        client.post(
            "/v1/changes",
            headers=manager.headers,
            json={
                "title": "Swap core switch",
                "implementation_plan": "1. Drain traffic\n\n- Swap the switch\n* Restore traffic\n",
            },
        ),
        201,
    )
    made = _ok(
        client.post(
            f"/v1/projects/{project['id']}/tasks/from-change",
            headers=manager.headers,
            json={"change_id": change["id"]},
        ),
        201,
    )
    assert [t["title"] for t in made["items"]] == [
        "Drain traffic",
        "Swap the switch",
        "Restore traffic",
    ]
    assert all(t["change_id"] == change["id"] for t in made["items"])
    edges = client.get(f"/v1/projects/{project['id']}/dependencies", headers=manager.headers).json()
    ids = [t["id"] for t in made["items"]]
    assert {(e["predecessor_id"], e["successor_id"]) for e in edges} == {
        (ids[0], ids[1]),
        (ids[1], ids[2]),
    }
    missing = client.post(
        f"/v1/projects/{project['id']}/tasks/from-change",
        headers=manager.headers,
        json={"change_id": str(uuid.uuid4())},
    )
    assert _field(missing, 422) == "change_id"


def test_comments_watchers_and_events_through_the_outbox(client, org, database):
    agent = org.members["agent"]
    project = _project(client, agent)
    task = _task(client, agent, project)
    base = f"/v1/projects/{project['id']}/tasks/{task['id']}"
    comment = _ok(
        client.post(
            f"{base}/comments", headers=agent.headers, json={"body": "**Ordered** the parts"}
        ),
        201,
    )
    assert comment["author"]["id"] == agent.user_id
    listed = _ok(client.get(f"{base}/comments", headers=agent.headers))
    assert [c["id"] for c in listed["items"]] == [comment["id"]]
    assert (
        _field(
            client.post(f"{base}/comments", headers=agent.headers, json={"body": "x" * 20001}), 422
        )
        == "body"
    )
    watched = _ok(client.get(base, headers=agent.headers))
    assert [w["id"] for w in watched["watchers"]] == [agent.user_id]
    assert client.delete(f"{base}/watchers/me", headers=agent.headers).status_code == 204
    assert (
        _ok(client.put(f"{base}/watchers/me", headers=agent.headers))["watchers"][0]["id"]
        == agent.user_id
    )
    kinds = {
        k
        for (k,) in _rows(
            database,
            "SELECT event_type FROM outbox WHERE payload->>'project_id' = %s",
            project["id"],
        )
    }
    assert {"project.created", "task.created", "task.commented"} <= kinds


def test_a_deleted_task_takes_its_dependencies_and_needs_the_version(client, org, database):
    agent = org.members["agent"]
    project = _project(client, agent)
    a, b = _task(client, agent, project), _task(client, agent, project)
    _ok(_dep(client, agent, project, a, b), 201)
    url = f"/v1/projects/{project['id']}/tasks/{a['id']}"
    assert client.delete(url, headers=agent.headers).status_code == 428
    assert client.delete(url, headers=_h(agent, 7)).status_code == 412
    assert client.delete(url, headers=_h(agent, a["version"])).status_code == 204
    assert client.get(url, headers=agent.headers).status_code == 404
    assert (
        client.get(f"/v1/projects/{project['id']}/dependencies", headers=agent.headers).json() == []
    )


def test_a_refused_task_writes_nothing(client, org, database):
    agent = org.members["agent"]
    project = _project(client, agent)
    before = _rows(
        database, "SELECT task_seq FROM projects WHERE id = %s", uuid.UUID(project["id"])
    )
    bad = client.post(
        f"/v1/projects/{project['id']}/tasks",
        headers=agent.headers,
        json={"title": "x", "ticket_id": str(uuid.uuid4())},
    )
    assert _field(bad, 422) == "ticket_id"
    for body, field in (
        ({"title": ""}, "title"),
        ({"title": "x", "estimate_days": 3651}, "estimate_days"),
        ({"title": "x", "start_date": "2031-03-03", "due_date": "2031-03-01"}, "due_date"),
        ({"title": "x", "labels": ["l"] * 21}, "labels"),
        ({"title": "x", "assignee_id": str(uuid.uuid4())}, "assignee_id"),
        ({"title": "x", "column_id": str(uuid.uuid4())}, "column_id"),
    ):
        response = client.post(
            f"/v1/projects/{project['id']}/tasks", headers=agent.headers, json=body
        )
        assert response.status_code == 422, (body, response.text)
        assert field in response.text
    assert _rows(
        database,
        "SELECT count(*) FROM project_tasks WHERE project_id = %s",
        uuid.UUID(project["id"]),
    ) == [(0,)]
    assert (
        _rows(database, "SELECT task_seq FROM projects WHERE id = %s", uuid.UUID(project["id"]))
        == before
    )


def test_my_tasks_across_projects(client, org):
    agent = org.members["agent"]
    one, two = _project(client, agent), _project(client, agent)
    mine = [_task(client, agent, p, assignee_id=agent.user_id) for p in (one, two)]
    _task(client, agent, one)
    found = _ok(client.get("/v1/projects/tasks?assignee=me&open=true", headers=agent.headers))
    assert {t["id"] for t in found["items"]} >= {t["id"] for t in mine}
    assert all(t["assignee"]["id"] == agent.user_id for t in found["items"])
    assert (
        _field(client.get("/v1/projects/tasks?assignee=nobody", headers=agent.headers), 422)
        == "assignee"
    )


def test_unlinking_or_deleting_the_task_a_ticket_waits_on_reopens_it(client, org):
    manager = org.members["manager"]
    project = _project(client, manager)
    for how in ("unlink", "delete"):
        ticket = _ticket(client, org)
        task = _task(client, manager, project)
        url = f"/v1/projects/{project['id']}/tasks/{task['id']}"
        task = _ok(
            client.post(
                f"{url}/ticket-links",
                headers=manager.headers,
                json={"ticket_id": ticket["id"], "waits": True},
            ),
            201,
        )
        assert (
            _ok(client.get(f"/v1/tickets/{ticket['id']}", headers=manager.headers))["status"]
            == "pending"
        )
        if how == "unlink":
            gone = client.delete(f"{url}/ticket-links/{ticket['id']}", headers=manager.headers)
        else:
            gone = client.delete(url, headers=_h(manager, task["version"]))
        assert gone.status_code == 204, gone.text
        assert (
            _ok(client.get(f"/v1/tickets/{ticket['id']}", headers=manager.headers))["status"]
            == "open"
        )


def test_the_project_list_filters_by_text_status_and_archive(client, org):
    agent = org.members["agent"]
    marker = uuid.uuid4().hex[:8]
    live = _project(client, agent, name=f"Live {marker}", status="active")
    old = _project(client, agent, name=f"Old {marker}")
    _ok(client.patch(f"/v1/projects/{old['id']}", headers=_h(agent, 1), json={"archived": True}))
    names = lambda **q: [  # noqa: E731
        p["name"]
        for p in _ok(client.get("/v1/projects", headers=agent.headers, params={"q": marker, **q}))[
            "items"
        ]
    ]
    assert names() == [f"Live {marker}"]
    assert names(archived="true") == [f"Old {marker}"]
    assert names(status="planned") == []
    assert names(status="active") == [live["name"]]
