"""Notifications end to end: API → outbox → the moto server's SQS → the e-mail consumer
(the same Lambda handler) → in-app rows and caught e-mails."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import boto3
import pytest

from servicedesk.platform.aws import reset as reset_aws_clients
from tests.conftest import PASSWORD, Actor, TenantFixture, login, make_tenant, reset_caches


@dataclass
class Wiring:
    queue: Any
    handler: Any
    mail_dir: Path

    def drain(self) -> int:
        from local.queues import poll_once

        total = 0
        for _ in range(50):
            done, failed = poll_once(self.queue, self.handler)
            assert failed == 0, "a notification record failed"
            if done == 0:
                return total
            total += done
        raise AssertionError("the email queue does not drain")

    def mails(self, to: str | None = None, event: str | None = None) -> list[EmailMessage]:
        """Caught mail, to one address and of one event type if named."""
        found = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            assert isinstance(message, EmailMessage)
            if (to is None or message["To"] == to) and (
                event is None or message["X-Servicedesk-Event"] == event
            ):
                found.append(message)
        return found


@pytest.fixture
def wiring(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    from local.app import load_function
    from local.queues import ensure_queues

    queues = ensure_queues(prefix=f"sd-notif-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("SERVICEDESK_EMAIL_QUEUE_URL", queues["email"].url)
    monkeypatch.setenv("SERVICEDESK_MAIL_CATCHER_DIR", str(tmp_path / "mail"))
    reset_caches()
    reset_aws_clients()  # a client made before the emulator knew no endpoint
    yield Wiring(queues["email"], load_function("email_consumer").lambda_handler, tmp_path / "mail")
    reset_caches()
    reset_aws_clients()


@pytest.fixture
def org(client: Any) -> TenantFixture:
    return make_tenant(client, roles=("agent", "manager", "requester"))


def _member(client: Any, org: TenantFixture, role: str = "requester") -> Actor:
    email = f"{role}-{uuid.uuid4().hex[:6]}@{org.slug}.example"
    created = client.post(
        "/v1/users",
        headers=org.admin.headers,
        json={"email": email, "name": f"Extra {role}", "role": role, "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    token = login(client, email).json()["access_token"]
    return Actor(email, created.json()["id"], org.tenant_id, org.slug, role, token)


def _ticket(client: Any, actor: Actor, title: str = "Printer on fire") -> dict[str, Any]:
    response = client.post("/v1/tickets", json={"title": title}, headers=actor.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _comment(
    client: Any, actor: Actor, ticket: dict[str, Any], body: str, visibility: str = "public"
) -> dict[str, Any]:
    response = client.post(
        f"/v1/tickets/{ticket['id']}/comments",
        json={"body": body, "visibility": visibility},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _inbox(client: Any, actor: Actor, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/notifications", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _unread(client: Any, actor: Actor) -> int:
    response = client.get("/v1/notifications/unread-count", headers=actor.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["count"])


def _parts(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    return str(plain.get_content()), str(html.get_content())


def _assign(client: Any, by: Actor, ticket: dict[str, Any], to: Actor) -> None:
    response = client.post(
        f"/v1/tickets/{ticket['id']}/assign", json={"assignee_id": to.user_id}, headers=by.headers
    )
    assert response.status_code == 200, response.text


def test_staff_public_reply_reaches_the_requester_in_app_and_by_mail(client, org, wiring):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    _comment(client, agent, ticket, "Have you tried turning it off?")
    wiring.drain()

    inbox = _inbox(client, requester)
    assert [n["event_type"] for n in inbox] == ["comment.public"]
    assert ticket["number"] in inbox[0]["title"]
    assert inbox[0]["ticket_id"] == ticket["id"]
    assert "turning it off" in inbox[0]["body"]
    assert inbox[0]["read_at"] is None
    # The actor hears nothing of their own reply.
    assert [n for n in _inbox(client, agent) if n["event_type"] == "comment.public"] == []
    assert wiring.mails(agent.email, "comment.public") == []

    (mail,) = wiring.mails(requester.email, "comment.public")
    assert mail["Subject"] == f"[{ticket['number']}] New reply: Printer on fire"
    assert mail.get_content_type() == "multipart/alternative"
    plain, html = _parts(mail)
    assert "> Have you tried turning it off?" in plain
    assert "Have you tried turning it off?" in html
    assert mail["From"].addresses[0].display_name == f"Org {org.slug}"


def test_mail_headers_carry_the_reply_token_and_unsubscribe(client, org, wiring):
    from servicedesk.notifications.templates import reply_token
    from servicedesk.platform.config import get_settings

    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    _comment(client, agent, ticket, "On it.")
    wiring.drain()

    (mail,) = wiring.mails(requester.email, "comment.public")
    settings = get_settings()
    token = reply_token(uuid.UUID(ticket["id"]), settings)
    assert token is not None and re.fullmatch(r"[0-9a-f]{16}", token)
    reply_to = mail["Reply-To"].addresses[0].addr_spec
    assert reply_to.startswith(f"reply+{ticket['number']}.{token}@")
    one_click = re.fullmatch(
        rf"<{re.escape(settings.web_origin)}/v1/notifications/unsubscribe\?token=([\w.-]+)>",
        mail["List-Unsubscribe"],
    )
    assert one_click is not None
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Message-ID"] and mail["References"] == f"<ticket-{ticket['id']}@" + (
        reply_to.rpartition("@")[2] + ">"
    )


def test_internal_note_reaches_assignee_and_staff_never_the_requester_or_ccs(client, org, wiring):
    requester, agent, manager = (org.members[r] for r in ("requester", "agent", "manager"))
    admin = org.admin
    cc = _member(client, org)
    ticket = _ticket(client, requester)
    _assign(client, admin, ticket, agent)
    for who, kind in ((cc, "cc"), (manager, "participant")):
        added = client.post(
            f"/v1/tickets/{ticket['id']}/participants",
            json={"user_id": who.user_id, "kind": kind},
            headers=admin.headers,
        )
        assert added.status_code == 201, added.text
    wiring.drain()
    assert "ticket.assigned" in [n["event_type"] for n in _inbox(client, agent)]

    secret = "Internal: the requester's manager asked us to stall"
    _comment(client, admin, ticket, secret, visibility="internal")
    wiring.drain()

    for staff in (agent, manager):
        notes = [n for n in _inbox(client, staff) if n["event_type"] == "comment.internal"]
        assert len(notes) == 1, staff.role
        assert secret in notes[0]["body"]
        (mail,) = [m for m in wiring.mails(staff.email) if m["Subject"].count("Internal note")]
        assert secret in _parts(mail)[0]
    for outsider in (requester, cc):
        assert [n["event_type"] for n in _inbox(client, outsider)] == []
        assert _unread(client, outsider) == 0
    # The requester was told only that their request was received; the CC nothing at all.
    assert [m["X-Servicedesk-Event"] for m in wiring.mails(requester.email)] == ["ticket.received"]
    # (Being added to the organisation is account mail, not the ticket's.)
    ticket_mail = [m for m in wiring.mails(cc.email) if m["X-Servicedesk-Event"] != "user.added"]
    assert ticket_mail == []
    # Nothing anywhere in the caught mail leaks the note to a non-staff address.
    for mail in wiring.mails():
        if mail["To"] in (requester.email, cc.email) and secret in _parts(mail)[0]:
            raise AssertionError(f"the note mailed to a non-staff member: {mail['Subject']}")
    assert wiring.mails(admin.email, "comment.internal") == []  # the author


def test_a_forged_public_event_for_an_internal_comment_stays_with_staff(client, org, wiring):
    """Defence in depth: the consumer checks the comment itself, not only the event name."""
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    _assign(client, org.admin, ticket, agent)
    note = _comment(client, org.admin, ticket, "staff eyes only", visibility="internal")
    wiring.drain()
    forged = {
        "event_id": str(uuid.uuid4()),
        "seq": 1,
        "tenant_id": org.tenant_id,
        "type": "comment.public",
        "aggregate": {"type": "ticket", "id": ticket["id"]},
        "payload": {
            "ticket_id": ticket["id"],
            "number": ticket["number"],
            "actor_id": org.admin.user_id,
            "comment_id": note["id"],
            "visibility": "public",
        },
        "created_at": "2026-01-01T00:00:00+00:00",
    }
    boto3.client("sqs").send_message(QueueUrl=wiring.queue.url, MessageBody=json.dumps(forged))
    wiring.drain()
    assert _inbox(client, requester) == []
    assert wiring.mails(requester.email, "comment.public") == []
    assert len([n for n in _inbox(client, agent) if n["body"].endswith("staff eyes only")]) == 2


def test_a_redelivered_event_notifies_and_mails_once(client, org, wiring):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    _comment(client, agent, ticket, "Once only")
    sqs = boto3.client("sqs")
    received = sqs.receive_message(QueueUrl=wiring.queue.url, MaxNumberOfMessages=10)["Messages"]
    bodies = [m["Body"] for m in received if json.loads(m["Body"])["type"] == "comment.public"]
    assert len(bodies) == 1
    # The same body twice more, as SQS at-least-once delivery may do.
    for _ in range(2):
        sqs.send_message(QueueUrl=wiring.queue.url, MessageBody=bodies[0])
    wiring.drain()
    sqs.send_message(QueueUrl=wiring.queue.url, MessageBody=bodies[0])
    wiring.drain()

    assert len(_inbox(client, requester)) == 1
    assert len(wiring.mails(requester.email, "comment.public")) == 1


def test_preferences_turn_email_off_but_keep_in_app(client, org, wiring):
    requester, agent = org.members["requester"], org.members["agent"]
    defaults = client.get("/v1/notification-preferences", headers=requester.headers)
    assert defaults.status_code == 200, defaults.text
    items = defaults.json()["items"]
    assert all(i["enabled"] for i in items)
    assert {(i["event_type"], i["channel"]) for i in items} >= {
        ("comment.public", "email"),
        ("comment.public", "in_app"),
    }
    changed = client.put(
        "/v1/notification-preferences",
        json={"items": [{"event_type": "comment.public", "channel": "email", "enabled": False}]},
        headers=requester.headers,
    )
    assert changed.status_code == 200, changed.text
    state = {(i["event_type"], i["channel"]): i["enabled"] for i in changed.json()["items"]}
    assert state[("comment.public", "email")] is False
    assert state[("comment.public", "in_app")] is True
    # Another user's preferences are untouched.
    theirs = client.get("/v1/notification-preferences", headers=agent.headers).json()["items"]
    assert all(i["enabled"] for i in theirs)

    ticket = _ticket(client, requester)
    _comment(client, agent, ticket, "Reply you will only see in the app")
    wiring.drain()
    assert [n["event_type"] for n in _inbox(client, requester)] == ["comment.public"]
    assert wiring.mails(requester.email, "comment.public") == []


def _one_click(mail: EmailMessage) -> str:
    """The path and query of the mail's List-Unsubscribe link (the app's origin removed)."""
    found = re.fullmatch(
        r"<https?://[^/]+(/v1/notifications/unsubscribe\?token=[\w.-]+)>", mail["List-Unsubscribe"]
    )
    assert found is not None, mail["List-Unsubscribe"]
    return found.group(1)


def test_one_click_unsubscribe_switches_that_mail_off_without_signing_in(client, org, wiring):
    from servicedesk.platform.config import get_settings

    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    _comment(client, agent, ticket, "First answer")
    wiring.drain()
    (mail,) = wiring.mails(requester.email, "comment.public")
    link = _one_click(mail)
    # On the wire as a plain <URL> (RFC 2369), not folded into encoded-words.
    (raw,) = [
        p.read_bytes()
        for p in wiring.mail_dir.glob("*.eml")
        if b"X-Servicedesk-Event: comment.public" in p.read_bytes()
    ]
    assert f"\r\nList-Unsubscribe: <{get_settings().web_origin}{link}>\r\n".encode() in raw
    plain, _ = _parts(mail)
    # The footer names the settings page (a route of the app) and the same token's page.
    assert "/settings/notifications" in plain
    assert link.partition("?")[2] in plain and "/unsubscribe?token=" in plain

    # A browser opening the link is sent to the app's page; nothing changes on a GET.
    opened = client.get(link, follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"].endswith("/unsubscribe?" + link.partition("?")[2])
    prefs = client.get("/v1/notification-preferences", headers=requester.headers).json()
    assert all(i["enabled"] for i in prefs["items"])

    # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, no credentials.
    done = client.post(
        link,
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"event_type": "comment.public", "channel": "email", "enabled": False}
    again = client.post(link)  # idempotent
    assert again.status_code == 200
    state = {
        (i["event_type"], i["channel"]): i["enabled"]
        for i in client.get("/v1/notification-preferences", headers=requester.headers).json()[
            "items"
        ]
    }
    assert state[("comment.public", "email")] is False
    assert state[("comment.public", "in_app")] is True
    assert state[("ticket.status_changed", "email")] is True

    _comment(client, agent, ticket, "Second answer")
    wiring.drain()
    assert len(wiring.mails(requester.email, "comment.public")) == 1  # no second mail
    assert len(_inbox(client, requester)) == 2  # still told in the app


def test_status_mail_names_the_status_as_the_app_does(client, org, wiring):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    for to in ("in_progress", "pending"):
        moved = client.post(
            f"/v1/tickets/{ticket['id']}/transitions", json={"to": to}, headers=agent.headers
        )
        assert moved.status_code == 200, moved.text
    wiring.drain()
    subjects = sorted(m["Subject"] for m in wiring.mails(requester.email, "ticket.status_changed"))
    assert subjects == [
        f"[{ticket['number']}] Status: In progress: Printer on fire",
        f"[{ticket['number']}] Status: Waiting on you: Printer on fire",
    ]
    plain = "".join(_parts(m)[0] for m in wiring.mails(requester.email))
    assert "from In progress to Waiting on you" in plain and "in_progress" not in plain


def test_forged_or_foreign_unsubscribe_tokens_change_nothing(client, org, wiring):
    import base64

    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    _comment(client, agent, ticket, "Answer")
    wiring.drain()
    token = _one_click(wiring.mails(requester.email)[0]).partition("token=")[2]
    encoded, _, signature = token.partition(".")
    payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    # The same signature over someone else's id, a bad signature, garbage, too long.
    other = payload.replace(requester.user_id, agent.user_id)
    swapped = base64.urlsafe_b64encode(other.encode()).decode().rstrip("=") + "." + signature
    for bad in (swapped, encoded + "." + "0" * len(signature), "x", "a." * 200):
        response = client.post("/v1/notifications/unsubscribe", params={"token": bad})
        assert response.status_code in (404, 422), (bad, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    for actor in (requester, agent):
        prefs = client.get("/v1/notification-preferences", headers=actor.headers).json()
        assert all(i["enabled"] for i in prefs["items"])
    # A member who left cannot be switched by their old link (nothing to disclose: 404).
    version = client.get(f"/v1/users/{requester.user_id}", headers=org.admin.headers).json()[
        "version"
    ]
    left = client.patch(
        f"/v1/users/{requester.user_id}",
        json={"active": False, "version": version},
        headers=org.admin.headers,
    )
    assert left.status_code == 200, left.text
    gone = client.post("/v1/notifications/unsubscribe", params={"token": token})
    assert gone.status_code == 404


def test_preferences_refuse_unknown_event_types_and_channels(client, org):
    requester = org.members["requester"]
    response = client.put(
        "/v1/notification-preferences",
        json={
            "items": [
                {"event_type": "comment.public", "channel": "email", "enabled": True},
                {"event_type": "ticket.exploded", "channel": "email", "enabled": False},
                {"event_type": "comment.public", "channel": "pigeon", "enabled": False},
            ]
        },
        headers=requester.headers,
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"items.1.event_type", "items.2.channel"}
    repeated = client.put(
        "/v1/notification-preferences",
        json={
            "items": [
                {"event_type": "comment.public", "channel": "email", "enabled": b}
                for b in (True, False)
            ]
        },
        headers=requester.headers,
    )
    assert repeated.status_code == 422
    unchanged = client.get("/v1/notification-preferences", headers=requester.headers).json()
    assert all(i["enabled"] for i in unchanged["items"])


def test_unread_count_mark_read_and_read_all(client, org, wiring):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    for n in range(3):
        _comment(client, agent, ticket, f"Update {n}")
    wiring.drain()
    assert _unread(client, requester) == 3

    first = _inbox(client, requester, limit=2)
    page = client.get("/v1/notifications", params={"limit": 2}, headers=requester.headers).json()
    assert page["next_cursor"]
    rest = _inbox(client, requester, limit=2, cursor=page["next_cursor"])
    assert [n["body"][-8:] for n in first + rest] == ["Update 2", "Update 1", "Update 0"]

    target = first[0]["id"]
    read = client.post(f"/v1/notifications/{target}/read", headers=requester.headers)
    assert read.status_code == 200, read.text
    read_at = read.json()["read_at"]
    assert read_at is not None
    again = client.post(f"/v1/notifications/{target}/read", headers=requester.headers)
    assert again.json()["read_at"] == read_at  # idempotent: the first read time stays
    assert _unread(client, requester) == 2
    assert target not in {n["id"] for n in _inbox(client, requester, unread="true")}
    assert [n["id"] for n in _inbox(client, requester, unread="false")] == [target]

    everything = client.post("/v1/notifications/read-all", headers=requester.headers)
    assert everything.status_code == 200, everything.text
    assert everything.json() == {"updated": 2}
    assert _unread(client, requester) == 0
    assert _inbox(client, requester, unread="true") == []


def test_another_users_notification_is_not_found(client, org, wiring):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    _comment(client, agent, ticket, "For the requester")
    wiring.drain()
    (mine,) = _inbox(client, requester)
    for stranger in (agent, org.admin, make_tenant(client, roles=()).admin):
        response = client.post(f"/v1/notifications/{mine['id']}/read", headers=stranger.headers)
        assert response.status_code == 404, response.text
        assert mine["id"] not in {n["id"] for n in _inbox(client, stranger)}
    assert _unread(client, requester) == 1
    missing = client.post(f"/v1/notifications/{uuid.uuid4()}/read", headers=requester.headers)
    assert missing.status_code == 404
    assert client.get("/v1/notifications").status_code == 401


def test_html_escapes_user_supplied_text(client, org, wiring):
    requester, agent = org.members["requester"], org.members["agent"]
    title = "<script>alert('x')</script> & <b>bold</b>"
    ticket = _ticket(client, requester, title=title)
    _comment(client, agent, ticket, '<img src=x onerror="alert(1)">')
    wiring.drain()
    (mail,) = wiring.mails(requester.email, "comment.public")
    plain, html = _parts(mail)
    assert "<script>" not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert title in plain  # plain text is not HTML: it stays as written
    assert mail["Subject"].endswith(title)


def test_tenant_branding_names_the_sender_and_colours_the_mail(client, org, wiring):
    from tests.conftest import current_database

    with current_database().connect("owner") as conn:
        conn.execute(
            "UPDATE tenants SET settings = settings || %s::jsonb WHERE id = %s",
            (
                json.dumps(
                    {
                        "email": {
                            "branding": {"display_name": "ACME <IT>", "accent_color": "#ff6600"}
                        }
                    }
                ),
                org.tenant_id,
            ),
        )
    requester, agent = org.members["requester"], org.members["agent"]
    _comment(client, agent, _ticket(client, requester), "Branded")
    wiring.drain()
    (mail,) = wiring.mails(requester.email, "comment.public")
    assert mail["From"].addresses[0].display_name == "ACME <IT>"
    html = _parts(mail)[1]
    assert "#ff6600" in html and "ACME &lt;IT&gt;" in html


def test_user_invitation_is_mailed_to_the_address_only(client, org, wiring):
    address = f"newcomer-{uuid.uuid4().hex[:6]}@elsewhere.example"
    response = client.post(
        "/v1/users/invitations", json={"email": address, "role": "agent"}, headers=org.admin.headers
    )
    assert response.status_code == 201, response.text
    wiring.drain()
    (mail,) = wiring.mails(address)
    assert "invited" in mail["Subject"].lower()
    plain, html = _parts(mail)
    assert "/accept-invitation#token=" in plain and "/accept-invitation#token=" in html
    assert mail["List-Unsubscribe"] is None and mail["Reply-To"] is None
    assert _inbox(client, org.admin) == []


def _add(client: Any, org: TenantFixture, email: str, name: str) -> Any:
    return client.post(
        "/v1/users",
        headers=org.admin.headers,
        json={"email": email, "name": name, "role": "agent", "password": PASSWORD},
    )


def _shape(mail: EmailMessage, name: str) -> tuple[Any, ...]:
    """A mail with the recipient's own name and the per-message headers taken out."""
    plain, html = _parts(mail)
    per_message = {"To", "Date", "Message-ID", "Content-Type"}  # the last: its boundary
    return (
        mail["Subject"],
        mail.get_content_type(),
        sorted((k, str(v)) for k, v in mail.items() if k not in per_message),
        plain.replace(f"Hello {name},", "Hello NAME,"),
        html.replace(f"Hello {name},", "Hello NAME,"),
    )


