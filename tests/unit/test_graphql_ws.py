"""graphql-transport-ws messages read without a socket or a database: what is accepted and
what closes the socket with 4400 (the close paths over real sockets, with the other codes,
are in tests/integration/test_graphql_subscriptions.py), and the handshake's choice of
subprotocol."""

from __future__ import annotations

import json
from typing import Any

import pytest

from servicedesk.platform.errors import BadRequest
from servicedesk.realtime import graphql_ws
from servicedesk.realtime.handlers import credentials

QUERY = "subscription { ticketEvents { type } }"


@pytest.mark.parametrize(
    ("message", "kind", "op"),
    [
        ({"type": "connection_init"}, "connection_init", None),
        ({"type": "connection_init", "payload": {"k": 1}}, "connection_init", None),
        ({"type": "ping", "payload": None}, "ping", None),
        ({"type": "pong"}, "pong", None),
        ({"type": "subscribe", "id": "a", "payload": {"query": QUERY}}, "subscribe", "a"),
        (
            {
                "type": "subscribe",
                "id": "b",
                "payload": {"query": QUERY, "variables": None, "operationName": None},
            },
            "subscribe",
            "b",
        ),
        ({"type": "complete", "id": "a"}, "complete", "a"),
    ],
)
def test_well_formed_messages_are_read(message: dict[str, Any], kind: str, op: str | None) -> None:
    read = graphql_ws.parse(json.dumps(message))
    assert (read.type, read.id) == (kind, op)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "UTF-8"),
        ("{not json", "not valid JSON"),
        ("[1]", "object with a type"),
        ('{"type": 1}', "object with a type"),
        ('{"type": "next", "id": "a"}', "unknown message type"),
        ('{"type": "connection_ack"}', "unknown message type"),
        ('{"type": "connection_init", "payload": "x"}', "payload must be an object"),
        ('{"type": "subscribe", "payload": {"query": "x"}}', "id must be"),
        ('{"type": "subscribe", "id": "", "payload": {"query": "x"}}', "id must be"),
        (json.dumps({"type": "complete", "id": "x" * 129}), "id must be"),
        ('{"type": "subscribe", "id": "a"}', "needs a payload"),
        ('{"type": "subscribe", "id": "a", "payload": {"query": " "}}', "payload.query"),
        ('{"type": "subscribe", "id": "a", "payload": {"query": 3}}', "payload.query"),
        (
            json.dumps(
                {"type": "subscribe", "id": "a", "payload": {"query": QUERY, "variables": []}}
            ),
            "variables must be an object",
        ),
        (
            json.dumps(
                {"type": "subscribe", "id": "a", "payload": {"query": QUERY, "operationName": 3}}
            ),
            "operationName",
        ),
        (json.dumps({"type": "ping", "pad": "x" * 40_000}), "at most"),
    ],
)
def test_malformed_messages_close_with_4400(body: str | None, reason: str) -> None:
    with pytest.raises(graphql_ws.Close) as caught:
        graphql_ws.parse(body)
    assert caught.value.code == 4400
    assert reason in caught.value.reason


def _handshake(protocols: str | None, query: dict[str, str] | None = None) -> dict[str, Any]:
    headers = {"Sec-WebSocket-Protocol": protocols} if protocols else {}
    return {"headers": headers, "queryStringParameters": query}


def test_the_handshake_chooses_the_clients_first_protocol_of_ours() -> None:
    assert credentials(_handshake("graphql-transport-ws", {"token": "t"})) == (
        "t",
        "graphql-transport-ws",
    )
    assert credentials(_handshake("graphql-transport-ws, bearer.abc")) == (
        "abc",
        "graphql-transport-ws",
    )
    assert credentials(_handshake("servicedesk.v1, bearer.abc")) == ("abc", "servicedesk.v1")
    assert credentials(_handshake(None, {"token": "t"})) == ("t", None)
    with pytest.raises(BadRequest):
        credentials(_handshake("graphql-ws"))  # the older, different protocol
