"""The remote embedding providers against scripted servers on 127.0.0.1 (real HTTP):
Bedrock's InvokeModel (REST/JSON, SigV4-signed by boto3 through ``endpoint_url``) for Titan
Text Embeddings v2, and an OpenAI-compatible ``/v1/embeddings``. Vectors in order and
normalised; every failure (refusal, 5xx, timeout, garbage, wrong size) an EmbeddingError
that never carries the key."""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

from servicedesk.ai.embeddings import EmbeddingError, get_embedder
from servicedesk.ai.providers import BedrockTitanEmbedder, OpenAICompatibleEmbedder
from servicedesk.platform.config import Settings

KEY = "sk-scripted-embedding-key"


def fake_vector(text: str, dim: int) -> list[float]:
    """A deterministic, not normalised vector for a text (the server's "model")."""
    digest = hashlib.sha256(text.encode()).digest()
    return [float(digest[i % len(digest)]) - 100.0 for i in range(dim)]


def unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


# A reply: (status, headers, body bytes) from the request's path and JSON body.
Responder = Callable[[str, dict[str, Any]], tuple[int, dict[str, str], bytes]]


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that timed out and hung up: expected here


class ScriptedServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self.respond: Responder = lambda path, body: (500, {}, b"{}")
        self.delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append((unquote(self.path), dict(self.headers), body))
                if server.delay:
                    time.sleep(server.delay)
                status, headers, data = server.respond(unquote(self.path), body)
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._http = _Quiet(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


# --- Bedrock: Titan Text Embeddings v2 over InvokeModel --------------------------------------


def titan(path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    assert path == "/model/amazon.titan-embed-text-v2:0/invoke"
    vector = fake_vector(body["inputText"], body["dimensions"])
    return 200, {}, json.dumps({"embedding": vector, "inputTextTokenCount": 3}).encode()


def test_titan_embeds_each_text_in_order_with_the_dimensions_asked(server: ScriptedServer) -> None:
    server.respond = titan
    embedder = BedrockTitanEmbedder(dimensions=512, endpoint_url=server.url, region="us-east-1")
    vectors = embedder.embed(["printer jam", "vpn drops"])
    assert vectors[0] == pytest.approx(unit(fake_vector("printer jam", 512)))
    assert vectors[1] == pytest.approx(unit(fake_vector("vpn drops", 512)))
    assert (embedder.dim, embedder.model_id) == (512, "amazon.titan-embed-text-v2:0/512")
    _, headers, body = server.requests[0]
    assert body == {"inputText": "printer jam", "dimensions": 512, "normalize": True}
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 ")
    assert "/bedrock/aws4_request" in headers["Authorization"]


def test_titan_is_chosen_by_configuration(server: ScriptedServer) -> None:
    server.respond = titan
    settings = Settings(
        environment="test",
        embedding_provider="bedrock",
        embedding_dimensions=256,
        embedding_base_url=server.url,
    )
    embedder = get_embedder(settings)
    assert embedder.dim == 256 and len(embedder.embed(["x"])[0]) == 256
    assert get_embedder(settings) is embedder  # one client per configuration


def test_titan_refuses_dimensions_it_does_not_offer() -> None:
    with pytest.raises(EmbeddingError, match="256, 512, 1024"):
        BedrockTitanEmbedder(dimensions=300)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            (400, {"x-amzn-ErrorType": "ValidationException"}, b'{"message": "too long"}'),
            "ValidationException",
        ),
        ((403, {"x-amzn-ErrorType": "AccessDeniedException"}, b"{}"), "AccessDenied"),
        ((500, {}, b"{}"), "refused"),
        ((200, {}, b"not json"), "not JSON"),
        ((200, {}, b'{"embedding": [1, 2]}'), "wrong shape"),
        ((200, {}, b'{"embedding": ["a", "b"]}'), "wrong shape"),
        ((200, {}, b'{"vectors": []}'), "wrong shape"),
    ],
)
def test_titan_failures_are_embedding_errors(
    server: ScriptedServer, reply: tuple[int, dict[str, str], bytes], message: str
) -> None:
    server.respond = lambda path, body: reply
    embedder = BedrockTitanEmbedder(dimensions=256, endpoint_url=server.url, region="us-east-1")
    with pytest.raises(EmbeddingError, match=message):
        embedder.embed(["x"])


