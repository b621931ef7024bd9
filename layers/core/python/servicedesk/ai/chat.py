"""The language model behind one interface, chosen by ``llm_provider``.

- ``openai``: any OpenAI-compatible ``/chat/completions`` endpoint (Groq serves the
  default ``openai/gpt-oss-20b``), with tool calling, streamed as server-sent events when
  the caller wants the text as it is written (``on_delta``).
- ``bedrock``: the Converse API (registered in ``FACTORIES`` by its module).

The caller owns the conversation: it sends the whole history each time and runs the tool
calls the model asks for (servicedesk.assistant). Everything the server sends is bounded
(response bytes, text, tool calls and their arguments) and checked for shape: an answer
that is not a completion is a ``ChatError``, never an exception of another kind.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from servicedesk.platform.config import Settings, get_settings, resolve_secret

# What one completion may bring back.
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
MAX_TEXT_CHARS = 64 * 1024
MAX_TOOL_CALLS = 8
MAX_ARGUMENT_BYTES = 16 * 1024
MAX_SSE_LINE_BYTES = 256 * 1024

Role = Literal["system", "user", "assistant", "tool"]


class ChatError(Exception):
    """The model could not answer: ``kind`` is timeout, unavailable (5xx, connection),
    rate_limited (429), refused (other 4xx: bad key, bad request) or garbage."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail

    @property
    def retryable(self) -> bool:
        return self.kind in {"timeout", "unavailable", "rate_limited"}


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call; ``parameters`` is its arguments' JSON schema."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # the model's JSON text, unparsed: the caller validates it


@dataclass(frozen=True)
class Message:
    role: Role
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # role "tool": the call this answers


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class ChatResult:
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)


class ChatModel(Protocol):
    @property
    def model_id(self) -> str: ...

    def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int | None = None,
        on_delta: Callable[[str], None] | None = None,
    ) -> ChatResult:
        """One assistant turn: text, or tool calls to run and answer in the next turn.
        ``on_delta`` receives the text as it is generated (streaming), in order."""
        ...


def _wire_message(message: Message) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        wire["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id is not None:
        wire["tool_call_id"] = message.tool_call_id
    return wire


def _wire_tool(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    prompt, completion = raw.get("prompt_tokens", 0), raw.get("completion_tokens", 0)
    if not (isinstance(prompt, int) and isinstance(completion, int)):
        raise ChatError("garbage", "usage is not token counts")
    return Usage(max(prompt, 0), max(completion, 0))


def _tool_call(raw: Any) -> ToolCall:
    if not isinstance(raw, dict) or not isinstance(raw.get("function"), dict):
        raise ChatError("garbage", "a tool call without a function")
    function = raw["function"]
    name, arguments, call_id = function.get("name"), function.get("arguments"), raw.get("id")
    if not isinstance(name, str) or not name or len(name) > 64:
        raise ChatError("garbage", "a tool call without a valid name")
    if arguments is None:
        arguments = "{}"
    if not isinstance(arguments, str):  # some servers send the object itself
        arguments = json.dumps(arguments)
    if len(arguments.encode()) > MAX_ARGUMENT_BYTES:
        raise ChatError("garbage", "tool call arguments are too long")
    if not isinstance(call_id, str) or not call_id or len(call_id) > 128:
        raise ChatError("garbage", "a tool call without an id")
    return ToolCall(call_id, name, arguments)


def _choice_result(body: Any) -> ChatResult:
    """A non-streamed completion's first choice."""
    try:
        choice = body["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError) as exc:
        raise ChatError("garbage", "no choices[0].message in the answer") from exc
    if not isinstance(message, dict):
        raise ChatError("garbage", "choices[0].message is not an object")
    content = message.get("content") or ""
    if not isinstance(content, str):
        raise ChatError("garbage", "message content is not text")
    raw_calls = message.get("tool_calls") or []
    if not isinstance(raw_calls, list) or len(raw_calls) > MAX_TOOL_CALLS:
        raise ChatError("garbage", "tool_calls is not a short list")
    return ChatResult(
        content=content[:MAX_TEXT_CHARS],
        tool_calls=tuple(_tool_call(raw) for raw in raw_calls),
        finish_reason=str(choice.get("finish_reason") or "stop"),
        usage=_usage(body.get("usage")),
    )


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    size: int = 0


class _StreamAssembler:
    """Chat-completion chunks (SSE ``data:`` payloads) into one result."""

    def __init__(self, on_delta: Callable[[str], None]) -> None:
        self.on_delta = on_delta
        self.text: list[str] = []
        self.chars = 0
        self.calls: dict[int, _PartialCall] = {}
        self.finish_reason = ""
        self.usage = Usage()

    def feed(self, chunk: Any) -> None:
        if not isinstance(chunk, dict):
            raise ChatError("garbage", "a stream chunk is not an object")
        if "error" in chunk:
            raise ChatError("unavailable", "the stream reported an error")
        usage = chunk.get("usage") or (chunk.get("x_groq") or {}).get("usage")
        if usage:
            self.usage = _usage(usage)
        choices = chunk.get("choices") or []
        if not isinstance(choices, list):
            raise ChatError("garbage", "choices is not a list")
        for choice in choices[:1]:
            if not isinstance(choice, dict):
                raise ChatError("garbage", "a choice is not an object")
            delta = choice.get("delta") or {}
            if not isinstance(delta, dict):
                raise ChatError("garbage", "a delta is not an object")
            self._text(delta.get("content"))
            for raw in delta.get("tool_calls") or []:
                self._call(raw)
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])

    def _text(self, piece: Any) -> None:
        if not piece:
            return
        if not isinstance(piece, str):
            raise ChatError("garbage", "delta content is not text")
        piece = piece[: MAX_TEXT_CHARS - self.chars]
        if piece:
            self.chars += len(piece)
            self.text.append(piece)
            self.on_delta(piece)

    def _call(self, raw: Any) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("index", 0), int):
            raise ChatError("garbage", "a tool call delta is not an object with an index")
        index = raw.get("index", 0)
        if index not in self.calls and len(self.calls) >= MAX_TOOL_CALLS:
            raise ChatError("garbage", "too many tool calls")
        partial = self.calls.setdefault(index, _PartialCall())
        if isinstance(raw.get("id"), str):
            partial.id = raw["id"]
        function = raw.get("function") or {}
        if not isinstance(function, dict):
            raise ChatError("garbage", "a tool call's function is not an object")
        if isinstance(function.get("name"), str):
            partial.name += function["name"]
        piece = function.get("arguments")
        if isinstance(piece, str) and piece:
            partial.size += len(piece.encode())
            if partial.size > MAX_ARGUMENT_BYTES:
                raise ChatError("garbage", "tool call arguments are too long")
            partial.arguments.append(piece)

    def result(self) -> ChatResult:
        if not self.finish_reason:  # the stream broke off: what arrived is not an answer
            raise ChatError("unavailable", "the stream ended before the answer was complete")
        calls = tuple(
            _tool_call(
                {
                    "id": partial.id,
                    "function": {"name": partial.name, "arguments": "".join(partial.arguments)},
                }
            )
            for _, partial in sorted(self.calls.items())
        )
        return ChatResult("".join(self.text), calls, self.finish_reason, self.usage)


