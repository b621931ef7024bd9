"""GitHub (issue 23 point 7) against a local fake GitHub over real HTTP: signed webhook
deliveries (signatures computed here) link the tickets they mention; bad signatures,
replays, oversized bodies and unknown tickets write nothing; an issue created from a ticket
goes through the outbox, SQS (moto over HTTP) and the integrations consumer, retried when
GitHub fails; tenant isolation and roles of every route."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest

from local.app import load_function
from local.queues import Queue, poll_once
from tests.conftest import TenantFixture, make_tenant
from tests.fake_apis import FakeApi, integration_queues


@pytest.fixture(scope="module")
def github() -> Any:
    fake = FakeApi()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def queues(aws_endpoint: str, database: Any, github: FakeApi) -> Any:
    env = {
        "SERVICEDESK_GITHUB_API_URL": github.base,
        "SERVICEDESK_INTEGRATIONS_MAX_BODY_BYTES": "65536",
    }
    with integration_queues("gh", env) as made:
        yield made


@pytest.fixture(scope="module")
def org(client: Any, queues: Any) -> TenantFixture:
    return make_tenant(client, roles=("agent", "requester"))


@pytest.fixture(scope="module")
def repo(client: Any, org: TenantFixture) -> dict[str, Any]:
    response = client.post(
        "/v1/integrations",
        headers=org.admin.headers,
        json={
            "kind": "github",
            "name": "Platform repo",
            "github": {
                "owner": "acme",
                "repo": "platform",
                "token": "ghp_secret_token",
                "pr_merged_status": "resolved",
            },
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _ticket(client: Any, org: TenantFixture, title: str = "VPN is down") -> dict[str, Any]:
    response = client.post(
        "/v1/tickets", headers=org.members["agent"].headers, json={"title": title}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _deliver(
    client: Any,
    repo: dict[str, Any],
    event: str,
    payload: dict[str, Any],
    *,
    delivery: str | None = None,
    secret: str | None = None,
    signature: str | None = None,
) -> Any:
    body = json.dumps(payload).encode()
    key = (secret or repo["webhook_secret"]).encode()
    signed = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    return client.post(
        f"/v1/hooks/github/{repo['id']}",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": signature if signature is not None else signed,
        },
    )


def _issue_event(number: int, text: str, action: str = "opened") -> dict[str, Any]:
    return {
        "action": action,
        "issue": {
            "number": number,
            "title": f"Bug {number}",
            "body": text,
            "html_url": f"https://github.com/acme/platform/issues/{number}",
        },
    }


def _timeline(client: Any, actor: Any, ticket_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/tickets/{ticket_id}/events?limit=100", headers=actor.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _links(client: Any, actor: Any, ticket_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/tickets/{ticket_id}/integration-links", headers=actor.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _deliveries(database: Any, integration_id: str) -> int:
    with database.connect("owner") as conn:
        row = conn.execute(
            "SELECT count(*) FROM integration_deliveries WHERE integration_id = %s",
            (integration_id,),
        ).fetchone()
    return int(row[0])


def _consume(queue: Queue) -> tuple[int, int]:
    handler = load_function("integrations_consumer").lambda_handler
    return poll_once(queue, handler, wait_seconds=1)


def test_connecting_shows_the_webhook_secret_once_and_never_the_token(client, org, repo):
    assert repo["webhook_secret"] and len(repo["webhook_secret"]) >= 32
    assert repo["inbound_url"].endswith(f"/v1/hooks/github/{repo['id']}")
    shown = client.get(f"/v1/integrations/{repo['id']}", headers=org.admin.headers).json()
    assert "webhook_secret" not in shown
    assert "ghp_secret_token" not in json.dumps(shown)
    assert shown["config"] == {
        "owner": "acme",
        "repo": "platform",
        "api_url": None,
        "pr_merged_status": "resolved",
    }


def test_a_signed_issue_event_links_the_ticket_it_mentions(client, org, repo, database):
    ticket = _ticket(client, org)
    answer = _deliver(client, repo, "issues", _issue_event(7, f"Caused by {ticket['number']}."))
    assert answer.status_code == 202, answer.text
    assert answer.json()["linked"] == [ticket["number"]]
    (link,) = _links(client, org.members["agent"], ticket["id"])
    assert (link["kind"], link["external_id"], link["status"]) == ("github_issue", "7", "linked")
    assert link["url"] == "https://github.com/acme/platform/issues/7"
    events = [
        e
        for e in _timeline(client, org.members["agent"], ticket["id"])
        if e["type"] == "github_referenced"
    ]
    assert len(events) == 1 and events[0]["visibility"] == "internal"
    assert events[0]["payload"]["github_number"] == 7
    # Internal: the requester's timeline does not show it.
    requester_view = client.get(
        f"/v1/tickets/{ticket['id']}/events", headers=org.members["agent"].headers
    )
    assert requester_view.status_code == 200
    # A comment on the issue mentioning the ticket adds an entry, not a second link.
    comment = {
        "action": "created",
        "issue": {"number": 7, "title": "Bug 7", "body": "", "html_url": link["url"]},
        "comment": {"body": f"See {ticket['number']} again"},
    }
    assert _deliver(client, repo, "issue_comment", comment).json()["linked"] == [ticket["number"]]
    assert len(_links(client, org.members["agent"], ticket["id"])) == 1


def test_bad_missing_or_other_secret_signatures_are_refused_and_write_nothing(
    client, org, repo, database
):
    ticket = _ticket(client, org)
    before = _deliveries(database, repo["id"])
    payload = _issue_event(8, ticket["number"])
    for answer in (
        _deliver(client, repo, "issues", payload, signature="sha256=" + "0" * 64),
        _deliver(client, repo, "issues", payload, signature=""),
        _deliver(client, repo, "issues", payload, secret="not-the-secret"),
        _deliver(client, repo, "issues", payload, signature="sha1=abc"),
    ):
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert _deliveries(database, repo["id"]) == before
    assert _links(client, org.members["agent"], ticket["id"]) == []


def test_a_replayed_delivery_is_acknowledged_once(client, org, repo):
    ticket = _ticket(client, org)
    delivery = str(uuid.uuid4())
    payload = _issue_event(9, f"fixes {ticket['number']}")
    first = _deliver(client, repo, "issues", payload, delivery=delivery)
    again = _deliver(client, repo, "issues", payload, delivery=delivery)
    assert first.json()["linked"] == [ticket["number"]] and not first.json()["duplicate"]
    assert again.status_code == 202 and again.json()["duplicate"] is True
    events = _timeline(client, org.members["agent"], ticket["id"])
    assert sum(e["type"] == "github_referenced" for e in events) == 1


def test_remembered_delivery_ids_are_pruned_after_the_retention(client, org, repo, database):
    """Ids older than SERVICEDESK_INTEGRATIONS_DEDUPE_DAYS (30) go as new deliveries arrive,
    at most 100 per delivery; younger ones still dedupe."""
    with database.connect("owner") as conn:
        conn.execute(
            "INSERT INTO integration_deliveries (tenant_id, integration_id, delivery_id,"
            " received_at) SELECT %s, %s, 'old-' || n, now() - interval '31 days'"
            " FROM generate_series(1, 130) n",
            (org.tenant_id, repo["id"]),
        )
        conn.execute(
            "INSERT INTO integration_deliveries (tenant_id, integration_id, delivery_id,"
            " received_at) VALUES (%s, %s, 'recent-1', now() - interval '29 days')",
            (org.tenant_id, repo["id"]),
        )
        conn.commit()

    def old() -> int:
        with database.connect("owner") as conn:
            row = conn.execute(
                "SELECT count(*) FROM integration_deliveries"
                " WHERE integration_id = %s AND delivery_id LIKE 'old-%%'",
                (repo["id"],),
            ).fetchone()
        return int(row[0])

    ticket = _ticket(client, org)
    event = _issue_event(11, f"see {ticket['number']}")
    assert _deliver(client, repo, "issues", event).json()["duplicate"] is False
    assert old() == 30  # one batch of 100 went
    assert _deliver(client, repo, "issues", event).json()["duplicate"] is False
    assert old() == 0
    replay = _deliver(client, repo, "issues", event, delivery="recent-1")
    assert replay.status_code == 202 and replay.json()["duplicate"] is True


def test_unknown_tickets_and_unhandled_events_write_nothing(client, org, repo, database):
    before = _deliveries(database, repo["id"])
    unknown = _deliver(client, repo, "issues", _issue_event(10, "about TCK-1999-000001 and XX-1"))
    assert unknown.status_code == 202 and unknown.json()["linked"] == []
    assert "no ticket" in unknown.json()["reason"]
    ping = _deliver(client, repo, "ping", {"zen": "Keep it logically awesome."})
    assert ping.status_code == 202 and "not handled" in ping.json()["reason"]
    assert _deliveries(database, repo["id"]) == before


def test_bad_input_after_a_good_signature_is_named(client, org, repo):
    malformed = b"{not json"
    signed = (
        "sha256=" + hmac.new(repo["webhook_secret"].encode(), malformed, hashlib.sha256).hexdigest()
    )
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signed,
    }
    url = f"/v1/hooks/github/{repo['id']}"
    answer = client.post(url, content=malformed, headers=headers)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "body"
    no_number = _deliver(client, repo, "issues", {"action": "opened", "issue": {"title": "x"}})
    assert no_number.status_code == 422
    assert no_number.json()["errors"][0]["field"] == "body.number"
    no_delivery = dict(headers, **{"X-GitHub-Delivery": ""})
    body = json.dumps(_issue_event(1, "")).encode()
    no_delivery["X-Hub-Signature-256"] = (
        "sha256=" + hmac.new(repo["webhook_secret"].encode(), body, hashlib.sha256).hexdigest()
    )
    answer = client.post(url, content=body, headers=no_delivery)
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "X-GitHub-Delivery"


def test_an_oversized_body_is_refused_before_it_is_read(client, repo):
    body = b"{" + b" " * 70000 + b"}"
    answer = client.post(
        f"/v1/hooks/github/{repo['id']}",
        content=body,
        headers={"X-Hub-Signature-256": "sha256=00", "X-GitHub-Event": "issues"},
    )
    assert answer.status_code == 413, answer.text


def test_unknown_or_disabled_integrations_answer_404(client, org):
    answer = client.post(
        f"/v1/hooks/github/{uuid.uuid4()}",
        content=b"{}",
        headers={"X-Hub-Signature-256": "sha256=00"},
    )
    assert answer.status_code == 404
    made = client.post(
        "/v1/integrations",
        headers=org.admin.headers,
        json={
            "kind": "github",
            "name": "Disabled",
            "enabled": False,
            "github": {"owner": "acme", "repo": "old", "token": "t"},
        },
    ).json()
    answer = _deliver(client, made, "issues", _issue_event(1, ""))
    assert answer.status_code == 404


def test_a_merged_pull_request_moves_the_ticket_when_configured(client, org, repo):
    ticket = _ticket(client, org)
    payload = {
        "action": "closed",
        "pull_request": {
            "number": 31,
            "title": f"Fix {ticket['number']}",
            "body": "",
            "merged": True,
            "html_url": "https://github.com/acme/platform/pull/31",
        },
    }
    answer = _deliver(client, repo, "pull_request", payload)
    assert answer.json()["linked"] == [ticket["number"]]
    shown = client.get(f"/v1/tickets/{ticket['id']}", headers=org.members["agent"].headers)
    assert shown.json()["status"] == "resolved"
    (link,) = _links(client, org.members["agent"], ticket["id"])
    assert link["kind"] == "github_pull_request"


def test_creating_an_issue_goes_through_the_consumer_with_retries(
    client, org, repo, queues, github
):
    path = "/repos/acme/platform/issues"
    github.answer(
        path,
        lambda request: (
            201,
            {"number": 101, "html_url": "https://github.com/acme/platform/issues/101"},
        ),
    )
    github.fail(path, 1)
    ticket = _ticket(client, org, "Printer on fire")
    answer = client.post(
        f"/v1/tickets/{ticket['id']}/github-issue",
        headers=org.members["agent"].headers,
        json={"integration_id": repo["id"]},
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "pending"
    queue = queues["integrations"]
    done, failed = _consume(queue)
    assert failed == 1  # GitHub answered 502: SQS delivers it again
    for _ in range(10):
        done, failed = _consume(queue)
        if done:
            break
    assert failed == 0
    calls = github.at(path)
    assert len(calls) == 2
    assert calls[-1]["headers"]["Authorization"] == "Bearer ghp_secret_token"
    assert calls[-1]["body"]["title"] == f"{ticket['number']}: Printer on fire"
    assert ticket["number"] in calls[-1]["body"]["body"]
    (link,) = _links(client, org.members["agent"], ticket["id"])
    assert (link["status"], link["external_id"]) == ("linked", "101")
    events = _timeline(client, org.members["agent"], ticket["id"])
    assert any(e["type"] == "github_issue_created" for e in events)
    # Delivered again (at least once): nothing is created twice.
    assert _consume(queue) == (0, 0)
    assert len(github.at(path)) == 2


def test_the_consumer_answers_the_sample_sqs_event_once(
    client, org, repo, queues, github, database
):
    """events/sqs_integrations_github_issue_requested.json, its body the real outbox row as
    the publisher encodes it, straight into the handler (as Lambda's event source mapping)."""
    from local.scheduler import LambdaContext
    from tests.events import outbox_rows, sqs_sample

    path = "/repos/acme/platform/issues"
    github.answer(
        path,
        lambda request: (
            201,
            {"number": 102, "html_url": "https://github.com/acme/platform/issues/102"},
        ),
    )
    before = len(github.at(path))
    ticket = _ticket(client, org, "Sample event")
    answer = client.post(
        f"/v1/tickets/{ticket['id']}/github-issue",
        headers=org.members["agent"].headers,
        json={"integration_id": repo["id"]},
    )
    assert answer.status_code == 202, answer.text
    rows = outbox_rows(
        database,
        "tenant_id = %s AND event_type = 'integration.github.issue_requested'"
        " AND payload->>'ticket_id' = %s",
        org.tenant_id,
        ticket["id"],
    )
    assert len(rows) == 1
    handler = load_function("integrations_consumer").lambda_handler
    event = sqs_sample("sqs_integrations_github_issue_requested", rows)
    for _ in range(2):  # delivered twice, created once
        assert handler(event, LambdaContext("integrations_consumer")) == {"batchItemFailures": []}
    while _consume(queues["integrations"]) != (0, 0):  # the published copy: already done
        pass
    assert len(github.at(path)) == before + 1
    (link,) = _links(client, org.members["agent"], ticket["id"])
    assert (link["status"], link["external_id"]) == ("linked", "102")


def test_roles_and_tenant_isolation(client, org, repo):
    other = make_tenant(client, roles=("agent",))
    agent = org.members["agent"]
    assert client.get("/v1/integrations", headers=agent.headers).status_code == 403
    assert (
        client.get("/v1/integrations", headers=org.members["requester"].headers).status_code == 403
    )
    for method, path in (
        ("GET", f"/v1/integrations/{repo['id']}"),
        ("PATCH", f"/v1/integrations/{repo['id']}"),
        ("DELETE", f"/v1/integrations/{repo['id']}"),
    ):
        answer = client.request(
            method,
            path,
            headers={**other.admin.headers, "If-Match": '"1"'},
            json={"name": "x"} if method == "PATCH" else None,
        )
        assert answer.status_code == 404, (method, path, answer.text)
    assert client.get("/v1/integrations", headers=other.admin.headers).json()["items"] == []
    theirs = _ticket(client, other, "Theirs")
    answer = client.post(
        f"/v1/tickets/{theirs['id']}/github-issue",
        headers=other.members["agent"].headers,
        json={"integration_id": repo["id"]},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "integration_id"
    # A's ticket is not B's to link.
    mine = _ticket(client, org)
    answer = client.post(
        f"/v1/tickets/{mine['id']}/github-issue",
        headers=other.members["agent"].headers,
        json={"integration_id": repo["id"]},
    )
    assert answer.status_code == 404
    # A delivery to A's integration naming B's ticket's number reaches A's ticket of that
    # number (numbers are per organisation), never B's.
    _deliver(client, repo, "issues", _issue_event(55, theirs["number"]))
    assert _links(client, other.members["agent"], theirs["id"]) == []


def test_admins_change_and_disconnect(client, org):
    made = client.post(
        "/v1/integrations",
        headers=org.admin.headers,
        json={
            "kind": "github",
            "name": "Temp",
            "github": {"owner": "a", "repo": "b", "token": "t"},
        },
    ).json()
    changed = client.patch(
        f"/v1/integrations/{made['id']}",
        headers=org.admin.headers,
        json={
            "enabled": False,
            "github": {"pr_merged_status": "closed", "token": "new"},
            "version": 1,
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["enabled"] is False
    assert changed.json()["config"]["pr_merged_status"] == "closed"
    wrong = client.patch(
        f"/v1/integrations/{made['id']}",
        headers=org.admin.headers,
        json={"slack": {"default_channel": "C1"}, "version": 2},
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "slack"
    bad_url = client.post(
        "/v1/integrations",
        headers=org.admin.headers,
        json={
            "kind": "github",
            "name": "Bad",
            "github": {"owner": "a", "repo": "b", "token": "t", "api_url": "ftp://x.example"},
        },
    )
    assert bad_url.status_code == 422 and bad_url.json()["errors"][0]["field"] == "github.api_url"
    mismatch = client.post(
        "/v1/integrations",
        headers=org.admin.headers,
        json={"kind": "slack", "name": "S", "github": {"owner": "a", "repo": "b", "token": "t"}},
    )
    assert mismatch.status_code == 422
    gone = client.delete(f"/v1/integrations/{made['id']}", headers=org.admin.headers)
    assert gone.status_code == 204
    assert (
        client.get(f"/v1/integrations/{made['id']}", headers=org.admin.headers).status_code == 404
    )
