"""A ticket's timeline names nothing its viewer may not see: other tickets (links, merges),
internal notes, attachments. One rule (tickets.timeline.viewable), walked over every event
type the API produces and every viewer."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from servicedesk.tickets import timeline
from tests.conftest import PASSWORD, Actor, login, make_tenant

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NUMBER_RE = re.compile(r"^[A-Z]{2,8}-\d{4}-\d{1,9}$")
# Produced by paths this walk does not drive (uploads to S3, the SLA evaluator); their
# references are declared in timeline.EVENT_TYPES like the others'.
NOT_WALKED = {"attachment_added", "attachment_removed", "sla_warning", "sla_breached", "escalated"}
# Written by the mail intake (tests/integration/test_mail_intake.py); it names at most the
# comment the message became.
NOT_WALKED |= {"received_by_email"}
# Written by the knowledge consumer for staff only (tests/integration/test_kb_drafts.py).
NOT_WALKED |= {"kb_draft_proposed", "kb_draft_skipped"}
# Written when a survey is answered, internal, naming only a rating
# (tests/integration/test_csat.py).
NOT_WALKED |= {"csat_rated"}
# Written by the integrations (tests/integration/test_integrations_github.py, ..._slack.py),
# internal, naming only the GitHub issue or the Slack thread.
NOT_WALKED |= {"github_referenced", "github_issue_created", "slack_thread_started"}


def _requester(client, org, name: str) -> Actor:
    email = f"{name}-{uuid.uuid4().hex[:6]}@{org.slug}.example"
    created = client.post(
        "/v1/users",
        headers=org.admin.headers,
        json={"email": email, "name": name, "role": "requester", "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    token = login(client, email).json()["access_token"]
    return Actor(email, created.json()["id"], org.tenant_id, org.slug, "requester", token)


def _ok(response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


class Desk:
    def __init__(self, client, org) -> None:
        self.client, self.org = client, org

    def ticket(self, actor, title: str) -> dict[str, Any]:
        return _ok(
            self.client.post("/v1/tickets", json={"title": title}, headers=actor.headers), 201
        )

    def post(self, actor, path: str, body: dict[str, Any] | None = None, status: int = 201) -> Any:
        return _ok(self.client.post(path, json=body or {}, headers=actor.headers), status)

    def get(self, actor, path: str) -> Any:
        return _ok(self.client.get(path, headers=actor.headers))

    def version(self, actor, ticket_id: str) -> int:
        return int(self.get(actor, f"/v1/tickets/{ticket_id}")["version"])


def _uuids(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_uuids(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_uuids(v) for v in value)) if value else set()
    return set(UUID_RE.findall(value)) if isinstance(value, str) else set()


def _strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return {value} if isinstance(value, str) else set()


def _opens(client, viewer: Actor, ticket_id: str) -> bool:
    return client.get(f"/v1/tickets/{ticket_id}", headers=viewer.headers).status_code == 200


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent",))


def _drive_every_event_type(desk: Desk, org, alice: Actor, bob: Actor) -> dict[str, Any]:
    """Alice's and Bob's tickets, and an agent who does everything to them."""
    agent = org.members["agent"]
    mine, theirs = desk.ticket(alice, "Alice's laptop"), desk.ticket(bob, "Bob's VPN")
    child, merged = desk.ticket(bob, "Bob's token"), desk.ticket(bob, "Bob again")
    path = f"/v1/tickets/{mine['id']}"
    # Fields, locks, custom fields, priority, category.
    category = desk.post(org.admin, "/v1/categories", {"name": f"Cat {uuid.uuid4().hex[:6]}"})
    changes = [
        {"title": "Alice's laptop (screen)"},
        {"description": "flickers"},
        {"priority": "high"},
        {"impact": "high"},
        {"urgency": "low"},
        {"tags": ["screen"]},
        {"category_id": category["id"]},
        {"type": "question"},
        {"custom_fields": {"room": "2.14"}},
        {"priority_locked": True},
        {"priority_locked": False},
    ]
    for change in changes:
        body = {**change, "version": desk.version(agent, mine["id"])}
        _ok(desk.client.patch(path, json=body, headers=agent.headers))
    desk.post(agent, f"{path}/assign", {"assignee_id": agent.user_id}, status=200)
    for to in ("in_progress", "resolved", "open"):
        desk.post(agent, f"{path}/transitions", {"to": to}, status=200)
    # People.
    friend = _requester(desk.client, org, "friend")
    desk.post(agent, f"{path}/participants", {"user_id": friend.user_id})
    _ok(desk.client.delete(f"{path}/participants/{friend.user_id}", headers=agent.headers), 204)
    for action in ("accept", "decline", "cancel"):
        invited = desk.post(alice, f"{path}/invitations", {"user_id": friend.user_id})
        who = alice if action == "cancel" else friend
        desk.post(who, f"{path}/invitations/{invited['id']}/{action}", status=200)
        if action == "accept":
            _ok(
                desk.client.delete(f"{path}/participants/{friend.user_id}", headers=agent.headers),
                204,
            )
    # Conversation, with an internal note edited and deleted.
    desk.post(alice, f"{path}/comments", {"body": "still broken"})
    note = desk.post(
        agent, f"{path}/comments", {"body": "Bob has one too", "visibility": "internal"}
    )
    _ok(
        desk.client.patch(
            f"{path}/comments/{note['id']}", json={"body": "see Bob's"}, headers=agent.headers
        )
    )
    _ok(desk.client.delete(f"{path}/comments/{note['id']}", headers=agent.headers))
    # Links and merges across the two requesters' tickets.
    link = desk.post(agent, f"{path}/links", {"target_id": theirs["id"], "kind": "relates_to"})
    desk.post(agent, f"{path}/links", {"target_id": child["id"], "kind": "parent_of"})
    _ok(desk.client.delete(f"{path}/links/{link['id']}", headers=agent.headers), 204)
    desk.post(agent, f"{path}/links", {"target_id": theirs["id"], "kind": "duplicate_of"})
    desk.post(agent, f"/v1/tickets/{merged['id']}/merge", {"target_id": mine["id"]}, status=200)
    return {
        "mine": mine,
        "theirs": theirs,
        "child": child,
        "merged": merged,
        "waiting": _drive_task_events(desk, org, alice),
    }


def _drive_task_events(desk: Desk, org, alice: Actor) -> dict[str, Any]:
    """A ticket that waits on a task of a project the agent is not a member of (the admin
    runs it): linked and on hold, the task done (the ticket reopened), then unlinked. The
    agent reads these events without the project's task (redacted)."""
    admin = org.admin
    ticket = desk.ticket(alice, "Alice's disk")
    project = desk.post(
        admin, "/v1/projects", {"name": "Disks", "key": f"D{uuid.uuid4().hex[:5].upper()}"}
    )
    tasks = f"/v1/projects/{project['id']}/tasks"
    task = desk.post(admin, tasks, {"title": "Replace the disk"})
    desk.post(
        admin, f"{tasks}/{task['id']}/ticket-links", {"ticket_id": ticket["id"], "waits": True}
    )
    done = next(c for c in project["columns"] if c["category"] == "done")
    version = desk.get(admin, f"{tasks}/{task['id']}")["version"]
    move = {"column_id": done["id"], "version": version}
    desk.post(admin, f"{tasks}/{task['id']}/move", move, status=200)
    unlinked = desk.client.delete(
        f"{tasks}/{task['id']}/ticket-links/{ticket['id']}", headers=admin.headers
    )
    assert unlinked.status_code in (200, 204), unlinked.text
    return ticket


