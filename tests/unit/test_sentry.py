"""Optional Sentry (platform/sentry.py): off without a DSN; with one, an ERROR line becomes
an event sent over real HTTP (a receiver on 127.0.0.1 standing in for Sentry), scrubbed
like a log line and tagged with the request's trace id."""

from __future__ import annotations

import gzip
import json
import sys
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from servicedesk.platform import sentry
from servicedesk.platform.app import create_app
from servicedesk.platform.rbac import public
from tests.conftest import reset_caches


class SentryReceiver:
    """Collects the envelopes a Sentry client posts (POST /api/<project>/envelope/)."""

    def __init__(self) -> None:
        self.envelopes: list[list[dict[str, Any]]] = []
        self.got = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    raw = gzip.decompress(raw)
                elif encoding == "deflate":
                    raw = zlib.decompress(raw)
                items = [json.loads(line) for line in raw.splitlines() if line.strip()]
                receiver.envelopes.append(items)
                receiver.got.set()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://publickey@127.0.0.1:{self.server.server_address[1]}/7"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict[str, Any]]:
        return [item for items in self.envelopes for item in items if "exception" in item]


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[SentryReceiver]:
    server = SentryReceiver()
    monkeypatch.setenv("SERVICEDESK_SENTRY_DSN", server.dsn)
    reset_caches()
    sentry.init.cache_clear()
    yield server
    import sentry_sdk

    # No DSN: the client stops sending. Without the defaults' integrations, which would
    # patch the standard library and botocore for the rest of the process.
    sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)
    sentry.init.cache_clear()
    monkeypatch.undo()
    reset_caches()
    server.server.shutdown()
    server.server.server_close()


router = APIRouter(prefix="/v1")


@router.get("/explode", dependencies=[public("test")])
def explode() -> dict[str, str]:
    raise RuntimeError("cannot mail ada@example.org with Bearer eyJhbGci.eyJzdWIi.c2ln")


def test_off_without_a_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERVICEDESK_SENTRY_DSN", raising=False)
    monkeypatch.delenv("SERVICEDESK_SENTRY_DSN_SECRET_ARN", raising=False)
    reset_caches()
    sentry.init.cache_clear()
    try:
        assert sentry.init() is False
    finally:
        sentry.init.cache_clear()


def test_an_unhandled_error_is_reported_scrubbed_and_tagged(receiver: SentryReceiver) -> None:
    assert sentry.init() is True
    assert "sentry_sdk" in sys.modules
    with TestClient(create_app(router), raise_server_exceptions=False) as client:
        response = client.get(
            "/v1/explode",
            headers={
                "Authorization": "Bearer secret-token-value",
                "Cookie": "sd_refresh=cookie-value-9f3",
                "X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
            },
        )
    assert response.status_code == 500
    import sentry_sdk

    sentry_sdk.flush(timeout=5)
    assert receiver.got.wait(5)
    (event,) = receiver.events()
    text = json.dumps(event)
    assert "RuntimeError" in text
    for secret in (
        "ada@example.org",
        "eyJhbGci.eyJzdWIi.c2ln",
        "secret-token-value",
        "cookie-value-9f3",
    ):
        assert secret not in text, secret
    assert event["tags"]["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert "user" not in event and "cookies" not in event.get("request", {})
