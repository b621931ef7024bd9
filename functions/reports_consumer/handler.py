"""Reports consumer Lambda: the reports queue's ticket events recompute the ticket's report
facts (servicedesk.reports.consumer). Partial batch failures."""

from servicedesk.platform.consumer import sqs_handler
from servicedesk.reports.consumer import process

lambda_handler = sqs_handler(process)
