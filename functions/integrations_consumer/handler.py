"""Integrations queue consumer Lambda: calls to GitHub and Slack (issues, messages, modals,
unfurls) and the ticket events a Slack channel hears. Partial batch failures."""

import servicedesk.automation.engine  # noqa: F401  (event rules run on the tickets it changes)
from servicedesk.integrations.consumer import process
from servicedesk.platform.consumer import sqs_handler

lambda_handler = sqs_handler(process)
