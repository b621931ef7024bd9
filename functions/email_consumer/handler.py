"""E-mail consumer Lambda: the email queue's outbox events become in-app notifications and
e-mails (SES, or the dev mail catcher), and a resolution the requester's satisfaction
survey, and a scheduled report its recipients' mail. Each tenant's records of a batch are
processed together in one transaction; partial batch failures; idempotent by event id."""

import uuid

from sqlalchemy.orm import Session

from servicedesk.csat import service as csat
from servicedesk.exports import delivery as reports
from servicedesk.notifications import service
from servicedesk.platform.consumer import Envelope, sqs_batch_handler


def process_batch(session: Session, envelopes: list[Envelope]) -> set[uuid.UUID]:
    """The notifications, then the surveys of the batch's resolutions (servicedesk.csat),
    then the scheduled reports (servicedesk.exports.delivery)."""
    return (
        service.process_batch(session, envelopes)
        | csat.send_surveys(session, envelopes)
        | reports.send_reports(session, envelopes)
    )


lambda_handler = sqs_batch_handler(process_batch, consumer="email")
