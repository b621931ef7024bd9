"""Side effects leave through the outbox (invariant 6): a row in the domain transaction.

The ids written in a transaction are remembered on the session; once the transaction has
committed, the request publishes them (platform.publisher), and the sweeper publishes
whatever a crash left behind.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform import metrics
from servicedesk.platform.db import jsonable


def emit(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    event_type: str,
    aggregate_type: str,
    aggregate_id: object,
    payload: dict[str, Any],
) -> uuid.UUID:
    row = session.execute(
        text(
            "INSERT INTO outbox (tenant_id, event_type, aggregate_type, aggregate_id, payload)"
            " VALUES (:t, :e, :at, :aid, CAST(:p AS jsonb)) RETURNING id"
        ),
        {
            "t": tenant_id,
            "e": event_type,
            "at": aggregate_type,
            "aid": str(aggregate_id),
            "p": json.dumps(jsonable(payload)),
        },
    ).scalar_one()
    event_id = uuid.UUID(str(row))
    session.info.setdefault("outbox_ids", []).append(event_id)
    metrics.business_event(session, event_id, event_type, payload)
    return event_id
