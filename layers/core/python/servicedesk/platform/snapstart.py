"""SnapStart runtime hooks for the API functions.

With SnapStart, Lambda runs a function version's initialization once, snapshots the
memory, and starts every later instance from a copy of that snapshot. Whatever the
initialization left open is then shared or stale: a pooled database connection would be a
socket to a server that closed it long ago (or, worse, the same session in two
instances); a boto3 client would sign with the credentials of the snapshot's environment,
which expire; and the random module's state would repeat in every copy. So before the
snapshot nothing stays connected, and after each restore the pool, the AWS clients and
the random state start afresh.

The hooks come from ``snapshot_restore_py``, which the Lambda Python managed runtimes
(3.12 and later) include; elsewhere it is absent and ``register`` does nothing.
"""

from __future__ import annotations

import random

from servicedesk.platform import aws, db


def _dispose_pool(*, close: bool) -> None:
    # Only an engine that exists: creating one here would resolve the database secret
    # during the snapshot.
    if db.get_engine.cache_info().currsize:
        db.get_engine().dispose(close=close)


def before_snapshot() -> None:
    """Close every pooled connection and drop the AWS clients before the snapshot."""
    import psycopg  # noqa: F401 - the driver's import is paid now, inside the snapshot

    _dispose_pool(close=True)
    aws.reset()


def after_restore() -> None:
    """Start the restored copy with an empty pool, new AWS clients and its own randomness."""
    # A connection in the pool now (none, unless one was opened after before_snapshot)
    # belongs to the snapshot: forget it without talking to the server through it.
    _dispose_pool(close=False)
    aws.reset()
    random.seed()


def register() -> bool:
    """Register the hooks with the Lambda runtime; False where the runtime has none."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:  # not on Lambda's managed Python runtime: no snapshots to take
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True
