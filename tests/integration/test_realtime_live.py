"""Live edits and presence over real sockets (issue 20 item 7): every change a viewer can
see reaches their socket (field edits, files, participants, links, merges), as far as they
may see it; presence on a ticket's room is for staff.

The runtime (uvicorn + the local gateway + the realtime queue polled into the broadcaster)
is test_realtime's. Every "nothing arrives" is followed by a positive control.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from servicedesk.platform.config import get_settings
from tests.conftest import make_tenant
from tests.integration.test_attachments import _attach
from tests.integration.test_realtime import (
    Runtime,
    comment,
    create_ticket,
    events,
    quiet,
    receive,
    runtime,  # noqa: F401  (the module's server)
    send,
    subscribe,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


@pytest.fixture(scope="module", autouse=True)
def bucket(runtime: Runtime) -> str:  # noqa: F811
    from local import aws
    from servicedesk.platform.aws import reset as reset_clients

    reset_clients()
    name = get_settings().attachments_bucket
    aws.ensure_bucket(name, cors_origin=get_settings().web_origin)
    return name


@pytest.fixture
def org(runtime: Runtime) -> Any:  # noqa: F811
    return make_tenant(runtime.http, roles=("agent", "requester"))


def named(kind: str):  # type: ignore[no-untyped-def]
    return lambda f: f.get("type") == "event" and f.get("event") == kind


def test_a_field_edit_reaches_every_viewer_with_the_changed_fields(runtime: Runtime, org) -> None:  # noqa: F811
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    with runtime.socket(requester) as customer, runtime.socket(agent) as staff:
        subscribe(customer, ticket["id"])
        subscribe(staff, ticket["id"])
        edited = runtime.http.patch(
            f"/v1/tickets/{ticket['id']}",
            json={"title": "Printer on fire, 2nd floor", "description": "smoke", "version": 1},
            headers=agent.headers,
        )
        assert edited.status_code == 200, edited.text
        runtime.deliver()
        for ws in (customer, staff):
            frame = events(ws, named("ticket.updated"))
            assert frame["ticket_id"] == ticket["id"]
            assert frame["data"]["fields"] == ["description", "title"]
            # Small values ride along; text does not (the screen refetches it).
            assert frame["data"]["values"] == {"title": "Printer on fire, 2nd floor"}
            assert "smoke" not in json.dumps(frame)


def test_files_reach_whoever_may_see_their_comment(runtime: Runtime, org) -> None:  # noqa: F811
    requester, agent, admin = org.members["requester"], org.members["agent"], org.admin
    ticket = create_ticket(runtime, requester)
    note = runtime.http.post(
        f"/v1/tickets/{ticket['id']}/comments",
        json={"body": "see the log", "visibility": "internal"},
        headers=agent.headers,
    ).json()
    runtime.deliver()
    with runtime.socket(requester) as customer, runtime.socket(admin) as staff:
        subscribe(customer, ticket["id"])
        subscribe(staff, ticket["id"])
        hidden = _attach(runtime.http, agent, ticket["id"], comment_id=note["id"])
        runtime.deliver()
        seen = events(staff, named("attachment.added"))
        assert seen["data"]["comment_id"] == note["id"]
        quiet(customer)
        removed = runtime.http.delete(f"/v1/attachments/{hidden['id']}", headers=agent.headers)
        assert removed.is_success, removed.text
        runtime.deliver()
        assert events(staff, named("attachment.removed"))["ticket_id"] == ticket["id"]
        quiet(customer)
        # Control: a file on the ticket itself reaches the requester, and its removal too.
        public = _attach(runtime.http, requester, ticket["id"])
        runtime.deliver()
        assert events(customer, named("attachment.added"))["ticket_id"] == ticket["id"]
        assert runtime.http.delete(
            f"/v1/attachments/{public['id']}", headers=requester.headers
        ).is_success
        runtime.deliver()
        assert events(customer, named("attachment.removed"))["ticket_id"] == ticket["id"]


def test_participants_links_and_merges_reach_the_rooms_without_naming_other_tickets(
    runtime: Runtime,  # noqa: F811
    org,
) -> None:
    requester, agent, admin = org.members["requester"], org.members["agent"], org.admin
    ticket = create_ticket(runtime, requester)
    other = create_ticket(runtime, admin, title="Another printer")
    runtime.deliver()
    with runtime.socket(requester) as customer, runtime.socket(agent) as staff:
        subscribe(customer, ticket["id"])
        subscribe(staff, ticket["id"])
        added = runtime.http.post(
            f"/v1/tickets/{ticket['id']}/participants",
            json={"user_id": admin.user_id, "kind": "cc"},
            headers=agent.headers,
        )
        assert added.status_code == 201, added.text
        linked = runtime.http.post(
            f"/v1/tickets/{ticket['id']}/links",
            json={"target_id": other["id"], "kind": "relates_to"},
            headers=agent.headers,
        )
        assert linked.status_code == 201, linked.text
        merged = runtime.http.post(
            f"/v1/tickets/{other['id']}/merge",
            json={"target_id": ticket["id"]},
            headers=admin.headers,
        )
        assert merged.status_code == 200, merged.text
        runtime.deliver()
        for ws in (customer, staff):
            for kind in ("ticket.participant_added", "ticket.linked", "ticket.merged"):
                frame = events(ws, named(kind))
                assert frame["ticket_id"] == ticket["id"]
                assert other["id"] not in json.dumps(frame), frame


def test_presence_is_for_staff_and_says_who_else_is_there(runtime: Runtime, org) -> None:  # noqa: F811
    requester, agent, admin = org.members["requester"], org.members["agent"], org.admin
    ticket = create_ticket(runtime, requester)
    runtime.deliver()
    presence = {"action": "presence", "ticket_id": ticket["id"]}
    with (
        runtime.socket(requester) as customer,
        runtime.socket(agent) as first,
        runtime.socket(admin) as second,
    ):
        early = send(first, {**presence, "state": "viewing"})
        assert early["code"] == "not_subscribed"
        for ws in (customer, first, second):
            subscribe(ws, ticket["id"])
        refused = send(customer, {**presence, "state": "viewing"})
        assert (refused["code"], refused["field"]) == ("forbidden", "action")
        no_state = send(first, presence)
        assert (no_state["code"], no_state["field"]) == ("invalid_field", "state")
        bad = send(first, {**presence, "state": "dancing"})
        assert (bad["code"], bad["field"]) == ("invalid_field", "state")
        alone = send(first, {**presence, "state": "viewing"})
        assert alone == {
            "type": "ack",
            "action": "presence",
            "channel": f"ticket:{ticket['id']}",
            "present": [],
        }
        runtime.deliver()
        assert receive(second) == {
            "type": "presence",
            "ticket_id": ticket["id"],
            "user_id": agent.user_id,
            "name": "Agent",
            "state": "viewing",
        }
        quiet(customer)
        # The second agent arrives and is told who is there; the first hears them edit.
        joined = send(second, {**presence, "state": "editing"})
        assert joined["present"] == [
            {"user_id": agent.user_id, "name": "Agent", "state": "viewing"}
        ]
        runtime.deliver()
        heard = receive(first)
        assert (heard["user_id"], heard["state"]) == (admin.user_id, "editing")
        # A repeat within PRESENCE_REPEAT is not pushed again; leaving is, at once.
        assert send(second, {**presence, "state": "editing"})["type"] == "ack"
        runtime.deliver()
        quiet(first, 0.2)
        assert send(second, {"action": "unsubscribe", "ticket_id": ticket["id"]})["type"] == "ack"
        runtime.deliver()
        gone = receive(first)
        assert (gone["user_id"], gone["state"]) == (admin.user_id, "left")
        quiet(customer)
        # Control: the requester's socket is alive.
        comment(runtime, agent, ticket["id"])
        runtime.deliver()
        assert events(customer, named("comment.public"))["ticket_id"] == ticket["id"]


def test_presence_expires_without_a_heartbeat(runtime: Runtime, org, monkeypatch) -> None:  # noqa: F811
    from datetime import timedelta

    from servicedesk.realtime import service

    monkeypatch.setattr(service, "PRESENCE_TTL", timedelta(seconds=1))
    agent, admin = org.members["agent"], org.admin
    ticket = create_ticket(runtime, admin)
    runtime.deliver()
    presence = {"action": "presence", "ticket_id": ticket["id"]}
    with runtime.socket(agent) as first, runtime.socket(admin) as second:
        subscribe(first, ticket["id"])
        subscribe(second, ticket["id"])
        assert send(first, {**presence, "state": "viewing"})["present"] == []
        assert len(send(second, {**presence, "state": "viewing"})["present"]) == 1
        time.sleep(1.2)
        assert send(second, {**presence, "state": "editing"})["present"] == []


def test_closing_the_socket_tells_the_others_at_once(runtime: Runtime, org) -> None:  # noqa: F811
    agent, admin = org.members["agent"], org.admin
    ticket = create_ticket(runtime, admin)
    runtime.deliver()
    presence = {"action": "presence", "ticket_id": ticket["id"]}
    with runtime.socket(agent) as staying:
        subscribe(staying, ticket["id"])
        with runtime.socket(admin) as leaving:
            subscribe(leaving, ticket["id"])
            assert send(leaving, {**presence, "state": "viewing"})["type"] == "ack"
            runtime.deliver()
            assert receive(staying)["state"] == "viewing"
        time.sleep(0.3)  # the gateway runs $disconnect as the socket closes
        runtime.deliver()
        gone = receive(staying)
        assert (gone["type"], gone["user_id"], gone["state"]) == ("presence", admin.user_id, "left")


def test_presence_is_queued_only_once_its_change_is_committed(runtime: Runtime, org) -> None:  # noqa: F811
    """The broadcaster reads who is on the ticket when the message arrives: a message sent
    before the commit could be read before the join (pushed as "left") or before a closed
    tab's delete (pushed as still viewing). So the frame goes on the queue after the commit,
    and a rolled-back change sends nothing."""
    from datetime import UTC, datetime

    from servicedesk.platform import aws
    from servicedesk.platform.db import transaction
    from servicedesk.realtime import service

    agent, admin = org.members["agent"], org.admin
    ticket = create_ticket(runtime, admin)
    runtime.deliver()

    def queued() -> list[dict[str, Any]]:
        got = aws.sqs().receive_message(
            QueueUrl=runtime.queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        for m in got.get("Messages", []):
            aws.sqs().delete_message(QueueUrl=runtime.queue.url, ReceiptHandle=m["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]

    before = set(runtime.gateway.connections)
    with runtime.socket(agent) as ws:
        subscribe(ws, ticket["id"])
        (connection_id,) = set(runtime.gateway.connections) - before
        viewing = {"action": "presence", "ticket_id": ticket["id"], "state": "viewing"}
        frame = service.parse(json.dumps(viewing))

        with pytest.raises(RuntimeError, match="rolled back"), transaction() as session:
            service.handle(session, connection_id=connection_id, frame=frame, now=datetime.now(UTC))
            raise RuntimeError("rolled back")
        assert queued() == []

        with transaction() as session:
            service.handle(session, connection_id=connection_id, frame=frame, now=datetime.now(UTC))
            assert queued() == [], "sent before the commit"
        (sent,) = queued()
        assert (sent["type"], sent["payload"]["state"]) == ("realtime.presence", "viewing")

        with transaction() as session:
            assert service.disconnect(session, connection_id=connection_id)
            assert queued() == [], "sent before the commit"
        (left,) = queued()
        assert left["payload"] == {
            "ticket_id": ticket["id"],
            "user_id": agent.user_id,
            "connection_id": connection_id,
            "state": "left",
        }
