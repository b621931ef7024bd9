"""Automation queue consumer Lambda: the event rules an SLA warning or breach triggers
(servicedesk/automation/timed.on_sla_event). Partial batch failures."""

from servicedesk.automation.consumer import process
from servicedesk.platform.consumer import sqs_handler

lambda_handler = sqs_handler(process)
