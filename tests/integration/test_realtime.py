"""Realtime over real sockets: a uvicorn server running the local gateway (local/ws.py) in
front of the API, real WebSocket clients, the real database, and the emulator's SQS queue
polled into the broadcaster (functions/realtime_consumer) exactly as `make dev` does.

Negative checks ("nothing arrives") are always followed by a positive control on the same
socket, so a dead socket cannot make them pass. (What needs no socket, server or database:
tests/unit/test_realtime.py.)
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import jwt
import pytest
import uvicorn
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from local.app import build_app, load_function
from local.aws import free_port
from local.queues import ensure_queues, poll_once
from local.scheduler import LambdaContext
from local.ws import Gateway
from servicedesk.platform import config
from servicedesk.platform.tokens import get_keyset
from servicedesk.realtime import fanout, push
from tests.conftest import PASSWORD, Actor, TenantFixture, login, make_tenant, reset_caches
from tests.events import load_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

QUIET = 0.4  # seconds a socket must stay silent for "received nothing"


# --- the local runtime -----------------------------------------------------------------


class Runtime:
    def __init__(self, base: str, queue: Any, consumer: Any, gateway: Gateway) -> None:
        self.base = base
        self.ws_url = base.replace("http://", "ws://") + "/ws"
        self.queue = queue
        self.consumer = consumer
        self.gateway = gateway
        self.http = httpx.Client(base_url=base, timeout=30)

    def deliver(self) -> int:
        """Poll the realtime queue into the broadcaster until it is empty."""
        total, idle = 0, 0
        while idle < 2:
            done, failed = poll_once(self.queue, self.consumer)
            assert failed == 0
            total += done
            idle = idle + 1 if done == 0 else 0
        return total

    def socket(self, actor: Actor, **kwargs: Any) -> ClientConnection:
        return ws_connect(f"{self.ws_url}?token={actor.token}", open_timeout=10, **kwargs)


@pytest.fixture(scope="module")
def runtime(aws_endpoint: str, database: Any) -> Iterator[Runtime]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    queues = ensure_queues(prefix=f"rt{uuid.uuid4().hex[:8]}", visibility_timeout=2)
    mp = pytest.MonkeyPatch()
    # Only the realtime channel: the other queues would fill up with nobody reading them.
    mp.setenv("SERVICEDESK_REALTIME_QUEUE_URL", queues["realtime"].url)
    mp.setenv("SERVICEDESK_WEBSOCKET_MANAGEMENT_URL", base)
    reset_caches()
    gateway = Gateway(build_app())
    server = uvicorn.Server(
        uvicorn.Config(gateway, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    consumer = load_function("realtime_consumer").lambda_handler
    rt = Runtime(base, queues["realtime"], consumer, gateway)
    rt.deliver()  # start from an empty queue
    yield rt
    rt.http.close()
    server.should_exit = True
    thread.join(timeout=10)
    mp.undo()
    reset_caches()


@pytest.fixture
def org(runtime: Runtime) -> TenantFixture:
    return make_tenant(runtime.http, roles=("agent", "requester"))


# --- helpers ---------------------------------------------------------------------------


def send(ws: ClientConnection, frame: dict[str, Any]) -> dict[str, Any]:
    """Send a frame and return the reply (acks, pongs and errors come back in order)."""
    ws.send(json.dumps(frame))
    return receive(ws)


def receive(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    return dict(json.loads(ws.recv(timeout=timeout)))


def quiet(ws: ClientConnection, seconds: float = QUIET) -> None:
    with pytest.raises(TimeoutError):
        got = ws.recv(timeout=seconds)
        pytest.fail(f"expected nothing, received {got}")


def subscribe(ws: ClientConnection, ticket_id: str) -> None:
    reply = send(ws, {"action": "subscribe", "ticket_id": ticket_id})
    assert reply == {"type": "ack", "action": "subscribe", "channel": f"ticket:{ticket_id}"}


def create_ticket(rt: Runtime, actor: Actor, **body: Any) -> dict[str, Any]:
    response = rt.http.post(
        "/v1/tickets", json={"title": "Printer on fire", **body}, headers=actor.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def comment(rt: Runtime, actor: Actor, ticket_id: str, visibility: str = "public") -> str:
    response = rt.http.post(
        f"/v1/tickets/{ticket_id}/comments",
        json={"body": f"a {visibility} comment", "visibility": visibility},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def events(ws: ClientConnection, want: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first frame matching ``want`` (others are skipped), within five seconds."""
    deadline = time.monotonic() + 5
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "no matching frame"
        frame = receive(ws, timeout=remaining)
        if want(frame):
            return frame


