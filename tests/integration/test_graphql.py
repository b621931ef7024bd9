"""GraphQL (/v1/graphql) on the real database: parity with REST across roles and tenants,
statement counts that do not grow with the page (no N+1), the limits that refuse a query
before it runs, bad input as GraphQL errors that write nothing, mutations through the REST
services (idempotency keys, versions, outbox events), persisted queries and the GET route."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event

from servicedesk.graphql import persisted
from servicedesk.platform import db
from tests.conftest import Actor, current_database, make_tenant

pytestmark = pytest.mark.usefixtures("client")
ROOT = Path(__file__).resolve().parents[2]

NESTED = """
query Page($first: Int!, $after: String) {
  tickets(first: $first, after: $after) {
    edges { node { id number title allowedTransitions requester { id name } assignee { id name }
      comments { edges { node { id body visibility author { id name } } } }
      timeline(first: 10) { edges { node { id type } } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent", "manager", "requester"))


@pytest.fixture(scope="module")
def other(client):
    return make_tenant(client, roles=("agent", "requester"))


def gql(client, actor: Actor, query: str, **variables: Any) -> Any:
    return client.post(
        "/v1/graphql", headers=actor.headers, json={"query": query, "variables": variables}
    )


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


def _ticket(client, actor: Actor, title: str = "Mail is down") -> dict[str, Any]:
    made = client.post("/v1/tickets", headers=actor.headers, json={"title": title})
    assert made.status_code == 201, made.text
    return dict(made.json())


def _comment(client, actor: Actor, ticket_id: str, visibility: str = "public") -> str:
    made = client.post(
        f"/v1/tickets/{ticket_id}/comments",
        headers=actor.headers,
        json={"body": f"a {visibility} word", "visibility": visibility},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


@pytest.fixture(scope="module")
def seeded(client, org, other) -> None:
    """Tickets of two requesters (the org's and its admin's) and another tenant's, with
    public replies and internal notes."""
    for tenant in (org, other):
        mine = _ticket(client, tenant.members["requester"], "mine")
        _comment(client, tenant.members["agent"], mine["id"])
        _comment(client, tenant.members["agent"], mine["id"], "internal")
        _comment(client, tenant.members["requester"], mine["id"])
        theirs = _ticket(client, tenant.admin, "the admin's own")
        _comment(client, tenant.admin, theirs["id"], "internal")


def _rest_view(client, actor: Actor) -> dict[str, Any]:
    tickets: list[str] = []
    moves: dict[str, list[str]] = {}
    cursor = None
    while True:
        page = client.get(
            "/v1/tickets",
            headers=actor.headers,
            params={"limit": 100, **({"cursor": cursor} if cursor else {})},
        ).json()
        tickets += [t["id"] for t in page["items"]]
        moves.update({t["id"]: t["allowed_transitions"] for t in page["items"]})
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return {
        t: (
            moves[t],
            [
                c["id"]
                for c in client.get(
                    f"/v1/tickets/{t}/comments", headers=actor.headers, params={"limit": 100}
                ).json()["items"]
            ],
            [
                str(e["id"])
                for e in client.get(
                    f"/v1/tickets/{t}/events", headers=actor.headers, params={"limit": 10}
                ).json()["items"]
            ],
        )
        for t in tickets
    }


def _graph_view(client, actor: Actor) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    after = None
    while True:
        page = ok(gql(client, actor, NESTED, first=100, after=after))["tickets"]
        for edge in page["edges"]:
            node = edge["node"]
            comments = [c["node"]["id"] for c in node["comments"]["edges"]]
            events = [e["node"]["id"] for e in node["timeline"]["edges"]]
            seen[node["id"]] = (node["allowedTransitions"], comments, events)
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return seen


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    ("which", "role"),
    [
        ("org", "requester"),
        ("org", "agent"),
        ("org", "manager"),
        ("org", "admin"),
        ("other", "requester"),
        ("other", "agent"),
    ],
)
def test_graphql_sees_exactly_what_rest_sees(client, org, other, which, role):
    tenant = org if which == "org" else other
    actor = tenant.members[role]
    rest = _rest_view(client, actor)
    graph = _graph_view(client, actor)
    assert list(graph) == list(rest)  # the same tickets, in the same order
    assert graph == rest  # and the same allowed moves, comments and events on each
    assert rest, "every actor here sees at least one ticket"
    if role == "requester":
        notes = [
            c
            for _moves, comments, _events in graph.values()
            for c in comments
            if _visibility(client, tenant.admin, c) == "internal"
        ]
        assert notes == []


def _visibility(client, admin: Actor, comment_id: str) -> str:
    with psycopg.connect(
        current_database().owner_url.set(drivername="postgresql").render_as_string(False)
    ) as c:
        row = c.execute(
            "SELECT visibility FROM ticket_comments WHERE id = %s", (comment_id,)
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_another_tenants_ticket_is_not_found(client, org, other):
    foreign = _ticket(client, other.members["requester"])
    got = gql(client, org.admin, "query($id: ID!) { ticket(id: $id) { id } }", id=foreign["id"])
    assert got.status_code == 200
    body = got.json()
    assert body["data"] == {"ticket": None}
    assert body["errors"][0]["extensions"]["status"] == 404
    assert body["errors"][0]["path"] == ["ticket"]


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_nested_page_costs_the_same_statements_for_5_and_25_tickets(client):
    tenant = make_tenant(client, roles=("agent", "requester"))
    for n in range(25):
        made = _ticket(client, tenant.members["requester"], f"ticket {n}")
        _comment(client, tenant.members["agent"], made["id"])
        _comment(client, tenant.members["requester"], made["id"])
    counts = {}
    for first in (5, 25):
        with statements() as seen:
            page = ok(gql(client, tenant.members["agent"], NESTED, first=first))["tickets"]
        assert len(page["edges"]) == first
        assert all(len(e["node"]["comments"]["edges"]) == 2 for e in page["edges"])
        assert {e["node"]["comments"]["edges"][0]["node"]["author"]["name"] for e in page["edges"]}
        counts[first] = len(seen)
    assert counts[5] == counts[25], counts
    assert counts[25] <= 12, counts  # auth, settings, the page, comments, people


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (
            "{ a: tickets { edges { node { comments { edges { node { id } } } } } } "
            + " ".join(
                f"t{i}: tickets(first: 100) {{ edges {{ node {{ comments(first: 100)"
                f" {{ edges {{ node {{ author {{ name }} }} }} }} }} }} }}"
                for i in range(3)
            )
            + " }",
            "QUERY_TOO_COSTLY",
        ),
        (
            "fragment F on Ticket { comments { edges { node { author { id } } } } }"
            " { tickets { edges { node { ...F comments { edges { node { id } } }"
            " assignee { id } } } } }",
            None,
        ),
    ],
)
def test_costly_queries_are_refused_before_any_resolver_runs(client, org, query, code):
    actor = org.members["agent"]
    with statements() as seen:
        started = time.perf_counter()
        got = gql(client, actor, query)
        elapsed = time.perf_counter() - started
    if code is None:  # the control: an affordable nested query runs
        assert got.status_code == 200, got.text
        assert any("ticket" in s for s in seen)
        return
    assert got.status_code == 400, got.text
    body = got.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code
    assert body["errors"][0]["extensions"]["status"] == 400
    # Nothing resolved: no statement read a ticket (only the principal's own lookups ran).
    assert not [s for s in seen if "FROM tickets" in s or "ticket_comments" in s], seen
    assert elapsed < 2.0  # generous for a loaded CI; bench/graphql.py measures it


def test_too_deep_queries_are_refused(client, org, monkeypatch):
    """The schema has no cycle today (a comment does not lead back to tickets), so the
    deepest real query is 8 levels; the limiter guards the day one appears. Here the limit
    is lowered to 5 and a 7-level query is refused before it runs."""
    from servicedesk.platform.config import get_settings

    deep = "{ tickets { edges { node { comments { edges { node { author { id } } } } } } } }"
    monkeypatch.setenv("SERVICEDESK_GRAPHQL_MAX_DEPTH", "5")
    get_settings.cache_clear()
    try:
        with statements() as seen:
            got = gql(client, org.members["agent"], deep)
    finally:
        monkeypatch.delenv("SERVICEDESK_GRAPHQL_MAX_DEPTH")
        get_settings.cache_clear()
    assert got.status_code == 400, got.text
    assert "depth" in got.json()["errors"][0]["message"]
    assert not [s for s in seen if "FROM tickets" in s]
    assert gql(client, org.members["agent"], deep).status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{ tickets { edges "}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ tickets { nope } }"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            {
                "query": "query($n: Int!) { tickets(first: $n) { edges { node { id } } } }",
                "variables": {"n": "many"},
            },
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ({"query": "{ __schema { types { name } } }"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
            "PERSISTED_QUERY_NOT_FOUND",
        ),
        (
            {
                "query": "{ me { id } }",
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "1" * 64}},
            },
            "PERSISTED_QUERY_HASH_MISMATCH",
        ),
    ],
)
def test_requests_that_cannot_run_are_400_graphql_errors(client, org, body, code):
    got = client.post("/v1/graphql", headers=org.members["agent"].headers, json=body)
    assert got.status_code == 400, got.text
    assert got.headers["content-type"].startswith("application/json")
    error = got.json()["errors"][0]
    assert error["extensions"]["code"] == code, error
    assert error["extensions"]["type"].endswith("/bad-request")


def test_an_oversized_page_is_a_field_error_naming_first(client, org):
    got = gql(client, org.members["agent"], "{ tickets(first: 101) { edges { node { id } } } }")
    assert got.status_code == 200
    body = got.json()
    assert body["data"] is None or body["data"] == {"tickets": None} or body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["status"] == 422
    assert error["extensions"]["errors"][0]["field"] == "first"


def test_an_unknown_filter_is_named_as_rest_names_it(client, org):
    got = gql(
        client,
        org.members["agent"],
        "query($f: JSON) { tickets(filter: $f) { edges { node { id } } } }",
        f={"status": ["open"], "colour": "red"},
    )
    error = got.json()["errors"][0]
    assert error["extensions"]["status"] == 422
    assert [e["field"] for e in error["extensions"]["errors"]] == ["colour"]


def _count_tickets(client, actor: Actor) -> int:
    return len(
        client.get("/v1/tickets", headers=actor.headers, params={"limit": 100}).json()["items"]
    )


CREATE = """
mutation($input: CreateTicketInput!, $key: String) {
  createTicket(input: $input, idempotencyKey: $key) { id number status version }
}
"""


def test_create_ticket_is_idempotent_and_emits_the_rest_event(client):
    tenant = make_tenant(client, roles=("requester",))
    actor = tenant.members["requester"]
    key = f"gql-{uuid.uuid4().hex}"
    first = ok(gql(client, actor, CREATE, input={"title": "Printer jam"}, key=key))
    again = ok(gql(client, actor, CREATE, input={"title": "Printer jam"}, key=key))
    assert first == again
    reused = gql(client, actor, CREATE, input={"title": "Another jam"}, key=key)
    assert reused.json()["errors"][0]["extensions"]["status"] == 422
    assert _count_tickets(client, actor) == 1
    rest = client.get(f"/v1/tickets/{first['createTicket']['id']}", headers=actor.headers)
    assert rest.json()["number"] == first["createTicket"]["number"]
    with psycopg.connect(
        current_database().owner_url.set(drivername="postgresql").render_as_string(False)
    ) as c:
        types = [
            r[0]
            for r in c.execute(
                "SELECT event_type FROM outbox WHERE tenant_id = %s AND payload::text LIKE %s",
                (tenant.tenant_id, f"%{first['createTicket']['id']}%"),
            )
        ]
    assert "ticket.created" in types


def test_a_refused_mutation_writes_nothing(client):
    tenant = make_tenant(client, roles=("requester",))
    actor = tenant.members["requester"]
    bad = gql(client, actor, CREATE, input={"title": ""})
    assert bad.status_code == 200
    assert bad.json()["errors"][0]["extensions"]["errors"][0]["field"] == "title"
    # Two in one operation, the second refused: the first is rolled back with it.
    both = gql(
        client,
        actor,
        'mutation { a: createTicket(input: {title: "fine"}) { id }'
        ' b: createTicket(input: {title: "x", priority: "urgent"}) { id } }',
    )
    assert both.status_code == 200
    assert both.json()["errors"][0]["path"] == ["b"]
    wrong_type = gql(client, actor, CREATE, input={"title": 5})
    assert wrong_type.status_code == 400
    assert _count_tickets(client, actor) == 0


def test_comment_status_and_assignment_through_the_rest_services(client, org):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester, "VPN")
    note = ok(
        gql(
            client,
            agent,
            'mutation($t: ID!) { addComment(ticketId: $t, body: "looking", visibility: "internal")'
            " { id visibility author { id } } }",
            t=ticket["id"],
        )
    )["addComment"]
    assert note["visibility"] == "internal"
    assert note["author"]["id"] == agent.user_id
    refused = gql(
        client,
        requester,
        'mutation($t: ID!) { addComment(ticketId: $t, body: "hi", visibility: "internal") { id } }',
        t=ticket["id"],
    )
    assert refused.json()["errors"][0]["extensions"]["status"] == 403
    assigned = ok(
        gql(
            client,
            agent,
            "mutation($t: ID!, $a: ID!) { assignTicket(ticketId: $t, assigneeId: $a)"
            " { version assignee { id } } }",
            t=ticket["id"],
            a=agent.user_id,
        )
    )["assignTicket"]
    assert assigned["assignee"]["id"] == agent.user_id
    stale = gql(
        client,
        agent,
        'mutation($t: ID!) { changeTicketStatus(ticketId: $t, to: "in_progress", version: 1)'
        " { status } }",
        t=ticket["id"],
    )
    assert stale.json()["errors"][0]["extensions"]["status"] in (409, 412)
    moved = ok(
        gql(
            client,
            agent,
            'mutation($t: ID!, $v: Int!) { changeTicketStatus(ticketId: $t, to: "in_progress",'
            " version: $v) { status } }",
            t=ticket["id"],
            v=assigned["version"],
        )
    )
    assert moved["changeTicketStatus"]["status"] == "in_progress"
    denied = gql(
        client,
        requester,
        "mutation($t: ID!, $a: ID!) { assignTicket(ticketId: $t, assigneeId: $a) { id } }",
        t=ticket["id"],
        a=agent.user_id,
    )
    assert denied.json()["errors"][0]["extensions"]["status"] == 403


def test_get_is_405_outside_dev_and_never_the_web_app(client, org):
    got = client.get("/v1/graphql")
    assert got.status_code == 405
    assert got.headers["content-type"].startswith("application/problem+json")
    assert got.headers["allow"] == "POST"


def test_graphql_needs_a_principal(client):
    assert client.post("/v1/graphql", json={"query": "{ me { id } }"}).status_code == 401


def test_registered_persisted_queries_are_their_hashes_and_run(client, org):
    for key, query in persisted.registered().items():
        assert persisted.digest(query) == key
    for key in persisted.registered():
        got = client.post(
            "/v1/graphql",
            headers=org.members["agent"].headers,
            json={
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": key}},
                "variables": {"first": 5},
            },
        )
        assert got.status_code == 200, got.text
        assert "errors" not in got.json(), got.text


def _queue_page(client, actor: Actor, **variables: Any) -> dict[str, Any]:
    """The web app's queue (web/src/graphql/QueueTickets.graphql) by its hash alone."""
    text = (ROOT / "web" / "src" / "graphql" / "QueueTickets.graphql").read_text()
    got = client.post(
        "/v1/graphql",
        headers=actor.headers,
        json={
            "operationName": "QueueTickets",
            "variables": variables,
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": persisted.digest(text)}},
        },
    )
    return ok(got)["tickets"]


@pytest.mark.usefixtures("seeded")
def test_the_web_queue_query_is_the_rest_list_with_its_people(client, org, other):
    """QueueTickets with REST's filters, sort and keyset pages answers REST's rows, in its
    order, with the requester's and assignee's names REST's participants give; another
    tenant's agent sees none of them."""
    agent = org.members["agent"]
    filters = {"status": ["new", "open", "in_progress"], "merged": "exclude"}
    rest = client.get(
        "/v1/tickets",
        headers=agent.headers,
        params={**filters, "sort": "-updated_at", "limit": 100},
    ).json()["items"]
    assert len(rest) >= 2  # several keyset pages of one
    pages, after = [], None
    while True:
        got = _queue_page(client, agent, filter=filters, sort="-updated_at", first=1, after=after)
        pages.append(got)
        if not got["pageInfo"]["hasNextPage"]:
            break
        after = got["pageInfo"]["endCursor"]
    nodes = [edge["node"] for page in pages for edge in page["edges"]]
    assert [n["id"] for n in nodes] == [t["id"] for t in rest]
    assert len(pages) == len(rest)
    for node, ticket in zip(nodes, rest, strict=True):
        people = client.get(
            f"/v1/tickets/{ticket['id']}/participants", headers=agent.headers
        ).json()
        names = {p["user_id"]: p["name"] for p in people}
        assert node["requester"]["name"] == names[ticket["requester_id"]]
        assert node["assignee"] is None or node["assignee"]["name"] == names[ticket["assignee_id"]]
        assert (node["number"], node["status"]) == (ticket["number"], ticket["status"])
    stranger = other.members["agent"]
    theirs = _queue_page(client, stranger, filter=filters, first=100)
    assert not {e["node"]["id"] for e in theirs["edges"]} & {t["id"] for t in rest}


def test_articles_and_configuration_items_as_their_rest_lists(client, org):
    manager, requester = org.members["manager"], org.members["requester"]
    for title in ("Reset a password", "Draft notes"):
        made = client.post(
            "/v1/kb/articles",
            headers=manager.headers,
            json={"title": title, "body": "Steps", "audience": "public"},
        )
        assert made.status_code == 201, made.text
    classes = client.get("/v1/ci-classes", headers=manager.headers).json()["items"]
    made_ci = client.post(
        "/v1/cis",
        headers=manager.headers,
        json={"class_id": classes[0]["id"], "name": "laptop-1"},
    )
    assert made_ci.status_code == 201, made_ci.text
    articles = "{ articles(first: 50) { edges { node { id state } } } }"
    cis = "{ configurationItems { edges { node { id name } } } }"
    for actor in (manager, requester):
        rest = client.get("/v1/kb/articles", headers=actor.headers, params={"limit": 50})
        graph = ok(gql(client, actor, articles))["articles"]["edges"]
        assert [e["node"]["id"] for e in graph] == [a["id"] for a in rest.json()["items"]]
    assert ok(gql(client, requester, articles))["articles"]["edges"] == []  # drafts: staff
    rest_cis = client.get("/v1/cis", headers=manager.headers).json()["items"]
    graph_cis = ok(gql(client, manager, cis))["configurationItems"]["edges"]
    assert [e["node"]["id"] for e in graph_cis] == [c["id"] for c in rest_cis]
    assert rest_cis
    refused = gql(client, requester, cis)
    assert client.get("/v1/cis", headers=requester.headers).status_code == 403
    assert refused.json()["errors"][0]["extensions"]["status"] == 403
    bad = gql(client, manager, '{ articles(state: ["lost"]) { edges { node { id } } } }')
    assert bad.json()["errors"][0]["extensions"]["status"] == 422


def test_a_tickets_attachments_timeline_and_sla_read_as_rest(client, org):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester, "Screen flickers")
    _comment(client, agent, ticket["id"], "internal")
    query = (
        "query($id: ID!) { ticket(id: $id) { id team { id } category { id }"
        " slaTargets { target dueAt } attachments { edges { node { id } } }"
        " timeline(first: 50) { edges { node { id type visibility } } } } }"
    )
    for actor in (requester, agent):
        node = ok(gql(client, actor, query, id=ticket["id"]))["ticket"]
        rest = client.get(
            f"/v1/tickets/{ticket['id']}/events", headers=actor.headers, params={"limit": 50}
        ).json()["items"]
        assert [e["node"]["id"] for e in node["timeline"]["edges"]] == [str(e["id"]) for e in rest]
        sla = client.get(f"/v1/tickets/{ticket['id']}/sla", headers=actor.headers).json()
        assert {t["target"] for t in node["slaTargets"]} == {
            t["target"] for t in sla.get("targets", [])
        }
        assert node["attachments"]["edges"] == []
    requester_view = ok(gql(client, requester, query, id=ticket["id"]))["ticket"]
    assert "internal" not in {e["node"]["visibility"] for e in requester_view["timeline"]["edges"]}


def test_graphiql_and_introspection_are_on_in_dev_only(client, org, monkeypatch):
    from servicedesk.platform.config import get_settings

    schema = "{ __schema { queryType { name } } }"
    monkeypatch.setenv("SERVICEDESK_ENVIRONMENT", "dev")
    get_settings.cache_clear()
    try:
        page = client.get("/v1/graphql")
        introspected = gql(client, org.members["agent"], schema)
    finally:
        monkeypatch.setenv("SERVICEDESK_ENVIRONMENT", "test")
        get_settings.cache_clear()
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()
    assert ok(introspected) == {"__schema": {"queryType": {"name": "Query"}}}
    assert client.get("/v1/graphql").status_code == 405
    assert gql(client, org.members["agent"], schema).status_code == 400
