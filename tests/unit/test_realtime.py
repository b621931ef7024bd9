"""Realtime delivery without sockets: what a push frame keeps when it is too large, how a
large fan-out is cut into queue messages, the management API client's request signing
(identical to boto3's), and the local gateway keeping tokens out of uvicorn's log. The
real sockets, server, database and queues are in tests/integration/test_realtime.py."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

import local.ws  # noqa: F401 - importing the local gateway installs its log filter
from servicedesk.platform import aws
from servicedesk.realtime import fanout, push


def test_an_oversize_push_loses_its_summary_not_its_ids() -> None:
    frame = {"type": "event", "event_id": "e1", "data": {"number": "x" * 50_000}}
    slim = json.loads(push.encode(frame, limit=1024) or b"")
    assert slim == {"type": "event", "event_id": "e1", "truncated": True}
    assert push.encode({"type": "event", "blob": "y" * 5000}, limit=1024) is None


def test_the_local_gateway_keeps_query_tokens_out_of_uvicorns_log() -> None:
    logger = logging.getLogger("uvicorn.error")
    record = logger.makeRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5000", "/ws?token=eyJhbGciOi.abc.def&x=1"),
        None,
    )
    assert all(f.filter(record) for f in logger.filters)
    assert record.getMessage() == '127.0.0.1:5000 - "WebSocket /ws?token=[REDACTED]&x=1" [accepted]'


# --- large fan-outs in chunks -------------------------------------------------------------


def test_a_chunk_is_split_by_bytes_under_the_queue_limit() -> None:
    frames = {f"c{n:03d}=": b'{"type":"event","pad":"' + b'"' * 40_000 + b'"}' for n in range(9)}
    chunks = fanout.split(frames, size=50)
    assert [c for chunk in chunks for c in chunk] == sorted(frames)
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(fanout.message(_envelope(), 1, len(chunks), chunk).encode()) < 256 * 1024
    assert [len(c) for c in fanout.split(dict.fromkeys(map(str, range(7)), b"{}"), 3)] == [3, 3, 1]


def _envelope() -> Any:
    from servicedesk.platform.consumer import Envelope

    return Envelope(
        event_id=uuid.uuid4(),
        seq=1,
        tenant_id=uuid.uuid4(),
        type="comment.internal",
        aggregate_type="ticket",
        aggregate_id=str(uuid.uuid4()),
        payload={},
        created_at=datetime.now(UTC),
    )


# --- the management API client ----------------------------------------------------------


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """botocore's signing clock, stopped: two signers give comparable signatures."""
    import botocore.auth

    now = datetime(2026, 11, 25, 12, 0, 0)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: now)
    return now


@pytest.fixture
def session_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Temporary credentials (with a session token, as a Lambda role has), read afresh."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example/secret+key")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "example-session-token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    aws.reset()
    yield
    monkeypatch.undo()
    aws.reset()


def boto3_request(endpoint: str, method: str, connection_id: str, data: bytes) -> Any:
    """The request boto3 would send (captured just before it goes on the wire)."""
    session = boto3.session.Session()  # reads the credentials now, as ours did
    api = session.client("apigatewaymanagementapi", endpoint_url=endpoint)
    captured: list[Any] = []

    class Captured(Exception):
        pass

    def capture(request: Any, **_: Any) -> None:
        captured.append(request)
        raise Captured

    api.meta.events.register("before-send", capture)
    with pytest.raises(Captured):
        if method == "POST":
            api.post_to_connection(ConnectionId=connection_id, Data=data)
        else:
            api.delete_connection(ConnectionId=connection_id)
    return captured[0]


@pytest.mark.usefixtures("session_credentials", "fixed_clock")
@pytest.mark.parametrize(
    "endpoint",
    ["https://abc123.execute-api.eu-west-1.amazonaws.com/ws", "http://127.0.0.1:8000"],
)
def test_the_lean_poster_signs_exactly_as_boto3(endpoint: str) -> None:
    management = push.ManagementApi(endpoint, concurrency=4)
    connection_id, data = "L0SM9cOFvHcCIhw=", b'{"type":"event","event_id":"e1"}'
    for method, body in (("POST", data), ("DELETE", b"")):
        theirs = boto3_request(endpoint, method, connection_id, body)
        url = management.url(connection_id)
        ours = management.signed_headers(method, url, body)
        assert (method, url) == (theirs.method, theirs.url)
        for header in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            assert ours[header] == theirs.headers[header].decode(), header
    authorization = ours["Authorization"]
    assert authorization.startswith(
        "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEY/20261125/eu-west-1/execute-api/aws4_request,"
    )