def test_titan_timeout_is_an_embedding_error(server: ScriptedServer) -> None:
    server.respond = titan
    server.delay = 1.5
    embedder = BedrockTitanEmbedder(
        dimensions=256, endpoint_url=server.url, region="us-east-1", timeout=0.5
    )
    started = time.monotonic()
    with pytest.raises(EmbeddingError, match="unreachable"):
        embedder.embed(["x"])
    assert time.monotonic() - started < 5  # two attempts of 0.5 s and their back-off


# --- OpenAI-compatible /v1/embeddings ---------------------------------------------------------


def openai(path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    assert path == "/v1/embeddings"
    dim = body.get("dimensions", 8)
    data = [
        {"object": "embedding", "index": i, "embedding": fake_vector(text, dim)}
        for i, text in enumerate(body["input"])
    ]
    data.reverse()  # the index, not the order, says which text a vector is for
    return 200, {}, json.dumps({"object": "list", "data": data, "model": body["model"]}).encode()


def _openai(server: ScriptedServer, **options: Any) -> OpenAICompatibleEmbedder:
    return OpenAICompatibleEmbedder(base_url=server.url + "/v1", api_key=KEY, **options)


def test_openai_embeds_in_batches_in_order_with_the_key(server: ScriptedServer) -> None:
    server.respond = openai
    texts = [f"text {i}" for i in range(70)]
    vectors = _openai(server, model="nomic-embed-text", dimensions=64).embed(texts)
    assert len(vectors) == 70
    for text, vector in zip(texts, vectors, strict=True):
        assert vector == pytest.approx(unit(fake_vector(text, 64)))
    assert [len(body["input"]) for _, _, body in server.requests] == [64, 6]
    _, headers, body = server.requests[0]
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert body["model"] == "nomic-embed-text" and body["dimensions"] == 64


def test_openai_learns_the_native_dimension(server: ScriptedServer) -> None:
    server.respond = openai
    embedder = _openai(server)
    assert embedder.dim == 8
    assert embedder.model_id == "text-embedding-3-small"
    assert "dimensions" not in server.requests[0][2]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ((401, {}, b'{"error": {"message": "bad key"}}'), "answered 401"),
        ((429, {}, b"{}"), "answered 429"),
        ((503, {}, b"{}"), "answered 503"),
        ((200, {}, b"<html>"), "something else"),
        ((200, {}, b'{"data": [{"index": 0}]}'), "something else"),
        ((200, {}, b'{"data": []}'), "different number"),
        ((200, {}, b'{"data": [{"index": 0, "embedding": [0, 0]}]}'), "zero"),
        ((200, {}, b'{"data": [{"index": 0, "embedding": [1e309, 1]}]}'), "non-finite"),
    ],
)
def test_openai_failures_are_embedding_errors_without_the_key(
    server: ScriptedServer, reply: tuple[int, dict[str, str], bytes], message: str
) -> None:
    server.respond = lambda path, body: reply
    with pytest.raises(EmbeddingError, match=message) as caught:
        _openai(server).embed(["x"])
    assert KEY not in str(caught.value)


def test_openai_response_size_is_bounded(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from servicedesk.ai import providers

    monkeypatch.setattr(providers, "MAX_RESPONSE_BYTES", 1000)
    server.respond = lambda path, body: (200, {}, b" " * 5000)
    with pytest.raises(EmbeddingError, match="too much"):
        _openai(server).embed(["x"])


def test_openai_timeout_and_unreachable_are_embedding_errors(server: ScriptedServer) -> None:
    server.respond = openai
    server.delay = 1.0
    with pytest.raises(EmbeddingError, match="timed out"):
        _openai(server, timeout=0.3).embed(["x"])
    dead = OpenAICompatibleEmbedder(base_url="http://127.0.0.1:9/v1", timeout=1)
    with pytest.raises(EmbeddingError, match="unreachable"):
        dead.embed(["x"])


def test_openai_provider_needs_a_base_url() -> None:
    settings = Settings(environment="test", embedding_provider="openai")
    with pytest.raises(EmbeddingError, match="embedding_base_url"):
        get_embedder(settings)
