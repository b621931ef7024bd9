"""The OpenAI-compatible chat client against the scripted server (real HTTP on 127.0.0.1):
plain and streamed answers, tool calls assembled from chunks, and every failure a
ChatError of the right kind."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from servicedesk.ai.chat import ChatError, Message, OpenAICompatibleChat, ToolSpec
from tests.llm_server import Reply, ScriptedLLM

TOOL = ToolSpec(
    "get_ticket_status",
    "The status of one of the user's tickets",
    {"type": "object", "properties": {"number": {"type": "string"}}, "required": ["number"]},
)
HELLO = [Message("system", "You help."), Message("user", "Where is my ticket SD-12?")]


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as server:
        yield server


def _client(
    llm: ScriptedLLM, *, key: str | None = None, timeout: float = 5
) -> OpenAICompatibleChat:
    return OpenAICompatibleChat(
        base_url=llm.base_url,
        model="openai/gpt-oss-20b",
        api_key=key or llm.api_key,
        timeout=timeout,
        max_output_tokens=256,
    )


def test_a_plain_answer_with_its_usage(llm: ScriptedLLM) -> None:
    llm.script(Reply(text="It is in progress.", usage=(31, 6)))
    result = _client(llm).complete(HELLO)
    assert result.content == "It is in progress."
    assert result.tool_calls == ()
    assert (result.usage.input_tokens, result.usage.output_tokens) == (31, 6)
    sent = llm.requests[0]
    assert sent["model"] == "openai/gpt-oss-20b"
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert "stream" not in sent and "tools" not in sent


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls_come_back_whole_and_their_results_go_out(
    llm: ScriptedLLM, stream: bool
) -> None:
    llm.script(
        Reply(
            tool_calls=[("get_ticket_status", {"number": "SD-12"}), ("get_ticket_status", "{bad")]
        ),
        Reply(text="SD-12 is waiting on you."),
    )
    client = _client(llm)
    deltas: list[str] = []
    on_delta = deltas.append if stream else None
    first = client.complete(HELLO, tools=[TOOL], on_delta=on_delta)
    assert first.finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in first.tool_calls] == [
        ("get_ticket_status", json.dumps({"number": "SD-12"})),
        ("get_ticket_status", "{bad"),  # unparsed: the caller validates
    ]
    history = [
        *HELLO,
        Message("assistant", None, tool_calls=first.tool_calls),
        Message("tool", '{"status": "pending"}', tool_call_id=first.tool_calls[0].id),
        Message("tool", '{"error": "arguments are not JSON"}', tool_call_id=first.tool_calls[1].id),
    ]
    second = client.complete(history, tools=[TOOL], on_delta=on_delta)
    assert second.content == "SD-12 is waiting on you."
    if stream:
        assert "".join(deltas) == "SD-12 is waiting on you." and len(deltas) > 1
        assert second.usage.total == 30
    sent = llm.requests[1]["messages"]
    assert sent[2]["tool_calls"][0]["function"]["name"] == "get_ticket_status"
    assert sent[3] == {"role": "tool", "content": '{"status": "pending"}', "tool_call_id": "call_0"}
    assert llm.requests[0]["tools"][0]["function"]["name"] == "get_ticket_status"


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (Reply(status=500, raw=b"{}"), "unavailable"),
        (Reply(status=429, raw=b"{}"), "rate_limited"),
        (Reply(status=400, raw=b'{"error": {}}'), "refused"),
        (Reply(raw=b"<html>gateway</html>"), "garbage"),
        (Reply(raw=b'{"choices": []}'), "garbage"),
        (Reply(raw=b'{"choices": [{"message": {"content": 42}}]}'), "garbage"),
        (Reply(tool_calls=[("x" * 200, {})]), "garbage"),
        (Reply(delay=1.5, text="late"), "timeout"),
    ],
)
def test_failures_are_chat_errors_of_their_kind(llm: ScriptedLLM, reply: Reply, kind: str) -> None:
    llm.script(reply)
    with pytest.raises(ChatError) as caught:
        _client(llm, timeout=1).complete(HELLO)
    assert caught.value.kind == kind


def test_a_wrong_key_is_refused(llm: ScriptedLLM) -> None:
    llm.script(Reply(text="never"))
    with pytest.raises(ChatError) as caught:
        _client(llm, key="wrong").complete(HELLO)
    assert caught.value.kind == "refused" and not caught.value.retryable


def test_a_stream_cut_short_is_an_error_not_a_short_answer(llm: ScriptedLLM) -> None:
    llm.script(Reply(text="Partial answer that is cut", cut_after=3))
    deltas: list[str] = []
    with pytest.raises(ChatError) as caught:
        _client(llm).complete(HELLO, on_delta=deltas.append)
    assert caught.value.kind == "unavailable" and caught.value.retryable
    assert 0 < len("".join(deltas)) < 26  # the caller saw the start and must discard it


def test_oversized_tool_arguments_are_refused(llm: ScriptedLLM) -> None:
    llm.script(Reply(tool_calls=[("get_ticket_status", {"number": "x" * 20_000})]))
    with pytest.raises(ChatError) as caught:
        _client(llm).complete(HELLO, tools=[TOOL], on_delta=lambda _: None)
    assert caught.value.kind == "garbage"
