"""Breached passwords (issue 21 point 7): every new password is checked against the
k-anonymity range API (a real HTTP server on 127.0.0.1 here, which asserts it only ever
hears a five-character prefix), and against the bundled list when the API is down."""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from local.aws import free_port
from servicedesk.identity import breached
from servicedesk.platform import config
from tests.conftest import PASSWORD, make_tenant, signup
from tests.test_support import accept_latest_invitation, latest_outbox

# Strong-looking, in no list we bundle; the range server below says they leaked.
LEAKED = ["violet-harbour-tractor-91", "Quiet!Mountain!Lantern", "sd-leaked-" + "x7q" * 4]
FRESH = "an-unleaked-passphrase-for-tests-" + uuid.uuid4().hex[:6]
PREFIX = re.compile(r"^/range/[0-9A-F]{5}$")


def _sha1(password: str) -> str:
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


class RangeApi:
    """Speaks ``GET /range/<prefix>`` as Have I Been Pwned does: suffix:count lines, with
    zero-count padding. Records every request line and header set it receives."""

    def __init__(self, leaked: list[str]) -> None:
        self.leaked = [_sha1(p) for p in leaked]
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                api.requests.append(("GET", self.path, dict(self.headers), body))
                if not PREFIX.match(self.path):
                    self.send_response(400)
                    self.end_headers()
                    return
                prefix = self.path.rsplit("/", 1)[1]
                lines = [f"{h[5:]}:{n + 3}" for n, h in enumerate(api.leaked) if h[:5] == prefix]
                # Padding: decoys with a zero count, as Add-Padding asks for.
                lines += [f"{'0' * 30}{n:05X}:0" for n in range(20)]
                payload = "\r\n".join(lines).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_GET  # noqa: N815 - recorded, then refused by the path check

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def only_prefixes_were_sent(self, secrets: list[str]) -> None:
        assert self.requests, "the range API was never asked"
        for method, path, headers, body in self.requests:
            assert method == "GET" and PREFIX.match(path), path
            assert body == b""
            seen = path + " ".join(f"{k}:{v}" for k, v in headers.items())
            for secret in secrets:
                digest = _sha1(secret)
                assert digest[5:] not in seen.upper() and secret not in seen
                assert digest[:6] not in seen.upper()


@pytest.fixture
def range_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[RangeApi]:
    api = RangeApi(LEAKED)
    api.thread.start()
    monkeypatch.setenv("SERVICEDESK_BREACHED_PASSWORDS_API_URL", api.url)
    monkeypatch.setenv("SERVICEDESK_BREACHED_PASSWORDS_TIMEOUT_SECONDS", "2")
    config.get_settings.cache_clear()
    yield api
    api.server.shutdown()
    api.server.server_close()
    monkeypatch.delenv("SERVICEDESK_BREACHED_PASSWORDS_API_URL")
    config.get_settings.cache_clear()


@pytest.fixture
def api_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A port nobody listens on: connection refused, the bundled list decides.
    monkeypatch.setenv("SERVICEDESK_BREACHED_PASSWORDS_API_URL", f"http://127.0.0.1:{free_port()}")
    config.get_settings.cache_clear()
    yield
    monkeypatch.delenv("SERVICEDESK_BREACHED_PASSWORDS_API_URL")
    config.get_settings.cache_clear()


def _refused_naming(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert "breached" in errors[0]["detail"]


def test_the_range_api_decides_and_hears_only_a_five_character_prefix(
    range_api: RangeApi,
) -> None:
    for password in LEAKED:
        assert breached.check(password) == breached.Verdict(True, "range_api")
    assert breached.check(FRESH) == breached.Verdict(False, "range_api")
    # A zero-count padding line is no match, even for the same suffix shape.
    assert all(h["Add-Padding"] == "true" for _, _, h, _ in range_api.requests)
    range_api.only_prefixes_were_sent([*LEAKED, FRESH])


def test_every_new_password_is_refused_when_breached(client: Any, range_api: RangeApi) -> None:
    leaked = LEAKED[0]
    slug = f"t-{uuid.uuid4().hex[:10]}"
    # Sign-up.
    _refused_naming(signup(client, f"a@{slug}.example", slug, password=leaked), "password")
    tenant = make_tenant(client, roles=("agent",))
    agent = tenant.members["agent"]
    # Change (and the current password is not the problem).
    changed = client.post(
        "/v1/me/password",
        json={"current_password": PASSWORD, "new_password": leaked},
        headers=agent.headers,
    )
    _refused_naming(changed, "new_password")
    # An admin's initial password for a new user.
    created = client.post(
        "/v1/users",
        headers=tenant.admin.headers,
        json={"email": f"n@{tenant.slug}.example", "name": "N", "role": "agent",
              "password": leaked},
    )  # fmt: skip
    _refused_naming(created, "password")
    # Reset.
    assert client.post("/v1/auth/password/forgot", json={"email": agent.email}).status_code == 202
    from tests.conftest import current_database

    token = latest_outbox(current_database(), "account.password_reset", agent.email)["token"]
    reset = client.post("/v1/auth/password/reset", json={"token": token, "password": leaked})
    _refused_naming(reset, "password")
    # Invitation accepted with a new account.
    invitee = f"invitee-{uuid.uuid4().hex[:6]}@{tenant.slug}.example"
    invited = client.post(
        "/v1/users/invitations",
        headers=tenant.admin.headers,
        json={"email": invitee, "role": "agent"},
    )
    assert invited.status_code == 201, invited.text
    accepted = accept_latest_invitation(client, tenant, invitee, name="I", password=leaked)
    _refused_naming(accepted, "password")
    # A password that did not leak goes through everywhere.
    ok = accept_latest_invitation(client, tenant, invitee, name="I", password=FRESH)
    assert ok.status_code == 200, ok.text
    range_api.only_prefixes_were_sent([leaked, FRESH, PASSWORD])


def test_the_bundled_list_decides_when_the_api_is_down(client: Any, api_down: None) -> None:
    assert breached.check("password1234") == breached.Verdict(True, "bundled")
    assert breached.check("PASSWORD1234") == breached.Verdict(True, "bundled")
    assert breached.check(LEAKED[0]) == breached.Verdict(False, "bundled")
    # An outage refuses nothing the bundled list lets through (the sign-up goes on).
    slug = f"t-{uuid.uuid4().hex[:10]}"
    assert signup(client, f"a@{slug}.example", slug, password=LEAKED[0]).status_code == 202


def test_an_answer_that_is_not_a_range_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    class Garbage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            payload = b"<html>captive portal</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("SERVICEDESK_BREACHED_PASSWORDS_API_URL", f"http://127.0.0.1:{port}/")
        config.get_settings.cache_clear()
        assert breached.check("password1234") == breached.Verdict(True, "bundled")
        assert breached.check(FRESH).source == "bundled"
    finally:
        server.shutdown()
        server.server_close()
        config.get_settings.cache_clear()


def test_the_api_is_not_asked_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERVICEDESK_BREACHED_PASSWORDS_API_URL", raising=False)
    config.get_settings.cache_clear()
    seen: list[Callable[..., Any]] = []
    monkeypatch.setattr(breached.httpx, "get", lambda *a, **k: seen.append(a) or None)
    assert breached.check(FRESH) == breached.Verdict(False, "bundled")
    assert seen == []