def owner_sql(database: Any, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with database.connect("owner") as conn:
        cursor = conn.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
        conn.commit()
    return rows


def registered(database: Any, user_id: str) -> list[str]:
    rows = owner_sql(
        database,
        "SELECT connection_id FROM realtime_connections WHERE user_id = %s",
        user_id,
    )
    return [r[0] for r in rows]


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], None]]:
    """Change a setting for one test (only the settings cache is cleared)."""

    def set_(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        config.get_settings.cache_clear()

    yield set_
    monkeypatch.undo()
    config.get_settings.cache_clear()


# --- acceptance --------------------------------------------------------------------------


def test_an_agents_public_reply_reaches_the_requesters_socket(runtime: Runtime, org) -> None:
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    with runtime.socket(requester) as ws:
        subscribe(ws, ticket["id"])
        comment_id = comment(runtime, agent, ticket["id"])
        runtime.deliver()
        frame = receive(ws)
    assert frame["type"] == "event"
    assert frame["event"] == "comment.public"
    assert frame["ticket_id"] == ticket["id"]
    assert frame["data"]["comment_id"] == comment_id
    assert frame["data"]["number"] == ticket["number"]
    # The requester is also a notification recipient: one frame, both channels.
    assert frame["channels"] == [f"ticket:{ticket['id']}", f"user:{requester.user_id}"]
    assert frame["notification"] is True
    assert "body" not in json.dumps(frame["data"])  # ids and a summary, never the text


def test_an_internal_note_reaches_staff_but_not_the_requester(runtime: Runtime, org) -> None:
    requester, agent, admin = org.members["requester"], org.members["agent"], org.admin
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    with runtime.socket(requester) as customer, runtime.socket(admin) as staff:
        subscribe(customer, ticket["id"])
        subscribe(staff, ticket["id"])
        note = comment(runtime, agent, ticket["id"], "internal")
        runtime.deliver()
        seen = events(staff, lambda f: f.get("event") == "comment.internal")
        assert seen["data"]["comment_id"] == note
        quiet(customer)
        # Positive control: the requester's socket is alive and hears the public reply.
        reply = comment(runtime, agent, ticket["id"])
        runtime.deliver()
        frame = receive(customer)
    assert (frame["event"], frame["data"]["comment_id"]) == ("comment.public", reply)


def test_a_custom_role_without_internal_notes_hears_none_over_the_socket(
    runtime: Runtime, org
) -> None:
    """The socket reads the member's permissions as REST does (platform/permissions): an
    agent whose custom role lacks ``comment:internal`` hears no internal note; a built-in
    agent on the same ticket does."""
    from servicedesk.platform.permissions import BUILTIN, Permission
    from servicedesk.platform.roles import Role
    from tests.integration.test_custom_roles import _assign, _role

    requester, agent = org.members["requester"], org.members["agent"]
    limited = sorted(p.value for p in BUILTIN[Role.AGENT] - {Permission.COMMENT_INTERNAL})
    role = _role(runtime.http, org, limited)
    other = make_tenant(runtime.http, roles=())  # only for a fresh agent's address
    created = runtime.http.post(
        "/v1/users",
        headers=org.admin.headers,
        json={
            "email": f"limited@{other.slug}.example",
            "name": "Limited",
            "role": "agent",
            "password": PASSWORD,
        },
    )
    assert created.status_code == 201, created.text
    assigned = _assign(runtime.http, org, created.json()["id"], role["id"])
    assert assigned.status_code == 200, assigned.text
    token = login(runtime.http, f"limited@{other.slug}.example").json()["access_token"]
    restricted = Actor(
        f"limited@{other.slug}.example",
        created.json()["id"],
        org.tenant_id,
        org.slug,
        "agent",
        token,
    )
    ticket = create_ticket(runtime, requester)
    # The assignee is also a recipient of internal notes' notifications (their personal
    # channel): that path reads the permission too (notifications/recipients.py).
    assigned = runtime.http.post(
        f"/v1/tickets/{ticket['id']}/assign",
        headers=org.admin.headers,
        json={"assignee_id": restricted.user_id},
    )
    assert assigned.status_code == 200, assigned.text
    runtime.deliver()
    with runtime.socket(restricted) as mine, runtime.socket(org.admin) as staff:
        subscribe(mine, ticket["id"])
        subscribe(staff, ticket["id"])
        note = comment(runtime, agent, ticket["id"], "internal")
        runtime.deliver()
        assert (
            events(staff, lambda f: f.get("event") == "comment.internal")["data"]["comment_id"]
            == note
        )
        quiet(mine)
        reply = comment(runtime, agent, ticket["id"])
        runtime.deliver()
        frame = events(mine, lambda f: f.get("event") == "comment.public")
    assert frame["data"]["comment_id"] == reply


def test_comment_edits_and_deletes_reach_whoever_may_see_the_comment(runtime: Runtime, org) -> None:
    requester, agent, admin = org.members["requester"], org.members["agent"], org.admin
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    reply = comment(runtime, agent, ticket["id"])
    note = comment(runtime, agent, ticket["id"], "internal")
    runtime.deliver()
    base = f"/v1/tickets/{ticket['id']}/comments"
    with runtime.socket(requester) as customer, runtime.socket(admin) as staff:
        subscribe(customer, ticket["id"])
        subscribe(staff, ticket["id"])
        # The internal note's edit and deletion: staff hear them, the requester nothing.
        assert runtime.http.patch(
            f"{base}/{note}", json={"body": "edited note"}, headers=agent.headers
        ).is_success
        assert runtime.http.delete(f"{base}/{note}", headers=agent.headers).is_success
        runtime.deliver()
        for kind in ("comment.edited", "comment.deleted"):
            seen = events(staff, lambda f, k=kind: f.get("event") == k)
            assert seen["data"]["comment_id"] == note
        quiet(customer)
        # The public reply's: both hear them, ids only.
        edited = runtime.http.patch(
            f"{base}/{reply}", json={"body": "edited reply"}, headers=agent.headers
        )
        assert edited.is_success
        runtime.deliver()
        frame = events(customer, lambda f: f.get("event") == "comment.edited")
        assert frame["data"]["comment_id"] == reply and "edited reply" not in json.dumps(frame)
        assert runtime.http.delete(f"{base}/{reply}", headers=agent.headers).is_success
        runtime.deliver()
        gone = events(customer, lambda f: f.get("event") == "comment.deleted")
        assert gone["data"]["comment_id"] == reply


def test_tenant_b_hears_nothing_of_tenant_a(runtime: Runtime, org) -> None:
    other = make_tenant(runtime.http, roles=("agent", "requester"))
    ticket = create_ticket(runtime, org.members["requester"])
    with runtime.socket(other.admin) as b_admin, runtime.socket(other.members["agent"]) as b_agent:
        # B's admin sees every ticket of B, and none of A: A's ticket does not exist for B.
        refused = send(b_admin, {"action": "subscribe", "ticket_id": ticket["id"], "id": "x1"})
        assert refused == {
            "type": "error",
            "code": "not_found",
            "detail": "no such ticket",
            "field": "ticket_id",
            "action": "subscribe",
            "id": "x1",
        }
        comment(runtime, org.members["agent"], ticket["id"])
        comment(runtime, org.members["agent"], ticket["id"], "internal")
        runtime.deliver()
        quiet(b_admin)
        quiet(b_agent, 0.1)
        # Control: B's own ticket reaches B's admin.
        own = create_ticket(runtime, other.members["requester"])
        subscribe(b_admin, own["id"])
        comment(runtime, other.members["agent"], own["id"])
        runtime.deliver()
        assert receive(b_admin)["ticket_id"] == own["id"]


def test_subscribing_to_an_invisible_ticket_is_refused(runtime: Runtime, org) -> None:
    ticket = create_ticket(runtime, org.members["requester"])
    runtime.deliver()
    peer_email = f"peer-{uuid.uuid4().hex[:6]}@{org.slug}.example"
    created = runtime.http.post(
        "/v1/users",
        headers=org.admin.headers,
        json={"email": peer_email, "name": "Peer", "role": "requester", "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    token = login(runtime.http, peer_email).json()["access_token"]
    peer = Actor(peer_email, created.json()["id"], org.tenant_id, org.slug, "requester", token)
    with runtime.socket(peer) as ws:
        for frame in (
            {"action": "subscribe", "ticket_id": ticket["id"]},  # another requester's
            {"action": "subscribe", "ticket_id": str(uuid.uuid4())},  # no such ticket
        ):
            reply = send(ws, frame)
            assert (reply["type"], reply["code"]) == ("error", "not_found")
        team = send(ws, {"action": "subscribe", "team_id": str(uuid.uuid4())})
        assert (team["code"], team["field"]) == ("forbidden", "team_id")
        # ... and nothing of that ticket reaches the peer.
        comment(runtime, org.members["agent"], ticket["id"])
        runtime.deliver()
        quiet(ws)
        assert send(ws, {"action": "ping"}) == {"type": "pong"}


def test_a_bad_token_is_refused_at_the_handshake(runtime: Runtime, org) -> None:
    keys = get_keyset()
    now = int(time.time())
    expired = jwt.encode(
        {
            "iss": "servicedesk",
            "aud": "servicedesk-api",
            "sub": org.admin.user_id,
            "tid": org.tenant_id,
            "role": "admin",
            "iat": now - 3600,
            "exp": now - 600,
            "jti": uuid.uuid4().hex,
        },
        keys.private_key,
        algorithm="EdDSA",
        headers={"kid": keys.kid},
    )
    for query in ("", "?token=not-a-jwt", f"?token={expired}", f"?token={org.admin.token}x"):
        with pytest.raises(InvalidStatus) as refused:
            ws_connect(runtime.ws_url + query, open_timeout=10)
        assert refused.value.response.status_code == 401, query
        assert "token" in json.loads(refused.value.response.body)["detail"]
    with pytest.raises(InvalidStatus) as wrong_protocol:
        ws_connect(runtime.ws_url, subprotocols=["chat", f"bearer.{org.admin.token}"])
    assert wrong_protocol.value.response.status_code == 400
    assert registered(runtime_database(), org.admin.user_id) == []


def runtime_database() -> Any:
    from tests.conftest import current_database

    return current_database()


def test_the_token_may_ride_in_the_subprotocol(runtime: Runtime, org) -> None:
    protocols = ["servicedesk.v1", f"bearer.{org.admin.token}"]
    with ws_connect(runtime.ws_url, subprotocols=protocols, open_timeout=10) as ws:  # type: ignore[arg-type]
        assert ws.subprotocol == "servicedesk.v1"
        assert send(ws, {"action": "ping", "id": "abc"}) == {"type": "pong", "id": "abc"}


def test_malformed_unknown_and_oversize_frames_get_error_frames(runtime: Runtime, org) -> None:
    with runtime.socket(org.admin) as ws, runtime.socket(org.members["agent"]) as bystander:
        cases: list[tuple[str | bytes, str]] = [
            ("{not json", "invalid_json"),
            ("[1, 2]", "invalid_json"),
            ('"subscribe"', "invalid_json"),
            (json.dumps({"action": "dance"}), "unknown_action"),
            (json.dumps({"ticket_id": str(uuid.uuid4())}), "unknown_action"),
            (json.dumps({"action": "subscribe"}), "invalid_field"),
            (json.dumps({"action": "subscribe", "ticket_id": "nope"}), "invalid_field"),
            (json.dumps({"action": "ping", "extra": 1}), "invalid_field"),
            (json.dumps({"action": "ping", "pad": "x" * 40_000}), "frame_too_large"),
            (b"\xff\xfe\x00binary", "invalid_json"),
        ]
        for payload, code in cases:
            ws.send(payload)
            reply = receive(ws)
            assert (reply["type"], reply["code"]) == ("error", code), payload[:40]
        assert send(ws, {"action": "ping"}) == {"type": "pong"}  # still serving
        # Over API Gateway's 128 KiB message limit the gateway itself closes the socket.
        ws.send("x" * (129 * 1024))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        # The server keeps running for everyone else.
        assert send(bystander, {"action": "ping"}) == {"type": "pong"}


def test_subscription_and_frame_floods_are_capped(
    runtime: Runtime, org, settings_env: Callable[[str, str], None]
) -> None:
    settings_env("SERVICEDESK_WEBSOCKET_MAX_SUBSCRIPTIONS", "3")  # user channel + 2
    tickets = [create_ticket(runtime, org.members["requester"]) for _ in range(3)]
    with runtime.socket(org.admin) as ws:
        subscribe(ws, tickets[0]["id"])
        subscribe(ws, tickets[1]["id"])
        subscribe(ws, tickets[1]["id"])  # again: idempotent, no new slot
        full = send(ws, {"action": "subscribe", "ticket_id": tickets[2]["id"]})
        assert full["code"] == "too_many_subscriptions"
        unsub = send(ws, {"action": "unsubscribe", "ticket_id": tickets[0]["id"]})
        assert unsub["type"] == "ack"
        subscribe(ws, tickets[2]["id"])
        settings_env("SERVICEDESK_WEBSOCKET_FRAMES_PER_MINUTE", "10")
        replies = [send(ws, {"action": "ping"}) for _ in range(12)]
    # The minute's window already holds the six frames above: four more pass.
    assert [r["type"] for r in replies[:4]] == ["pong"] * 4
    assert {r.get("code") for r in replies[4:]} == {"rate_limited"}


def test_typing_is_rate_limited_and_internal_typing_is_for_staff(runtime: Runtime, org) -> None:
    requester, agent, admin = org.members["requester"], org.members["agent"], org.admin
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    with (
        runtime.socket(requester) as customer,
        runtime.socket(agent) as typist,
        runtime.socket(admin) as staff,
    ):
        not_yet = send(typist, {"action": "typing", "ticket_id": ticket["id"]})
        assert not_yet["code"] == "not_subscribed"
        for ws in (customer, typist, staff):
            subscribe(ws, ticket["id"])
        assert send(customer, {"action": "typing", "ticket_id": ticket["id"]})["type"] == "ack"
        again = send(customer, {"action": "typing", "ticket_id": ticket["id"]})
        assert again["code"] == "rate_limited"
        forbidden = send(
            customer, {"action": "typing", "ticket_id": ticket["id"], "visibility": "internal"}
        )
        assert (forbidden["code"], forbidden["field"]) == ("forbidden", "visibility")
        runtime.deliver()
        for ws in (typist, staff):
            frame = receive(ws)
            assert frame == {
                "type": "typing",
                "ticket_id": ticket["id"],
                "user_id": requester.user_id,
                "name": "Requester",
                "visibility": "public",
            }
        quiet(customer, 0.1)  # not echoed to the typist
        internal = {"action": "typing", "ticket_id": ticket["id"], "visibility": "internal"}
        assert send(typist, internal)["type"] == "ack"
        runtime.deliver()
        assert receive(staff)["visibility"] == "internal"
        quiet(customer)
        # Control: the requester's socket still hears public typing.
        time.sleep(2.05)
        assert send(typist, {"action": "typing", "ticket_id": ticket["id"]})["type"] == "ack"
        runtime.deliver()
        assert receive(customer)["user_id"] == agent.user_id


def test_staff_hear_new_tickets_on_their_team_channel(runtime: Runtime, org) -> None:
    team = runtime.http.post("/v1/teams", json={"name": "Desk"}, headers=org.admin.headers)
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    with runtime.socket(org.admin) as staff, runtime.socket(org.members["requester"]) as customer:
        reply = send(staff, {"action": "subscribe", "team_id": team_id})
        assert reply == {"type": "ack", "action": "subscribe", "channel": f"team:{team_id}"}
        ticket = create_ticket(runtime, org.admin, team_id=team_id)
        runtime.deliver()
        frame = events(staff, lambda f: f.get("event") == "ticket.created")
        assert frame["ticket_id"] == ticket["id"]
        assert f"team:{team_id}" in frame["channels"]
        quiet(customer)


def test_staff_hear_tickets_without_a_team_on_the_triage_queue(runtime: Runtime, org) -> None:
    """A ticket that belongs to no team reaches no team channel; the triage queue carries
    it to the staff watching it (every agent may see untriaged tickets), never to
    requesters, who may not subscribe to it."""
    agent, requester = org.members["agent"], org.members["requester"]
    with runtime.socket(agent) as staff, runtime.socket(requester) as customer:
        reply = send(staff, {"action": "subscribe", "queue": "untriaged"})
        assert reply == {"type": "ack", "action": "subscribe", "channel": "queue:untriaged"}
        refused = send(customer, {"action": "subscribe", "queue": "untriaged"})
        assert (refused["code"], refused["field"]) == ("forbidden", "queue")
        ticket = create_ticket(runtime, requester)
        runtime.deliver()
        frame = events(staff, lambda f: f.get("event") == "ticket.created")
        assert frame["ticket_id"] == ticket["id"]
        assert "queue:untriaged" in frame["channels"]
        quiet(customer)


def test_a_subscriber_who_lost_sight_of_the_ticket_hears_nothing_more(
    runtime: Runtime, org
) -> None:
    """The visibility rule is evaluated per user at each push (one query for all agents):
    an agent outside the team the ticket moved to stops hearing it; a member still does."""
    admin, requester = org.admin, org.members["requester"]
    member = org.members["agent"]
    email = f"agent2-{uuid.uuid4().hex[:6]}@{org.slug}.example"
    created = runtime.http.post(
        "/v1/users",
        headers=admin.headers,
        json={"email": email, "name": "Outsider", "role": "agent", "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    token = login(runtime.http, email).json()["access_token"]
    outsider = Actor(email, created.json()["id"], org.tenant_id, org.slug, "agent", token)
    team = runtime.http.post("/v1/teams", json={"name": "Desk"}, headers=admin.headers).json()
    joined = runtime.http.put(
        f"/v1/teams/{team['id']}/members/{member.user_id}", headers=admin.headers
    )
    assert joined.status_code == 200, joined.text
    ticket = create_ticket(runtime, requester)  # no team yet: every agent sees it
    runtime.deliver()
    with runtime.socket(member) as inside, runtime.socket(outsider) as outside:
        subscribe(inside, ticket["id"])
        subscribe(outside, ticket["id"])
        moved = runtime.http.post(
            f"/v1/tickets/{ticket['id']}/assign",
            json={"team_id": team["id"]},
            headers=admin.headers,
        )
        assert moved.status_code == 200, moved.text
        reply = comment(runtime, admin, ticket["id"])
        runtime.deliver()
        frame = events(inside, lambda f: f.get("event") == "comment.public")
        assert frame["data"]["comment_id"] == reply
        quiet(outside)
        assert send(outside, {"action": "ping"}) == {"type": "pong"}  # alive, just not told


# --- stale connections -------------------------------------------------------------------


def test_an_expired_connection_is_closed_by_the_sweep(runtime: Runtime, org) -> None:
    database = runtime_database()
    with runtime.socket(org.admin) as ws:
        (connection_id,) = registered(database, org.admin.user_id)
        owner_sql(
            database,
            "UPDATE realtime_connections SET expires_at = now() - interval '1 second'"
            " WHERE connection_id = %s",
            connection_id,
        )
        expired = send(ws, {"action": "ping"})
        assert expired["code"] == "token_expired"
        result = runtime.consumer(
            load_event("eventbridge_scheduled_realtime_sweep"), LambdaContext("test")
        )
        assert result["closed"] >= 1 and result["failed_tenants"] == []
        assert receive(ws) == {"type": "closing", "reason": "token_expired"}
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    assert registered(database, org.admin.user_id) == []


def test_the_broadcaster_closes_expired_and_forgets_gone_connections(runtime: Runtime, org) -> None:
    database = runtime_database()
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = create_ticket(runtime, requester)
    # A registration whose socket no longer exists (its $disconnect was lost), made through
    # the real $connect and $default handlers with the sample events.
    ghost = f"ghost{uuid.uuid4().hex[:10]}="
    connect_event = load_event("apigw_websocket_connect")
    connect_event["requestContext"]["connectionId"] = ghost
    connect_event["queryStringParameters"] = {"token": agent.token}
    handlers = {n: load_function(n).lambda_handler for n in ("ws_connect", "ws_default")}
    assert handlers["ws_connect"](connect_event, LambdaContext("test"))["statusCode"] == 200
    message = load_event("apigw_websocket_message")
    message["requestContext"]["connectionId"] = ghost
    message["body"] = json.dumps({"action": "subscribe", "ticket_id": ticket["id"]})
    assert (
        json.loads(handlers["ws_default"](message, LambdaContext("test"))["body"])["type"] == "ack"
    )
    with runtime.socket(requester) as stale, runtime.socket(org.admin) as fresh:
        subscribe(stale, ticket["id"])
        subscribe(fresh, ticket["id"])
        (stale_id,) = registered(database, requester.user_id)
        owner_sql(
            database,
            "UPDATE realtime_connections SET expires_at = now() - interval '1 second'"
            " WHERE connection_id = %s",
            stale_id,
        )
        runtime.deliver()
        comment(runtime, agent, ticket["id"])
        runtime.deliver()
        assert receive(stale) == {"type": "closing", "reason": "token_expired"}
        with pytest.raises(ConnectionClosed):
            stale.recv(timeout=5)
        assert events(fresh, lambda f: f.get("event") == "comment.public")
    assert registered(database, requester.user_id) == []
    assert ghost not in registered(database, agent.user_id)  # GoneException: forgotten


def test_closing_the_socket_forgets_the_connection(runtime: Runtime, org) -> None:
    database = runtime_database()
    with runtime.socket(org.admin) as ws:
        assert send(ws, {"action": "ping"}) == {"type": "pong"}
        assert len(registered(database, org.admin.user_id)) == 1
    wait_until(lambda: registered(database, org.admin.user_id) == [])


def test_a_redelivered_event_is_pushed_once(runtime: Runtime, org) -> None:
    requester = org.members["requester"]
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    sqs = boto3.client("sqs")
    with runtime.socket(requester) as ws:
        subscribe(ws, ticket["id"])
        comment(runtime, org.members["agent"], ticket["id"])
        messages = sqs.receive_message(QueueUrl=runtime.queue.url, MaxNumberOfMessages=10)
        (body,) = [m["Body"] for m in messages.get("Messages", [])]
        sqs.send_message(QueueUrl=runtime.queue.url, MessageBody=body)  # a duplicate
        time.sleep(2.1)  # the first copy becomes visible again
        runtime.deliver()
        assert receive(ws)["event"] == "comment.public"
        quiet(ws)


# --- handlers, with the sample events ---------------------------------------------------


def test_handlers_answer_the_sample_events(runtime: Runtime, org) -> None:
    database = runtime_database()
    connection_id = f"sample{uuid.uuid4().hex[:10]}="
    handlers = {
        n: load_function(n).lambda_handler for n in ("ws_connect", "ws_default", "ws_disconnect")
    }

    def event(name: str) -> dict[str, Any]:
        sample = load_event(name)
        sample["requestContext"]["connectionId"] = connection_id
        return sample

    refused = event("apigw_websocket_connect")
    refused["queryStringParameters"] = {"token": "forged"}
    answer = handlers["ws_connect"](refused, LambdaContext("test"))
    assert answer["statusCode"] == 401
    assert answer["headers"]["Content-Type"] == "application/problem+json"
    assert json.loads(answer["body"])["type"].endswith("/unauthorized")

    by_protocol = event("apigw_websocket_connect")
    by_protocol["queryStringParameters"] = None
    by_protocol["headers"]["Sec-WebSocket-Protocol"] = f"servicedesk.v1, bearer.{org.admin.token}"
    answer = handlers["ws_connect"](by_protocol, LambdaContext("test"))
    assert answer == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "servicedesk.v1"}}
    rows = owner_sql(
        database,
        "SELECT tenant_id::text, user_id::text, expires_at FROM realtime_connections"
        " WHERE connection_id = %s",
        connection_id,
    )
    exp = jwt.decode(org.admin.token, options={"verify_signature": False})["exp"]
    assert rows == [(org.tenant_id, org.admin.user_id, datetime.fromtimestamp(exp, UTC))]
    channels = owner_sql(
        database,
        "SELECT channel FROM realtime_subscriptions WHERE connection_id = %s",
        connection_id,
    )
    assert channels == [(f"user:{org.admin.user_id}",)]

    ping = handlers["ws_default"](event("apigw_websocket_message"), LambdaContext("test"))
    assert ping == {"statusCode": 200, "body": '{"type":"pong","id":"p-1"}'}
    binary = event("apigw_websocket_message")
    binary["body"], binary["isBase64Encoded"] = base64.b64encode(b"\x00\xff").decode(), True
    reply = json.loads(handlers["ws_default"](binary, LambdaContext("test"))["body"])
    assert reply["code"] == "invalid_json"

    assert handlers["ws_disconnect"](
        event("apigw_websocket_disconnect"), LambdaContext("test")
    ) == {"statusCode": 200}
    assert registered(database, org.admin.user_id) == []
    # A frame from a connection the registry no longer knows is refused, not served.
    late = json.loads(
        handlers["ws_default"](event("apigw_websocket_message"), LambdaContext("test"))["body"]
    )
    assert late["code"] == "unauthorized"
    # $disconnect for an unknown connection is harmless.
    assert handlers["ws_disconnect"](
        event("apigw_websocket_disconnect"), LambdaContext("test")
    ) == {"statusCode": 200}


def test_a_deactivated_member_cannot_connect(runtime: Runtime, org) -> None:
    agent = org.members["agent"]
    current = runtime.http.get(f"/v1/users/{agent.user_id}", headers=org.admin.headers).json()
    response = runtime.http.patch(
        f"/v1/users/{agent.user_id}",
        json={"active": False, "version": current["version"]},
        headers=org.admin.headers,
    )
    assert response.status_code == 200, response.text
    with pytest.raises(InvalidStatus) as refused:
        runtime.socket(agent)
    assert refused.value.response.status_code == 401


def test_the_local_management_api_answers_like_aws(runtime: Runtime, org) -> None:
    # boto3's own client: the local gateway answers the SDK as API Gateway does.
    api = boto3.client("apigatewaymanagementapi", endpoint_url=runtime.base)
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId="unknown00000000=", Data=b"{}")
    with runtime.socket(org.admin) as ws:
        (connection_id,) = registered(runtime_database(), org.admin.user_id)
        info = api.get_connection(ConnectionId=connection_id)
        assert info["ConnectedAt"] <= datetime.now(UTC) + timedelta(seconds=1)
        api.post_to_connection(ConnectionId=connection_id, Data=b'{"type":"hello"}')
        assert receive(ws) == {"type": "hello"}
        api.delete_connection(ConnectionId=connection_id)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)


# --- large fan-outs in chunks -------------------------------------------------------------


def ghost_connection(actor: Actor, ticket_id: str) -> str:
    """A registration subscribed to the ticket whose socket does not exist (its $disconnect
    was lost), made through the real $connect and $default handlers."""
    ghost = f"ghost{uuid.uuid4().hex[:10]}="
    connect_event = load_event("apigw_websocket_connect")
    connect_event["requestContext"]["connectionId"] = ghost
    connect_event["queryStringParameters"] = {"token": actor.token}
    handlers = {n: load_function(n).lambda_handler for n in ("ws_connect", "ws_default")}
    assert handlers["ws_connect"](connect_event, LambdaContext("test"))["statusCode"] == 200
    message = load_event("apigw_websocket_message")
    message["requestContext"]["connectionId"] = ghost
    message["body"] = json.dumps({"action": "subscribe", "ticket_id": ticket_id})
    reply = handlers["ws_default"](message, LambdaContext("test"))
    assert json.loads(reply["body"])["type"] == "ack"
    return ghost


def frames_of(ws: ClientConnection, event_id: str, seconds: float = QUIET) -> list[dict[str, Any]]:
    """Every frame about ``event_id`` (or closing notices) until the socket is quiet."""
    got: list[dict[str, Any]] = []
    while True:
        try:
            frame = receive(ws, timeout=seconds)
        except (TimeoutError, ConnectionClosed):
            return got
        if frame.get("event_id") == event_id or frame.get("type") == "closing":
            got.append(frame)


def test_a_chunked_fan_out_reaches_every_allowed_socket_once(
    runtime: Runtime, org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fanout, "CHUNK", 2)
    database = runtime_database()
    requester, agent, admin = org.members["requester"], org.members["agent"], org.admin
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    ghost = ghost_connection(agent, ticket["id"])
    sqs = boto3.client("sqs")
    staff_actors = [admin, admin, admin, agent, agent, agent]
    with contextlib.ExitStack() as stack:
        staff = [stack.enter_context(runtime.socket(a)) for a in staff_actors]
        customer = stack.enter_context(runtime.socket(requester))
        for ws in [*staff, customer]:
            subscribe(ws, ticket["id"])
        by_id = {connection_id_of(runtime, ws): ws for ws in staff}
        note = comment(runtime, agent, ticket["id"], "internal")
        # The event's own invocation: it decides who hears, posts the first chunk and
        # enqueues the others.
        assert poll_once(runtime.queue, runtime.consumer) == (1, 0)
        pending = sqs.receive_message(
            QueueUrl=runtime.queue.url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        chunks = [json.loads(m["Body"]) for m in pending]
        assert {c["type"] for c in chunks} == {"realtime.fanout"}
        event_id = chunks[0]["event_id"]
        chunked = {cid for c in chunks for group in c["payload"]["frames"] for cid in group["to"]}
        # Six staff sockets and the ghost: 7 connections, 2 a chunk; never the requester.
        assert (len(chunks), len(chunked)) == (3, 5)
        assert sorted(c["payload"]["chunk"] for c in chunks) == [1, 2, 3]
        # A token that expires between the split and its chunk's push is closed instead.
        expiring = sorted(chunked & set(by_id))[0]
        owner_sql(
            database,
            "UPDATE realtime_connections SET expires_at = now() - interval '1 second'"
            " WHERE connection_id = %s",
            expiring,
        )
        runtime.deliver()
        for connection_id, ws in by_id.items():
            got = frames_of(ws, event_id)
            if connection_id == expiring:
                assert got == [{"type": "closing", "reason": "token_expired"}]
                continue
            assert [(f["event"], f["data"]["comment_id"]) for f in got] == [
                ("comment.internal", note)
            ], connection_id
        quiet(customer)
        # A redelivered chunk pushes nothing twice.
        sqs.send_message(QueueUrl=runtime.queue.url, MessageBody=pending[0]["Body"])
        runtime.deliver()
        for connection_id, ws in by_id.items():
            if connection_id != expiring:
                quiet(ws, 0.1)
        # Control: the requester's socket is alive and hears the public reply.
        comment(runtime, agent, ticket["id"])
        runtime.deliver()
        assert receive(customer)["event"] == "comment.public"
    claims = owner_sql(
        database,
        "SELECT recipient FROM deliveries WHERE event_id = %s AND channel = 'realtime'",
        event_id,
    )
    assert sorted(r[0] for r in claims) == ["*", "chunk:1", "chunk:2", "chunk:3"]
    assert ghost not in registered(database, agent.user_id)  # 410 from the gateway: forgotten
    assert expiring not in registered(database, admin.user_id) + registered(database, agent.user_id)


def connection_id_of(runtime: Runtime, ws: ClientConnection) -> str:
    """The gateway's id for this client socket (matched by the client's port)."""
    port = ws.local_address[1]
    (found,) = [
        cid
        for cid, conn in runtime.gateway.connections.items()
        if (conn.websocket.client and conn.websocket.client.port) == port
    ]
    return found


# --- the management API client ----------------------------------------------------------


class FakeApiGateway:
    """A stand-in for the remote management endpoint with the answers the local gateway
    never gives (forbidden, throttled): records each call, answers by connection id."""

    def __init__(self) -> None:
        import http.server

        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.throttled: set[str] = set()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                connection_id = self.path.rsplit("/", 1)[-1]
                fake.calls.append((self.command, connection_id, dict(self.headers.items())))
                status, error = 200 if self.command == "POST" else 204, ""
                if connection_id.startswith("gone"):
                    status, error = 410, "GoneException"
                elif connection_id.startswith("forbidden"):
                    status, error = 403, "ForbiddenException"
                elif connection_id.startswith("throttled") and connection_id not in fake.throttled:
                    fake.throttled.add(connection_id)
                    status, error = 429, "LimitExceededException"
                body = json.dumps({"message": error or None}).encode() if error else b""
                self.send_response(status)
                if error:
                    self.send_header("x-amzn-ErrorType", f"{error}:http://internal.amazon.com/")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self._answer()

            def do_DELETE(self) -> None:
                self._answer()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ws"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_gateway(settings_env: Callable[[str, str], None]) -> Iterator[FakeApiGateway]:
    fake = FakeApiGateway()
    settings_env("SERVICEDESK_WEBSOCKET_MANAGEMENT_URL", fake.url)
    yield fake
    fake.close()


@pytest.fixture
def push_log() -> Iterator[list[logging.LogRecord]]:
    from servicedesk.platform.logging import get_logger

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.WARNING)
    std = logging.getLogger(get_logger().service)
    std.addHandler(handler)
    yield records
    std.removeHandler(handler)


def test_the_lean_poster_maps_answers_as_the_sdk_did(
    fake_gateway: FakeApiGateway, push_log: list[logging.LogRecord]
) -> None:
    frames = {c: b"{}" for c in ("ok-1", "ok-2", "gone-1", "forbidden-1", "throttled-1")}
    outcome = push.post_all(frames)
    assert outcome.sent == {"ok-1", "ok-2", "throttled-1"}  # 429 is retried once
    assert outcome.gone == {"gone-1"}
    assert outcome.failed == {"forbidden-1"}
    posted = sorted(c for m, c, _ in fake_gateway.calls if m == "POST")
    assert posted == sorted([*frames, "throttled-1"])
    assert all(h["Authorization"].startswith("AWS4-HMAC-SHA256 ") for _, _, h in fake_gateway.calls)
    failures = [(r.getMessage(), getattr(r, "connection_id", None)) for r in push_log]
    assert failures == [("realtime push failed", "forbidden-1")]
    assert getattr(push_log[0], "error", None) == "ForbiddenException"
    # Closing: the notice, then DeleteConnection for those not already gone.
    closed = push.close_all(["ok-3", "gone-2"], reason="token_expired")
    assert (closed.sent, closed.gone) == ({"ok-3"}, {"gone-2"})
    assert ("DELETE", "ok-3") in [(m, c) for m, c, _ in fake_gateway.calls]
    assert ("DELETE", "gone-2") not in [(m, c) for m, c, _ in fake_gateway.calls]


def test_the_local_gateway_refuses_unsigned_management_calls(runtime: Runtime, org) -> None:
    with runtime.socket(org.admin) as ws:
        (connection_id,) = registered(runtime_database(), org.admin.user_id)
        path = f"/@connections/{connection_id}"
        date = {"X-Amz-Date": "20261125T120000Z"}
        cases = [
            ({}, "MissingAuthenticationTokenException"),
            ({"Authorization": "Bearer nope", **date}, "IncompleteSignatureException"),
            (
                {
                    "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/s3/"
                    f"aws4_request, SignedHeaders=host;x-amz-date, Signature={'0' * 64}",
                    **date,
                },
                "InvalidSignatureException",
            ),
        ]
        for headers, error in cases:
            refused = runtime.http.post(path, content=b'{"type":"x"}', headers=headers)
            assert refused.status_code == 403, headers
            assert refused.headers["x-amzn-ErrorType"] == error
        quiet(ws)  # nothing was delivered
        assert push.post_all({connection_id: b'{"type":"hello"}'}).sent == {connection_id}
        assert receive(ws) == {"type": "hello"}


def test_the_consumer_pushes_the_sample_sqs_event_once(runtime: Runtime, org) -> None:
    """events/sqs_realtime_comment_public.json, its body the real outbox row as the
    publisher encodes it, straight into the handler (as Lambda's event source mapping)."""
    from tests.events import outbox_rows, sqs_sample

    requester = org.members["requester"]
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    with runtime.socket(requester) as ws:
        subscribe(ws, ticket["id"])
        comment_id = comment(runtime, org.members["agent"], ticket["id"])
        sqs = boto3.client("sqs")
        queued = sqs.receive_message(QueueUrl=runtime.queue.url, MaxNumberOfMessages=10)
        for message in queued.get("Messages", []):  # the handler gets the sample event instead
            sqs.delete_message(QueueUrl=runtime.queue.url, ReceiptHandle=message["ReceiptHandle"])
        rows = outbox_rows(
            runtime_database(),
            "tenant_id = %s AND event_type = 'comment.public' AND payload->>'comment_id' = %s",
            org.tenant_id,
            comment_id,
        )
        event = sqs_sample("sqs_realtime_comment_public", rows)
        for _ in range(2):  # delivered twice, pushed once
            result = runtime.consumer(event, LambdaContext("realtime_consumer"))
            assert result == {"batchItemFailures": []}
        frame = receive(ws)
        assert (frame["event"], frame["event_id"]) == ("comment.public", str(rows[0].id))
        quiet(ws)
