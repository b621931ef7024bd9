"""The automation queue's consumer: SLA warnings and breaches run the event rules they
trigger (``timed.on_sla_event``), once per event (claimed in ``deliveries``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from servicedesk.automation import timed
from servicedesk.platform.consumer import Envelope, claim

CHANNEL = "automation"


def process(session: Session, envelope: Envelope) -> None:
    if envelope.type not in timed.SLA_TRIGGERS:
        return
    if not claim(session, envelope, channel=CHANNEL, recipient="rules"):
        return
    timed.on_sla_event(session, envelope.tenant_id, envelope.type, envelope.payload)
