"""The intake queue's message: what our doors send is what SES + SNS send, and nothing
else passes (servicedesk/mail/inbox.py)."""

import json
from datetime import UTC, datetime

import pytest

from servicedesk.mail import inbox

ARRIVAL = inbox.Arrival(
    bucket="mail-bucket",
    key="inbound/smtp/2026/12/05/smtp-abc",
    message_id="smtp-abc",
    door="smtp",
    mail_from="someone@example.com",
    recipients=("acme@inbound.example.com",),
    received_at=datetime(2026, 12, 5, 11, 0, 1, 250000, tzinfo=UTC),
    verdicts={"spam": "PASS", "virus": "FAIL", "spf": "GRAY", "dkim": "PASS", "dmarc": "PASS"},
)

# What SES receiving with an S3 action and an SNS topic puts on an SQS subscription
# (abridged from the SES developer guide's example notification).
SES_BODY = json.dumps(
    {
        "Type": "Notification",
        "MessageId": "a0e2f3c4-0000-4000-8000-000000000000",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:mail",
        "Subject": "Amazon SES Email Receipt Notification",
        "Message": json.dumps(
            {
                "notificationType": "Received",
                "mail": {
                    "timestamp": "2026-12-05T11:00:01.250Z",
                    "source": "Sender@Example.com",
                    "messageId": "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1",
                    "destination": ["acme@inbound.example.com"],
                },
                "receipt": {
                    "timestamp": "2026-12-05T11:00:01.250Z",
                    "processingTimeMillis": 222,
                    "recipients": ["ACME@inbound.example.com"],
                    "spamVerdict": {"status": "PASS"},
                    "virusVerdict": {"status": "PASS"},
                    "spfVerdict": {"status": "PASS"},
                    "dkimVerdict": {"status": "PASS"},
                    "dmarcVerdict": {"status": "GRAY"},
                    "action": {
                        "type": "S3",
                        "topicArn": "arn:aws:sns:eu-west-1:123456789012:mail",
                        "bucketName": "mail-bucket",
                        "objectKeyPrefix": "inbound/ses/",
                        "objectKey": "inbound/ses/o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1",
                    },
                },
            }
        ),
        "Timestamp": "2026-12-05T11:00:01.500Z",
    }
)


def test_our_notification_reads_back_as_the_same_arrival() -> None:
    assert inbox.parse_notification(inbox.notification(ARRIVAL)) == ARRIVAL


def test_an_ses_notification_through_sns_is_read() -> None:
    arrival = inbox.parse_notification(SES_BODY)
    assert arrival.door == "ses"
    assert arrival.bucket == "mail-bucket"
    assert arrival.key == "inbound/ses/o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1"
    assert arrival.recipients == ("acme@inbound.example.com",)
    assert arrival.mail_from == "sender@example.com"
    assert arrival.verdicts["dmarc"] == "GRAY"
    assert arrival.received_at == datetime(2026, 12, 5, 11, 0, 1, 250000, tzinfo=UTC)
    # raw message delivery (no SNS envelope) carries the same JSON
    assert inbox.parse_notification(json.loads(SES_BODY)["Message"]) == arrival


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[]",
        json.dumps({"Type": "Notification", "Message": "{}"}),
        json.dumps({"notificationType": "Bounce"}),
        json.dumps({"notificationType": "Received", "mail": {}, "receipt": {}}),
        SES_BODY.replace('\\"S3\\"', '\\"Lambda\\"'),
        SES_BODY.replace('\\"PASS\\"', '\\"MAYBE\\"'),
        SES_BODY.replace('[\\"ACME@inbound.example.com\\"]', "[]"),
        SES_BODY.replace(
            '\\"Received\\", ', '\\"Received\\", \\"servicedesk\\": {\\"door\\": \\"x\\"}, '
        ),
        "x" * (inbox.MAX_NOTIFICATION_BYTES + 1),
    ],
)
def test_anything_else_is_a_bad_notification(body: str) -> None:
    with pytest.raises(inbox.BadNotification):
        inbox.parse_notification(body)