def test_everyone_added_through_the_api_is_told_in_the_same_words(client, org, wiring):
    """A new address and one that has an account elsewhere: the admin's answers are alike,
    and each person gets one `user.added` mail, the same but for their name."""
    person = make_tenant(client, roles=("agent",)).members["agent"]  # named "Agent" there
    wiring.drain()  # the other tenant's own mail, out of the way
    before = {str(m["Message-ID"]) for m in wiring.mails(person.email, "user.added")}
    newcomer = f"newcomer-{uuid.uuid4().hex[:6]}@elsewhere.example"

    known, unknown = _add(client, org, person.email, "Ignored"), _add(client, org, newcomer, "Neo")
    assert known.status_code == unknown.status_code == 201, (known.text, unknown.text)
    volatile = {"id", "email", "name", "created_at"}
    assert {k: v for k, v in known.json().items() if k not in volatile} == {
        k: v for k, v in unknown.json().items() if k not in volatile
    }
    assert known.headers.keys() == unknown.headers.keys()
    wiring.drain()

    (to_known,) = [
        m for m in wiring.mails(person.email, "user.added") if str(m["Message-ID"]) not in before
    ]
    (to_new,) = wiring.mails(newcomer, "user.added")
    assert _shape(to_known, "Agent") == _shape(to_new, "Neo")
    assert to_known["Subject"] == f"You were added to Org {org.slug}"
    plain, html = _parts(to_new)
    assert "Admin added you to Org " in plain and "as an agent." in plain
    assert "Sign in: http://" in plain and "/login" in plain and "/login" in html
    assert f"choose {org.slug}" in plain
    # Account mail: nothing to unsubscribe from, no reply into a ticket, no inbox entry.
    assert to_new["List-Unsubscribe"] is None and to_new["Reply-To"] is None
    assert "unsubscribe" not in plain.lower() and "/settings/notifications" not in plain
    for email in (person.email, newcomer):
        token = login(client, email, PASSWORD, org.slug).json()["access_token"]
        assert _inbox(client, Actor(email, "", org.tenant_id, org.slug, "agent", token)) == []


