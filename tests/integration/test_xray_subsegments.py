"""Database calls as X-Ray subsegments (platform/xray.py), received by a UDP listener on
127.0.0.1 that reads what the X-Ray daemon reads: the protocol's header line, then one JSON
document per datagram. The invocation's header and the daemon's address are the
environment variables Lambda sets with active tracing."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from local.app import load_function
from local.scheduler import scheduled_event
from servicedesk.platform import config, db, tracing, xray
from tests.conftest import make_tenant
from tests.events import TimedLambdaContext

# The outbox tests' queues (the sweeper has nothing to do without them).
from tests.integration.test_outbox import queues  # noqa: F401

PARENT = "53995c3f42cd8ad8"


class Daemon:
    """Reads datagrams as they come (as the daemon does: a socket's buffer holds a few
    hundred only), in a thread, until closed."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.datagrams: list[bytes] = []
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while not self.closed.is_set():
            try:
                datagram = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            with self.lock:  # (not `self.datagrams.append(recv())`: that binds the old list)
                self.datagrams.append(datagram)

    def documents(self) -> list[dict[str, Any]]:
        """Every document received since the last call (the header line checked on each)."""
        time.sleep(0.5)  # what is in flight on the loopback arrives
        with self.lock:
            taken, self.datagrams = self.datagrams, []
        found = []
        for datagram in taken:
            header, _, body = datagram.partition(b"\n")
            assert json.loads(header) == {"format": "json", "version": 1}
            found.append(json.loads(body))
        return found

    def close(self) -> None:
        self.closed.set()
        self.reader.join()
        self.sock.close()


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch) -> Iterator[Daemon]:
    listener = Daemon()
    monkeypatch.setenv(xray.DAEMON_ENV, listener.address)
    yield listener
    listener.close()


def _sampled(monkeypatch: pytest.MonkeyPatch, sampled: str = "1", parent: str = PARENT) -> str:
    root = tracing.new_root()
    monkeypatch.setenv(tracing.LAMBDA_ENV, f"Root={root};Parent={parent};Sampled={sampled}")
    return root


def test_a_requests_statements_are_subsegments_of_the_function_segment(
    client: Any, daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = make_tenant(client, roles=())
    daemon.documents()  # the sign-up's, before the invocation below is sampled
    root = _sampled(monkeypatch)
    secret_title = "Quarterly payroll for Mrs Example"
    response = client.post("/v1/tickets", json={"title": secret_title}, headers=org.admin.headers)
    assert response.status_code == 201, response.text
    documents = daemon.documents()
    assert documents
    for document in documents:
        assert document["type"] == "subsegment" and document["namespace"] == "remote"
        assert document["trace_id"] == root and document["parent_id"] == PARENT
        assert len(document["id"]) == 16 and document["end_time"] >= document["start_time"]
        assert document["sql"]["database_type"] == "PostgreSQL"
    queries = [d["sql"]["sanitized_query"] for d in documents]
    assert any("INSERT INTO tickets" in q for q in queries), queries
    raw = json.dumps(documents)
    # Placeholders only: neither the request's values nor the database password travel.
    assert secret_title not in raw and "Mrs Example" not in raw
    password = db.get_engine().url.password
    assert not password or password not in raw


def test_nothing_is_sent_unless_sampled_with_a_daemon(
    client: Any, daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = make_tenant(client, roles=())
    daemon.documents()
    _sampled(monkeypatch, sampled="0")
    assert client.get("/v1/tickets", headers=org.admin.headers).status_code == 200
    assert daemon.documents() == []
    _sampled(monkeypatch)
    # Switched off (Settings.trace_sql): an engine built so has no hooks at all.
    monkeypatch.setenv("SERVICEDESK_TRACE_SQL", "0")
    config.get_settings.cache_clear()
    try:
        engine = db.get_engine.__wrapped__()
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    finally:
        monkeypatch.delenv("SERVICEDESK_TRACE_SQL")
        config.get_settings.cache_clear()
    assert daemon.documents() == []
    with db.get_engine().connect() as conn:  # control: the shared engine is traced
        conn.execute(text("SELECT 1"))
    assert "SELECT 1" in [d["sql"]["sanitized_query"] for d in daemon.documents()]
    monkeypatch.delenv(xray.DAEMON_ENV)  # no daemon (locally): nothing, and no error
    assert client.get("/v1/tickets", headers=org.admin.headers).status_code == 200
    assert daemon.documents() == []


def test_a_failing_statement_is_a_fault_and_an_invocation_has_a_budget(
    database: Any, daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sampled(monkeypatch, parent="0123456789abcdef")
    engine = db.get_engine()
    with engine.connect() as conn, pytest.raises(Exception, match="division by zero"):
        conn.execute(text("SELECT 1 / 0"))
    (fault,) = daemon.documents()
    assert fault["fault"] is True and fault["sql"]["sanitized_query"] == "SELECT 1 / 0"
    assert fault["cause"]["exceptions"][0]["type"] == "DivisionByZero"

    _sampled(monkeypatch, parent="fedcba9876543210")  # a new invocation, a new budget
    with engine.connect() as conn:
        for _ in range(xray.MAX_PER_INVOCATION + 25):
            conn.execute(text("SELECT 1"))
            time.sleep(0.002)  # UDP: a burst faster than the reader would lose datagrams
    documents = daemon.documents()
    assert len(documents) == xray.MAX_PER_INVOCATION
    assert documents[-1]["metadata"] == {"servicedesk": {"limit": xray.MAX_PER_INVOCATION}}


def test_a_scheduled_lambda_invocation_traces_its_statements(
    database: Any,
    queues: Any,  # noqa: F811 - the imported fixture
    daemon: Daemon,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The outbox sweeper's handler, invoked with its EventBridge sample event."""
    root = _sampled(monkeypatch, parent="00000000000000aa")
    handler = load_function("outbox_sweeper").lambda_handler
    handler(scheduled_event("eventbridge_scheduled_outbox_sweeper"), TimedLambdaContext(55_000))
    documents = daemon.documents()
    assert documents and {d["trace_id"] for d in documents} == {root}
    assert any("outbox" in d["sql"]["sanitized_query"] for d in documents)


def test_the_daemon_address_forms() -> None:
    assert xray.daemon_address("169.254.79.129:2000") == ("169.254.79.129", 2000)
    assert xray.daemon_address("tcp:127.0.0.1:2000 udp:127.0.0.2:2001") == ("127.0.0.2", 2001)
    for bad in (None, "", "nohost", "127.0.0.1:x", "127.0.0.1:70000", ":2000"):
        assert xray.daemon_address(bad) is None
