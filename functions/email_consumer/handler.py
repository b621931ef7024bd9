"""E-mail consumer Lambda: the email queue's outbox events become in-app notifications and
e-mails (SES, or the dev mail catcher). Each tenant's records of a batch are processed
together in one transaction; partial batch failures; idempotent by event id."""

from servicedesk.notifications import service
from servicedesk.platform.consumer import sqs_batch_handler

lambda_handler = sqs_batch_handler(service.process_batch)
