"""Webhooks end to end: signed deliveries over the emulator's SQS to a local receiver, checked
with the recipe printed in docs/webhooks.md; retries, disabling, the log, SSRF rules, and the
inbound hooks (verified before any database read)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from local.app import load_function
from local.aws import free_port
from local.queues import Queue, ensure_queues, poll_once, sqs_event
from local.scheduler import LambdaContext
from servicedesk.platform import aws, publisher
from servicedesk.platform.aws import reset as reset_aws_clients
from servicedesk.platform.config import Settings, get_settings
from servicedesk.webhooks import delivery, inbound, signing, ssrf
from tests.conftest import TenantFixture, make_tenant, reset_caches
from tests.webhook_docs import recipe_verify

HOOK_SECRET = "inbound-test-secret-" + uuid.uuid4().hex


# --- a receiver on 127.0.0.1 --------------------------------------------------------------


class Receiver:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status: dict[str, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                )
                status = receiver.status.get(self.path, 200)
                payload = b"x" * 2000 if status >= 500 else b"ok"
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


@pytest.fixture(scope="module")
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(scope="module")
def queue(aws_endpoint, database) -> Any:
    made = ensure_queues(prefix=f"wh{uuid.uuid4().hex[:8]}", visibility_timeout=2)
    mp = pytest.MonkeyPatch()
    mp.setenv("SERVICEDESK_WEBHOOK_QUEUE_URL", made["webhook"].url)
    reset_caches()
    reset_aws_clients()
    yield made["webhook"]
    mp.undo()
    reset_caches()


@pytest.fixture(scope="module")
def consumer():
    return load_function("webhook_consumer").lambda_handler


@pytest.fixture
def org(client) -> TenantFixture:
    return make_tenant(client, roles=())


def _drain(queue: Queue, handler: Any, rounds: int = 20) -> int:
    total = 0
    for _ in range(rounds):
        done, failed = poll_once(queue, handler)
        assert failed == 0
        if done == 0:
            return total
        total += done
    return total


def _hook(client, org, url: str, types: list[str] | None = None, **headers: str) -> Any:
    response = client.post(
        "/v1/webhooks",
        json={"url": url, "event_types": types or ["ticket.created"]},
        headers={**org.admin.headers, **headers},
    )
    assert response.status_code == 201, response.text
    return response.json()


def _ticket(client, org, title: str = "Printer on fire") -> dict[str, Any]:
    response = client.post("/v1/tickets", json={"title": title}, headers=org.admin.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _deliveries(client, org, hook_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/webhooks/{hook_id}/deliveries", headers=org.admin.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _owner(database, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with database.connect("owner") as conn:
        return list(conn.execute(sql, params).fetchall())


# --- signatures ---------------------------------------------------------------------------


def test_a_delivery_verifies_with_the_documented_recipe(client, org, queue, consumer, receiver):
    hook = _hook(client, org, receiver.url(f"/recipe/{org.slug}"))
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) == 6 + 64
    shown = client.get(f"/v1/webhooks/{hook['id']}", headers=org.admin.headers)
    assert shown.status_code == 200 and "secret" not in shown.json()
    assert shown.headers["ETag"] == '"1"'

    ticket = _ticket(client, org)
    _drain(queue, consumer)

    [request] = receiver.at(f"/recipe/{org.slug}")
    headers = request["headers"]
    assert recipe_verify(hook["secret"], headers["Servicedesk-Signature"], request["body"])
    assert not recipe_verify("whsec_other", headers["Servicedesk-Signature"], request["body"])
    body = json.loads(request["body"])
    assert headers["Servicedesk-Event-Type"] == body["type"] == "ticket.created"
    assert headers["Servicedesk-Event-Id"] == body["id"]
    assert int(headers["Servicedesk-Seq"]) == body["seq"] > 0
    assert body["data"]["ticket_id"] == ticket["id"] and body["tenant_id"] == org.tenant_id

    [logged] = _deliveries(client, org, hook["id"])
    assert logged["success"] and logged["status_code"] == 200 and logged["attempt"] == 1
    assert logged["trigger"] == "event" and logged["response_snippet"] == "ok"
    assert logged["event_id"] == body["id"] and logged["latency_ms"] >= 0


def test_a_redelivered_message_posts_once(client, org, queue, consumer, receiver):
    path = f"/once/{org.slug}"
    _hook(client, org, receiver.url(path))
    _ticket(client, org)
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=1)[
        "Messages"
    ]
    event = sqs_event(messages, queue.arn)
    for _ in range(2):  # SQS delivers at least once: the same message again
        consumer(event, LambdaContext("webhook_consumer"))
    for m in messages:
        sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=m["ReceiptHandle"])
    assert len(receiver.at(path)) == 1


def test_a_failing_endpoint_alone_is_retried_later_by_a_delayed_message(
    client, org, queue, consumer, receiver, monkeypatch
):
    good, bad = f"/good/{org.slug}", f"/bad/{org.slug}"
    receiver.status[bad] = 503
    _hook(client, org, receiver.url(good))
    failing = _hook(client, org, receiver.url(bad))
    delays: list[int] = []
    real_send = aws.sqs().send_message

    def spy(**kwargs: Any) -> Any:
        delays.append(kwargs["DelaySeconds"])
        return real_send(**kwargs)

    monkeypatch.setattr(aws.sqs(), "send_message", spy)
    monkeypatch.setattr(delivery, "retry_delay", lambda attempt, **_: 2)

    _ticket(client, org)
    assert poll_once(queue, consumer, wait_seconds=1) == (1, 0)
    assert len(receiver.at(good)) == 1 and len(receiver.at(bad)) == 1
    assert delays == [2]
    # The retry is on the queue but not visible before its delay.
    assert poll_once(queue, consumer) == (0, 0)
    time.sleep(2.2)
    receiver.status[bad] = 200
    assert poll_once(queue, consumer, wait_seconds=1) == (1, 0)

    assert len(receiver.at(good)) == 1, "the healthy endpoint is not posted to again"
    first, second = receiver.at(bad)
    assert first["headers"]["Servicedesk-Event-Id"] == second["headers"]["Servicedesk-Event-Id"]
    assert first["body"] == second["body"]
    assert recipe_verify(
        failing["secret"], second["headers"]["Servicedesk-Signature"], second["body"]
    )
    log = _deliveries(client, org, failing["id"])
    assert [(d["attempt"], d["trigger"], d["success"]) for d in log] == [
        (2, "retry", True),
        (1, "event", False),
    ]
    assert log[1]["status_code"] == 503 and log[1]["retry_in_seconds"] == 2
    assert len(log[1]["response_snippet"]) == 500  # capped
    shown = client.get(f"/v1/webhooks/{failing['id']}", headers=org.admin.headers).json()
    assert shown["consecutive_failures"] == 0 and shown["active"]


def test_an_endpoint_failing_n_times_in_a_row_is_disabled_and_admins_told(
    client, org, queue, consumer, receiver, database, monkeypatch
):
    settings = get_settings()
    disable_after = getattr(settings, "webhook_disable_after", 10)
    max_attempts = getattr(settings, "webhook_max_attempts", 8)
    path = f"/down/{org.slug}"
    receiver.status[path] = 500
    hook = _hook(client, org, receiver.url(path))
    monkeypatch.setattr(delivery, "retry_delay", lambda attempt, **_: 0)
    for n in range(disable_after // max_attempts + 1):
        _ticket(client, org, f"Outage {n}")
    _drain(queue, consumer, rounds=60)

    assert len(receiver.at(path)) == disable_after
    shown = client.get(f"/v1/webhooks/{hook['id']}", headers=org.admin.headers).json()
    assert shown["active"] is False and shown["disabled_at"] is not None
    assert shown["consecutive_failures"] == disable_after
    assert str(disable_after) in shown["disabled_reason"]
    events = _owner(
        database,
        "SELECT payload FROM outbox WHERE tenant_id = %s AND event_type = 'webhook.disabled'",
        org.tenant_id,
    )
    assert len(events) == 1 and events[0][0]["webhook_id"] == hook["id"]
    assert events[0][0]["consecutive_failures"] == disable_after

    # Re-enabling starts a fresh streak (and needs the version).
    enabled = client.patch(
        f"/v1/webhooks/{hook['id']}",
        json={"active": True},
        headers={**org.admin.headers, "If-Match": f'"{shown["version"]}"'},
    )
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["active"] and enabled.json()["consecutive_failures"] == 0


def test_ping_and_redeliver_post_now_and_log_the_delivery(client, org, receiver):
    path = f"/ping/{org.slug}"
    hook = _hook(client, org, receiver.url(path))
    ping = client.post(f"/v1/webhooks/{hook['id']}/ping", headers=org.admin.headers)
    assert ping.status_code == 200, ping.text
    row = ping.json()
    assert row["trigger"] == "ping" and row["success"] and row["status_code"] == 200
    [request] = receiver.at(path)
    assert request["headers"]["Servicedesk-Event-Type"] == "webhook.ping"
    assert request["headers"]["Servicedesk-Seq"] == "0"
    assert recipe_verify(
        hook["secret"], request["headers"]["Servicedesk-Signature"], request["body"]
    )

    again = client.post(
        f"/v1/webhooks/{hook['id']}/deliveries/{row['id']}/redeliver", headers=org.admin.headers
    )
    assert again.status_code == 200, again.text
    assert again.json()["trigger"] == "redeliver" and again.json()["event_id"] == row["event_id"]
    first, second = receiver.at(path)
    assert first["body"] == second["body"]
    missing = client.post(
        f"/v1/webhooks/{hook['id']}/deliveries/{uuid.uuid4()}/redeliver", headers=org.admin.headers
    )
    assert missing.status_code == 404
    assert [d["trigger"] for d in _deliveries(client, org, hook["id"])] == ["redeliver", "ping"]


def test_rotation_signs_with_both_secrets_during_the_grace_period(client, org, receiver):
    path = f"/rotate/{org.slug}"
    hook = _hook(client, org, receiver.url(path))
    rotated = client.post(f"/v1/webhooks/{hook['id']}/rotate-secret", headers=org.admin.headers)
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != hook["secret"]
    assert client.post(f"/v1/webhooks/{hook['id']}/ping", headers=org.admin.headers).json()[
        "success"
    ]
    [request] = receiver.at(path)
    header = request["headers"]["Servicedesk-Signature"]
    assert header.count("v1=") == 2
    for secret in (new_secret, hook["secret"]):
        assert recipe_verify(secret, header, request["body"])


def test_crud_needs_admin_versions_and_replays_idempotent_creates(client, receiver):
    org = make_tenant(client, roles=("agent",))
    url = receiver.url("/crud")
    agent = client.post(
        "/v1/webhooks",
        json={"url": url, "event_types": ["*"]},
        headers=org.members["agent"].headers,
    )
    assert agent.status_code == 403
    key = {"Idempotency-Key": f"wh-{uuid.uuid4().hex}"}
    first = _hook(client, org, url, ["*", "sla.breached", "*"], **key)
    replay = client.post(
        "/v1/webhooks",
        json={"url": url, "event_types": ["*", "sla.breached", "*"]},
        headers={**org.admin.headers, **key},
    )
    assert replay.status_code == 201 and replay.json() == first
    assert first["event_types"] == ["*", "sla.breached"]
    path = f"/v1/webhooks/{first['id']}"
    assert client.patch(path, json={"active": False}, headers=org.admin.headers).status_code == 428
    stale = client.patch(path, json={"active": False, "version": 7}, headers=org.admin.headers)
    assert stale.status_code == 412
    changed = client.patch(
        path,
        json={"event_types": ["comment.public"]},
        headers={**org.admin.headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    listed = client.get("/v1/webhooks?limit=1", headers=org.admin.headers).json()
    assert [h["id"] for h in listed["items"]] == [first["id"]]
    assert all("secret" not in h for h in listed["items"])
    assert client.delete(path, headers=org.admin.headers).status_code == 204
    assert client.get(path, headers=org.admin.headers).status_code == 404


# --- bad input ----------------------------------------------------------------------------


def _problem_fields(response, status: int = 422) -> set[str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"] for e in response.json().get("errors", [])}


def test_unknown_event_types_and_bad_urls_are_refused_naming_the_field(client, org, database):
    bad_type = client.post(
        "/v1/webhooks",
        json={
            "url": "https://hooks.example.com/x",
            "event_types": ["ticket.created", "ticket.eaten"],
        },
        headers=org.admin.headers,
    )
    assert _problem_fields(bad_type) == {"event_types.1"}
    for url in ("ftp://example.com/x", "https://" + "a" * 2048 + ".com/", "https://u:p@x.com/"):
        response = client.post(
            "/v1/webhooks",
            json={"url": url, "event_types": ["*"]},
            headers=org.admin.headers,
        )
        assert _problem_fields(response) == {"url"}, url
    assert _owner(
        database, "SELECT count(*) FROM webhook_endpoints WHERE tenant_id = %s", org.tenant_id
    ) == [(0,)]


@pytest.fixture
def prod(monkeypatch):
    monkeypatch.setenv("SERVICEDESK_ENVIRONMENT", "prod")
    reset_caches()
    assert not ssrf.allow_local(get_settings())
    yield
    monkeypatch.undo()
    reset_caches()


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/x",
        "https://169.254.169.254/",
        "https://localhost/",
        "http://example.com",
        "https://[::1]/",
        "https://0.0.0.0/",
        "https://[fd00::1]/",
        "https://[::ffff:192.168.1.1]/",
        "http://127.0.0.1:8080/",
    ],
)
def test_ssrf_targets_are_refused_at_creation_outside_dev(client, org, database, prod, url):
    response = client.post(
        "/v1/webhooks", json={"url": url, "event_types": ["*"]}, headers=org.admin.headers
    )
    assert _problem_fields(response) == {"url"}, url
    assert _owner(
        database, "SELECT count(*) FROM webhook_endpoints WHERE tenant_id = %s", org.tenant_id
    ) == [(0,)]


def test_the_ssrf_check_runs_again_at_delivery_time(client, org, receiver, monkeypatch):
    path = f"/rebound/{org.slug}"
    hook = _hook(client, org, receiver.url(path))  # fine in the test environment
    monkeypatch.setenv("SERVICEDESK_ENVIRONMENT", "prod")
    reset_caches()
    try:
        row = client.post(f"/v1/webhooks/{hook['id']}/ping", headers=org.admin.headers).json()
    finally:
        monkeypatch.undo()
        reset_caches()
    assert row["success"] is False and row["status_code"] is None
    assert row["error"].startswith("refused:")
    assert receiver.at(path) == []


# --- inbound hooks ------------------------------------------------------------------------


@pytest.fixture
def hook_secret(monkeypatch):
    monkeypatch.setenv("SERVICEDESK_INBOUND_HOOK_SECRET", HOOK_SECRET)
    reset_caches()
    if "inbound_hook_secret" not in Settings.model_fields:  # until config.py declares it
        monkeypatch.setattr(inbound, "_secret", lambda settings: HOOK_SECRET)
    yield HOOK_SECRET
    monkeypatch.undo()
    reset_caches()


def _signed(body: bytes, secret: str = HOOK_SECRET, at: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if at is None else at)
    return {
        "Servicedesk-Signature": signing.sign([secret], timestamp, body),
        "Content-Type": "application/json",
    }


def _bounce(org, external_id: str, address: str, kind: str = "bounce", **extra: Any) -> bytes:
    body = {
        "id": external_id,
        "type": kind,
        "tenant_id": org.tenant_id,
        "recipients": [address],
        **extra,
    }
    return json.dumps(body).encode()


@pytest.fixture
def no_database(monkeypatch, hook_secret):
    """The database is unreachable: any read would fail with a 500."""
    monkeypatch.setenv(
        "SERVICEDESK_DATABASE_URL", f"postgresql+psycopg://nobody:x@127.0.0.1:{free_port()}/none"
    )
    reset_caches()
    yield


def test_inbound_hooks_refuse_bad_signatures_before_any_database_read(client, org, no_database):
    body = _bounce(org, f"ext-{uuid.uuid4()}", "gone@example.com")
    cases = {
        "missing": {"Content-Type": "application/json"},
        "wrong secret": _signed(body, secret="not-the-secret"),
        "stale": _signed(body, at=time.time() - 900),
        "future": _signed(
            body, at=time.time() + 900
        ),  # far past the 300 s tolerance, however slow the run
        "garbage": {"Servicedesk-Signature": "t=abc,v1=zz"},
        "other body": _signed(body + b" "),
    }
    for name, headers in cases.items():
        response = client.post("/v1/hooks/generic", content=body, headers=headers)
        assert response.status_code == 401, name
        assert response.headers["content-type"] == "application/problem+json"
    big = b"{" + b" " * (inbound.MAX_BYTES + 1) + b"}"
    assert client.post("/v1/hooks/generic", content=big, headers=_signed(big)).status_code == 413
    huge = b" " * (get_settings().max_body_bytes + 1)
    assert client.post("/v1/hooks/ses", content=huge).status_code == 413
    assert client.post("/v1/hooks/mailgun", content=body, headers=_signed(body)).status_code == 404
    # Control: a valid signature does reach the (unreachable) database.
    assert client.post("/v1/hooks/generic", content=body, headers=_signed(body)).status_code == 500


def test_a_duplicate_inbound_notification_makes_one_outbox_event_and_suppresses_once(
    client, org, database, hook_secret, queue, consumer, monkeypatch
):
    monkeypatch.setitem(publisher.ROUTES, "email.", ("webhook",))
    external = f"ext-{uuid.uuid4()}"
    address = f"Gone-{uuid.uuid4().hex[:6]}@Example.com"
    body = _bounce(org, external, address, detail="550 5.1.1 no such user")
    first = client.post("/v1/hooks/generic", content=body, headers=_signed(body))
    assert first.status_code == 202 and first.json() == {"accepted": 1, "duplicates": 0}
    again = client.post("/v1/hooks/generic", content=body, headers=_signed(body))
    assert again.status_code == 202 and again.json() == {"accepted": 0, "duplicates": 1}
    rows = _owner(
        database,
        "SELECT event_type, payload FROM outbox WHERE aggregate_type = 'email' AND aggregate_id = %s",
        external,
    )
    assert [r[0] for r in rows] == ["email.bounced"]
    assert rows[0][1]["permanent"] is True

    _drain(queue, consumer)
    assert _owner(
        database, "SELECT reason FROM email_suppressions WHERE address = %s", address.lower()
    ) == [("bounce",)]


def test_transient_bounces_suppress_nothing_and_complaints_do(
    client, org, database, hook_secret, queue, consumer, monkeypatch
):
    monkeypatch.setitem(publisher.ROUTES, "email.", ("webhook",))
    soft = f"soft-{uuid.uuid4().hex[:6]}@example.com"
    body = _bounce(org, f"ext-{uuid.uuid4()}", soft, bounce_type="transient")
    assert client.post("/v1/hooks/generic", content=body, headers=_signed(body)).status_code == 202
    angry = f"angry-{uuid.uuid4().hex[:6]}@example.com"
    body = _bounce(org, f"ext-{uuid.uuid4()}", angry, kind="complaint")
    assert client.post("/v1/hooks/generic", content=body, headers=_signed(body)).status_code == 202
    _drain(queue, consumer)
    found = _owner(
        database,
        "SELECT address, reason FROM email_suppressions WHERE address IN (%s, %s)",
        soft,
        angry,
    )
    assert found == [(angry, "complaint")]


def _sns(org, message_id: str, address: str, *, tagged: bool = True) -> bytes:
    tags = {inbound.SES_TENANT_TAG: [org.tenant_id]} if tagged else {}
    message = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": address}],
        },
        "mail": {"messageId": "ses-1", "tags": tags},
    }
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": "arn:aws:sns:us-east-1:000000000000:ses-events",
            "Message": json.dumps(message),
        }
    ).encode()


def test_ses_notifications_relayed_with_our_signature_are_accepted(
    client, org, database, hook_secret
):
    message_id = str(uuid.uuid4())
    address = f"ses-{uuid.uuid4().hex[:6]}@example.com"
    body = _sns(org, message_id, address)
    response = client.post("/v1/hooks/ses", content=body, headers=_signed(body))
    assert response.status_code == 202 and response.json()["accepted"] == 1
    [(payload,)] = _owner(
        database, "SELECT payload FROM outbox WHERE aggregate_id = %s", message_id
    )
    assert payload["recipients"] == [address] and payload["provider"] == "ses"
    untagged = _sns(org, str(uuid.uuid4()), address, tagged=False)
    refused = client.post("/v1/hooks/ses", content=untagged, headers=_signed(untagged))
    assert _problem_fields(refused) == {f"Message.mail.tags.{inbound.SES_TENANT_TAG}"}
    # An SNS signature alone (no HMAC of ours) is not accepted.
    assert client.post("/v1/hooks/ses", content=body).status_code == 401


def test_inbound_hooks_for_an_unknown_tenant_or_malformed_are_422_and_write_nothing(
    client, database, hook_secret
):
    external = f"ext-{uuid.uuid4()}"
    body = json.dumps(
        {"id": external, "type": "bounce", "tenant_id": str(uuid.uuid4()), "recipients": ["a@b.co"]}
    ).encode()
    response = client.post("/v1/hooks/generic", content=body, headers=_signed(body))
    assert _problem_fields(response) == {"tenant_id"}
    assert _owner(
        database, "SELECT count(*) FROM inbound_hook_events WHERE external_id = %s", external
    ) == [(0,)]
    bad = b'{"id": "x", "type": "bounce"}'
    assert "recipients" in _problem_fields(
        client.post("/v1/hooks/generic", content=bad, headers=_signed(bad))
    )


def test_the_consumer_answers_the_sample_sqs_event_once(
    client, org, queue, consumer, receiver, database
):
    """events/sqs_webhook_ticket_created.json, its body the real outbox row as the
    publisher encodes it, straight into the handler (as Lambda's event source mapping)."""
    from tests.events import outbox_rows, sqs_sample

    path = f"/sample/{org.slug}"
    _hook(client, org, receiver.url(path))
    ticket = _ticket(client, org)
    rows = outbox_rows(
        database,
        "tenant_id = %s AND event_type = 'ticket.created' AND aggregate_id = %s",
        org.tenant_id,
        ticket["id"],
    )
    event = sqs_sample("sqs_webhook_ticket_created", rows)
    for _ in range(2):  # delivered twice, posted once
        result = consumer(event, LambdaContext("webhook_consumer"))
        assert result == {"batchItemFailures": []}
    _drain(queue, consumer)  # the published copy of the same event: already delivered

    (posted,) = receiver.at(path)
    assert json.loads(posted["body"])["id"] == str(rows[0].id)
