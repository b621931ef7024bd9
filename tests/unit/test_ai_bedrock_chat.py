"""The Bedrock Converse chat model against a scripted HTTP server on 127.0.0.1 speaking
Converse's REST/JSON protocol (``POST /model/{modelId}/converse``), reached by boto3
through its endpoint URL: the real client, request signing and response parsing."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

from servicedesk.ai.bedrock_chat import BedrockConverseChat
from servicedesk.ai.chat import ChatError, Message, ToolCall, ToolSpec, get_chat_model
from servicedesk.platform.config import Settings

MODEL = "openai.gpt-oss-20b-1:0"


class ScriptedConverse:
    """Each request takes the next (status, body, delay, headers); requests are kept."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.replies: deque[tuple[int, bytes, float, dict[str, str]]] = deque()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append((unquote(self.path), json.loads(body), dict(self.headers)))
                status, data, delay, headers = outer.replies.popleft()
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reply(self, body: Any, status: int = 200, delay: float = 0.0, **headers: str) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.replies.append((status, data, delay, headers))


@pytest.fixture
def converse() -> Iterator[ScriptedConverse]:
    server = ScriptedConverse()
    yield server
    server.server.shutdown()
    server.server.server_close()


def model(server: ScriptedConverse, timeout: float = 5.0) -> BedrockConverseChat:
    return BedrockConverseChat(
        model=MODEL, timeout=timeout, max_output_tokens=256, endpoint_url=server.url
    )


def answer(*content: dict[str, Any], stop: str = "end_turn") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": list(content)}},
        "stopReason": stop,
        "usage": {"inputTokens": 12, "outputTokens": 5, "totalTokens": 17},
        "metrics": {"latencyMs": 10},
    }


TOOL = ToolSpec(
    "get_ticket_status",
    "A ticket's status",
    {"type": "object", "properties": {"number": {"type": "string"}}},
)


def test_text_answer_with_usage_and_a_signed_request(converse):
    converse.reply(answer({"text": "Hello there"}))
    deltas: list[str] = []
    result = model(converse).complete(
        [Message("system", "Be brief."), Message("user", "Hi")], on_delta=deltas.append
    )
    assert result.content == "Hello there" and result.tool_calls == ()
    assert (result.usage.input_tokens, result.usage.output_tokens) == (12, 5)
    assert deltas == ["Hello there"]
    path, body, headers = converse.requests[0]
    assert path == f"/model/{MODEL}/converse"
    assert body["system"] == [{"text": "Be brief."}]
    assert body["messages"] == [{"role": "user", "content": [{"text": "Hi"}]}]
    assert body["inferenceConfig"] == {"maxTokens": 256}
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 ")
    assert "/bedrock/aws4_request" in headers["Authorization"]


def test_tool_use_round_trip_in_converse_shape(converse):
    converse.reply(
        answer(
            {"text": "Checking."},
            {
                "toolUse": {
                    "toolUseId": "tu-1",
                    "name": "get_ticket_status",
                    "input": {"number": "SD-1"},
                }
            },
            stop="tool_use",
        )
    )
    chat = model(converse)
    first = chat.complete([Message("user", "status of SD-1?")], tools=[TOOL])
    assert first.tool_calls == (ToolCall("tu-1", "get_ticket_status", '{"number": "SD-1"}'),)
    assert first.finish_reason == "tool_use"
    spec = converse.requests[0][1]["toolConfig"]["tools"][0]["toolSpec"]
    assert spec["name"] == "get_ticket_status" and spec["inputSchema"]["json"] == TOOL.parameters

    converse.reply(answer({"text": "It is open."}))
    history = [
        Message("system", "sys"),
        Message("user", "earlier question, never answered"),
        Message("user", "status of SD-1?"),
        Message("assistant", "Checking.", tool_calls=first.tool_calls),
        Message("tool", '{"status": "open"}', tool_call_id="tu-1"),
        Message("tool", '{"error": "not found"}', tool_call_id="tu-2"),
    ]
    assert chat.complete(history, tools=[TOOL]).content == "It is open."
    messages = converse.requests[1][1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]  # alternating
    assert len(messages[0]["content"]) == 2  # the two user messages merged
    assert messages[1]["content"][1]["toolUse"]["input"] == {"number": "SD-1"}
    results = [block["toolResult"] for block in messages[2]["content"]]
    assert results[0] == {"toolUseId": "tu-1", "content": [{"text": '{"status": "open"}'}]}
    assert results[1]["status"] == "error"


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (429, "ThrottlingException", "rate_limited"),
        (500, "InternalServerException", "unavailable"),
        (503, "ServiceUnavailableException", "unavailable"),
        (408, "ModelTimeoutException", "timeout"),
        (400, "ValidationException", "refused"),
        (403, "AccessDeniedException", "refused"),
    ],
)
def test_bedrock_errors_become_chat_errors_of_their_kind(converse, status, code, kind):
    converse.reply({"message": "nope"}, status=status, **{"x-amzn-ErrorType": f"{code}:"})
    with pytest.raises(ChatError) as raised:
        model(converse).complete([Message("user", "Hi")])
    assert raised.value.kind == kind


@pytest.mark.parametrize(
    "body",
    [
        b"<html>proxy error</html>",
        json.dumps({"output": {}}).encode(),
        json.dumps(answer({"toolUse": {"name": "x", "input": {}}})).encode(),  # no id
    ],
    ids=["not-json", "no-message", "tool-use-without-id"],
)
def test_garbage_is_a_garbage_error(converse, body):
    converse.reply(body)
    with pytest.raises(ChatError) as raised:
        model(converse).complete([Message("user", "Hi")])
    assert raised.value.kind == "garbage"


def test_a_slow_model_is_a_timeout(converse):
    converse.reply(answer({"text": "late"}), delay=1.5)
    with pytest.raises(ChatError) as raised:
        model(converse, timeout=0.5).complete([Message("user", "Hi")])
    assert raised.value.kind == "timeout"
    assert len(converse.requests) == 1  # no retry inside


def test_bedrock_is_chosen_by_configuration(converse):
    settings = Settings(llm_provider="bedrock", llm_model=MODEL, llm_base_url=converse.url)
    chat = get_chat_model(settings)
    assert isinstance(chat, BedrockConverseChat) and chat.model_id == MODEL
