"""The Bedrock Converse chat model against a scripted HTTP server on 127.0.0.1 speaking
Converse's REST/JSON protocol (``POST /model/{modelId}/converse``), reached by boto3
through its endpoint URL: the real client, request signing and response parsing."""

from __future__ import annotations

import binascii
import json
import struct
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


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        bytes([len(raw_name)]) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value
    )


def frame(event_type: str, payload: dict[str, Any], *, exception: bool = False) -> bytes:
    """One AWS event-stream message (prelude, headers, payload, CRCs), as Bedrock sends."""
    kind = ":exception-type" if exception else ":event-type"
    headers = (
        _header(kind, event_type)
        + _header(":content-type", "application/json")
        + _header(":message-type", "exception" if exception else "event")
    )
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + headers + body
    return message + struct.pack(">I", binascii.crc32(message))


def stream(*events: bytes) -> bytes:
    return b"".join(events)


def text_events(text: str, size: int = 5) -> list[bytes]:
    return [
        frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text[i : i + size]}})
        for i in range(0, len(text), size)
    ]


def stop(reason: str = "end_turn") -> list[bytes]:
    return [
        frame("contentBlockStop", {"contentBlockIndex": 0}),
        frame("messageStop", {"stopReason": reason}),
        frame(
            "metadata",
            {
                "usage": {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13},
                "metrics": {"latencyMs": 5},
            },
        ),
    ]


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
                streamed = self.path.endswith("/converse-stream") and status == 200
                kind = "application/vnd.amazon.eventstream" if streamed else "application/json"
                self.send_header("Content-Type", kind)
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
    result = model(converse).complete([Message("system", "Be brief."), Message("user", "Hi")])
    assert result.content == "Hello there" and result.tool_calls == ()
    assert (result.usage.input_tokens, result.usage.output_tokens) == (12, 5)
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


# --- ConverseStream -------------------------------------------------------------------


def test_streamed_answer_arrives_as_deltas_in_order(converse):
    text = "Restart the VPN client and sign in again."
    converse.reply(
        stream(frame("messageStart", {"role": "assistant"}), *text_events(text), *stop())
    )
    deltas: list[str] = []
    result = model(converse).complete([Message("user", "VPN?")], on_delta=deltas.append)
    assert converse.requests[0][0] == f"/model/{MODEL}/converse-stream"
    assert len(deltas) > 3 and "".join(deltas) == text == result.content
    assert (result.usage.input_tokens, result.usage.output_tokens) == (9, 4)
    assert result.finish_reason == "end_turn"


def test_streamed_tool_use_is_assembled_from_its_pieces(converse):
    pieces = ['{"numb', 'er": "SD', '-1"}']
    converse.reply(
        stream(
            frame("messageStart", {"role": "assistant"}),
            frame(
                "contentBlockStart",
                {
                    "contentBlockIndex": 0,
                    "start": {"toolUse": {"toolUseId": "tu-9", "name": "get_ticket_status"}},
                },
            ),
            *[
                frame(
                    "contentBlockDelta",
                    {"contentBlockIndex": 0, "delta": {"toolUse": {"input": p}}},
                )
                for p in pieces
            ],
            *stop("tool_use"),
        )
    )
    result = model(converse).complete(
        [Message("user", "SD-1?")], tools=[TOOL], on_delta=lambda _: None
    )
    assert result.tool_calls == (ToolCall("tu-9", "get_ticket_status", '{"number": "SD-1"}'),)
    assert result.finish_reason == "tool_use"


def test_a_stream_without_message_stop_is_not_an_answer(converse):
    converse.reply(stream(frame("messageStart", {"role": "assistant"}), *text_events("Half an")))
    with pytest.raises(ChatError) as raised:
        model(converse).complete([Message("user", "Hi")], on_delta=lambda _: None)
    assert raised.value.kind == "unavailable"


@pytest.mark.parametrize(
    ("exception", "kind"),
    [("throttlingException", "rate_limited"), ("modelStreamErrorException", "unavailable")],
)
def test_an_error_event_in_the_stream_is_a_chat_error(converse, exception, kind):
    converse.reply(
        stream(
            frame("messageStart", {"role": "assistant"}),
            *text_events("Partial"),
            frame(exception, {"message": "stop"}, exception=True),
        )
    )
    with pytest.raises(ChatError) as raised:
        model(converse).complete([Message("user", "Hi")], on_delta=lambda _: None)
    assert raised.value.kind == kind
