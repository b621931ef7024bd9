"""SnapStart hooks (platform.snapstart): nothing connected goes into the snapshot, and a
restored copy reconnects to the database and rebuilds its AWS clients."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import text

from servicedesk.platform import aws, snapstart
from servicedesk.platform.db import get_engine


def _backend_pid() -> int:
    with get_engine().connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _alive(database: Any, pid: int) -> bool:
    with database.connect("owner") as conn:
        row = conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return row is not None


def _gone(database: Any, pid: int) -> bool:
    """The backend has exited (it does so right after the client's Terminate message)."""
    deadline = time.monotonic() + 5
    while _alive(database, pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_before_snapshot_closes_the_pooled_connections(database) -> None:
    pid = _backend_pid()
    assert get_engine().pool.checkedin() == 1 and _alive(database, pid)

    snapstart.before_snapshot()

    assert get_engine().pool.checkedin() == 0
    assert _gone(database, pid)  # closed on the server too, not only forgotten
    assert _backend_pid() != pid  # the engine opens a new connection when asked


def test_after_restore_forgets_the_snapshot_connections_and_reconnects(database) -> None:
    pid = _backend_pid()

    snapstart.after_restore()

    assert get_engine().pool.checkedin() == 0
    fresh = _backend_pid()
    assert fresh != pid
    assert _alive(database, fresh)


def test_after_restore_rebuilds_the_aws_clients_and_credentials(aws_endpoint) -> None:
    sqs, credentials = aws.sqs(), aws.credentials()
    assert aws.sqs() is sqs  # one client per process until a reset

    snapstart.after_restore()

    rebuilt = aws.sqs()
    assert rebuilt is not sqs
    assert aws.credentials() is not credentials
    assert rebuilt.list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200
