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
