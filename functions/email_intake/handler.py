"""SQS (SES receipt notifications via SNS) -> the e-mail intake."""

import servicedesk.automation.engine  # noqa: F401  (event rules run on ticket changes)
from servicedesk.mail.intake import handler

__all__ = ["handler"]