def test_a_refused_or_replayed_add_mails_nobody(client, org, wiring):
    email = f"once-{uuid.uuid4().hex[:6]}@elsewhere.example"
    key = {"Idempotency-Key": f"add-{uuid.uuid4().hex}"}
    body = {"email": email, "name": "Once", "role": "requester", "password": PASSWORD}
    for _ in range(2):  # the second is a replay
        sent = client.post("/v1/users", headers={**org.admin.headers, **key}, json=body)
        assert sent.status_code == 201, sent.text
    again = client.post("/v1/users", headers=org.admin.headers, json=body)
    assert again.status_code == 409, again.text  # already a member: rolled back
    wiring.drain()
    assert len(wiring.mails(email, "user.added")) == 1


def test_without_the_mail_catcher_mail_goes_out_through_ses(
    client, org, wiring, monkeypatch, aws_endpoint
):
    from urllib.request import urlopen

    from servicedesk.platform import aws

    monkeypatch.delenv("SERVICEDESK_MAIL_CATCHER_DIR")
    reset_caches()
    boto3.client("sesv2").create_email_identity(EmailIdentity="no-reply@servicedesk.local")
    requester, agent = org.members["requester"], org.members["agent"]
    try:
        _comment(client, agent, _ticket(client, requester), "Through SES")
        wiring.drain()
    finally:
        aws.reset()
    with urlopen(f"{aws_endpoint}/moto-api/data.json") as response:  # the emulator's record
        sent = json.loads(response.read())["ses"]["RawMessage"]
    raw = [
        m["raw_data"]
        for m in sent
        if requester.email in m["destinations"] and "Event: comment.public" in m["raw_data"]
    ]
    assert len(raw) == 1
    assert "Through SES" in raw[0] and "List-Unsubscribe:" in raw[0]
    assert wiring.mails() == []


