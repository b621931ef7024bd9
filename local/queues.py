"""Local stand-in for SQS event source mappings: create the queues (each with a DLQ) on
the emulator, poll them, and invoke the consumer handlers with Lambda-shaped SQS events.

Partial batch failures are honoured as Lambda does: messages the handler reports failed
stay on the queue (visible again after the visibility timeout) and the emulator moves
them to the DLQ after maxReceiveCount receives.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from local.app import load_function
from local.aws import die_with_parent
from local.scheduler import LambdaContext

ROOT = Path(__file__).resolve().parent.parent

# The outbox's channels (every event is published to those its type routes to), and with
# them the intake queue inbound mail is announced on (mail.inbox), which no event reaches.
OUTBOX_CHANNELS = (
    "email",
    "webhook",
    "realtime",
    "knowledge",
    "reports",
    "exports",
    "automation",
    "integrations",
)
CHANNELS = (*OUTBOX_CHANNELS, "email_intake")
# The consumer function of each channel's queue (its event source mapping in AWS).
CONSUMERS = {
    "email": "email_consumer",
    "webhook": "webhook_consumer",
    "realtime": "realtime_consumer",
    "knowledge": "knowledge_consumer",
    "reports": "reports_consumer",
    "exports": "export_worker",
    "automation": "automation_consumer",
    "integrations": "integrations_consumer",
    "email_intake": "email_intake",
}


@dataclass(frozen=True)
class Queue:
    channel: str
    url: str
    arn: str
    dlq_url: str


def ensure_queues(
    prefix: str = "servicedesk",
    *,
    max_receive_count: int = 3,
    visibility_timeout: int = 5,
    channels: tuple[str, ...] = OUTBOX_CHANNELS,
) -> dict[str, Queue]:
    """Each channel's queue and DLQ (the outbox's by default; ``CHANNELS`` adds the intake)."""
    sqs = boto3.client("sqs")
    queues = {}
    for channel in channels:
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
                    **(
                        {"AWSTraceHeader": m["Attributes"]["AWSTraceHeader"]}
                        if "AWSTraceHeader" in m.get("Attributes", {})
                        else {}
                    ),
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
        module = load_function(self.function)
        handler = getattr(module, "lambda_handler", None) or module.handler
        while not self.stopped.is_set():
            try:
                poll_once(self.queue, handler, wait_seconds=1)
            except Exception as exc:  # noqa: BLE001 - keep polling; the emulator may blip
                print(f"[{self.function}] poll failed: {exc}", flush=True)
                self.stopped.wait(1)

    def stop(self) -> None:
        self.stopped.set()


class PollerProcess:
    """A `Poller` in a process of its own (``python -m local.queues``), as `make dev` runs
    them: each consumer has its own interpreter, so the consumers neither share a GIL with
    each other nor with the Tickers in dev.py (one Poller thread per queue in one process
    drained the e-mail queue slower than the API filled it: issue 16). Several of these on
    one queue share its messages as concurrent Lambda invocations do.

    The same start/stop/join as the threads. The child dies with its parent however the
    parent dies (die_with_parent); ``stop`` asks it to finish its batch in flight first.
    """

    def __init__(self, queue: Queue, function: str, *, number: int = 0) -> None:
        self.queue = queue
        self.function = function
        self.name = f"poll-{queue.channel}-{number}"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "local.queues",
            "--channel",
            self.queue.channel,
            "--url",
            self.queue.url,
            "--arn",
            self.queue.arn,
            "--dlq-url",
            self.queue.dlq_url,
            "--function",
            self.function,
        ]

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=os.environ.copy(),  # the queue URLs, database and settings dev.py set
            preexec_fn=die_with_parent,  # noqa: PLW1509 - only prctl, before exec
        )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def join(self, timeout: float | None = None) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def main(argv: list[str] | None = None) -> None:
    """One poller, in this process, until SIGTERM or SIGINT (then its batch in flight
    finishes)."""
    parser = argparse.ArgumentParser(description="Poll one queue and feed its consumer.")
    parser.add_argument("--channel", required=True, choices=CHANNELS)
    parser.add_argument("--url", required=True)
    parser.add_argument("--arn", required=True)
    parser.add_argument("--dlq-url", default="")
    parser.add_argument("--function", required=True)
    args = parser.parse_args(argv)
    poller = Poller(Queue(args.channel, args.url, args.arn, args.dlq_url), args.function)

    def stop(_signum: int, _frame: Any) -> None:
        poller.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # Ctrl-C reaches the whole process group
    poller.run()


if __name__ == "__main__":
    main()
