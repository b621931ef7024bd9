"""Export worker Lambda: the exports queue's jobs, with progress; partial batch failures.
``export.requested`` becomes a file in the exports bucket (servicedesk.exports.worker);
``ci.import_requested``, an uploaded CSV imported into the CMDB
(servicedesk.cmdb.import_worker)."""

from sqlalchemy.orm import Session

from servicedesk.cmdb import import_worker
from servicedesk.exports import worker
from servicedesk.platform.consumer import Envelope, sqs_handler


def process(session: Session, envelope: Envelope) -> None:
    if envelope.type == import_worker.REQUESTED:
        import_worker.process(session, envelope)
    else:
        worker.process(session, envelope)


lambda_handler = sqs_handler(process, consumer="exports")
