"""E-mail consumer Lambda: the email queue's outbox events become in-app notifications and
e-mails (SES, or the dev mail catcher). Partial batch failures; idempotent by event id."""

from servicedesk.notifications import service
from servicedesk.platform.consumer import sqs_handler

lambda_handler = sqs_handler(service.process)
