"""A scripted OpenAI-compatible chat-completions server for tests, on 127.0.0.1.

It speaks the real protocol over a real socket: ``POST /v1/chat/completions`` with JSON in
and JSON out, or server-sent events (``data: {chunk}`` lines, ``data: [DONE]``) when the
request asks to ``stream``, tool calls included (their arguments split across chunks as
real servers do). Each request takes the next scripted ``Reply`` (or a function of the
request body that returns one); every request body is kept in ``requests`` so that a test
can read what the model was shown (tool results, the system prompt).

    with ScriptedLLM() as llm:
        llm.script(Reply(tool_calls=[("create_ticket", {"title": "VPN"})]), Reply(text="Done"))
        settings: llm_base_url = llm.base_url
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str = ""
    # (name, arguments): arguments as an object, or a string sent verbatim (malformed JSON).
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    status: int = 200
    # Sent instead of a completion (garbage), with ``status``.
    raw: bytes | None = None
    delay: float = 0.0  # seconds before answering (timeouts)
    # Streaming: stop after this many chunks without [DONE] (a dropped stream).
    cut_after: int | None = None
    usage: tuple[int, int] = (20, 10)


Script = Reply | Callable[[dict[str, Any]], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    llm: ScriptedLLM

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (a timeout test) is not the server's error to print


class ScriptedLLM:
    def __init__(self, *, api_key: str = "test-llm-key") -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self._script: deque[Script] = deque()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.llm = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def script(self, *replies: Script) -> None:
        with self._lock:
            self._script.extend(replies)

    @property
    def pending(self) -> int:
        return len(self._script)

    def __enter__(self) -> ScriptedLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if not self._script:
                return Reply(status=500, raw=b'{"error": {"message": "no scripted reply"}}')
            item = self._script.popleft()
        return item(body) if callable(item) else item


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        llm = self.server.llm
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/v1/chat/completions":
            return self._send(404, b'{"error": {"message": "not found"}}')
        if self.headers.get("Authorization") != f"Bearer {llm.api_key}":
            return self._send(401, b'{"error": {"message": "invalid api key"}}')
        reply = llm.next_reply(body)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.raw is not None or reply.status != 200:
            return self._send(reply.status, reply.raw or b"{}")
        if body.get("stream"):
            return self._stream(body, reply)
        return self._send(200, json.dumps(_completion(body, reply)).encode())

    def _send(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, body: dict[str, Any], reply: Reply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b": keep-alive\n\n")
        self.close_connection = True
        for n, chunk in enumerate(_chunks(body, reply)):
            if reply.cut_after is not None and n >= reply.cut_after:
                self.wfile.flush()
                return
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def _arguments(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": name, "arguments": _arguments(arguments)},
            }
            for i, (name, arguments) in enumerate(reply.tool_calls)
        ]
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": body.get("model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": reply.usage[0],
            "completion_tokens": reply.usage[1],
            "total_tokens": sum(reply.usage),
        },
    }


def _chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "model": body.get("model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _chunks(body: dict[str, Any], reply: Reply) -> list[dict[str, Any]]:
    chunks = [_chunk(body, {"role": "assistant", "content": ""}, None)]
    text = reply.text
    for start in range(0, len(text), 7):  # a few words at a time, as servers stream
        chunks.append(_chunk(body, {"content": text[start : start + 7]}, None))
    for i, (name, arguments) in enumerate(reply.tool_calls):
        raw = _arguments(arguments)
        chunks.append(
            _chunk(
                body,
                {
                    "tool_calls": [
                        {
                            "index": i,
                            "id": f"call_{i}",
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }
                    ]
                },
                None,
            )
        )
        for start in range(0, len(raw), 10):
            piece = {"index": i, "function": {"arguments": raw[start : start + 10]}}
            chunks.append(_chunk(body, {"tool_calls": [piece]}, None))
    finish = "tool_calls" if reply.tool_calls else "stop"
    chunks.append(_chunk(body, {}, finish))
    usage = {
        "prompt_tokens": reply.usage[0],
        "completion_tokens": reply.usage[1],
        "total_tokens": sum(reply.usage),
    }
    chunks.append({"id": "chatcmpl-test", "choices": [], "usage": usage})
    return chunks