def test_no_timeline_names_what_its_viewer_may_not_see(client, org, database):
    desk = Desk(client, org)
    alice, bob = _requester(client, org, "alice"), _requester(client, org, "bob")
    tickets = _drive_every_event_type(desk, org, alice, bob)
    agent = org.members["agent"]
    with database.connect("owner") as conn:
        people = {
            str(r[0])
            for r in conn.execute(
                "SELECT user_id FROM memberships WHERE tenant_id = %s"
                " UNION SELECT id FROM teams WHERE tenant_id = %s"
                " UNION SELECT id FROM categories WHERE tenant_id = %s",
                (org.tenant_id, org.tenant_id, org.tenant_id),
            )
        }
    seen_types: set[str] = set()
    redactions = 0
    for viewer in (alice, bob, agent):
        for ticket in tickets.values():
            here = client.get(f"/v1/tickets/{ticket['id']}", headers=viewer.headers)
            if here.status_code == 404:
                continue
            events = desk.get(viewer, f"/v1/tickets/{ticket['id']}/events?limit=100")["items"]
            comments = desk.get(viewer, f"/v1/tickets/{ticket['id']}/comments?limit=100")
            links = desk.get(viewer, f"/v1/tickets/{ticket['id']}/links")
            may_see = {ticket["id"], *people}
            may_see |= {c["id"] for c in comments["items"]}
            may_see |= {x["id"] for x in links}
            for event in events:
                seen_types.add(event["type"])
                redactions += bool(event["payload"].get("redacted"))
                payload = event["payload"]
                if "other" in payload and _opens(client, viewer, payload["other"]):
                    # A link (removed since, perhaps) between two tickets the viewer sees.
                    may_see.add(payload.get("link_id", ""))
                for named in _uuids(payload) - may_see:
                    # Another ticket is fine exactly when the viewer may open it.
                    invitation = event["visibility"] == "personal"
                    assert _opens(client, viewer, named) or invitation, (
                        viewer.email,
                        named,
                        event["type"],
                        event["payload"],
                    )
                for number in filter(NUMBER_RE.match, _strings(event["payload"])):
                    found = desk.get(viewer, f"/v1/tickets?q={number}")["items"]
                    assert [t["number"] for t in found] == [number], (viewer.email, event)
    assert set(timeline.EVENT_TYPES) - NOT_WALKED <= seen_types, "an event type was not walked"
    assert redactions > 0


def test_a_requester_sees_that_a_link_exists_but_not_the_other_ticket(client, org):
    desk = Desk(client, org)
    alice, bob = _requester(client, org, "alice"), _requester(client, org, "bob")
    agent = org.members["agent"]
    mine, theirs = desk.ticket(alice, "Printer"), desk.ticket(bob, "Printer too")
    desk.post(
        agent, f"/v1/tickets/{mine['id']}/links", {"target_id": theirs["id"], "kind": "relates_to"}
    )
    desk.post(agent, f"/v1/tickets/{theirs['id']}/merge", {"target_id": mine["id"]}, status=200)

    def payloads(actor, ticket) -> dict[str, dict[str, Any]]:
        events = desk.get(actor, f"/v1/tickets/{ticket['id']}/events")["items"]
        return {e["type"]: e["payload"] for e in events if e["type"] in ("linked", "merged")}

    as_alice = payloads(alice, mine)
    assert as_alice["linked"] == {"kind": "relates_to", "redacted": True}
    assert as_alice["merged"] == {"redacted": True}
    # Bob was carried over to Alice's ticket by the merge: he may see it, so nothing is cut.
    as_bob = payloads(bob, theirs)
    assert as_bob["merged"] == {"into": mine["id"], "number": mine["number"]}
    as_agent = payloads(agent, mine)
    assert as_agent["linked"]["other"] == theirs["id"] and "redacted" not in as_agent["linked"]
    assert as_agent["merged"] == {"from": theirs["id"], "number": theirs["number"]}
