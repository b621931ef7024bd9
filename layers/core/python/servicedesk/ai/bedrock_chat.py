"""The language model through Amazon Bedrock's Converse API (``llm_provider="bedrock"``).

The same ``ChatModel`` as the OpenAI-compatible client: messages in, text or tool calls
out, bounded and every failure a ``ChatError`` of its kind. Converse wants what the
chat-completions protocol does not: the system prompt apart, strictly alternating user
and assistant turns starting with the user, and tool answers as ``toolResult`` blocks of
a user turn; ``_converse_messages`` translates. ``llm_base_url`` (optional) is the
endpoint (a VPC endpoint; the scripted server in tests), otherwise boto3's own for the
region. No retries inside: the assistant's caller decides. Streaming (ConverseStream) is
not used: with ``on_delta`` the text arrives as one delta once complete.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from servicedesk.ai.chat import (
    FACTORIES,
    MAX_ARGUMENT_BYTES,
    MAX_TEXT_CHARS,
    MAX_TOOL_CALLS,
    ChatError,
    ChatModel,
    ChatResult,
    Message,
    ToolCall,
    ToolSpec,
    Usage,
)
from servicedesk.platform.config import Settings

# Bedrock's error codes by kind (anything else: refused if 4xx, unavailable if 5xx).
_KINDS = {
    "ThrottlingException": "rate_limited",
    "ServiceQuotaExceededException": "rate_limited",
    "ModelTimeoutException": "timeout",
    "ModelNotReadyException": "unavailable",
    "ServiceUnavailableException": "unavailable",
    "InternalServerException": "unavailable",
    "ModelErrorException": "unavailable",
}


def _tool_use(call: ToolCall) -> dict[str, Any]:
    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError:
        arguments = {}
    if not isinstance(arguments, dict):  # Converse takes an object; the error was answered
        arguments = {}
    return {"toolUse": {"toolUseId": call.id, "name": call.name, "input": arguments}}


def _blocks(message: Message) -> tuple[str, list[dict[str, Any]]]:
    if message.role == "tool":
        result = {
            "toolUseId": message.tool_call_id or "",
            "content": [{"text": message.content or ""}],
        }
        if (message.content or "").startswith('{"error"'):
            result["status"] = "error"
        return "user", [{"toolResult": result}]
    blocks: list[dict[str, Any]] = []
    if message.content:
        blocks.append({"text": message.content})
    if message.role == "assistant":
        blocks += [_tool_use(call) for call in message.tool_calls]
        return "assistant", blocks
    return "user", blocks


def _converse_messages(
    messages: Sequence[Message],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system blocks, alternating messages starting with the user)."""
    system = [{"text": m.content} for m in messages if m.role == "system" and m.content]
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        role, blocks = _blocks(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += blocks  # a kept message with no answer, tool results
        else:
            turns.append({"role": role, "content": blocks})
    while turns and turns[0]["role"] != "user":
        turns.pop(0)
    return system, turns


def _tool_spec(tool: ToolSpec) -> dict[str, Any]:
    return {
        "toolSpec": {
            "name": tool.name,
            "description": tool.description,
            "inputSchema": {"json": tool.parameters},
        }
    }


def _tool_call(use: dict[str, Any]) -> ToolCall:
    name, call_id = use.get("name"), use.get("toolUseId")
    if not (isinstance(name, str) and 0 < len(name) <= 64):
        raise ChatError("garbage", "a tool use without a valid name")
    if not (isinstance(call_id, str) and 0 < len(call_id) <= 128):
        raise ChatError("garbage", "a tool use without an id")
    arguments = json.dumps(use.get("input", {}))
    if len(arguments.encode()) > MAX_ARGUMENT_BYTES:
        raise ChatError("garbage", "tool call arguments are too long")
    return ToolCall(call_id, name, arguments)


def _result(body: Any) -> ChatResult:
    try:
        content = body["output"]["message"]["content"]
    except (KeyError, TypeError) as exc:
        raise ChatError("garbage", "no output.message.content in the answer") from exc
    if not isinstance(content, list):
        raise ChatError("garbage", "the message content is not a list")
    text: list[str] = []
    calls: list[ToolCall] = []
    for block in content:
        if not isinstance(block, dict):
            raise ChatError("garbage", "a content block is not an object")
        if isinstance(block.get("text"), str):
            text.append(block["text"])
        elif isinstance(block.get("toolUse"), dict):
            calls.append(_tool_call(block["toolUse"]))
    if len(calls) > MAX_TOOL_CALLS:
        raise ChatError("garbage", "too many tool calls")
    raw_usage = body.get("usage") or {}
    inputs, outputs = raw_usage.get("inputTokens", 0), raw_usage.get("outputTokens", 0)
    if not (isinstance(inputs, int) and isinstance(outputs, int)):
        raise ChatError("garbage", "usage is not token counts")
    return ChatResult(
        content="".join(text)[:MAX_TEXT_CHARS],
        tool_calls=tuple(calls),
        finish_reason=str(body.get("stopReason") or "end_turn"),
        usage=Usage(max(inputs, 0), max(outputs, 0)),
    )


class BedrockConverseChat:
    """``bedrock-runtime:Converse`` with the model's id (e.g. ``openai.gpt-oss-20b-1:0``)."""

    def __init__(
        self,
        *,
        model: str,
        timeout: float,
        max_output_tokens: int,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        from botocore.config import Config

        from servicedesk.platform import aws

        self._model = model
        self._max_output_tokens = max_output_tokens
        config = Config(
            connect_timeout=min(timeout, 5.0),
            read_timeout=timeout,
            retries={"total_max_attempts": 1},
        )
        session = aws.botocore_session()
        self._client = session.create_client(
            "bedrock-runtime",
            region_name=region or session.get_config_variable("region") or "us-east-1",
            endpoint_url=endpoint_url,
            config=config,
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
        system, turns = _converse_messages(messages)
        if not turns:
            raise ChatError("refused", "nothing to send: no user message")
        request: dict[str, Any] = {
            "modelId": self._model,
            "messages": turns,
            "inferenceConfig": {"maxTokens": max_tokens or self._max_output_tokens},
        }
        if system:
            request["system"] = system
        if tools:
            request["toolConfig"] = {"tools": [_tool_spec(t) for t in tools]}
        result = _result(self._call(request))
        if on_delta is not None and result.content:
            on_delta(result.content)
        return result

    def _call(self, request: dict[str, Any]) -> Any:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectTimeoutError,
            ReadTimeoutError,
        )
        from botocore.parsers import ResponseParserError

        try:
            return self._client.converse(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            kind = _KINDS.get(str(error.get("Code")))
            if kind is None:
                kind = "unavailable" if status >= 500 or status == 0 else "refused"
                if status == 429:
                    kind = "rate_limited"
            raise ChatError(kind, f"Bedrock answered {status} {error.get('Code')}") from exc
        except (ReadTimeoutError, ConnectTimeoutError) as exc:
            raise ChatError("timeout", "the model did not answer in time") from exc
        except ResponseParserError as exc:
            raise ChatError("garbage", "the answer is not Converse JSON") from exc
        except BotoCoreError as exc:
            raise ChatError("unavailable", type(exc).__name__) from exc


def _bedrock(settings: Settings) -> ChatModel:
    return BedrockConverseChat(
        model=settings.llm_model,
        timeout=settings.llm_timeout_seconds,
        max_output_tokens=settings.llm_max_output_tokens,
        endpoint_url=settings.llm_base_url,
    )


FACTORIES["bedrock"] = _bedrock
