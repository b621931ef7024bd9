"""The assistant's answer streamed over a real WebSocket: uvicorn serving the local gateway
(local/ws.py) in front of the API, a real WebSocket client, the real database, and the
scripted OpenAI-compatible server streaming server-sent events."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from local.app import build_app
from local.aws import free_port
from local.ws import Gateway
from tests.conftest import Actor, TenantFixture, make_tenant, reset_caches
from tests.llm_server import Reply, ScriptedLLM

QUIET = 0.4


class Runtime:
    def __init__(self, base: str, llm: ScriptedLLM) -> None:
        self.base = base
        self.llm = llm
        self.http = httpx.Client(base_url=base, timeout=30)

    def socket(self, actor: Actor) -> ClientConnection:
        url = self.base.replace("http://", "ws://") + f"/ws?token={actor.token}"
        return ws_connect(url, open_timeout=10)


@pytest.fixture(scope="module")
def runtime(database: Any) -> Iterator[Runtime]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with ScriptedLLM() as llm:
        mp = pytest.MonkeyPatch()
        mp.setenv("SERVICEDESK_WEBSOCKET_MANAGEMENT_URL", base)
        mp.setenv("SERVICEDESK_LLM_PROVIDER", "openai")
        mp.setenv("SERVICEDESK_LLM_BASE_URL", llm.base_url)
        mp.setenv("SERVICEDESK_LLM_API_KEY", llm.api_key)
        reset_caches()
        server = uvicorn.Server(
            uvicorn.Config(
                Gateway(build_app()),
                host="127.0.0.1",
                port=port,
                log_level="warning",
                lifespan="off",
            )
        )
        thread = threading.Thread(target=server.run, name="uvicorn-assistant", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        rt = Runtime(base, llm)
        yield rt
        rt.http.close()
        server.should_exit = True
        thread.join(timeout=10)
        mp.undo()
        reset_caches()


@pytest.fixture
def org(runtime: Runtime) -> TenantFixture:
    return make_tenant(runtime.http, roles=("agent", "requester"))


def frames(ws: ClientConnection, until: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        got.append(frame)
        if frame.get("type") == until:
            return got


def test_answer_streams_as_delta_frames_and_done_ends_it(runtime, org):
    requester = org.members["requester"]
    answer = "Restart the VPN client, then sign in again with your new password. " * 3
    runtime.llm.script(
        Reply(text="Let me look. ", tool_calls=[("search_knowledge_base", {"query": "vpn"})]),
        Reply(text=answer.strip()),
    )
    with runtime.socket(requester) as ws, runtime.socket(org.members["agent"]) as staff:
        conversation = runtime.http.post(
            "/v1/assistant/conversations", headers=requester.headers, json={}
        ).json()
        response = runtime.http.post(
            f"/v1/assistant/conversations/{conversation['id']}/messages",
            headers=requester.headers,
            json={"content": "VPN keeps failing"},
        )
        assert response.status_code == 200, response.text
        final = response.json()["message"]
        assert final["content"] == answer.strip()
        got = frames(ws, "assistant.done")
        deltas = [f for f in got if f["type"] == "assistant.delta"]
        assert all(f["conversation_id"] == conversation["id"] for f in got)
        assert len(deltas) >= 2  # streamed in pieces, not sent whole
        assert [f["seq"] for f in deltas] == list(range(1, len(deltas) + 1))
        last_round = max(f["round"] for f in deltas)
        assert last_round == 1
        assert "".join(f["delta"] for f in deltas if f["round"] == last_round) == answer.strip()
        done = got[-1]
        assert done["message_id"] == final["id"] and done["data"]["content"] == answer.strip()
        # The model was asked to stream.
        assert runtime.llm.requests[-1]["stream"] is True
        # Someone else's socket hears nothing of it (then a positive control on it).
        with pytest.raises(TimeoutError):
            staff.recv(timeout=QUIET)
        staff.send(json.dumps({"action": "ping"}))
        assert json.loads(staff.recv(timeout=5))["type"] == "pong"


def test_a_stream_that_breaks_off_ends_in_an_error_frame_and_nothing_is_kept(runtime, org):
    requester = org.members["requester"]
    runtime.llm.script(Reply(text="This answer will never be finished, sorry.", cut_after=3))
    with runtime.socket(requester) as ws:
        response = runtime.http.post(
            "/v1/assistant/conversations", headers=requester.headers, json={"message": "hi"}
        )
        assert response.status_code == 503, response.text
        got = frames(ws, "assistant.error")
        assert got[-1]["status"] == 503
        conversation_id = response.json()["conversation_id"]
        kept = runtime.http.get(
            f"/v1/assistant/conversations/{conversation_id}", headers=requester.headers
        ).json()
        assert [m["role"] for m in kept["messages"]] == ["user"]
