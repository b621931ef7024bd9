"""Slack (issue 23 point 6) against a local fake Slack over real HTTP: the OAuth install
(state bound to the admin, single use), signed requests (signatures computed here; bad,
stale, other workspace: refused, nothing written), ``/ticket`` → modal → ticket as the
mapped desk user, channel notifications with their thread, buttons, thread replies as
comments, unfurls only of what the person may see; every call to Slack through the outbox,
SQS (moto over HTTP) and the integrations consumer."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
import uuid
from typing import Any

import pytest

from local.app import load_function
from local.queues import Queue, poll_once
from tests.conftest import TenantFixture, make_tenant
from tests.fake_apis import FakeApi, integration_queues

SIGNING = "slack-signing-secret"
TEAM = "T0DESK"
AUTHORIZE = "https://slack.example/oauth/v2/authorize"


@pytest.fixture(scope="module")
def slack_api() -> Any:
    fake = FakeApi()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def queues(aws_endpoint: str, database: Any, slack_api: FakeApi) -> Any:
    env = {
        "SERVICEDESK_SLACK_API_URL": slack_api.base,
        "SERVICEDESK_SLACK_AUTHORIZE_URL": AUTHORIZE,
    }
    with integration_queues("sl", env) as made:
        yield made


@pytest.fixture(scope="module")
def org(client: Any, queues: Any) -> TenantFixture:
    return make_tenant(client, roles=("agent", "requester"))


@pytest.fixture(scope="module")
def people(org: TenantFixture) -> dict[str, str]:
    """Slack user id -> e-mail, as users.info tells it."""
    return {
        "UAGENT": org.members["agent"].email,
        "UREQ": org.members["requester"].email,
        "UNOBODY": "nobody@elsewhere.example",
        "UUNCONFIRMED": org.members["agent"].email,
    }


@pytest.fixture(scope="module")
def fake(slack_api: FakeApi, people: dict[str, str]) -> FakeApi:
    counter = iter(range(1000, 100000))

    def users_info(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        user = request["body"].get("user")
        if user not in people:
            return 200, {"ok": False, "error": "user_not_found"}
        confirmed = user != "UUNCONFIRMED"
        return 200, {
            "ok": True,
            "user": {
                "id": user,
                "is_email_confirmed": confirmed,
                "profile": {"email": people[user]},
            },
        }

    slack_api.answer(
        "/oauth.v2.access",
        lambda r: (
            (
                200,
                {
                    "ok": True,
                    "access_token": "xoxb-bot",
                    "team": {"id": TEAM, "name": "Desk"},
                    "bot_user_id": "UBOT",
                },
            )
            if r["body"].get("code") == "good-code"
            else (200, {"ok": False, "error": "invalid_code"})
        ),
    )
    slack_api.answer("/users.info", users_info)
    for method in ("views.open", "chat.postEphemeral", "chat.unfurl"):
        slack_api.answer(f"/{method}", lambda r: (200, {"ok": True}))
    slack_api.answer(
        "/chat.postMessage", lambda r: (200, {"ok": True, "ts": f"{next(counter)}.0001"})
    )
    return slack_api


@pytest.fixture(scope="module")
def app_row(client: Any, org: TenantFixture, fake: FakeApi) -> dict[str, Any]:
    made = client.post(
        "/v1/integrations",
        headers=org.admin.headers,
        json={
            "kind": "slack",
            "name": "Desk workspace",
            "slack": {
                "client_id": "123.456",
                "client_secret": "slack-client-secret",
                "signing_secret": SIGNING,
                "default_channel": "CDESK",
            },
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["installed"] is False
    return dict(made.json())


def _install(client: Any, org: TenantFixture, app_row: dict[str, Any]) -> str:
    answer = client.post(
        f"/v1/integrations/{app_row['id']}/slack/install", headers=org.admin.headers
    )
    assert answer.status_code == 200, answer.text
    url = answer.json()["authorize_url"]
    assert url.startswith(AUTHORIZE + "?")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["client_id"] == app_row["config"]["client_id"] and "commands" in query["scope"]
    return query["state"]


@pytest.fixture(scope="module")
def installed(
    client: Any, org: TenantFixture, app_row: dict[str, Any], fake: FakeApi, queues: Any
) -> dict[str, Any]:
    state = _install(client, org, app_row)
    answer = client.get(
        "/v1/hooks/slack/oauth/callback",
        params={"state": state, "code": "good-code"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].endswith("/admin/integrations?slack=installing")
    # The code is exchanged by the integrations consumer (the API reaches no internet).
    _drain(queues["integrations"])
    exchange = fake.at("/oauth.v2.access")[-1]["body"]
    assert exchange["client_secret"] == "slack-client-secret" and exchange["code"] == "good-code"
    # The same state again: refused, nothing exchanged.
    again = client.get(
        "/v1/hooks/slack/oauth/callback", params={"state": state, "code": "good-code"}
    )
    assert again.status_code == 400 and again.json()["errors"][0]["field"] == "state"
    shown = client.get(f"/v1/integrations/{app_row['id']}", headers=org.admin.headers).json()
    assert shown["installed"] is True and shown["config"]["team_id"] == TEAM
    assert "xoxb" not in json.dumps(shown) and "slack-client-secret" not in json.dumps(shown)
    return dict(shown)


def _signed(body: bytes, *, secret: str = SIGNING, at: float | None = None) -> dict[str, str]:
    stamp = str(int(time.time() if at is None else at))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def _post(client: Any, row: dict[str, Any], kind: str, body: bytes, **sign: Any) -> Any:
    content_type = "application/json" if kind == "events" else "application/x-www-form-urlencoded"
    return client.post(
        f"/v1/hooks/slack/{row['id']}/{kind}",
        content=body,
        headers={"Content-Type": content_type, **_signed(body, **sign)},
    )


def _form(**fields: str) -> bytes:
    return urllib.parse.urlencode(fields).encode()


def _interaction(payload: dict[str, Any]) -> bytes:
    return _form(payload=json.dumps(payload))


def _drain(queue: Queue) -> None:
    handler = load_function("integrations_consumer").lambda_handler
    idle = 0
    for _ in range(40):
        done, failed = poll_once(queue, handler)
        assert failed == 0, "the integrations consumer failed a record"
        idle = idle + 1 if done == 0 else 0
        if idle == 2:
            return
    raise AssertionError("the integrations queue does not drain")


def _submission(user: str, title: str, view_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": user},
        "view": {
            "id": view_id or f"V{uuid.uuid4().hex[:8]}",
            "callback_id": "servicedesk_ticket",
            "private_metadata": "CDESK",
            "state": {
                "values": {
                    "title": {"value": {"type": "plain_text_input", "value": title}},
                    "description": {"value": {"type": "plain_text_input", "value": "From Slack"}},
                }
            },
        },
    }


def _tickets_titled(client: Any, actor: Any, title: str) -> list[dict[str, Any]]:
    answer = client.get("/v1/tickets", headers=actor.headers, params={"limit": 100})
    return [t for t in answer.json()["items"] if t["title"] == title]


def test_a_refused_code_installs_nothing(client, org, queues, fake):
    made = client.post(
        "/v1/integrations",
        headers=org.admin.headers,
        json={
            "kind": "slack",
            "name": f"Other {uuid.uuid4().hex[:6]}",
            "slack": {"client_id": "9.9", "client_secret": "c", "signing_secret": "s"},
        },
    ).json()
    state = _install(client, org, made)
    answer = client.get(
        "/v1/hooks/slack/oauth/callback",
        params={"state": state, "code": "bad-code"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    _drain(queues["integrations"])
    shown = client.get(f"/v1/integrations/{made['id']}", headers=org.admin.headers).json()
    assert shown["installed"] is False
    denied = client.get(
        "/v1/hooks/slack/oauth/callback",
        params={"state": _install(client, org, made), "error": "access_denied"},
        follow_redirects=False,
    )
    assert denied.headers["location"].endswith("?slack=denied")


def test_expired_install_states_are_pruned_as_installs_start(client, org, app_row, database):
    with database.connect("owner") as conn:
        conn.execute(
            "INSERT INTO integration_oauth_states (state_hash, tenant_id, integration_id,"
            " user_id, expires_at) SELECT sha256(('old' || n)::bytea), %s, %s, %s,"
            " now() - interval '1 minute' FROM generate_series(1, 5) n",
            (org.tenant_id, app_row["id"], org.admin.user_id),
        )
        conn.commit()

    def states() -> tuple[int, int]:
        with database.connect("owner") as conn:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE expires_at < now()), count(*)"
                " FROM integration_oauth_states WHERE integration_id = %s",
                (app_row["id"],),
            ).fetchone()
        return int(row[0]), int(row[1])

    expired, _ = states()
    assert expired >= 5
    _install(client, org, app_row)
    expired, live = states()
    assert expired == 0 and live >= 1  # the expired went; the one just started stays


def test_install_refuses_unknown_states_and_other_admins(client, org, app_row, installed):
    assert (
        client.get(
            "/v1/hooks/slack/oauth/callback", params={"state": "forged", "code": "good-code"}
        ).status_code
        == 400
    )
    other = make_tenant(client, roles=())
    answer = client.post(
        f"/v1/integrations/{app_row['id']}/slack/install", headers=other.admin.headers
    )
    assert answer.status_code == 404
    answer = client.post(
        f"/v1/integrations/{app_row['id']}/slack/install", headers=org.members["agent"].headers
    )
    assert answer.status_code == 403


def test_bad_stale_and_foreign_requests_are_refused_and_write_nothing(
    client, org, installed, queues, fake
):
    body = _form(command="/ticket", team_id=TEAM, user_id="UAGENT", trigger_id="trig-x", text="x")
    before = len(fake.requests)
    assert _post(client, installed, "commands", body, secret="wrong").status_code == 401
    stale = _post(client, installed, "commands", body, at=time.time() - 301)
    assert stale.status_code == 401 and stale.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert _post(client, installed, "commands", body, at=time.time() + 301).status_code == 401
    unsigned = client.post(f"/v1/hooks/slack/{installed['id']}/commands", content=body)
    assert unsigned.status_code == 401
    foreign = _form(command="/ticket", team_id="TOTHER", user_id="UAGENT", trigger_id="t")
    answer = _post(client, installed, "commands", foreign)
    assert answer.status_code == 403 and answer.json()["errors"][0]["field"] == "team_id"
    _drain(queues["integrations"])
    assert len(fake.requests) == before  # nothing reached Slack: nothing was queued


def test_slash_command_opens_a_modal_and_its_submission_opens_a_ticket(
    client, org, installed, queues, fake
):
    body = _form(
        command="/ticket",
        team_id=TEAM,
        user_id="UAGENT",
        trigger_id="trig-1",
        channel_id="CDESK",
        text="Laptop",
    )
    answer = _post(client, installed, "commands", body)
    assert answer.status_code == 200, answer.text
    _drain(queues["integrations"])
    opened = fake.at("/views.open")[-1]["body"]
    assert opened["trigger_id"] == "trig-1"
    assert opened["view"]["callback_id"] == "servicedesk_ticket"
    assert fake.at("/views.open")[-1]["headers"]["Authorization"] == "Bearer xoxb-bot"

    title = f"Laptop {uuid.uuid4().hex[:6]}"
    submission = _submission("UREQ", title, "VFIXED1")
    answer = _post(client, installed, "interactions", _interaction(submission))
    assert answer.status_code == 200 and answer.json() == {}
    # Slack retried the submission: one ticket.
    assert _post(client, installed, "interactions", _interaction(submission)).status_code == 200
    _drain(queues["integrations"])
    (ticket,) = _tickets_titled(client, org.members["agent"], title)
    assert ticket["requester_id"] == org.members["requester"].user_id
    assert ticket["channel"] == "slack"
    told = [r["body"] for r in fake.at("/chat.postEphemeral") if r["body"]["user"] == "UREQ"]
    assert ticket["number"] in told[-1]["text"]
    # The new ticket was announced in the default channel, with its buttons, as a thread.
    announced = [
        r["body"] for r in fake.at("/chat.postMessage") if ticket["number"] in r["body"]["text"]
    ]
    assert announced and announced[0]["channel"] == "CDESK"
    actions = announced[0]["blocks"][1]["elements"]
    assert {a["action_id"] for a in actions} == {"assign_to_me", "resolve"}
    events = client.get(f"/v1/tickets/{ticket['id']}/events", headers=org.members["agent"].headers)
    assert any(e["type"] == "slack_thread_started" for e in events.json()["items"])


def test_an_empty_title_is_answered_in_the_modal(client, installed, queues):
    answer = _post(client, installed, "interactions", _interaction(_submission("UREQ", "  ")))
    assert answer.status_code == 200
    assert answer.json()["response_action"] == "errors" and "title" in answer.json()["errors"]


def test_unmapped_or_unconfirmed_people_open_nothing(client, org, installed, queues, fake):
    for user in ("UNOBODY", "UUNCONFIRMED"):
        title = f"Nobody {uuid.uuid4().hex[:6]}"
        _post(client, installed, "interactions", _interaction(_submission(user, title)))
        _drain(queues["integrations"])
        assert _tickets_titled(client, org.members["agent"], title) == []
        told = [r["body"] for r in fake.at("/chat.postEphemeral") if r["body"]["user"] == user]
        assert "No desk account" in told[-1]["text"]


def _announced_ticket(
    client: Any, org: TenantFixture, installed: Any, queues: Any
) -> dict[str, Any]:
    title = f"Thread {uuid.uuid4().hex[:6]}"
    _post(client, installed, "interactions", _interaction(_submission("UREQ", title)))
    _drain(queues["integrations"])
    (ticket,) = _tickets_titled(client, org.members["agent"], title)
    return ticket


def _thread_ts(database: Any, ticket_id: str) -> str:
    with database.connect("owner") as conn:
        row = conn.execute(
            "SELECT data->>'thread_ts' FROM integration_links WHERE ticket_id = %s"
            " AND kind = 'slack_thread'",
            (ticket_id,),
        ).fetchone()
    return str(row[0])


def test_buttons_act_as_the_slack_users_desk_account(
    client, org, installed, queues, fake, database
):
    ticket = _announced_ticket(client, org, installed, queues)
    ts = _thread_ts(database, ticket["id"])

    def press(user: str, action: str) -> Any:
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM},
            "user": {"id": user},
            "channel": {"id": "CDESK"},
            "message": {"ts": ts},
            "actions": [
                {"action_id": action, "value": ticket["id"], "action_ts": str(time.time())}
            ],
        }
        return _post(client, installed, "interactions", _interaction(payload))

    assert press("UREQ", "resolve").status_code == 200  # a requester: refused by the consumer
    _drain(queues["integrations"])
    shown = client.get(f"/v1/tickets/{ticket['id']}", headers=org.members["agent"].headers).json()
    assert shown["status"] != "resolved"
    assert press("UAGENT", "assign_to_me").status_code == 200
    _drain(queues["integrations"])
    shown = client.get(f"/v1/tickets/{ticket['id']}", headers=org.members["agent"].headers).json()
    assert shown["assignee_id"] == org.members["agent"].user_id
    # The assignment was told in the ticket's thread.
    replies = [r["body"] for r in fake.at("/chat.postMessage") if r["body"].get("thread_ts") == ts]
    assert any("Assigned" in r["text"] for r in replies)
    assert press("UAGENT", "resolve").status_code == 200
    _drain(queues["integrations"])
    shown = client.get(f"/v1/tickets/{ticket['id']}", headers=org.members["agent"].headers).json()
    assert shown["status"] == "resolved"


def _event(event: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": f"Ev{uuid.uuid4().hex[:10]}",
            "event": event,
        }
    ).encode()


def test_thread_replies_become_comments_of_participants_only(
    client, org, installed, queues, database
):
    ticket = _announced_ticket(client, org, installed, queues)
    ts = _thread_ts(database, ticket["id"])
    reply = {
        "type": "message",
        "channel": "CDESK",
        "user": "UREQ",
        "text": "Still broken",
        "ts": "9.1",
        "thread_ts": ts,
    }
    assert _post(client, installed, "events", _event(reply)).status_code == 200
    stranger = dict(reply, user="UNOBODY", text="spam", ts="9.2")
    assert _post(client, installed, "events", _event(stranger)).status_code == 200
    elsewhere = dict(reply, thread_ts="1.1", text="other thread", ts="9.3")
    assert _post(client, installed, "events", _event(elsewhere)).status_code == 200
    _drain(queues["integrations"])
    comments = client.get(
        f"/v1/tickets/{ticket['id']}/comments", headers=org.members["agent"].headers
    )
    bodies = [c["body"] for c in comments.json()["items"]]
    assert bodies == ["Still broken"]


def test_url_verification_and_unfurls_show_only_what_the_person_may_see(
    client, org, installed, queues, fake
):
    challenge = json.dumps({"type": "url_verification", "challenge": "abc123"}).encode()
    answer = _post(client, installed, "events", challenge)
    assert answer.json() == {"challenge": "abc123"}
    staff_only = client.post(
        "/v1/tickets", headers=org.members["agent"].headers, json={"title": "Staff only"}
    ).json()
    url = f"http://127.0.0.1:8000/tickets/{staff_only['id']}"
    before = len(fake.at("/chat.unfurl"))
    shared = {
        "type": "link_shared",
        "channel": "CDESK",
        "user": "UREQ",
        "message_ts": "5.5",
        "links": [{"url": url}],
    }
    _post(client, installed, "events", _event(shared))
    _drain(queues["integrations"])
    assert len(fake.at("/chat.unfurl")) == before  # the requester may not see it: no preview
    _post(client, installed, "events", _event(dict(shared, user="UAGENT")))
    _drain(queues["integrations"])
    (unfurl,) = fake.at("/chat.unfurl")[before:]
    assert staff_only["number"] in json.dumps(unfurl["body"]["unfurls"][url])


def test_disabled_integrations_refuse_slack(client, org, installed, queues):
    current = client.get(f"/v1/integrations/{installed['id']}", headers=org.admin.headers).json()
    off = client.patch(
        f"/v1/integrations/{installed['id']}",
        headers=org.admin.headers,
        json={"enabled": False, "version": current["version"]},
    )
    assert off.status_code == 200, off.text
    body = _form(command="/ticket", team_id=TEAM, user_id="UAGENT", trigger_id="t")
    assert _post(client, installed, "commands", body).status_code == 404
    on = client.patch(
        f"/v1/integrations/{installed['id']}",
        headers=org.admin.headers,
        json={"enabled": True, "version": off.json()["version"]},
    )
    assert on.status_code == 200
