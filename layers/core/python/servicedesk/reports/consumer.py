"""The reports consumer: each ticket event (``ticket.*``, ``comment.*``, ``sla.*``,
``csat.rated``) recomputes its ticket's facts from source (servicedesk.reports.facts).

Idempotent by construction (the facts are recomputed, never incremented) and independent of
delivery order (whatever arrives last reads the committed source). The event id is recorded
first, so a redelivered event costs one insert that conflicts and nothing else.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform.consumer import Envelope
from servicedesk.reports import facts


def first_time(session: Session, envelope: Envelope) -> bool:
    row = session.execute(
        text(
            "INSERT INTO report_processed_events (tenant_id, event_id) VALUES (:t, :e)"
            " ON CONFLICT DO NOTHING RETURNING event_id"
        ),
        {"t": envelope.tenant_id, "e": envelope.event_id},
    ).first()
    return row is not None


def process(session: Session, envelope: Envelope) -> None:
    if envelope.aggregate_type != "ticket":
        return
    try:
        ticket_id = uuid.UUID(envelope.aggregate_id)
    except ValueError:
        return
    if not first_time(session, envelope):
        return
    facts.refresh(session, envelope.tenant_id, [ticket_id])
