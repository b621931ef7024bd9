"""The integrations queue's consumer: GitHub and Slack calls, once per event (claimed in
``deliveries`` in the record's transaction). A call that fails raises: the record's
transaction (its claim too) rolls back and SQS delivers it again, then to the DLQ."""

from __future__ import annotations

from sqlalchemy.orm import Session

from servicedesk.integrations import github, slack
from servicedesk.platform.consumer import Envelope

CHANNEL = "integrations"


def process(session: Session, envelope: Envelope) -> None:
    if envelope.type == github.ISSUE_REQUESTED:
        github.create_issue(session, envelope)
    elif envelope.type.startswith("integration.slack.") or envelope.type in slack.NOTIFIED:
        slack.process(session, envelope)
