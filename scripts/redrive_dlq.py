"""Move every message from a channel's dead-letter queue back to its queue.

    .venv/bin/python scripts/redrive_dlq.py --queue-url <main queue url> [--dlq-url <url>]

On AWS, prefer `aws sqs start-message-move-task --source-arn <dlq arn>`; this script does
the same by hand (receive, send to the source queue, delete) so it also works against
emulators that lack the move-task API. Fix the cause first: a message redriven into the
same bug comes straight back.
"""

from __future__ import annotations

import argparse
import json

import boto3


def dlq_of(sqs: object, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(  # type: ignore[attr-defined]
        QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]
    )["Attributes"]
    arn = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
    name = arn.rsplit(":", 1)[1]
    url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]  # type: ignore[attr-defined]
    return url


def redrive(queue_url: str, dlq_url: str | None = None) -> int:
    sqs = boto3.client("sqs")
    source = dlq_url or dlq_of(sqs, queue_url)
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=source, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return moved
        for message in messages:
            sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=message["Body"],
                MessageAttributes=message.get("MessageAttributes", {}),
            )
            sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
            moved += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--dlq-url")
    args = parser.parse_args()
    print(f"moved {redrive(args.queue_url, args.dlq_url)} message(s)")  # noqa: T201


if __name__ == "__main__":
    main()
