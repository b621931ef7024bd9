"""``Queues``: the SQS queues (encrypted, TLS only) with one DLQ each, and the DLQ for
invocations EventBridge Scheduler could not deliver."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs

from stacks.constructs.nag import acknowledge


class Queues:
    """Built in ``stack``'s own scope (stacks/constructs/__init__.py says why)."""

    def __init__(
        self,
        stack: Stack,
        *,
        visibility_timeouts: Mapping[str, Duration],
        max_receive_count: int,
    ) -> None:
        self.queues: dict[str, sqs.Queue] = {}
        self.dlqs: dict[str, sqs.Queue] = {}
        for name, visibility_timeout in visibility_timeouts.items():
            dlq = sqs.Queue(
                stack,
                f"{name.capitalize()}Dlq",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            self.dlqs[name] = dlq
            self.queues[name] = sqs.Queue(
                stack,
                f"{name.capitalize()}Queue",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                visibility_timeout=visibility_timeout,
                retention_period=Duration.days(4),
                dead_letter_queue=sqs.DeadLetterQueue(
                    queue=dlq, max_receive_count=max_receive_count
                ),
            )
        # Invocations EventBridge Scheduler could not deliver after its retries.
        self.scheduler_dlq = sqs.Queue(
            stack,
            "SchedulerDlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.dlqs["scheduler"] = self.scheduler_dlq
        acknowledge(
            self.scheduler_dlq,
            {
                "AwsSolutions-SQS3": "This is a dead-letter queue itself (EventBridge Scheduler "
                "target DLQ, set on the schedule rather than as an SQS redrive policy).",
            },
        )

    def environment(self) -> dict[str, str]:
        """``SERVICEDESK_<QUEUE>_QUEUE_URL`` for every queue."""
        return {
            f"SERVICEDESK_{name.upper()}_QUEUE_URL": queue.queue_url
            for name, queue in self.queues.items()
        }

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        for queue in self.queues.values():
            queue.grant_send_messages(grantee)
