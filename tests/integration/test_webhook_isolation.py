"""Webhook URLs are parsed strictly on every route that takes one, and at delivery one broken
endpoint never affects another's: real receivers on 127.0.0.1, the emulator's SQS."""

from __future__ import annotations

import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from local.app import load_function
from local.queues import ensure_queues, poll_once
from servicedesk.platform.aws import reset as reset_aws_clients
from servicedesk.webhooks import delivery
from tests.conftest import make_tenant, reset_caches

# Each is refused in every environment, whatever the SSRF rules allow.
BAD_URLS = [
    "http://127.0.0.1:9/a\x01b",  # control character (the one that broke deliveries)
    "http://127.0.0.1:9/a\x7fb",
    "https://hooks.example.com/a\u0085b",
    "https://hooks.example.com/a b",
    "https://hooks.example.com/\u200bx",  # zero-width space
    "https://hooks.example.com\t/x",
    "https://user:pw@hooks.example.com/x",
    "https://hooks.example.com\\@evil.example/",
    "https://hooks.example.com:0/x",
    "https://hooks.example.com:65536/x",
    "https://hooks.example.com:x/x",
    "https://hooks.example.com/x#frag",
    "https://hooks.example.com/%zz",
    "https://hooks.example.com/caf\u00e9",
    "https://hooks_example.com/",
    "https://-hooks.example.com/",
    "https://0x7f.1/",
    "https:hooks.example.com/x",
    "//hooks.example.com/x",
    "ftp://hooks.example.com/x",
    "https://" + "a" * 2048 + ".com/",
]