def _sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The ``data:`` payloads of an event stream, until ``[DONE]``."""
    for line in lines:
        if len(line) > MAX_SSE_LINE_BYTES:
            raise ChatError("garbage", "an event-stream line is too long")
        if not line.startswith("data:"):
            continue  # comments (": keep-alive"), event names, blank separators
        data = line[5:].strip()
        if data == "[DONE]":
            return
        if data:
            yield data


class OpenAICompatibleChat:
    """``POST {base_url}/chat/completions`` with bearer auth (OpenAI, Groq, vLLM, ...)."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None,
        timeout: float,
        max_output_tokens: int,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout
        self._max_output_tokens = max_output_tokens
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
            follow_redirects=False,
        )

    @property
    def model_id(self) -> str:
        return self._model

    def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int | None = None,
        on_delta: Callable[[str], None] | None = None,
    ) -> ChatResult:
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [_wire_message(m) for m in messages],
            "max_tokens": max_tokens or self._max_output_tokens,
        }
        if tools:
            body["tools"] = [_wire_tool(t) for t in tools]
            body["tool_choice"] = "auto"
        if on_delta is not None:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        deadline = time.monotonic() + self._timeout
        try:
            with self._client.stream(
                "POST", self._url, json=body, headers=self._headers
            ) as response:
                self._check_status(response)
                if on_delta is None:
                    return _choice_result(self._json(response, deadline))
                return self._stream(response, on_delta, deadline)
        except httpx.TimeoutException as exc:
            raise ChatError("timeout", "the model did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise ChatError("unavailable", type(exc).__name__) from exc

    @staticmethod
    def _check_status(response: httpx.Response) -> None:
        status = response.status_code
        if status == 200:
            return
        if status == 429:
            raise ChatError("rate_limited", "the model's service is rate limiting")
        if status >= 500:
            raise ChatError("unavailable", f"the model's service answered {status}")
        raise ChatError("refused", f"the model's service answered {status}")

    @staticmethod
    def _json(response: httpx.Response, deadline: float) -> Any:
        data = bytearray()
        for piece in response.iter_bytes():
            data += piece
            if len(data) > MAX_RESPONSE_BYTES:
                raise ChatError("garbage", "the answer is too large")
            if time.monotonic() > deadline:
                raise ChatError("timeout", "the model did not finish in time")
        try:
            return json.loads(data)
        except ValueError as exc:
            raise ChatError("garbage", "the answer is not JSON") from exc

    @staticmethod
    def _stream(
        response: httpx.Response, on_delta: Callable[[str], None], deadline: float
    ) -> ChatResult:
        assembler = _StreamAssembler(on_delta)
        received = 0
        for data in _sse_data(response.iter_lines()):
            received += len(data)
            if received > MAX_RESPONSE_BYTES:
                raise ChatError("garbage", "the answer is too large")
            if time.monotonic() > deadline:
                raise ChatError("timeout", "the model did not finish in time")
            try:
                chunk = json.loads(data)
            except ValueError as exc:
                raise ChatError("garbage", "a stream chunk is not JSON") from exc
            assembler.feed(chunk)
        return assembler.result()


# Provider name -> factory(settings); bedrock registers itself.
FACTORIES: dict[str, Callable[[Settings], ChatModel]] = {}


def _openai(settings: Settings) -> ChatModel:
    if not settings.llm_base_url:
        raise ChatError("refused", "llm_base_url is not configured")
    return OpenAICompatibleChat(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=resolve_secret(settings.llm_api_key, settings.llm_api_key_secret_arn),
        timeout=settings.llm_timeout_seconds,
        max_output_tokens=settings.llm_max_output_tokens,
    )


FACTORIES["openai"] = _openai


def get_chat_model(settings: Settings | None = None) -> ChatModel | None:
    """The configured language model, or None when none is configured."""
    settings = settings or get_settings()
    if settings.llm_provider is None:
        return None
    if settings.llm_provider == "bedrock":
        import servicedesk.ai.bedrock_chat  # noqa: F401  (registers itself; boto3 only then)
    factory = FACTORIES.get(settings.llm_provider)
    if factory is None:
        raise ChatError("refused", f"language model provider {settings.llm_provider!r} is absent")
    return factory(settings)
