"""Webhook queue consumer Lambda: signed deliveries, retries by SQS delay, e-mail outcomes."""

from servicedesk.platform.consumer import sqs_handler
from servicedesk.webhooks.delivery import process

lambda_handler = sqs_handler(process)
