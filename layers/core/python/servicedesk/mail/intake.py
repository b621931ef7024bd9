"""The e-mail intake: SQS (SES receipt notifications, via SNS, or our own doors' copies
of them, ``mail.inbox``) -> tickets, comments, held and refused mail.

For each record: ``inbox.parse_notification`` -> the tenants of its envelope recipients
(``addresses.route``, before any tenant transaction) -> the raw message from the mail
bucket -> ``parsing.parse`` -> for each tenant, ONE transaction that claims the message
(an ``inbound_mail`` row, unique per (tenant, object key) and per (tenant, sender,
Message-ID): a redelivered, duplicated or concurrently delivered message finds the claim
and does nothing), decides, writes the ticket or comment as its sender (the tickets
domain's own rules), and records the outcome. A failure before the commit rolls it all
back and the record is reported failed: SQS delivers it again (then its DLQ).
"""

from __future__ import annotations

from typing import Any

from servicedesk.mail import addresses, inbox, parsing
from servicedesk.mail.decide import Decision, decide
from servicedesk.mail.message import Limits, ParsedMail, Unparseable
from servicedesk.platform import aws
from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.db import set_tenant, transaction
from servicedesk.platform.logging import get_logger, log_invocation


def read_raw(arrival: inbox.Arrival) -> bytes | None:
    """The raw message, or None when the object is gone (the bucket's lifecycle expired
    it: nothing left to take)."""
    client = aws.s3()
    try:
        body = client.get_object(Bucket=arrival.bucket, Key=arrival.key)["Body"]
    except client.exceptions.NoSuchKey:
        return None
    try:
        return bytes(body.read())
    finally:
        body.close()


def parse_raw(raw: bytes, settings: Settings) -> ParsedMail | Unparseable:
    if len(raw) > settings.email_max_message_bytes:
        return Unparseable("too_large", f"{len(raw)} bytes")
    try:
        return parsing.parse(raw, Limits(max_bytes=settings.email_max_message_bytes))
    except Unparseable as exc:
        return exc


def take(arrival: inbox.Arrival, settings: Settings) -> list[Decision]:
    """Everything the intake does for one arrival; the outcome per tenant (empty when no
    recipient is ours or the object is gone). Raises on a failure to retry."""
    with transaction() as session:
        destinations = addresses.route(session, arrival.recipients, settings)
    if not destinations:
        get_logger().warning("inbound mail for no tenant", extra={"key": arrival.key})
        return []
    raw = read_raw(arrival)
    if raw is None:
        get_logger().warning("inbound mail object is gone", extra={"key": arrival.key})
        return []
    parsed = parse_raw(raw, settings)
    decisions = []
    for destination in destinations.values():
        with transaction() as session:
            set_tenant(session, tenant_id=destination.tenant_id, user_id=None)
            decision = decide(session, destination, arrival, len(raw), parsed, settings)
        emitted = session.info.get("outbox_ids")
        if emitted:
            from servicedesk.platform.publisher import publish_committed

            publish_committed(destination.tenant_id, list(emitted))
        decisions.append(decision)
    return decisions


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda (SQS event source with ReportBatchItemFailures): each record alone; a record
    that fails is reported and redelivered, the others are done."""
    settings = get_settings()
    failures: list[dict[str, str]] = []
    for record in event.get("Records") or []:
        message_id = str(record.get("messageId"))
        try:
            arrival = inbox.parse_notification(str(record.get("body") or ""))
        except inbox.BadNotification:
            get_logger().warning(
                "not an inbound mail notification; dropped", extra={"message_id": message_id}
            )
            continue
        try:
            for decision in take(arrival, settings):
                get_logger().info(
                    "inbound mail taken",
                    extra={
                        "outcome": decision.outcome,
                        "reason": decision.reason,
                        "tenant_id": str(decision.tenant_id),
                        "duplicate": decision.duplicate,
                    },
                )
        except Exception:  # noqa: BLE001 - reported: SQS delivers it again
            get_logger().warning(
                "inbound mail failed; SQS delivers it again",
                extra={"message_id": message_id},
                exc_info=True,
            )
            failures.append({"itemIdentifier": message_id})
    from servicedesk.platform.consumer import record_batch_metrics

    records = list(event.get("Records") or [])
    record_batch_metrics("mail_intake", records, {f["itemIdentifier"] for f in failures})
    return {"batchItemFailures": failures}


handler = log_invocation(_handle)
