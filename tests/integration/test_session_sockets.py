"""The WebSocket side of sessions and origins (issue 21 points 6 and 7), over real
sockets on the local gateway: a foreign ``Origin`` is refused at the handshake (cross-site
WebSocket hijacking), the web app's own and a non-browser client (no Origin) are not, and
a revoked session's sockets are forgotten and closed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as ws_connect

from servicedesk.platform import config
from servicedesk.realtime.handlers import normal_origin
from tests.conftest import PASSWORD, login, make_tenant
from tests.integration.test_realtime import (
    Runtime,
    receive,
    registered,
    runtime,  # noqa: F401  (the module's server)
    runtime_database,
    send,
    wait_until,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


def _open(rt: Runtime, token: str, origin: str | None) -> Any:
    return ws_connect(f"{rt.ws_url}?token={token}", open_timeout=10, origin=origin)  # type: ignore[arg-type]


def test_normal_origin() -> None:
    assert normal_origin("HTTPS://Desk.Example.com:443") == "https://desk.example.com"
    assert normal_origin("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert normal_origin("http://[::1]:80") == "http://[::1]"
    for bad in ("null", "", "file://x", "https://a.example/path", "https://u:p@a.example",
                "https://a.example:99999", "ws://a.example"):  # fmt: skip
        assert normal_origin(bad) is None, bad


def test_a_foreign_origin_is_refused_and_the_web_apps_and_no_origin_are_not(
    runtime: Runtime,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = make_tenant(runtime.http, roles=())
    admin = org.admin
    web = config.get_settings().web_origin
    monkeypatch.setenv(
        "SERVICEDESK_WEB_EXTRA_ORIGINS", "https://help.example.org, https://x.example"
    )
    config.get_settings.cache_clear()
    try:
        for origin in ("https://evil.example", "null", "http://127.0.0.1:1", web + ".evil.example",
                       "https://help.example.org.evil.example", "https://desk.example.com"):  # fmt: skip
            with pytest.raises(InvalidStatus) as refused:
                _open(runtime, admin.token, origin)
            assert refused.value.response.status_code == 403, origin
            body = json.loads(refused.value.response.body)
            assert body["errors"][0]["field"] == "Origin"
        assert registered(runtime_database(), admin.user_id) == []
        for origin in (web, web.upper(), "https://help.example.org", "https://x.example:443", None):
            with _open(runtime, admin.token, origin) as ws:
                assert send(ws, {"action": "ping"}) == {"type": "pong"}
    finally:
        config.get_settings.cache_clear()
    # The Origin is checked before the token: a foreign page learns nothing about it.
    with pytest.raises(InvalidStatus) as refused:
        _open(runtime, "not-a-token", "https://evil.example")
    assert refused.value.response.status_code == 403


def test_revoking_a_session_forgets_and_closes_its_sockets_only(
    runtime: Runtime,  # noqa: F811
) -> None:
    org = make_tenant(runtime.http, roles=("agent",))
    agent = org.members["agent"]
    database = runtime_database()
    other = login(runtime.http, agent.email, PASSWORD)
    assert other.status_code == 200, other.text
    other_token = other.json()["access_token"]
    with runtime.socket(agent) as doomed, _open(runtime, other_token, None) as kept:
        assert send(doomed, {"action": "ping"}) == {"type": "pong"}
        assert len(registered(database, agent.user_id)) == 2
        mine = runtime.http.get("/v1/me/sessions", headers=agent.headers).json()
        current = next(s["id"] for s in mine if s["current"])
        # Signed out from the other session: the one the doomed socket was opened with.
        done = runtime.http.delete(
            f"/v1/me/sessions/{current}", headers={"Authorization": f"Bearer {other_token}"}
        )
        assert done.status_code == 204, done.text
        # Forgotten at once: a frame on it is told to reconnect (and the token is refused).
        assert len(registered(database, agent.user_id)) == 1
        assert send(doomed, {"action": "ping"})["code"] == "unauthorized"
        runtime.deliver()
        assert receive(doomed) == {"type": "closing", "reason": "session_revoked"}
        with pytest.raises(ConnectionClosed):
            doomed.recv(timeout=5)
        assert send(kept, {"action": "ping"}) == {"type": "pong"}
    # The revoked session's token cannot open another.
    with pytest.raises(InvalidStatus) as refused:
        runtime.socket(agent)
    assert refused.value.response.status_code == 401
    wait_until(lambda: registered(database, agent.user_id) == [])
