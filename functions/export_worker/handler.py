"""Export worker Lambda: the exports queue's ``export.requested`` events become files in the
exports bucket (servicedesk.exports.worker), with progress; partial batch failures."""

from servicedesk.exports.worker import process
from servicedesk.platform.consumer import sqs_handler

lambda_handler = sqs_handler(process)
