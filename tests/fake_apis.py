"""A local fake of GitHub's and Slack's web APIs over real HTTP, for the integrations'
tests: it records every request and answers from a table (path -> status and JSON), with
failures queued per path (``fail(path, n)``: the next n calls answer 502)."""

from __future__ import annotations

import json
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


class FakeApi:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: dict[str, Answer] = {}
        self.failures: dict[str, int] = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                kind = self.headers.get("Content-Type", "")
                if "json" in kind:
                    body: Any = json.loads(raw or b"{}")
                else:
                    body = dict(urllib.parse.parse_qsl(raw.decode()))
                request = {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                with fake.lock:
                    fake.requests.append(request)
                    failing = fake.failures.get(self.path, 0)
                    if failing:
                        fake.failures[self.path] = failing - 1
                if failing:
                    status, answer = 502, {"message": "bad gateway"}
                elif self.path in fake.answers:
                    status, answer = fake.answers[self.path](request)
                else:
                    status, answer = 404, {"message": "Not Found"}
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, path: str, answer: Answer) -> None:
        self.answers[path] = answer

    def fail(self, path: str, times: int) -> None:
        self.failures[path] = times

    def at(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def integration_queues(prefix: str, env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """The outbox's queues on the emulator (each with its DLQ; visibility 1 s, so a failed
    record is seen again at once) and ``env`` set, the settings and AWS clients reloaded;
    all undone after."""
    import pytest

    from local.queues import ensure_queues
    from servicedesk.platform.aws import reset as reset_aws_clients
    from tests.conftest import reset_caches

    made = ensure_queues(prefix=f"{prefix}{uuid.uuid4().hex[:8]}", visibility_timeout=1)
    patch = pytest.MonkeyPatch()
    for channel, queue in made.items():
        patch.setenv(f"SERVICEDESK_{channel.upper()}_QUEUE_URL", queue.url)
    for key, value in env.items():
        patch.setenv(key, value)
    reset_caches()
    reset_aws_clients()
    try:
        yield made
    finally:
        patch.undo()
        reset_caches()
        reset_aws_clients()
