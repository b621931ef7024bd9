"""GraphQL projects and tasks (/v1/graphql) on the real database: the projects and tasks
each principal sees equal what REST shows them (roles, project membership, two tenants),
keyset pages continue as REST's, statement counts do not grow with the page (projects ->
tasks -> assignee), and the limits still refuse hostile nesting before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Actor, make_tenant
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
