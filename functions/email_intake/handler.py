"""SQS (SES receipt notifications via SNS) -> the e-mail intake."""

from servicedesk.mail.intake import handler

__all__ = ["handler"]
