"""The report scheduler prunes the reports consumer's processed event ids past the retention
setting (SQS keeps a message 14 days: the setting refuses less than 15)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from servicedesk.exports import scheduler
from servicedesk.platform.config import Settings


def test_processed_event_ids_past_the_retention_are_pruned(client: Any, database: Any) -> None:
    from tests.conftest import make_tenant

    tenant = uuid.UUID(make_tenant(client).tenant_id)
    now = datetime.now(UTC)
    old, kept = uuid.uuid4(), uuid.uuid4()
    with database.connect("owner") as conn:
        for event, age in ((old, timedelta(days=15, minutes=1)), (kept, timedelta(days=14))):
            conn.execute(
                "INSERT INTO report_processed_events (tenant_id, event_id, processed_at)"
                " VALUES (%s, %s, %s)",
                (tenant, event, now - age),
            )
        conn.commit()
    assert scheduler.prune_processed_events(now) >= 1
    with database.connect("owner") as conn:
        left = {
            r[0]
            for r in conn.execute(
                "SELECT event_id FROM report_processed_events WHERE tenant_id = %s", (tenant,)
            ).fetchall()
        }
    assert kept in left and old not in left
    assert scheduler.run(now).pruned == 0  # the scheduled run prunes too (nothing left)


def test_the_retention_is_at_least_sqs_retention_plus_a_day() -> None:
    with pytest.raises(ValidationError):
        Settings(report_processed_retention_days=14)