def _ses_sent(aws_endpoint: str) -> list[dict[str, Any]]:
    """Every message the emulator's SES accepted, in order."""
    from urllib.request import urlopen

    with urlopen(f"{aws_endpoint}/moto-api/data.json") as response:
        return list(json.loads(response.read())["ses"]["RawMessage"])


def _mailed(sent: list[dict[str, Any]], address: str) -> int:
    return sum(1 for m in sent if address in m["destinations"])


@dataclass
class _Refusal:
    client: Any
    handler: Any

    def stop(self) -> None:
        self.client.meta.events.unregister("before-send.sesv2.SendEmail", self.handler)


def _refuse_recipient(client: Any, address: str) -> _Refusal:
    """SES answers MessageRejected (HTTP 400) for mail to ``address``, before the request
    leaves the client; mail to anyone else is sent."""
    from botocore.awsrequest import AWSResponse

    def handler(request: Any, **_: Any) -> AWSResponse | None:
        if address.encode() not in (request.body or b""):
            return None
        body = json.dumps({"message": f"Email address is not verified: {address}"})
        headers = {"x-amzn-ErrorType": "MessageRejected", "Content-Type": "application/json"}
        return AWSResponse(request.url, 400, headers, _Raw(body.encode()))

    client.meta.events.register("before-send.sesv2.SendEmail", handler)
    return _Refusal(client, handler)


