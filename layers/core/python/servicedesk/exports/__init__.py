"""Asynchronous exports (issue 19 item 4): a member asks for a file (a report, or the ticket
list under its filters), the export worker makes it from the outbox, streams it to S3 in a
multipart upload, and the member gets a short-lived download link, by e-mail and in-app.
"""
