"""Where inbound mail enters: one path for every door.

In AWS, SES receiving stores the raw MIME in the mail bucket (a receipt rule's S3 action)
and publishes an SES notification to an SNS topic that the intake queue subscribes to. The
other doors (the local SMTP server of ``make dev``, the IMAP poller, the provider hooks)
do what SES does: :func:`deposit` writes the raw message to the same bucket and sends the
intake queue a notification in the same shape, so the intake (``functions/email_intake``)
reads one kind of message, :func:`parse_notification`, whatever door the mail came through.

The notification is SES's "Received" notification for an S3 action, wrapped in the SNS
envelope SQS receives from a topic subscription without raw delivery:
``{"Type": "Notification", "Message": "<SES JSON>", ...}``; the SES JSON has ``mail``
(``messageId``, ``source``, ``destination``, ``timestamp``) and ``receipt`` (``recipients``,
the spam/virus/SPF/DKIM/DMARC verdicts, ``action`` with ``bucketName`` and ``objectKey``).
Our own doors add ``"servicedesk": {"door": ...}`` to the SES JSON; SES never sends it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from servicedesk.platform import aws
from servicedesk.platform.config import Settings

DOORS = frozenset({"ses", "smtp", "imap", "hook"})
VERDICTS = ("spam", "virus", "spf", "dkim", "dmarc")
VERDICT_VALUES = frozenset({"PASS", "FAIL", "GRAY", "PROCESSING_FAILED", "DISABLED"})
MAX_RECIPIENTS = 100
MAX_NOTIFICATION_BYTES = 256 * 1024  # an SNS message's limit
KEY_PREFIX = "inbound/"


@dataclass(frozen=True)
class Arrival:
    """One message waiting in the bucket."""

    bucket: str
    key: str
    message_id: str  # SES's id for the message (ours for the other doors)
    door: str  # one of DOORS
    mail_from: str  # the envelope sender (empty for a null sender, "<>")
    recipients: tuple[str, ...]  # the envelope recipients that are ours, lower case
    received_at: datetime
    verdicts: dict[str, str]  # VERDICTS -> VERDICT_VALUES ("PASS" where a door has none)


def object_key(door: str, message_id: str, at: datetime) -> str:
    return f"{KEY_PREFIX}{door}/{at:%Y/%m/%d}/{message_id}"


def notification(arrival: Arrival, *, topic_arn: str = "arn:aws:sns:local:0:mail") -> str:
    """The SQS body SES + SNS would deliver for ``arrival``."""
    stamp = arrival.received_at.astimezone(UTC).isoformat(timespec="milliseconds")
    stamp = stamp.replace("+00:00", "Z")
    ses: dict[str, Any] = {
        "notificationType": "Received",
        "mail": {
            "timestamp": stamp,
            "source": arrival.mail_from,
            "messageId": arrival.message_id,
            "destination": list(arrival.recipients),
        },
        "receipt": {
            "timestamp": stamp,
            "recipients": list(arrival.recipients),
            **{
                f"{name}Verdict": {"status": arrival.verdicts.get(name, "PASS")}
                for name in VERDICTS
            },
            "action": {
                "type": "S3",
                "topicArn": topic_arn,
                "bucketName": arrival.bucket,
                "objectKey": arrival.key,
            },
        },
    }
    if arrival.door != "ses":
        ses["servicedesk"] = {"door": arrival.door}
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": topic_arn,
            "Subject": "Amazon SES Email Receipt Notification",
            "Message": json.dumps(ses),
            "Timestamp": stamp,
        }
    )


def deposit(
    raw: bytes,
    *,
    door: str,
    mail_from: str,
    recipients: list[str] | tuple[str, ...],
    settings: Settings,
    verdicts: dict[str, str] | None = None,
    received_at: datetime | None = None,
) -> Arrival:
    """Store ``raw`` in the mail bucket, then tell the intake queue, as SES would. The
    object is written first, so a notification never names a missing object; a failure
    after the write leaves an object no notification names (the bucket's lifecycle rule
    expires it), never a lost message the sender was told we have."""
    if door not in DOORS or door == "ses":
        raise ValueError(f"deposit is for our own doors, not {door!r}")
    if len(raw) > settings.email_max_message_bytes:
        raise ValueError("message is larger than email_max_message_bytes")
    if settings.email_intake_queue_url is None:
        raise RuntimeError("email_intake_queue_url is not configured")
    ours = tuple(dict.fromkeys(r.strip().lower() for r in recipients if r.strip()))
    if not ours or len(ours) > MAX_RECIPIENTS:
        raise ValueError(f"a message needs 1 to {MAX_RECIPIENTS} recipients")
    at = received_at or datetime.now(UTC)
    message_id = f"{door}-{uuid.uuid4().hex}"
    arrival = Arrival(
        bucket=settings.email_inbound_bucket,
        key=object_key(door, message_id, at),
        message_id=message_id,
        door=door,
        mail_from=mail_from.strip().lower(),
        recipients=ours,
        received_at=at,
        verdicts={name: (verdicts or {}).get(name, "PASS") for name in VERDICTS},
    )
    aws.s3().put_object(
        Bucket=arrival.bucket, Key=arrival.key, Body=raw, ContentType="message/rfc822"
    )
    aws.sqs().send_message(
        QueueUrl=settings.email_intake_queue_url, MessageBody=notification(arrival)
    )
    return arrival


class BadNotification(ValueError):
    """Not an SES receipt notification we can act on (the intake drops it, logged)."""


def parse_notification(body: str) -> Arrival:
    """The arrival an intake queue message names. Accepts the SNS envelope (what SES's topic
    delivers) or the bare SES JSON (raw message delivery). Raises BadNotification."""
    if len(body) > MAX_NOTIFICATION_BYTES:
        raise BadNotification("notification too large")
    try:
        outer = json.loads(body)
        ses = json.loads(outer["Message"]) if outer.get("Type") == "Notification" else outer
        if ses.get("notificationType") != "Received":
            raise BadNotification(f"not a receipt: {ses.get('notificationType')!r}")
        mail, receipt = ses["mail"], ses["receipt"]
        action = receipt["action"]
        if action.get("type") != "S3":
            raise BadNotification("the receipt action is not S3")
        door = (ses.get("servicedesk") or {}).get("door", "ses")
        recipients = receipt["recipients"]
        if door not in DOORS or not isinstance(recipients, list):
            raise BadNotification("bad door or recipients")
        if not recipients or len(recipients) > MAX_RECIPIENTS:
            raise BadNotification("bad recipient count")
        verdicts = {}
        for name in VERDICTS:
            status = (receipt.get(f"{name}Verdict") or {}).get("status", "PASS")
            if status not in VERDICT_VALUES:
                raise BadNotification(f"bad {name} verdict")
            verdicts[name] = status
        received = datetime.fromisoformat(str(receipt["timestamp"]).replace("Z", "+00:00"))
        return Arrival(
            bucket=str(action["bucketName"]),
            key=str(action["objectKey"]),
            message_id=str(mail["messageId"]),
            door=door,
            mail_from=str(mail.get("source") or "").strip().lower(),
            recipients=tuple(str(r).strip().lower() for r in recipients),
            received_at=received if received.tzinfo else received.replace(tzinfo=UTC),
            verdicts=verdicts,
        )
    except BadNotification:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadNotification(f"malformed notification: {type(exc).__name__}") from exc
