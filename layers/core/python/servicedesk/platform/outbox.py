"""Side effects leave through the outbox (invariant 6): a row in the domain transaction.

Publishing the rows to SQS after commit, and the sweeper, arrive with the delivery issue;
until then rows wait here, durable, in order of ``created_at``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

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
    return uuid.UUID(str(row))
