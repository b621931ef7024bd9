"""What the benchmarks that drive the local app share: a migrated database of their own,
and one line of figures per measurement."""

from __future__ import annotations

import os
import statistics
from pathlib import Path


def migrated(data: Path, name: str) -> None:
    """An embedded PostgreSQL under ``data`` (or the server of ``DATABASE_URL``), database
    ``name`` migrated to head, and the app's settings pointed at it (dev, quiet, the
    cheapest password hashing unless already set)."""
    from local import db as localdb

    os.environ.setdefault("SERVICEDESK_ENVIRONMENT", "dev")
    os.environ.setdefault("SERVICEDESK_LOG_LEVEL", "WARNING")
    os.environ.setdefault("SERVICEDESK_INSECURE_FAST_PASSWORD_HASHING", "1")
    admin = localdb.admin_url(data)
    localdb.ensure_roles(admin)
    database = localdb.ensure_database(admin, name)
    os.environ["SERVICEDESK_DATABASE_URL"] = database.app_url.render_as_string(False)
    os.environ["SERVICEDESK_MIGRATION_DATABASE_URL"] = database.owner_url.render_as_string(False)
    localdb.migrate(database)


def figures(
    label: str, samples: list[float], unit: str = "ms", *, width: int = 52, digits: int = 1
) -> None:
    """``label  n=…  median …  p90 …``."""
    ordered = sorted(samples)
    p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
    median = statistics.median(samples)
    print(
        f"{label:<{width}} n={len(samples):>5}  median {median:9.{digits}f} {unit}"
        f"  p90 {p90:9.{digits}f} {unit}"
    )
