"""GraphQL projects and tasks (/v1/graphql) on the real database: the projects and tasks
each principal sees equal what REST shows them (roles, project membership, two tenants),
keyset pages continue as REST's, statement counts do not grow with the page (projects ->
tasks -> assignee), and the limits still refuse hostile nesting before anything runs."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from tests.conftest import Actor, current_database, make_tenant
from tests.integration.test_graphql import gql, ok, statements
from tests.integration.test_projects_access import _person

pytestmark = pytest.mark.usefixtures("client")

PAGE = """
query Projects($after: String) {
  projects(first: 2, after: $after) {
    edges { node { id key name owner { id name }
      tasks(first: 2) {
        edges { node { id key assignee { id name } blockedBy { taskId key open }
          ticketLinks { ticketId number waits } } }
        pageInfo { hasNextPage endCursor } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
MORE_TASKS = """
query More($id: ID!, $after: String) {
  project(id: $id) {
    tasks(first: 2, after: $after) {
      edges { node { id key assignee { id name } blockedBy { taskId key open }
        ticketLinks { ticketId number waits } } }
      pageInfo { hasNextPage endCursor } } }
}
"""


def _post(client, actor: Actor, path: str, body: dict[str, Any], status: int = 201) -> Any:
    made = client.post(path, headers=actor.headers, json=body)
    assert made.status_code == status, made.text
    return made.json()


def _project(client, owner: Actor, key: str, tasks: int, assignee: str | None = None) -> str:
    pid = str(_post(client, owner, "/v1/projects", {"name": f"Project {key}", "key": key})["id"])
    for n in range(tasks):
        body = {"title": f"{key} task {n}"}
        if assignee is not None:
            body["assignee_id"] = assignee
        _post(client, owner, f"/v1/projects/{pid}/tasks", body)
    return pid


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent", "manager", "requester"))


@pytest.fixture(scope="module")
def other(client):
    return make_tenant(client, roles=("agent",))


@pytest.fixture(scope="module")
def world(client, org, other) -> dict[str, Actor]:
    """In the org: the agent's project of five tasks (a dependency, a ticket link, tasks
    assigned to a viewer), a second agent's project he alone is on, a project-less agent;
    in the other tenant, its agent's project."""
    owner = org.members["agent"]
    viewer = _person(client, org, "agent")
    loner = _person(client, org, "agent")
    outsider = _person(client, org, "agent")
    pid = _project(client, owner, "ALPHA", 0)
    assert (
        client.put(
            f"/v1/projects/{pid}/members/{viewer.user_id}",
            headers=owner.headers,
            json={"role": "member"},
        ).status_code
        == 200
    )
    tasks = [
        _post(
            client,
            owner,
            f"/v1/projects/{pid}/tasks",
            {"title": f"Alpha {n}", **({"assignee_id": viewer.user_id} if n % 2 else {})},
        )
        for n in range(5)
    ]
    _post(
        client,
        owner,
        f"/v1/projects/{pid}/dependencies",
        {"predecessor_id": tasks[0]["id"], "successor_id": tasks[1]["id"]},
    )
    ticket = _post(client, org.members["requester"], "/v1/tickets", {"title": "Needs ALPHA"})
    _post(
        client,
        owner,
        f"/v1/projects/{pid}/tasks/{tasks[2]['id']}/ticket-links",
        {"ticket_id": ticket["id"], "waits": True},
    )
    _project(client, loner, "BETA", 3, assignee=loner.user_id)
    _project(client, other.members["agent"], "GAMMA", 2)
    return {"viewer": viewer, "loner": loner, "outsider": outsider}


def _rest_view(client, actor: Actor) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {}
    cursor = None
    while True:
        page = client.get(
            "/v1/projects",
            headers=actor.headers,
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
        )
        assert page.status_code == 200, page.text
        body = page.json()
        for project in body["items"]:
            seen[project["id"]] = []
            after = None
            while True:
                tasks = client.get(
                    f"/v1/projects/{project['id']}/tasks",
                    headers=actor.headers,
                    params={"limit": 2, **({"cursor": after} if after else {})},
                ).json()
                seen[project["id"]] += [
                    (
                        t["id"],
                        t["key"],
                        t["assignee"]["id"] if t["assignee"] else None,
                        [(b["task_id"], b["key"], b["open"]) for b in t["blocked_by"]],
                        [(x["ticket_id"], x["number"], x["waits"]) for x in t["ticket_links"]],
                    )
                    for t in tasks["items"]
                ]
                after = tasks["next_cursor"]
                if after is None:
                    break
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def _task(node: dict[str, Any]) -> tuple[Any, ...]:
    return (
        node["id"],
        node["key"],
        node["assignee"]["id"] if node["assignee"] else None,
        [(b["taskId"], b["key"], b["open"]) for b in node["blockedBy"]],
        [(x["ticketId"], x["number"], x["waits"]) for x in node["ticketLinks"]],
    )


def _graph_view(client, actor: Actor) -> dict[str, list[Any]]:
    """Pages of two projects with their first two tasks (the loader), then each project's
    further tasks two at a time (REST's own list, after the loader's cursor)."""
    seen: dict[str, list[Any]] = {}
    after = None
    while True:
        page = ok(gql(client, actor, PAGE, after=after))["projects"]
        for edge in page["edges"]:
            node = edge["node"]
            tasks = node["tasks"]
            seen[node["id"]] = [_task(t["node"]) for t in tasks["edges"]]
            info = tasks["pageInfo"]
            while info["hasNextPage"]:
                more = ok(gql(client, actor, MORE_TASKS, id=node["id"], after=info["endCursor"]))[
                    "project"
                ]["tasks"]
                seen[node["id"]] += [_task(t["node"]) for t in more["edges"]]
                info = more["pageInfo"]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return seen


@pytest.mark.parametrize(
    ("which", "who", "projects"),
    [
        ("org", "agent", 1),  # the owner of ALPHA
        ("org", "viewer", 1),  # a member of ALPHA
        ("org", "loner", 1),  # BETA only
        ("org", "outsider", 0),  # on no project
        ("org", "manager", 2),  # project:read_all
        ("org", "admin", 2),
        ("other", "agent", 1),  # GAMMA only: never the org's
        ("other", "admin", 1),
    ],
)
def test_graphql_projects_and_tasks_are_exactly_rests(
    client, org, other, world, which, who, projects
):
    tenant = org if which == "org" else other
    actor = world.get(who) or tenant.members[who]
    rest = _rest_view(client, actor)
    graph = _graph_view(client, actor)
    assert list(graph) == list(rest)  # the same projects, in the same order
    assert graph == rest  # the same tasks in board order, with assignee, blockers and links
    assert len(rest) == projects
    tasks = [t for ts in graph.values() for t in ts]
    if which == "org" and who in ("agent", "viewer", "manager", "admin"):
        assert any(t[3] for t in tasks) and any(t[4] for t in tasks) and any(t[2] for t in tasks)


def test_a_requester_is_refused_and_another_tenants_project_is_not_found(client, org, other, world):
    requester = org.members["requester"]
    assert client.get("/v1/projects", headers=requester.headers).status_code == 403
    body = gql(client, requester, "{ projects { edges { node { id } } } }").json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["status"] == 403
    foreign = ok(gql(client, other.members["agent"], "{ projects { edges { node { id } } } }"))
    pid = foreign["projects"]["edges"][0]["node"]["id"]
    for actor in (org.admin, world["outsider"]):
        body = gql(client, actor, "query($id: ID!) { project(id: $id) { id } }", id=pid).json()
        assert body["data"] == {"project": None}
        assert body["errors"][0]["extensions"]["status"] == 404
        assert client.get(f"/v1/projects/{pid}", headers=actor.headers).status_code == 404


def test_filters_are_rests_and_bad_ones_are_named(client, org, world):
    agent = org.members["agent"]
    viewer = world["viewer"]
    query = """query($f: JSON) { projects(filter: {q: "alpha"}) { edges { node {
      tasks(filter: $f) { edges { node { id assignee { id } } } } } } } }"""
    got = ok(gql(client, agent, query, f={"assignee": viewer.user_id, "order": "created"}))
    [project] = got["projects"]["edges"]
    nodes = [e["node"] for e in project["node"]["tasks"]["edges"]]
    assert len(nodes) == 2 and {n["assignee"]["id"] for n in nodes} == {viewer.user_id}
    for bad, field in (({"colour": "red"}, "colour"), ({"priority": "asap"}, "priority")):
        body = gql(client, agent, query, f=bad).json()
        error = body["errors"][0]
        assert error["extensions"]["status"] == 422, body
        assert field in str(error["extensions"]), body
    body = gql(client, agent, '{ projects(filter: {status: "done"}) { edges { node { id } } } }')
    assert body.json()["errors"][0]["extensions"]["status"] == 422
    body = gql(client, agent, "{ projects(first: 101) { edges { node { id } } } }").json()
    assert "first" in str(body["errors"][0]["extensions"])


NESTED = """
query Page($first: Int!) {
  projects(first: $first) {
    edges { node { id key owner { name }
      tasks(first: 10) { edges { node { id key assignee { id name } blockedBy { key }
        ticketLinks { number } } } pageInfo { endCursor } } } }
  }
}
"""


def test_projects_tasks_and_assignees_cost_the_same_statements_for_2_and_6_projects(client):
    tenant = make_tenant(client, roles=("agent",))
    agent = tenant.members["agent"]
    people = [_person(client, tenant, "agent") for _ in range(3)]
    for n in range(6):
        pid = _project(client, agent, f"P{n}X", 0)
        for i, person in enumerate(people):
            member = client.put(
                f"/v1/projects/{pid}/members/{person.user_id}",
                headers=agent.headers,
                json={"role": "member"},
            )
            assert member.status_code == 200, member.text
            _post(
                client,
                agent,
                f"/v1/projects/{pid}/tasks",
                {"title": f"t{i}", "assignee_id": person.user_id},
            )
    counts = {}
    for first in (2, 6):
        with statements() as seen:
            page = ok(gql(client, agent, NESTED, first=first))["projects"]
        assert len(page["edges"]) == first
        assert all(len(e["node"]["tasks"]["edges"]) == 3 for e in page["edges"])
        names = {
            t["node"]["assignee"]["name"]
            for e in page["edges"]
            for t in e["node"]["tasks"]["edges"]
        }
        assert names == {"Extra agent"}
        counts[first] = len(seen)
    assert counts[2] == counts[6], counts
    assert counts[6] <= 16, counts  # auth, the page, its summaries, tasks, task view, people


def test_hostile_project_nesting_is_refused_before_it_runs(client, org, monkeypatch):
    agent = org.members["agent"]
    costly = (
        "{ "
        + " ".join(
            f"p{i}: projects(first: 100) {{ edges {{ node {{ tasks(first: 100)"
            f" {{ edges {{ node {{ assignee {{ name }} blockedBy {{ key }} }} }} }} }} }} }}"
            for i in range(3)
        )
        + " }"
    )
    with statements() as seen:
        got = gql(client, agent, costly)
    assert got.status_code == 400, got.text
    assert got.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert not [s for s in seen if "projects" in s or "project_tasks" in s], seen

    from servicedesk.platform.config import get_settings

    deep = "{ projects { edges { node { tasks { edges { node { assignee { id } } } } } } } }"
    monkeypatch.setenv("SERVICEDESK_GRAPHQL_MAX_DEPTH", "5")
    get_settings.cache_clear()
    try:
        with statements() as seen:
            got = gql(client, agent, deep)
    finally:
        monkeypatch.delenv("SERVICEDESK_GRAPHQL_MAX_DEPTH")
        get_settings.cache_clear()
    assert got.status_code == 400, got.text
    assert "depth" in got.json()["errors"][0]["message"]
    assert not [s for s in seen if "project_tasks" in s]
    assert gql(client, agent, deep).status_code == 200


# -- columns, members, watchers, comments, the schedule ---------------------------------

BOARD = """
query Board($id: ID!) {
  project(id: $id) {
    columns { id name category position wipLimit }
    members { role user { id name } }
    schedule { projectStart projectFinish criticalPath
      tasks { taskId key durationDays earliestStart earliestFinish latestStart latestFinish
        slackDays critical conflicts } }
    tasks(first: 100) { edges { node { id watchers { id name }
      comments(first: 2) { edges { node { id taskId body author { id name } } }
        pageInfo { hasNextPage endCursor } } } } }
  }
}
"""
MORE_COMMENTS = """
query($id: ID!, $after: String) { project(id: $id) { tasks(first: 100) { edges { node {
  id comments(first: 2, after: $after) { edges { node { id } } pageInfo { endCursor } } } } } } }
"""


def _get(client, actor: Actor, path: str, **params: Any) -> Any:
    got = client.get(path, headers=actor.headers, params=params)
    assert got.status_code == 200, got.text
    return got.json()


@pytest.fixture(scope="module")
def board(client) -> dict[str, Any]:
    """A tenant's project: an owner, a member and a viewer, three tasks in a chain (the
    critical path) and a fourth with slack, comments on the first (three: two pages) by
    two people, watchers; a non-member agent and another tenant's agent."""
    tenant = make_tenant(client, roles=("agent", "requester"))
    owner = tenant.members["agent"]
    member, viewer, outsider = (_person(client, tenant, "agent") for _ in range(3))
    pid = _project(client, owner, "BOARD", 0)
    for who, role in ((member, "member"), (viewer, "viewer")):
        put = client.put(
            f"/v1/projects/{pid}/members/{who.user_id}", headers=owner.headers, json={"role": role}
        )
        assert put.status_code == 200, put.text
    tasks = [
        _post(
            client,
            owner,
            f"/v1/projects/{pid}/tasks",
            {"title": f"Step {n}", "estimate_days": n + 1, "assignee_id": member.user_id},
        )
        for n in range(4)
    ]
    for a, b in ((0, 1), (1, 2)):
        _post(
            client,
            owner,
            f"/v1/projects/{pid}/dependencies",
            {"predecessor_id": tasks[a]["id"], "successor_id": tasks[b]["id"]},
        )
    first = f"/v1/projects/{pid}/tasks/{tasks[0]['id']}"
    for who, text in ((owner, "one"), (member, "two"), (owner, "three")):
        _post(client, who, f"{first}/comments", {"body": text})
    assert client.put(f"{first}/watchers/me", headers=viewer.headers).status_code == 200
    return {
        "tenant": tenant,
        "project": pid,
        "tasks": [t["id"] for t in tasks],
        "owner": owner,
        "member": member,
        "viewer": viewer,
        "outsider": outsider,
        "other": make_tenant(client, roles=("agent",)).members["agent"],
    }


@pytest.mark.parametrize("who", ["owner", "member", "viewer"])
def test_columns_members_schedule_watchers_and_comments_are_rests(client, board, who):
    actor, pid = board[who], board["project"]
    graph = ok(gql(client, actor, BOARD, id=pid))["project"]
    rest = _get(client, actor, f"/v1/projects/{pid}")
    assert [
        (c["id"], c["name"], c["category"], c["position"], c["wipLimit"]) for c in graph["columns"]
    ] == [
        (c["id"], c["name"], c["category"], c["position"], c.get("wip_limit"))
        for c in rest["columns"]
    ]
    members = _get(client, actor, f"/v1/projects/{pid}/members")
    assert [(m["role"], m["user"]["id"], m["user"]["name"]) for m in graph["members"]] == [
        (m["role"], m["user"]["id"], m["user"]["name"]) for m in members
    ]
    assert len(members) == 3
    plan = _get(client, actor, f"/v1/projects/{pid}/schedule")
    schedule = graph["schedule"]
    assert (schedule["projectStart"], schedule["projectFinish"], schedule["criticalPath"]) == (
        plan["project_start"],
        plan["project_finish"],
        [str(t) for t in plan["critical_path"]],
    )
    assert schedule["criticalPath"] == board["tasks"][:3]
    fields = ("task_id", "key", "duration_days", "earliest_start", "earliest_finish")
    fields += ("latest_start", "latest_finish", "slack_days", "critical", "conflicts")
    camel = [f.split("_")[0] + "".join(w.title() for w in f.split("_")[1:]) for f in fields]
    assert [[t[f] for f in camel] for t in schedule["tasks"]] == [
        [t[f] for f in fields] for t in plan["tasks"]
    ]
    rest_tasks = _get(client, actor, f"/v1/projects/{pid}/tasks", limit=100)["items"]
    nodes = [e["node"] for e in graph["tasks"]["edges"]]
    assert [n["id"] for n in nodes] == [t["id"] for t in rest_tasks]
    for node, task in zip(nodes, rest_tasks, strict=True):
        assert [(w["id"], w["name"]) for w in node["watchers"]] == [
            (w["id"], w["name"]) for w in task["watchers"]
        ]
        path = f"/v1/projects/{pid}/tasks/{task['id']}/comments"
        page = _get(client, actor, path, limit=2)
        comments = node["comments"]
        assert [
            (c["node"]["id"], c["node"]["taskId"], c["node"]["body"], c["node"]["author"]["id"])
            for c in comments["edges"]
        ] == [(c["id"], c["task_id"], c["body"], c["author"]["id"]) for c in page["items"]]
        assert comments["pageInfo"]["endCursor"] == page["next_cursor"]
        assert comments["pageInfo"]["hasNextPage"] == (page["next_cursor"] is not None)
    first = nodes[0]["comments"]
    assert [c["node"]["body"] for c in first["edges"]] == ["one", "two"]
    more = ok(gql(client, actor, MORE_COMMENTS, id=pid, after=first["pageInfo"]["endCursor"]))
    rest_more = _get(
        client,
        actor,
        f"/v1/projects/{pid}/tasks/{board['tasks'][0]}/comments",
        limit=2,
        cursor=first["pageInfo"]["endCursor"],
    )
    [after] = [
        e["node"] for e in more["project"]["tasks"]["edges"] if e["node"]["id"] == board["tasks"][0]
    ]
    assert [c["node"]["id"] for c in after["comments"]["edges"]] == [
        c["id"] for c in rest_more["items"]
    ]
    assert len(rest_more["items"]) == 1
    assert {w["id"] for w in nodes[0]["watchers"]} == {
        board["owner"].user_id,
        board["member"].user_id,
        board["viewer"].user_id,
    }


@pytest.mark.parametrize("who", ["outsider", "other"])
def test_a_non_member_or_another_tenant_finds_no_board(client, board, who):
    actor, pid = board[who], board["project"]
    body = gql(client, actor, BOARD, id=pid).json()
    assert body["data"] == {"project": None}
    assert body["errors"][0]["extensions"]["status"] == 404
    for path in ("", "/members", "/schedule"):
        assert client.get(f"/v1/projects/{pid}{path}", headers=actor.headers).status_code == 404


PAGE_OF_TASKS = """
{ projects(first: FIRST) { edges { node {
  columns { name } members { role user { name } }
  tasks(first: 10) { edges { node { key watchers { id name }
    comments(first: 5) { edges { node { body author { name } } } pageInfo { endCursor } } } } }
} } } }
"""


def test_tasks_with_comments_and_watchers_cost_the_same_statements_for_2_and_6(client):
    tenant = make_tenant(client, roles=("agent",))
    agent = tenant.members["agent"]
    people = [_person(client, tenant, "agent") for _ in range(2)]
    for n in range(6):
        pid = _project(client, agent, f"C{n}X", 0)
        for person in people:
            client.put(
                f"/v1/projects/{pid}/members/{person.user_id}",
                headers=agent.headers,
                json={"role": "member"},
            )
        for i in range(3):
            task = _post(client, agent, f"/v1/projects/{pid}/tasks", {"title": f"t{i}"})
            base = f"/v1/projects/{pid}/tasks/{task['id']}"
            for person in people:
                _post(client, person, f"{base}/comments", {"body": f"from {person.user_id}"})
    counts = {}
    for first in (2, 6):
        with statements() as seen:
            query = PAGE_OF_TASKS.replace("FIRST", str(first))
            page = ok(gql(client, agent, query))["projects"]["edges"]
        assert len(page) == first
        tasks = [t["node"] for p in page for t in p["node"]["tasks"]["edges"]]
        assert len(tasks) == 3 * first
        assert all(len(t["watchers"]) == 2 and len(t["comments"]["edges"]) == 2 for t in tasks)
        assert all(len(p["node"]["members"]) == 3 for p in page)
        assert all(len(p["node"]["columns"]) == 4 for p in page)
        counts[first] = len(seen)
    assert counts[2] == counts[6], counts
    assert counts[6] <= 20, counts


def test_the_schedule_is_weighed_per_project(client, org):
    # Each project's schedule is REST's CPM pass: ten aliases of 100 projects' schedules
    # cost 10 x (1 + 100 x 10) and are refused before anything runs.
    costly = (
        "{ "
        + " ".join(
            f"p{i}: projects(first: 100) {{ edges {{ node {{ schedule {{ criticalPath }} }} }} }}"
            for i in range(10)
        )
        + " }"
    )
    with statements() as seen:
        got = gql(client, org.members["agent"], costly)
    assert got.status_code == 400, got.text
    assert got.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert not [s for s in seen if "project_tasks" in s]


# -- mutations ---------------------------------------------------------------------------

TASK_FIELDS = "id key title priority statusCategory version watchers { id }"
M_CREATE_PROJECT = """mutation($input: CreateProjectInput!, $key: String) {
  createProject(input: $input, idempotencyKey: $key) { id key name version myRole
    columns { id category } } }"""
M_UPDATE_PROJECT = """mutation($p: ID!, $input: UpdateProjectInput!, $v: Int) {
  updateProject(projectId: $p, input: $input, version: $v) { name status version } }"""
M_CREATE_TASK = f"""mutation($p: ID!, $input: CreateTaskInput!, $key: String) {{
  createTask(projectId: $p, input: $input, idempotencyKey: $key) {{ {TASK_FIELDS} }} }}"""
M_UPDATE_TASK = f"""mutation($p: ID!, $t: ID!, $input: UpdateTaskInput!, $v: Int, $key: String) {{
  updateTask(projectId: $p, taskId: $t, input: $input, version: $v, idempotencyKey: $key)
  {{ {TASK_FIELDS} }} }}"""
M_MOVE = f"""mutation($p: ID!, $t: ID!, $c: ID!, $o: Boolean!, $v: Int) {{
  moveTask(projectId: $p, taskId: $t, columnId: $c, override: $o, version: $v)
  {{ {TASK_FIELDS} }} }}"""
M_ADD_DEP = """mutation($p: ID!, $a: ID!, $b: ID!) {
  addTaskDependency(projectId: $p, predecessorId: $a, successorId: $b)
  { id predecessorId successorId type lagDays } }"""
M_REMOVE_DEP = (
    "mutation($p: ID!, $d: ID!) { removeTaskDependency(projectId: $p, dependencyId: $d) }"
)
M_COMMENT = """mutation($p: ID!, $t: ID!, $body: String!) {
  addTaskComment(projectId: $p, taskId: $t, body: $body) { id taskId body author { id } } }"""
M_WATCH = (
    f"mutation($p: ID!, $t: ID!) {{ watchTask(projectId: $p, taskId: $t) {{ {TASK_FIELDS} }} }}"
)
M_UNWATCH = (
    f"mutation($p: ID!, $t: ID!) {{ unwatchTask(projectId: $p, taskId: $t) {{ {TASK_FIELDS} }} }}"
)


def _refusal(status: int, problem: dict[str, Any]) -> tuple[Any, ...]:
    """A refusal as both APIs answer it: status, the fields named, the cycle's task numbers."""
    cycle = [key.split("-")[1] for key in problem["cycle"]] if "cycle" in problem else None
    return (status, sorted(e["field"] for e in problem.get("errors", [])), cycle)


def _graph_refusal(body: dict[str, Any]) -> tuple[Any, ...]:
    ext = body["errors"][0]["extensions"]
    return _refusal(ext["status"], ext)


def _rest(client, actor: Actor, method: str, path: str, body: Any = None) -> Any:
    got = client.request(method, path, headers=actor.headers, json=body)
    if got.status_code >= 400:
        return ("refused", _refusal(got.status_code, got.json()))
    return got.json() if got.content else None


def _graph(client, actor: Actor, query: str, **variables: Any) -> Any:
    body = gql(client, actor, query, **variables).json()
    if body.get("errors"):
        return ("refused", _graph_refusal(body))
    return next(iter(body["data"].values()))


def _task_of(task: dict[str, Any]) -> tuple[Any, ...]:
    """A task answer, REST's or GraphQL's, without ids that differ between the two runs."""
    category = task.get("status_category", task.get("statusCategory"))
    return (task["key"].split("-")[1], task["title"], task["priority"], category, task["version"])


def _outcome(value: Any) -> Any:
    if isinstance(value, tuple):
        return value
    if isinstance(value, dict) and "title" in value:
        return ("task", *_task_of(value), sorted(w["id"] for w in value["watchers"]))
    return ("ok",)


def _by_rest(client, owner: Actor, member: Actor, key: str) -> tuple[str, list[Any]]:
    made = _rest(client, owner, "POST", "/v1/projects", {"name": "Parity", "key": key})
    pid, base = made["id"], f"/v1/projects/{made['id']}"
    put = client.put(
        f"{base}/members/{member.user_id}", headers=owner.headers, json={"role": "member"}
    )
    assert put.status_code == 200
    seen: list[Any] = [made["name"], made["version"], made["my_role"]]
    edited = _rest(client, owner, "PATCH", base, {"name": "Parity 2", "version": 1})
    seen += [edited["name"], edited["version"]]
    seen.append(_rest(client, owner, "PATCH", base, {"status": "active", "version": 1}))
    seen.append(_rest(client, member, "PATCH", base, {"status": "active", "version": 2}))
    a, b, c = (_rest(client, owner, "POST", f"{base}/tasks", {"title": t}) for t in ("A", "B", "C"))
    seen += [_outcome(t) for t in (a, b, c)]
    seen.append(_rest(client, owner, "POST", f"{base}/tasks", {"title": ""}))
    t = f"{base}/tasks"
    seen.append(
        _outcome(
            _rest(client, member, "PATCH", f"{t}/{a['id']}", {"priority": "high", "version": 1})
        )
    )
    seen.append(_rest(client, member, "PATCH", f"{t}/{a['id']}", {"title": "x", "version": 1}))
    dep = _rest(
        client,
        owner,
        "POST",
        f"{base}/dependencies",
        {"predecessor_id": a["id"], "successor_id": b["id"]},
    )
    seen.append((dep["predecessor_id"] == a["id"], dep["successor_id"] == b["id"], dep["type"]))
    seen.append(
        _rest(
            client,
            owner,
            "POST",
            f"{base}/dependencies",
            {"predecessor_id": b["id"], "successor_id": a["id"]},
        )
    )
    doing = made["columns"][1]["id"]
    seen.append(
        _rest(client, owner, "POST", f"{t}/{b['id']}/move", {"column_id": doing, "version": 1})
    )
    seen.append(
        _outcome(
            _rest(
                client,
                owner,
                "POST",
                f"{t}/{b['id']}/move",
                {"column_id": doing, "override": True, "version": 1},
            )
        )
    )
    comment = _rest(client, member, "POST", f"{t}/{c['id']}/comments", {"body": "on it"})
    seen.append((comment["body"], comment["author"]["id"] == member.user_id))
    seen.append(_outcome(_rest(client, owner, "PUT", f"{t}/{c['id']}/watchers/me")))
    _rest(client, member, "DELETE", f"{t}/{c['id']}/watchers/me")
    seen.append(_outcome(_rest(client, owner, "GET", f"{t}/{c['id']}")))
    seen.append(_rest(client, owner, "DELETE", f"{base}/dependencies/{dep['id']}"))
    seen.append(_rest(client, owner, "DELETE", f"{base}/dependencies/{dep['id']}"))
    return pid, seen


def _by_graph(client, owner: Actor, member: Actor, key: str) -> tuple[str, list[Any]]:
    made = _graph(client, owner, M_CREATE_PROJECT, input={"name": "Parity", "key": key})
    pid = made["id"]
    put = client.put(
        f"/v1/projects/{pid}/members/{member.user_id}",
        headers=owner.headers,
        json={"role": "member"},
    )
    assert put.status_code == 200
    seen: list[Any] = [made["name"], made["version"], made["myRole"]]
    edited = _graph(client, owner, M_UPDATE_PROJECT, p=pid, input={"name": "Parity 2"}, v=1)
    seen += [edited["name"], edited["version"]]
    seen.append(_graph(client, owner, M_UPDATE_PROJECT, p=pid, input={"status": "active"}, v=1))
    seen.append(_graph(client, member, M_UPDATE_PROJECT, p=pid, input={"status": "active"}, v=2))
    a, b, c = (_graph(client, owner, M_CREATE_TASK, p=pid, input={"title": t}) for t in "ABC")
    seen += [_outcome(t) for t in (a, b, c)]
    seen.append(_graph(client, owner, M_CREATE_TASK, p=pid, input={"title": ""}))
    seen.append(
        _outcome(
            _graph(client, member, M_UPDATE_TASK, p=pid, t=a["id"], input={"priority": "high"}, v=1)
        )
    )
    seen.append(_graph(client, member, M_UPDATE_TASK, p=pid, t=a["id"], input={"title": "x"}, v=1))
    dep = _graph(client, owner, M_ADD_DEP, p=pid, a=a["id"], b=b["id"])
    seen.append((dep["predecessorId"] == a["id"], dep["successorId"] == b["id"], dep["type"]))
    seen.append(_graph(client, owner, M_ADD_DEP, p=pid, a=b["id"], b=a["id"]))
    doing = made["columns"][1]["id"]
    seen.append(_graph(client, owner, M_MOVE, p=pid, t=b["id"], c=doing, o=False, v=1))
    seen.append(_outcome(_graph(client, owner, M_MOVE, p=pid, t=b["id"], c=doing, o=True, v=1)))
    comment = _graph(client, member, M_COMMENT, p=pid, t=c["id"], body="on it")
    seen.append((comment["body"], comment["author"]["id"] == member.user_id))
    seen.append(_outcome(_graph(client, owner, M_WATCH, p=pid, t=c["id"])))
    seen.append(_outcome(_graph(client, member, M_UNWATCH, p=pid, t=c["id"])))
    seen.append(_graph(client, owner, M_REMOVE_DEP, p=pid, d=dep["id"]) and None)
    seen.append(_graph(client, owner, M_REMOVE_DEP, p=pid, d=dep["id"]))
    return pid, seen


def _events(database_url: str, project_id: str) -> list[str]:
    with psycopg.connect(database_url) as c:
        rows = c.execute(
            "SELECT event_type FROM outbox WHERE payload->>'project_id' = %s", (project_id,)
        )
        return sorted(r[0] for r in rows)


def test_every_mutation_answers_refuses_and_emits_as_rest(client):
    tenant = make_tenant(client, roles=("agent",))
    owner = tenant.members["agent"]
    member = _person(client, tenant, "agent")
    rest_pid, rest = _by_rest(client, owner, member, "RST")
    graph_pid, graph = _by_graph(client, owner, member, "GQL")
    # REST's unwatch answers nothing: its row is the task as read after it.
    assert graph == rest
    assert ("refused", (412, [], None)) in rest  # a stale version
    assert ("refused", (403, ["project_id"], None)) in rest  # a member is not a manager
    assert ("refused", (409, ["column_id"], None)) in rest  # blocked, no override
    assert ("refused", (404, [], None)) in rest  # the dependency was removed
    refusals = [r[1] for r in rest if isinstance(r, tuple) and r[0] == "refused"]
    assert (422, ["title"], None) in refusals
    [cycle] = [r for r in refusals if r[1] == ["predecessor_id"]]
    assert cycle[0] == 422 and cycle[2] == ["2", "1", "2"], cycle
    url = current_database().owner_url.set(drivername="postgresql").render_as_string(False)
    assert _events(url, graph_pid) == _events(url, rest_pid)
    assert {"project.created", "task.created", "task.moved", "task.commented"} <= set(
        _events(url, graph_pid)
    )


def _every_mutation(board: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    pid, (a, b, c, _) = board["project"], board["tasks"]
    return [
        (M_UPDATE_PROJECT, {"p": pid, "input": {"name": "Mine"}, "v": 1}),
        (M_CREATE_TASK, {"p": pid, "input": {"title": "Mine"}}),
        (M_UPDATE_TASK, {"p": pid, "t": a, "input": {"title": "Mine"}, "v": 1}),
        (M_MOVE, {"p": pid, "t": c, "c": pid, "o": True, "v": 1}),
        (M_ADD_DEP, {"p": pid, "a": a, "b": c}),
        (M_REMOVE_DEP, {"p": pid, "d": pid}),
        (M_COMMENT, {"p": pid, "t": a, "body": "mine"}),
        (M_WATCH, {"p": pid, "t": b}),
        (M_UNWATCH, {"p": pid, "t": a}),
    ]


def _unchanged(client, board: dict[str, Any]) -> tuple[Any, ...]:
    owner, pid = board["owner"], board["project"]
    project = _get(client, owner, f"/v1/projects/{pid}")
    tasks = _get(client, owner, f"/v1/projects/{pid}/tasks", limit=100)["items"]
    comments = _get(client, owner, f"/v1/projects/{pid}/tasks/{board['tasks'][0]}/comments")
    return (
        project["version"],
        [(t["version"], [w["id"] for w in t["watchers"]]) for t in tasks],
        len(comments["items"]),
        len(_get(client, owner, f"/v1/projects/{pid}/dependencies")),
    )


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("other", 404), ("requester", 403)])
def test_a_non_member_another_tenant_or_a_requester_changes_nothing(client, board, who, status):
    actor = board["tenant"].members["requester"] if who == "requester" else board[who]
    before = _unchanged(client, board)
    mutations = _every_mutation(board)
    if who == "requester":  # agents hold project:create (in their own organisation)
        mutations.append((M_CREATE_PROJECT, {"input": {"name": "Mine", "key": "MINE"}}))
    for query, variables in mutations:
        body = gql(client, actor, query, **variables).json()
        assert body["errors"][0]["extensions"]["status"] == status, (query, body)
    pid = board["project"]
    rest = client.patch(f"/v1/projects/{pid}", headers=actor.headers, json={"version": 1})
    assert rest.status_code == status
    assert _unchanged(client, board) == before


def test_a_viewer_watches_but_neither_edits_nor_comments(client, board):
    viewer, pid, (_, b, *_) = board["viewer"], board["project"], board["tasks"]
    before = _unchanged(client, board)
    for query, variables in _every_mutation(board):
        if query in (M_WATCH, M_UNWATCH):
            continue
        body = gql(client, viewer, query, **variables).json()
        assert body["errors"][0]["extensions"]["status"] == 403, (query, body)
    assert _unchanged(client, board) == before
    watched = ok(gql(client, viewer, M_WATCH, p=pid, t=b))["watchTask"]
    assert viewer.user_id in {w["id"] for w in watched["watchers"]}
    unwatched = ok(gql(client, viewer, M_UNWATCH, p=pid, t=b))["unwatchTask"]
    assert viewer.user_id not in {w["id"] for w in unwatched["watchers"]}


def test_mutations_are_once_per_idempotency_key(client):
    tenant = make_tenant(client, roles=("agent",))
    owner = tenant.members["agent"]
    key = f"gql-{uuid.uuid4().hex}"
    made = ok(gql(client, owner, M_CREATE_PROJECT, input={"name": "Once", "key": "ONCE"}, key=key))
    again = ok(gql(client, owner, M_CREATE_PROJECT, input={"name": "Once", "key": "ONCE"}, key=key))
    assert made == again
    pid = made["createProject"]["id"]
    key += "t"
    first = ok(gql(client, owner, M_CREATE_TASK, p=pid, input={"title": "T"}, key=key))
    retry = ok(gql(client, owner, M_CREATE_TASK, p=pid, input={"title": "T"}, key=key))
    assert first == retry
    other = gql(client, owner, M_CREATE_TASK, p=pid, input={"title": "U"}, key=key).json()
    assert other["errors"][0]["extensions"]["status"] == 422
    tid = first["createTask"]["id"]
    edit = {"p": pid, "t": tid, "input": {"priority": "urgent"}, "v": 1, "key": key + "e"}
    edited = ok(gql(client, owner, M_UPDATE_TASK, **edit))["updateTask"]
    replayed = ok(gql(client, owner, M_UPDATE_TASK, **edit))["updateTask"]
    assert edited["version"] == replayed["version"] == 2  # not a stale 412: answered again
    tasks = _get(client, owner, f"/v1/projects/{pid}/tasks")["items"]
    assert [(t["title"], t["version"]) for t in tasks] == [("T", 2)]
    projects = _get(client, owner, "/v1/projects")["items"]
    assert [p["key"] for p in projects] == ["ONCE"]
    bad = gql(client, owner, M_CREATE_TASK, p=pid, input={"title": "V"}, key="short").json()
    assert bad["errors"][0]["extensions"]["errors"][0]["field"] == "idempotencyKey"