def _uri_fields(schema: dict[str, Any], components: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of the properties declared as "format": "uri" in a request body."""
    if "$ref" in schema:
        return _uri_fields(components[schema["$ref"].rsplit("/", 1)[-1]], components, prefix)
    found = []
    if schema.get("format") == "uri":
        found.append(prefix)
    for option in schema.get("anyOf", []) + schema.get("allOf", []):
        found += _uri_fields(option, components, prefix)
    for name, prop in schema.get("properties", {}).items():
        found += _uri_fields(prop, components, f"{prefix}.{name}" if prefix else name)
    return sorted(set(found))


def _url_routes(app: Any) -> list[tuple[str, str, str]]:
    document = app.openapi()
    components = document["components"]["schemas"]
    routes = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                routes += [(method, path, f) for f in _uri_fields(body["schema"], components)]
    return routes


def _nested(field: str, value: str) -> dict[str, Any]:
    head, _, rest = field.partition(".")
    return {head: _nested(rest, value) if rest else value}


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=())


def test_every_route_that_takes_a_url_refuses_bad_ones_naming_the_field(app, client, org):
    routes = _url_routes(app)
    # The walk finds what the API declares; today the two webhook routes.
    assert {("post", "/v1/webhooks"), ("patch", "/v1/webhooks/{webhook_id}")} <= {
        (m, p) for m, p, _ in routes
    }
    for method, path, field in routes:
        url = path.replace("{webhook_id}", str(uuid.uuid4()))
        for bad in BAD_URLS:
            response = client.request(
                method, url, json=_nested(field, bad), headers=org.admin.headers
            )
            assert response.status_code == 422, (method, path, bad, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            named = {e["field"] for e in response.json()["errors"]}
            assert field in named, (method, path, bad, named)
        good = client.request(
            method,
            url,
            json=_nested(field, "https://hooks.example.com/in?x=1"),
            headers=org.admin.headers,
        )
        named = {e["field"] for e in good.json().get("errors", [])}
        assert field not in named, (method, path, good.text)


def test_an_endpoint_can_still_be_created_and_changed_with_a_good_url(client, org, database):
    created = client.post(
        "/v1/webhooks",
        json={"url": "https://b\u00fccher.example/hook?a=%20", "event_types": ["*"]},
        headers=org.admin.headers,
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    bad = client.patch(
        f"/v1/webhooks/{hook['id']}",
        json={"url": "https://hooks.example.com/a\x01b", "version": hook["version"]},
        headers=org.admin.headers,
    )
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["url"]
    with database.connect("owner") as conn:
        stored = conn.execute(
            "SELECT url, version FROM webhook_endpoints WHERE id = %s", (hook["id"],)
        ).fetchone()
    assert stored == ("https://b\u00fccher.example/hook?a=%20", 1)


# --- delivery: one broken endpoint, one good, the same event ------------------------------


class Server:
    """A receiver on 127.0.0.1 that answers 200, or sleeps past the delivery timeout."""

    def __init__(self, *, hang: float = 0.0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.on_request: Any = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests.append({"path": self.path, "headers": dict(self.headers.items())})
                if outer.on_request:
                    outer.on_request(self.path)
                if hang:
                    time.sleep(hang)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                del body

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers():
    good, slow = Server(), Server(hang=3.0)
    yield good, slow
    good.close()
    slow.close()


@pytest.fixture
def webhook_queue(aws_endpoint, database, monkeypatch):
    made = ensure_queues(
        prefix=f"whi{uuid.uuid4().hex[:8]}", visibility_timeout=2, max_receive_count=2
    )
    monkeypatch.setenv("SERVICEDESK_WEBHOOK_QUEUE_URL", made["webhook"].url)
    monkeypatch.setenv("SERVICEDESK_WEBHOOK_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("SERVICEDESK_WEBHOOK_MAX_ATTEMPTS", "2")
    monkeypatch.setattr(delivery, "retry_delay", lambda attempt, **_: 1)
    reset_caches()
    reset_aws_clients()
    yield made["webhook"]
    monkeypatch.undo()
    reset_caches()
    reset_aws_clients()


def _hook(client, org, url: str) -> dict[str, Any]:
    response = client.post(
        "/v1/webhooks",
        json={"url": url, "event_types": ["ticket.created"]},
        headers=org.admin.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _log(client, org, hook_id: str) -> list[tuple[int, bool, str | None]]:
    items = client.get(f"/v1/webhooks/{hook_id}/deliveries", headers=org.admin.headers).json()
    return sorted((d["attempt"], d["success"], d["error"]) for d in items["items"])


def test_a_broken_endpoint_never_fails_or_repeats_the_good_ones(
    client, database, webhook_queue, servers
):
    org = make_tenant(client, roles=())
    good, slow = servers
    consumer = load_function("webhook_consumer").lambda_handler
    bad_url = _hook(client, org, f"{good.url}/bad")  # made bad below, as old data would be
    good_hook = _hook(client, org, f"{good.url}/good")
    slow_hook = _hook(client, org, f"{slow.url}/slow")
    with database.connect("owner") as conn:
        # Stored before URLs were parsed strictly: a control character in the path.
        conn.execute(
            "UPDATE webhook_endpoints SET url = %s WHERE id = %s",
            (f"{good.url}/bad\x01path", bad_url["id"]),
        )
        conn.commit()

    created = client.post("/v1/tickets", json={"title": "Isolation"}, headers=org.admin.headers)
    assert created.status_code == 201, created.text
    # The event's record succeeds: nothing about it is retried by SQS.
    assert poll_once(webhook_queue, consumer, wait_seconds=1) == (1, 0)
    # Then only the broken endpoints' own retry messages arrive, after their delay.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        done, failed = poll_once(webhook_queue, consumer, wait_seconds=1)
        assert failed == 0
        if done == 0 and len(slow.requests) >= 2:
            break

    good_posts = [r for r in good.requests if r["path"] == "/good"]
    assert len(good_posts) == 1, "the good endpoint gets the event exactly once"
    assert [r["path"] for r in good.requests] == ["/good"], "the bad URL is never requested"
    assert len(slow.requests) == 2  # attempt 1 and its one retry (max attempts 2)
    assert _log(client, org, good_hook["id"]) == [(1, True, None)]
    bad_log = _log(client, org, bad_url["id"])
    assert [(a, ok) for a, ok, _ in bad_log] == [(1, False), (2, False)]
    assert all(e and e.startswith("refused: must not contain") for _, _, e in bad_log)
    slow_log = _log(client, org, slow_hook["id"])
    assert [(a, ok) for a, ok, _ in slow_log] == [(1, False), (2, False)]
    assert all(e and "Timeout" in e for _, _, e in slow_log)
    sqs = boto3.client("sqs")
    left = sqs.get_queue_attributes(
        QueueUrl=webhook_queue.dlq_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert left == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }, "nothing reaches the DLQ because of a broken endpoint"


def test_an_endpoint_deleted_while_its_post_is_in_flight_affects_no_other(
    client, database, webhook_queue, servers
):
    org = make_tenant(client, roles=())
    good, _ = servers
    consumer = load_function("webhook_consumer").lambda_handler
    first = _hook(client, org, f"{good.url}/first")
    second = _hook(client, org, f"{good.url}/second")

    def delete_first(path: str) -> None:
        if path == "/first":  # the admin deletes it while we are posting to it
            with database.connect("owner") as conn:
                conn.execute("DELETE FROM webhook_endpoints WHERE id = %s", (first["id"],))
                conn.commit()

    good.on_request = delete_first
    created = client.post("/v1/tickets", json={"title": "Vanishing"}, headers=org.admin.headers)
    assert created.status_code == 201, created.text
    assert poll_once(webhook_queue, consumer, wait_seconds=1) == (1, 0)
    assert poll_once(webhook_queue, consumer, wait_seconds=2) == (0, 0)
    assert sorted(r["path"] for r in good.requests) == ["/first", "/second"]
    assert _log(client, org, second["id"]) == [(1, True, None)]
