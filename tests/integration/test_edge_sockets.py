"""The edge checks as a real client meets them: uvicorn on 127.0.0.1 serving the local app
exactly as `make dev` does (local/serve.py), spoken to over raw sockets, and the Lambda
handler invoked with API Gateway events."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.app import load_function
from local.serve import uvicorn_command
from tests.events import load_event, set_json_body

ROOT = Path(__file__).resolve().parents[2]
BODY_TIMEOUT = 1.5
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(database: Any) -> Iterator[tuple[str, int]]:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers" / "core" / "python") + os.pathsep + str(ROOT),
        "SERVICEDESK_BODY_READ_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
    }
    process = subprocess.Popen(
        uvicorn_command(port, quiet=True),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=15)


def _exchange(address: tuple[str, int], head: bytes, parts: list[bytes]) -> tuple[int, dict, Any]:
    """Send a request head and body parts (stopping if the server already answered), then
    read the whole answer until the server closes or a full body arrived."""
    with socket.create_connection(address, timeout=BODY_TIMEOUT * 6) as conn:
        conn.sendall(head)
        for part in parts:
            try:
                conn.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = conn.recv(65536)
            assert chunk, raw
            raw += chunk
        header_blob, body = raw.split(b"\r\n\r\n", 1)
        status_line, *lines = header_blob.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return int(status_line.split()[1]), headers, json.loads(body[:length] or b"null")


def _head(method: str, path: str, extra: str) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


def test_a_content_length_larger_than_the_body_times_out_with_a_problem(server):
    started = time.monotonic()
    status, headers, body = _exchange(
        server, _head("POST", "/v1/auth/login", "Content-Length: 100\r\n"), [b'{"email":']
    )
    elapsed = time.monotonic() - started
    assert status == 408 and headers["content-type"] == "application/problem+json"
    assert body["type"].endswith("/request-timeout")
    assert BODY_TIMEOUT * 0.9 <= elapsed < BODY_TIMEOUT * 4
    # The server stays available for the next client.
    assert httpx.get(f"http://{server[0]}:{server[1]}/v1/health").status_code == 200


def test_a_chunked_body_over_the_limit_is_413(server):
    piece = b"x" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    # Past the 1 MiB default with room to spare; the server answers before reading it all.
    parts = [b'{"name": "'] + [chunk] * 20 + [b"0\r\n\r\n"]
    parts[0] = f"{len(parts[0]):x}\r\n".encode() + parts[0] + b"\r\n"
    status, headers, body = _exchange(
        server, _head("POST", "/v1/signup", "Transfer-Encoding: chunked\r\n"), parts
    )
    assert status == 413 and headers["content-type"] == "application/problem+json"
    assert body["type"].endswith("/payload-too-large")


def test_a_chunked_body_within_the_limit_reaches_the_route(server):
    payload = json.dumps({"email": "nobody@example.org", "password": "wrong-password-1"}).encode()
    parts = [f"{len(payload):x}\r\n".encode() + payload + b"\r\n", b"0\r\n\r\n"]
    status, _, body = _exchange(
        server, _head("POST", "/v1/auth/login", "Transfer-Encoding: chunked\r\n"), parts
    )
    assert status == 401, body


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b'{"email": "a\\u0000@example.org", "password": "x"}', "email"),
        (b'{"email": "a@example.org", "password": "' + b"[" * 10 + b'"}', None),
        (b'{"email": ' + b"[" * 300 + b"]" * 300 + b"}", "body"),
    ],
)
def test_nul_and_depth_over_a_socket(server, payload, field):
    head = _head("POST", "/v1/auth/login", f"Content-Length: {len(payload)}\r\n")
    status, _, body = _exchange(server, head, [payload])
    if field is None:  # brackets inside a string are text, not nesting
        assert status == 401, body
        return
    assert status == 422 and [e["field"] for e in body["errors"]] == [field], body


def test_a_nul_in_a_query_parameter_over_a_socket(server):
    status, _, body = _exchange(
        server, _head("GET", "/v1/users?q=a%00b", "Content-Length: 0\r\n"), []
    )
    assert status == 422 and body["errors"][0]["field"] == "q", body


# --- the same through the Lambda handler ----------------------------------------------------


@pytest.fixture(scope="module")
def identity(database: Any) -> Any:
    return load_function("identity")


class _Context:
    function_name = "servicedesk-test-fn"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:servicedesk-test-fn"
    aws_request_id = str(uuid.uuid4())


def _invoke(identity: Any, payload: Any) -> tuple[int, Any]:
    event = set_json_body(load_event("apigw_rest_post_login"), payload)
    result = identity.lambda_handler(event, _Context())
    return int(result["statusCode"]), json.loads(result["body"])


def test_lambda_handler_names_a_nul_and_refuses_deep_json(identity):
    status, body = _invoke(identity, {"email": "a@example.org", "password": "p\x00w"})
    assert status == 422 and [e["field"] for e in body["errors"]] == ["password"], body
    deep: Any = []
    for _ in range(300):
        deep = [deep]
    status, body = _invoke(identity, {"email": deep})
    assert status == 422 and [e["field"] for e in body["errors"]] == ["body"], body