class _Raw:
    """The raw body botocore reads from an HTTP response."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


def _set_email(database: Any, actor: Actor, address: str) -> None:
    with database.connect("owner") as conn:
        conn.execute("UPDATE users SET email = %s WHERE id = %s", (address, actor.user_id))
        conn.commit()


def test_a_refused_recipient_in_the_middle_is_retried_alone(
    client, org, wiring, monkeypatch, aws_endpoint, database
):
    """SES refuses the third of four recipients of a reply. The others are mailed once and
    never again, however often the event is retried; everyone's in-app notification is
    kept; once the address is mended, the retry mails that recipient alone."""
    from local.queues import sqs_event
    from local.scheduler import LambdaContext
    from servicedesk.platform import aws

    requester, agent, admin = org.members["requester"], org.members["agent"], org.admin
    ccs = [_member(client, org) for _ in range(3)]
    ticket = _ticket(client, requester)
    for cc in ccs:
        added = client.post(
            f"/v1/tickets/{ticket['id']}/participants",
            json={"user_id": cc.user_id, "kind": "cc"},
            headers=admin.headers,
        )
        assert added.status_code == 201, added.text
    wiring.drain()  # the ticket's own events, into the mail catcher

    # From here on through SES. SES refuses one recipient (as it does an address it will
    # not take, e.g. an unverified recipient in the sandbox): a fault injected on the wire of
    # the mailer's own SES client; every other call goes to the emulator over HTTP.
    monkeypatch.delenv("SERVICEDESK_MAIL_CATCHER_DIR")
    reset_caches()
    boto3.client("sesv2").create_email_identity(EmailIdentity="no-reply@servicedesk.local")
    refused = ccs[1].email
    refusing = _refuse_recipient(aws.ses(), refused)
    _comment(client, agent, ticket, "Fixed the toner")
    sqs = boto3.client("sqs")
    (message,) = [
        m
        for m in sqs.receive_message(QueueUrl=wiring.queue.url, MaxNumberOfMessages=10)["Messages"]
        if json.loads(m["Body"])["type"] == "comment.public"
    ]
    handler = wiring.handler

    def deliver() -> list[str]:
        """The record as Lambda delivers it (again): the ids it reports failed."""
        result = handler(sqs_event([message], wiring.queue.arn), LambdaContext("email_consumer"))
        return [f["itemIdentifier"] for f in result["batchItemFailures"]]

    others = [requester.email, ccs[0].email, ccs[2].email]
    try:
        for _ in range(3):  # the first delivery and two retries
            assert deliver() == [message["MessageId"]]
            sent = _ses_sent(aws_endpoint)
            assert [_mailed(sent, address) for address in others] == [1, 1, 1]
            assert _mailed(sent, refused) == 0
        # The failure did not cost anyone their in-app notification.
        for who in (requester, *ccs):
            assert [n["event_type"] for n in _inbox(client, who)].count("comment.public") == 1

        mended = refused
        refusing.stop()  # SES takes the address now
        assert deliver() == []
        assert deliver() == []  # and a late duplicate changes nothing
        sent = _ses_sent(aws_endpoint)
    finally:
        aws.reset()
    assert [_mailed(sent, address) for address in [*others, mended]] == [1, 1, 1, 1]
    # Recorded once per (event, recipient), with SES's message id.
    with database.connect("owner") as conn:
        rows = conn.execute(
            "SELECT recipient, detail->>'ref' FROM deliveries"
            " WHERE event_id = %s AND channel = 'email'",
            (json.loads(message["Body"])["event_id"],),
        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(a.user_id for a in (requester, *ccs))
    assert all(r[1] for r in rows)


def test_a_suppressed_address_gets_no_mail_but_keeps_in_app(client, org, wiring, database):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    with database.connect("owner") as conn:
        conn.execute(
            "INSERT INTO email_suppressions (address, reason) VALUES (%s, 'bounce')",
            (requester.email,),
        )
        conn.commit()
    _comment(client, agent, ticket, "Nobody will mail this")
    wiring.drain()
    assert [n["event_type"] for n in _inbox(client, requester)] == ["comment.public"]
    assert wiring.mails(requester.email) == []


def test_an_address_that_could_rewrite_the_to_header_is_never_mailed(client, org, wiring, database):
    """An address that did not pass our validation (an identity provider's claim, older
    data) and would change meaning in a To: header gets in-app notices only."""
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    odd = f"x<victim-{uuid.uuid4().hex[:6]}@elsewhere.example"
    with database.connect("owner") as conn:
        conn.execute("UPDATE users SET email = %s WHERE id = %s", (odd, requester.user_id))
        conn.commit()
    _comment(client, agent, ticket, "Only in the app")
    wiring.drain()
    assert [n["event_type"] for n in _inbox(client, requester)] == ["comment.public"]
    assert wiring.mails(odd) == []
    assert not any("victim" in str(m["To"]) for m in wiring.mails())


# --- the requester's acknowledgement (ticket.received) -------------------------------


def _received(wiring: Wiring, actor: Actor) -> list[EmailMessage]:
    return wiring.mails(actor.email, "ticket.received")


def test_a_requester_opening_a_ticket_gets_an_acknowledgement_by_mail(client, org, wiring):
    from servicedesk.notifications.templates import reply_token
    from servicedesk.platform.config import get_settings

    requester = org.members["requester"]
    created = client.post(
        "/v1/tickets",
        json={"title": "VPN drops", "description": "Every hour, on the hour."},
        headers=requester.headers,
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    wiring.drain()

    (mail,) = _received(wiring, requester)
    assert mail["Subject"] == f"[{ticket['number']}] Request received: VPN drops"
    plain, html = _parts(mail)
    assert "We received your request" in plain and "> Every hour, on the hour." in plain
    assert "Every hour, on the hour." in html
    assert f"/tickets/{ticket['id']}" in plain
    # Threaded and answerable like every ticket mail: replies land in the conversation.
    token = reply_token(uuid.UUID(ticket["id"]), get_settings())
    assert mail["Reply-To"].addresses[0].addr_spec.startswith(f"reply+{ticket['number']}.{token}@")
    assert mail["References"].startswith(f"<ticket-{ticket['id']}@")
    assert mail["List-Unsubscribe"]
    # They opened it themselves: nothing in their in-app inbox about their own act.
    assert _inbox(client, requester) == []


def test_a_ticket_opened_on_a_requesters_behalf_tells_them_unless_the_agent_says_not(
    client, org, wiring
):
    requester, agent = org.members["requester"], org.members["agent"]
    for notify, title in ((None, "Opened for you"), (False, "Quietly opened")):
        body: dict[str, Any] = {"title": title, "requester_id": requester.user_id}
        if notify is not None:
            body["notify_requester"] = notify
        created = client.post("/v1/tickets", json=body, headers=agent.headers)
        assert created.status_code == 201, created.text
    wiring.drain()

    (mail,) = _received(wiring, requester)
    assert mail["Subject"].endswith("Request received: Opened for you")
    assert "opened this request on your behalf" in _parts(mail)[0]
    inbox = _inbox(client, requester)
    assert [(n["event_type"], n["title"].endswith("Opened for you")) for n in inbox] == [
        ("ticket.received", True)
    ]
    assert _received(wiring, agent) == []


def test_the_acknowledgement_respects_preferences_suppression_and_inactive_members(
    client, org, wiring, database
):
    agent = org.members["agent"]
    quiet, bounced, gone, plain = (_member(client, org) for _ in range(4))
    off = client.put(
        "/v1/notification-preferences",
        json={"items": [{"event_type": "ticket.received", "channel": "email", "enabled": False}]},
        headers=quiet.headers,
    )
    assert off.status_code == 200, off.text
    with database.connect("owner") as conn:
        conn.execute(
            "INSERT INTO email_suppressions (address, reason) VALUES (%s, 'bounce')",
            (bounced.email,),
        )
        conn.commit()
    for who in (quiet, bounced, gone, plain):
        created = client.post(
            "/v1/tickets",
            json={"title": f"For {who.email}", "requester_id": who.user_id},
            headers=agent.headers,
        )
        assert created.status_code == 201, created.text
    with database.connect("owner") as conn:  # deactivated before the consumer got to it
        conn.execute(
            "UPDATE memberships SET active = false WHERE tenant_id = %s AND user_id = %s",
            (org.tenant_id, gone.user_id),
        )
        conn.commit()
    wiring.drain()

    assert [len(_received(wiring, who)) for who in (quiet, bounced, gone, plain)] == [0, 0, 0, 1]
    # Switching the mail off keeps the in-app notice; a bounce does not cost it either.
    for who in (quiet, bounced):
        assert [n["event_type"] for n in _inbox(client, who)] == ["ticket.received"]


# --- tickets without a team: the triage audience --------------------------------------


def _put_triage_team(client: Any, org: TenantFixture, team_id: str | None) -> Any:
    current = client.get("/v1/settings/tickets", headers=org.admin.headers)
    assert current.status_code == 200, current.text
    return client.put(
        "/v1/settings/tickets",
        json={**current.json(), "triage_team_id": team_id},
        headers={**org.admin.headers, "If-Match": current.headers["ETag"]},
    )


def _created_notices(client: Any, wiring: Wiring, who: Actor, ticket: dict[str, Any]) -> int:
    """How many in-app notices and mails `who` got of the ticket's creation."""
    inbox = [
        n
        for n in _inbox(client, who)
        if n["event_type"] == "ticket.created" and n["ticket_id"] == ticket["id"]
    ]
    mails = [
        m for m in wiring.mails(who.email, "ticket.created") if ticket["number"] in m["Subject"]
    ]
    return len(inbox) + len(mails)


