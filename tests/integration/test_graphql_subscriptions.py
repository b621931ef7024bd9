"""GraphQL subscriptions over the WebSocket API (issue 23 point 4), over real sockets.

The runtime is test_realtime's: uvicorn serving the local gateway (local/ws.py) in front of
the API, real WebSocket clients offering ``graphql-transport-ws``, the real database, and
the emulator's realtime queue polled into the broadcaster. Events are caused through the
REST API. Every "nothing arrives" is followed by a positive control on the same socket.

Closing: API Gateway's DeleteConnection takes no close code, and the local gateway closes
as it does (1000); the tests check that the socket is closed and forgotten, and the
protocol's code in the log line.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from servicedesk.platform import db
from tests.conftest import Actor, make_tenant
from tests.integration.test_realtime import (
    Runtime,
    comment,
    create_ticket,
    owner_sql,
    quiet,
    receive,
    runtime,  # noqa: F401  (the module's server)
    settings_env,  # noqa: F401
    wait_until,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

PROTOCOL = "graphql-transport-ws"
ONE_TICKET = """subscription OnTicket($id: ID) {
  ticketEvents(ticketId: $id) { type ticket { number status } }
}"""
EVERY_TICKET = "subscription { ticketEvents { type ticketId } }"
CONVERSATION = """subscription Conversation($id: ID) {
  ticketEvents(ticketId: $id) {
    type
    comment { body visibility }
    ticket { comments { edges { node { body visibility } } } }
  }
}"""


@pytest.fixture
def org(runtime: Runtime) -> Any:  # noqa: F811
    return make_tenant(runtime.http, roles=("agent", "requester"))


@contextlib.contextmanager
def gql_socket(rt: Runtime, actor: Actor, *, init: bool = True) -> Iterator[ClientConnection]:
    with rt.socket(actor, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == PROTOCOL
        if init:
            ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert receive(ws) == {"type": "connection_ack"}
        yield ws


def subscribe(ws: ClientConnection, op: str, query: str, **variables: Any) -> dict[str, Any] | None:
    """Send a subscribe; an accepted one has no reply (the ping's pong comes back first)."""
    ws.send(
        json.dumps(
            {"id": op, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
    )
    ws.send(json.dumps({"type": "ping"}))
    reply = receive(ws)
    if reply == {"type": "pong"}:
        return None
    assert receive(ws) == {"type": "pong"}
    return reply


def accepted(ws: ClientConnection, op: str, query: str, **variables: Any) -> None:
    reply = subscribe(ws, op, query, **variables)
    assert reply is None, reply


def refused(ws: ClientConnection, op: str, query: str, **variables: Any) -> dict[str, Any]:
    reply = subscribe(ws, op, query, **variables)
    assert reply is not None and reply["type"] == "error" and reply["id"] == op, reply
    return dict(reply["payload"][0])


def closed(rt: Runtime, ws: ClientConnection) -> None:
    """The server closed the socket (through the broadcaster, as in AWS)."""
    rt.deliver()
    deadline = time.monotonic() + 5
    with pytest.raises(ConnectionClosed):
        while time.monotonic() < deadline:
            ws.recv(timeout=deadline - time.monotonic())


def stored(database: Any, user_id: str) -> list[tuple[Any, ...]]:
    return owner_sql(
        database,
        "SELECT g.operation_id, g.ticket_id::text FROM graphql_subscriptions g"
        " JOIN realtime_connections c USING (connection_id) WHERE c.user_id = %s"
        " ORDER BY g.operation_id",
        user_id,
    )


def connections(database: Any, user_id: str) -> list[tuple[Any, ...]]:
    return owner_sql(
        database,
        "SELECT protocol, acked_at IS NOT NULL FROM realtime_connections WHERE user_id = %s",
        user_id,
    )


def next_for(ws: ClientConnection, op: str) -> dict[str, Any]:
    frame = receive(ws)
    assert frame["type"] == "next" and frame["id"] == op, frame
    return dict(frame["payload"])


# --- the happy path ----------------------------------------------------------------------


def test_the_handshake_answers_the_subprotocol_and_the_registry_records_it(
    runtime: Runtime,  # noqa: F811
    org: Any,
    database: Any,
) -> None:
    agent = org.members["agent"]
    with gql_socket(runtime, agent, init=False) as ws:
        assert connections(database, agent.user_id) == [(PROTOCOL, False)]
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}  # ping needs no init
        ws.send(json.dumps({"type": "connection_init"}))
        assert receive(ws) == {"type": "connection_ack"}
        assert connections(database, agent.user_id) == [(PROTOCOL, True)]
        # A GraphQL socket hears only what it subscribes: no personal channel.
        rooms = owner_sql(
            database,
            "SELECT count(*) FROM realtime_subscriptions s JOIN realtime_connections c"
            " USING (connection_id) WHERE c.user_id = %s",
            agent.user_id,
        )
        assert rooms == [(0,)]
    wait_until(lambda: not connections(database, agent.user_id))


def test_a_ticket_event_arrives_with_exactly_the_selected_fields(
    runtime: Runtime,  # noqa: F811
    org: Any,
    database: Any,
) -> None:
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    with gql_socket(runtime, requester) as ws:
        accepted(ws, "t1", ONE_TICKET, id=ticket["id"])
        assert stored(database, requester.user_id) == [("t1", ticket["id"])]
        comment(runtime, agent, ticket["id"])
        runtime.deliver()
        payload = next_for(ws, "t1")
        # Nothing else: the requester is notified of the reply, but a GraphQL socket
        # hears no app frame (no personal channel).
        quiet(ws)
    assert payload == {
        "data": {
            "ticketEvents": {
                "type": "comment.public",
                "ticket": {"number": ticket["number"], "status": ticket["status"]},
            }
        }
    }


def test_complete_forgets_the_subscription(runtime: Runtime, org: Any, database: Any) -> None:  # noqa: F811
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    with gql_socket(runtime, requester) as ws:
        accepted(ws, "a", ONE_TICKET, id=ticket["id"])
        accepted(ws, "b", EVERY_TICKET)
        ws.send(json.dumps({"id": "a", "type": "complete"}))
        wait_until(lambda: [r[0] for r in stored(database, requester.user_id)] == ["b"])
        comment(runtime, agent, ticket["id"])
        runtime.deliver()
        # Only "b" hears it (the positive control on the same socket).
        assert next_for(ws, "b")["data"]["ticketEvents"]["ticketId"] == ticket["id"]
        quiet(ws)


# --- who hears what ----------------------------------------------------------------------


def test_a_requester_gets_nothing_of_another_requesters_ticket(runtime: Runtime, org: Any) -> None:  # noqa: F811
    requester, agent = org.members["requester"], org.members["agent"]
    theirs = create_ticket(runtime, agent, title="Someone else's")
    mine = create_ticket(runtime, requester)
    runtime.deliver()
    with gql_socket(runtime, requester) as ws:
        # Not visible and unknown are the same answer: no existence leak.
        hidden = refused(ws, "x", ONE_TICKET, id=theirs["id"])
        unknown = refused(ws, "y", ONE_TICKET, id=str(uuid.uuid4()))
        assert hidden == unknown
        assert hidden["extensions"]["status"] == 404
        # An integer is an ID too: never "every ticket".
        number = refused(ws, "z", "subscription { ticketEvents(ticketId: 7) { type } }")
        assert number == unknown
        accepted(ws, "all", EVERY_TICKET)
        comment(runtime, agent, theirs["id"])
        runtime.deliver()
        quiet(ws)
        comment(runtime, agent, mine["id"])
        runtime.deliver()
        assert next_for(ws, "all")["data"]["ticketEvents"]["ticketId"] == mine["id"]


def test_internal_notes_never_reach_a_requester(runtime: Runtime, org: Any) -> None:  # noqa: F811
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    with gql_socket(runtime, requester) as customer, gql_socket(runtime, org.admin) as staff:
        accepted(customer, "c", CONVERSATION, id=ticket["id"])
        accepted(staff, "s", CONVERSATION, id=ticket["id"])
        comment(runtime, agent, ticket["id"], "internal")
        runtime.deliver()
        seen = next_for(staff, "s")["data"]["ticketEvents"]
        assert seen["type"] == "comment.internal"
        assert seen["comment"] == {"body": "a internal comment", "visibility": "internal"}
        quiet(customer)
        comment(runtime, agent, ticket["id"])
        runtime.deliver()
        heard = next_for(customer, "c")["data"]["ticketEvents"]
        assert heard["comment"] == {"body": "a public comment", "visibility": "public"}
        # The selection ran as the requester: their view of the conversation, no note.
        bodies = [e["node"] for e in heard["ticket"]["comments"]["edges"]]
        assert bodies == [{"body": "a public comment", "visibility": "public"}]
        staff_view = next_for(staff, "s")["data"]["ticketEvents"]["ticket"]["comments"]
        assert {e["node"]["visibility"] for e in staff_view["edges"]} == {"public", "internal"}


def test_tenants_are_isolated(runtime: Runtime, org: Any) -> None:  # noqa: F811
    elsewhere = make_tenant(runtime.http, roles=("agent",))
    stranger, agent = elsewhere.members["agent"], org.members["agent"]
    ticket = create_ticket(runtime, org.members["requester"])
    own = create_ticket(runtime, stranger)
    runtime.deliver()
    with gql_socket(runtime, stranger) as ws:
        assert refused(ws, "x", ONE_TICKET, id=ticket["id"])["extensions"]["status"] == 404
        accepted(ws, "all", EVERY_TICKET)
        comment(runtime, agent, ticket["id"])
        runtime.deliver()
        quiet(ws)
        comment(runtime, stranger, own["id"])
        runtime.deliver()
        assert next_for(ws, "all")["data"]["ticketEvents"]["ticketId"] == own["id"]


# --- batching ------------------------------------------------------------------------------


@contextlib.contextmanager
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


def test_sockets_of_one_principal_share_one_execution(runtime: Runtime, org: Any) -> None:  # noqa: F811
    """The broadcaster's statements do not grow with the sockets of one subscriber."""
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    counts = []
    for sockets in (1, 4):
        with contextlib.ExitStack() as stack:
            opened = [stack.enter_context(gql_socket(runtime, agent)) for _ in range(sockets)]
            for ws in opened:
                accepted(ws, "t", ONE_TICKET, id=ticket["id"])
            comment(runtime, requester, ticket["id"])
            with statements() as seen:
                runtime.deliver()
            counts.append(len(seen))
            for ws in opened:
                assert next_for(ws, "t")["data"]["ticketEvents"]["type"] == "comment.public"
    assert counts[0] == counts[1], counts


def test_a_tenant_without_graphql_subscriptions_never_reads_them(
    runtime: Runtime,  # noqa: F811
    org: Any,
) -> None:
    """A ticket event of a tenant whose sockets are all in REST rooms: the broadcaster's one
    look at GraphQL is the EXISTS that says there is none."""
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    with runtime.socket(agent) as ws:
        ws.send(json.dumps({"action": "subscribe", "ticket_id": ticket["id"]}))
        assert receive(ws)["type"] == "ack"
        comment(runtime, requester, ticket["id"])
        with statements() as seen:
            runtime.deliver()
        assert receive(ws)["event"] == "comment.public"
    graphql = [sql for sql in seen if "graphql_subscriptions" in sql]
    assert len(graphql) == 1 and "EXISTS" in graphql[0], graphql
    # Control: with a GraphQL subscription in the tenant, the broadcaster reads them.
    with gql_socket(runtime, agent) as gws:
        accepted(gws, "t", ONE_TICKET, id=ticket["id"])
        comment(runtime, requester, ticket["id"])
        with statements() as seen:
            runtime.deliver()
        assert next_for(gws, "t")["data"]["ticketEvents"]["type"] == "comment.public"
    assert len([sql for sql in seen if "FROM graphql_subscriptions g" in sql]) == 1


# --- limits and bad input ------------------------------------------------------------------


def test_bad_subscriptions_are_refused_with_an_error_and_nothing_stored(
    runtime: Runtime,  # noqa: F811
    org: Any,
    database: Any,
    settings_env: Any,  # noqa: F811
) -> None:
    # Without a list above it, a subscription's selection stays under the default cost
    # (30 aliases of 100 comments with authors cost ~9,000): a lower limit shows the rule.
    settings_env("SERVICEDESK_GRAPHQL_MAX_COST", "500")
    agent = org.members["agent"]
    with gql_socket(runtime, agent) as ws:
        syntax = refused(ws, "1", "subscription { ticketEvents {")
        assert syntax["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
        unknown = refused(ws, "2", "subscription { ticketEvents { nope } }")
        assert unknown["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        wrong = refused(ws, "3", ONE_TICKET, id=["not", "an", "id"])
        assert wrong["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        query = refused(ws, "4", "{ me { name } }")
        assert "POST /v1/graphql" in query["message"]
        pages = " ".join(
            f"a{n}: comments(first: 100) {{ edges {{ node {{ author {{ name }} }} }} }}"
            for n in range(3)
        )
        costly = "subscription { ticketEvents { ticket { " + pages + " } } }"
        assert refused(ws, "5", costly)["extensions"]["code"] == "QUERY_TOO_COSTLY"
        two = refused(ws, "6", "subscription { ticketEvents { type } b: ticketEvents { type } }")
        assert two["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        big = "subscription { ticketEvents { type } }" + " " * 17_000
        assert refused(ws, "7", big)["extensions"]["code"] == "QUERY_TOO_LARGE"
        assert stored(database, agent.user_id) == []
        accepted(ws, "ok", EVERY_TICKET)  # the socket is still fine


def test_subscriptions_per_connection_are_limited(
    runtime: Runtime,  # noqa: F811
    org: Any,
    settings_env: Any,  # noqa: F811
) -> None:
    settings_env("SERVICEDESK_GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION", "2")
    with gql_socket(runtime, org.members["agent"]) as ws:
        accepted(ws, "1", EVERY_TICKET)
        accepted(ws, "2", EVERY_TICKET)
        error = refused(ws, "3", EVERY_TICKET)
        assert error["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"


def test_http_refuses_a_subscription(runtime: Runtime, org: Any) -> None:  # noqa: F811
    answer = runtime.http.post(
        "/v1/graphql", json={"query": EVERY_TICKET}, headers=org.members["agent"].headers
    )
    assert answer.status_code == 400, answer.text
    assert "data" not in answer.json()
    assert answer.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_ALLOWED"


# --- protocol violations close the socket --------------------------------------------------


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        pytest.param(
            [{"id": "1", "type": "subscribe", "payload": {"query": EVERY_TICKET}}],
            4401,
            id="subscribe-before-init",
        ),
        pytest.param([{"type": "connection_init"}] * 2, 4429, id="second-init"),
        pytest.param(
            [{"type": "connection_init"}]
            + [{"id": "1", "type": "subscribe", "payload": {"query": EVERY_TICKET}}] * 2,
            4409,
            id="duplicate-id",
        ),
        pytest.param(["{not json"], 4400, id="not-json"),
        pytest.param([{"type": "next", "id": "1"}], 4400, id="server-message"),
        pytest.param([{"type": "subscribe", "payload": {"query": EVERY_TICKET}}], 4400, id="no-id"),
        pytest.param([{"type": "subscribe", "id": "1", "payload": {}}], 4400, id="no-query"),
        pytest.param([[1, 2]], 4400, id="not-an-object"),
    ],
)
def test_protocol_violations_close_the_socket(
    runtime: Runtime,  # noqa: F811
    org: Any,
    database: Any,
    frames: list[Any],
    code: int,
) -> None:
    agent = org.members["agent"]
    with gql_socket(runtime, agent, init=False) as ws:
        for frame in frames:
            ws.send(frame if isinstance(frame, str) else json.dumps(frame))
            with contextlib.suppress(TimeoutError):
                reply = receive(ws, timeout=0.5)
                assert reply["type"] == "connection_ack", reply
        assert connections(database, agent.user_id) == []  # forgotten at once
        assert close_code(runtime) == code
        closed(runtime, ws)
    assert stored(database, agent.user_id) == []


def close_code(rt: Runtime) -> int | None:
    """The protocol's close code, as the queue carries it to the broadcaster (peeked: the
    message stays for ``deliver``)."""
    from servicedesk.platform import aws

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        got = aws.sqs().receive_message(
            QueueUrl=rt.queue.url, MaxNumberOfMessages=10, VisibilityTimeout=0
        )
        for message in got.get("Messages", []):
            body = json.loads(message["Body"])
            if body["type"] == "realtime.close":
                return int(body["payload"]["code"])
        time.sleep(0.1)
    return None


def test_a_socket_that_never_inits_is_closed_by_the_sweep(
    runtime: Runtime,  # noqa: F811
    org: Any,
    database: Any,
) -> None:
    from local.scheduler import LambdaContext
    from tests.events import load_event

    agent, admin = org.members["agent"], org.admin
    with gql_socket(runtime, agent, init=False) as silent, gql_socket(runtime, admin) as ready:
        owner_sql(
            database,
            "UPDATE realtime_connections SET connected_at = now() - interval '1 minute'"
            " WHERE user_id IN (%s, %s)",
            agent.user_id,
            admin.user_id,
        )
        result = runtime.consumer(
            load_event("eventbridge_scheduled_realtime_sweep"), LambdaContext("test")
        )
        assert result["failed_tenants"] == []
        with pytest.raises(ConnectionClosed):
            silent.recv(timeout=5)  # closed without a message (no "closing" frame)
        assert connections(database, agent.user_id) == []
        # The initialised socket of the same age stays.
        ready.send(json.dumps({"type": "ping"}))
        assert receive(ready) == {"type": "pong"}


def test_an_expired_token_at_push_time_closes_the_socket_without_a_result(
    runtime: Runtime,  # noqa: F811
    org: Any,
    database: Any,
) -> None:
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    with gql_socket(runtime, requester) as expiring, gql_socket(runtime, agent) as fresh:
        accepted(expiring, "t", ONE_TICKET, id=ticket["id"])
        accepted(fresh, "t", ONE_TICKET, id=ticket["id"])
        owner_sql(
            database,
            "UPDATE realtime_connections SET expires_at = now() - interval '1 second'"
            " WHERE user_id = %s",
            requester.user_id,
        )
        comment(runtime, agent, ticket["id"])
        runtime.deliver()
        with pytest.raises(ConnectionClosed):
            expiring.recv(timeout=5)  # closed, with no next (and no app frame)
        assert connections(database, requester.user_id) == []
        assert next_for(fresh, "t")["data"]["ticketEvents"]["type"] == "comment.public"
