"""EventBridge Scheduler -> poll each tenant's IMAP mailbox into the intake."""

import servicedesk.automation.engine  # noqa: F401  (event rules run on ticket changes)
from servicedesk.mail.imap import handler

__all__ = ["handler", "lambda_handler"]

lambda_handler = handler  # the name every other function's entry point has