def test_a_ticket_without_a_team_notifies_every_agent_and_manager_once(client, org, wiring):
    requester, agent, manager = (org.members[r] for r in ("requester", "agent", "manager"))
    second_agent = _member(client, org, "agent")
    ticket = _ticket(client, requester, title="Nobody's ticket")
    assert ticket["team_id"] is None and ticket["assignee_id"] is None
    wiring.drain()

    for staff in (agent, second_agent, manager):
        assert _created_notices(client, wiring, staff, ticket) == 2, staff.role  # in-app + mail
    for other in (org.admin, requester):
        assert _created_notices(client, wiring, other, ticket) == 0, other.role

    # A requester's reply on the untriaged ticket reaches the same audience.
    _comment(client, requester, ticket, "Any news?")
    wiring.drain()
    for staff in (agent, second_agent, manager):
        assert len(wiring.mails(staff.email, "comment.public")) == 1, staff.role


def test_a_configured_triage_team_narrows_the_audience(client, org, wiring):
    requester, agent, manager = (org.members[r] for r in ("requester", "agent", "manager"))
    bystander = _member(client, org, "agent")
    team = client.post("/v1/teams", json={"name": "Triage"}, headers=org.admin.headers)
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    for who in (agent, manager):
        added = client.put(f"/v1/teams/{team_id}/members/{who.user_id}", headers=org.admin.headers)
        assert added.status_code == 200, added.text
    refused = _put_triage_team(client, org, str(uuid.uuid4()))
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["triage_team_id"]
    assert _put_triage_team(client, org, team_id).status_code == 200

    ticket = _ticket(client, requester, title="For triage")
    wiring.drain()
    assert _created_notices(client, wiring, agent, ticket) == 2
    assert _created_notices(client, wiring, manager, ticket) == 2
    assert _created_notices(client, wiring, bystander, ticket) == 0

    # Taken off its team again, it is back with the triage team (and only with it).
    network = client.post("/v1/teams", json={"name": "Network"}, headers=org.admin.headers)
    assert network.status_code == 201, network.text
    for team in (network.json()["id"], None):
        moved = client.post(
            f"/v1/tickets/{ticket['id']}/assign", json={"team_id": team}, headers=org.admin.headers
        )
        assert moved.status_code == 200, moved.text
    wiring.drain()
    for who, expected in ((agent, 1), (manager, 1), (bystander, 0)):
        back = [
            m
            for m in wiring.mails(who.email, "ticket.assigned")
            if "Back in triage" in m["Subject"]
        ]
        assert len(back) == expected, who.role


def test_the_handler_answers_the_sample_sqs_event_once(client, org, wiring, database):
    """events/sqs_email_comment_public.json, its body the real outbox row as the publisher
    encodes it, straight into the handler (as Lambda's event source mapping)."""
    from local.scheduler import LambdaContext
    from tests.events import outbox_rows, sqs_sample

    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    comment = _comment(client, agent, ticket, "Sampled reply")
    rows = outbox_rows(
        database,
        "tenant_id = %s AND event_type = 'comment.public' AND payload->>'comment_id' = %s",
        org.tenant_id,
        comment["id"],
    )
    event = sqs_sample("sqs_email_comment_public", rows)
    for _ in range(2):  # delivered twice, notified and mailed once
        result = wiring.handler(event, LambdaContext("email_consumer"))
        assert result == {"batchItemFailures": []}

    assert [n["event_type"] for n in _inbox(client, requester)] == ["comment.public"]
    (mail,) = wiring.mails(requester.email, "comment.public")
    assert mail["Subject"] == f"[{ticket['number']}] New reply: Printer on fire"
