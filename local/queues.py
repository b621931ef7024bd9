"""Local stand-in for SQS event source mappings: create the queues (each with a DLQ) on
the emulator, poll them, and invoke the consumer handlers with Lambda-shaped SQS events.

Partial batch failures are honoured as Lambda does: messages the handler reports failed
stay on the queue (visible again after the visibility timeout) and the emulator moves
them to the DLQ after maxReceiveCount receives.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import boto3

from local.app import load_function
from local.scheduler import LambdaContext

CHANNELS = ("email", "webhook", "realtime")
# The consumer function of each channel's queue (its event source mapping in AWS).
CONSUMERS = {
    "email": "email_consumer",
    "webhook": "webhook_consumer",
    "realtime": "realtime_consumer",
}


@dataclass(frozen=True)
class Queue:
    channel: str
    url: str
    arn: str
    dlq_url: str


def ensure_queues(
    prefix: str = "servicedesk", *, max_receive_count: int = 3, visibility_timeout: int = 5
) -> dict[str, Queue]:
    sqs = boto3.client("sqs")
    queues = {}
    for channel in CHANNELS:
        dlq_url = sqs.create_queue(QueueName=f"{prefix}-{channel}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        url = sqs.create_queue(
            QueueName=f"{prefix}-{channel}",
            Attributes={
                "VisibilityTimeout": str(visibility_timeout),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
                ),
            },
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        queues[channel] = Queue(channel, url, arn, dlq_url)
    return queues


def sqs_event(messages: list[Any], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": m.get("Attributes", {}).get(
                        "ApproximateReceiveCount", "1"
                    ),
                    "SentTimestamp": m.get("Attributes", {}).get("SentTimestamp", "0"),
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def poll_once(queue: Queue, handler: Any, *, wait_seconds: int = 0) -> tuple[int, int]:
    """One receive → invoke → delete round; (processed, failed)."""
    sqs = boto3.client("sqs")
    messages: list[Any] = sqs.receive_message(
        QueueUrl=queue.url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait_seconds,
        AttributeNames=["All"],
    ).get("Messages", [])
    if not messages:
        return 0, 0
    function = handler.__name__ if hasattr(handler, "__name__") else "consumer"
    result = handler(
        sqs_event(messages, queue.arn), LambdaContext(function, aws_request_id=str(uuid.uuid4()))
    )
    failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=queue.url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)
            ],
        )
    return len(done), len(failed)


class Poller(threading.Thread):
    """Long-poll one queue and feed its consumer function until stopped."""

    def __init__(self, queue: Queue, function: str) -> None:
        super().__init__(name=f"poll-{queue.channel}", daemon=True)
        self.queue = queue
        self.function = function
        self.stopped = threading.Event()

    def run(self) -> None:
        handler = load_function(self.function).lambda_handler
        while not self.stopped.is_set():
            try:
                poll_once(self.queue, handler, wait_seconds=1)
            except Exception as exc:  # noqa: BLE001 - keep polling; the emulator may blip
                print(f"[{self.function}] poll failed: {exc}", flush=True)
                self.stopped.wait(1)

    def stop(self) -> None:
        self.stopped.set()
