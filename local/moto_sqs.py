"""moto's SQS without work that grows with the queue's depth (the local emulator only).

moto 5.2.5 rescans a queue's every message on most calls: SendMessage builds all of the
queue's attributes (three scans, for ApproximateNumberOfMessages* it does not use) to read
one flag; ReceiveMessage lists every visible message, then rebuilds the attributes three
times per message it returns (the retention check); DeleteMessage scans the queue twice and
builds each message's list of receipt handles on the way. Every message and every copy it
hands out is also kept forever in ``Message.instances_tracked`` (for ``moto.reset``, which
the emulator never calls). With a few thousand messages waiting, a send took ~100 ms; the
local runtime's publish-after-commit and consumers slowed down with the backlog they were
meant to drain (issue 16).

``install()`` replaces those paths for standard queues (FIFO queues keep moto's code, which
we do not use): a send does only what it stores; a receive walks the queue from its head
and stops at the batch it needs (in-flight messages at the head are the only ones skipped);
a delete finds its message by receipt handle in a per-queue index; a long poll waits on the
queue's condition (notified by every add) instead of rescanning. Semantics kept: visibility
timeout, delay, receive counts, the redrive to the dead-letter queue at maxReceiveCount,
old receipt handles still deleting, deleting twice being harmless, an unknown handle being
ReceiptHandleIsInvalid, and attribute filtering of what is returned. Not kept: moto's early
stop at a message past its retention period (such a message is skipped; our queues keep
messages four days).

Applied by local/emulator.py only: tests that use moto's server through the same emulator
get it too; in-process ``mock_aws`` users do not.
"""

from __future__ import annotations

import importlib.metadata
from copy import deepcopy
from typing import Any

from moto.core.utils import unix_time, unix_time_millis
from moto.sqs import models
from moto.sqs.exceptions import ReceiptHandleIsInvalid

# The moto release whose code these replacements follow (requirements/constraints.txt).
MOTO_VERSION = "5.2.5"

_installed = False


def _index(queue: Any) -> dict[str, Any]:
    """The queue's receipt handle -> message index (every handle a message was given)."""
    index: dict[str, Any] | None = queue.__dict__.get("_by_handle")
    if index is None:
        index = queue.__dict__["_by_handle"] = {}
    return index


def holders(queue: Any, receipt_handle: str) -> list[Any]:
    """The messages of ``queue`` that were given ``receipt_handle`` (one, or none)."""
    message = _index(queue).get(receipt_handle)
    if message is not None:
        return [message] if message in queue._messages else []  # identity, in C
    return [m for m in queue._messages if m.had_receipt_handle(receipt_handle)]


def _visible_messages(queue: Any) -> list[Any]:
    """``Queue.messages``: the visible, undelayed messages (one clock read, not two each)."""
    now = unix_time_millis()
    return [m for m in queue._messages if now > m.visible_at and now >= m.delayed_until]


def _counts(queue: Any) -> tuple[int, int, int]:
    """(visible, in flight, delayed) in one pass."""
    now = unix_time_millis()
    visible = in_flight = delayed = 0
    for m in queue._messages:
        if now < m.delayed_until:
            delayed += 1
        if now <= m.visible_at:
            in_flight += 1
        elif now >= m.delayed_until:
            visible += 1
    return visible, in_flight, delayed


def _untracked_new(cls: type, *_args: Any, **_kwargs: Any) -> Any:
    return object.__new__(cls)


def install() -> None:
    """Patch moto's SQS models in this process (idempotent)."""
    global _installed  # noqa: PLW0603 - one process-wide patch
    if _installed:
        return
    found = importlib.metadata.version("moto")
    if found != MOTO_VERSION:
        raise RuntimeError(
            f"local/moto_sqs.py follows moto {MOTO_VERSION}'s SQS code, not {found}: review it"
        )
    _installed = True
    queue_cls: Any = models.Queue
    backend_cls: Any = models.SQSBackend

    # Messages (and the copies a receive returns) are not kept for moto.reset().
    models.Message.__new__ = staticmethod(_untracked_new)  # type: ignore[method-assign]

    queue_cls.messages = property(_visible_messages)
    queue_cls.approximate_number_of_messages = property(lambda q: _counts(q)[0])
    queue_cls.approximate_number_of_messages_not_visible = property(lambda q: _counts(q)[1])
    queue_cls.approximate_number_of_messages_delayed = property(lambda q: _counts(q)[2])

    _install_attributes(queue_cls, backend_cls)
    _install_send(backend_cls)
    _install_receive(backend_cls)
    _install_delete(queue_cls)


def _install_attributes(queue_cls: Any, backend_cls: Any) -> None:
    original = backend_cls.get_queue_attributes

    def get_queue_attributes(self: Any, queue_name: str, attribute_names: list[str]) -> Any:
        """Named attributes are computed one by one (moto builds them all, three times,
        for each); "All" is moto's own."""
        queue = self.get_queue(queue_name)
        if not attribute_names or "All" in attribute_names:
            return original(self, queue_name, attribute_names)
        wanted = set(queue.BASE_ATTRIBUTES) | set(queue.FIFO_ATTRIBUTES)
        wanted |= set(queue.KMS_ATTRIBUTES) | {"Policy", "RedrivePolicy"}
        if any(name not in wanted for name in attribute_names) or any(
            name in queue.FIFO_ATTRIBUTES + queue.KMS_ATTRIBUTES for name in attribute_names
        ):
            return original(self, queue_name, attribute_names)
        result: dict[str, Any] = {}
        for name in attribute_names:
            if name == "Policy":
                value = queue.policy or None
            elif name == "RedrivePolicy":
                value = models.json.dumps(queue.redrive_policy) if queue.redrive_policy else None
            else:
                value = getattr(queue, models.camelcase_to_underscores(name))
            if isinstance(value, bool):
                value = str(value).lower()
            if value is not None:
                result[name] = value
        return result

    backend_cls.get_queue_attributes = get_queue_attributes


def _install_send(backend_cls: Any) -> None:
    original = backend_cls.send_message

    def send_message(
        self: Any,
        queue_name: str,
        message_body: str,
        message_attributes: dict[str, Any] | None = None,
        delay_seconds: int | None = None,
        deduplication_id: str | None = None,
        group_id: str | None = None,
        system_attributes: dict[str, Any] | None = None,
        validate_group_id: bool = True,
    ) -> Any:
        queue = self.get_queue(queue_name)
        if queue.fifo_queue:
            return original(
                self,
                queue_name,
                message_body,
                message_attributes,
                delay_seconds,
                deduplication_id,
                group_id,
                system_attributes,
                validate_group_id,
            )
        # moto's standard-queue path, without `queue.attributes` (a standard queue has no
        # ContentBasedDeduplication, so moto's lookup of it is always false).
        self._validate_message(
            queue,
            message_body=message_body,
            delay_seconds=int(delay_seconds or 0),
            deduplication_id=deduplication_id,
            group_id=group_id,
            validate_group_id=validate_group_id,
        )
        delay = int(delay_seconds) if delay_seconds is not None else int(queue.delay_seconds)
        if delay > models.MAXIMUM_MESSAGE_DELAY:
            raise models.InvalidParameterValue(
                f"Value {delay} for parameter DelaySeconds is invalid. "
                "Reason: DelaySeconds must be >= 0 and <= 900."
            )
        message = models.Message(str(models.random.uuid4()), message_body, system_attributes)
        if deduplication_id is not None:
            message.deduplication_id = deduplication_id
        if group_id is not None:
            message.group_id = group_id
        if message_attributes:
            message.message_attributes = message_attributes
        message.mark_sent(delay_seconds=delay)
        queue.add_message(message)
        return message

    backend_cls.send_message = send_message


def _take(queue: Any, count: int, visibility_timeout: int, names: list[str]) -> list[Any]:
    """One pass from the head of a standard queue: up to ``count`` visible messages
    received (copies, as moto returns them); those past maxReceiveCount moved to the DLQ."""
    retention_ms = int(queue.message_retention_period) * 1000
    redrive = queue.redrive_policy if queue.dead_letter_queue is not None else None
    index = _index(queue)
    result: list[Any] = []
    to_dlq: list[Any] = []
    now = unix_time_millis()
    for message in list(queue._messages):
        if now <= message.visible_at or now < message.delayed_until:
            continue  # in flight, or delayed
        queue.pending_messages.discard(message)  # visible again: its consumer gave up
        if (message.sent_timestamp or 0) + retention_ms <= now:
            continue
        if redrive and message.approximate_receive_count >= redrive["maxReceiveCount"]:
            to_dlq.append(message)
            continue
        queue.pending_messages.add(message)
        message.mark_received(visibility_timeout=visibility_timeout)
        index[message.receipt_handle] = message
        copied = deepcopy(message)
        models._filter_message_attributes(copied, names)
        result.append(copied)
        if len(result) >= count:
            break
    for message in to_dlq:
        queue._messages.remove(message)
        queue.dead_letter_queue.add_message(message)
    return result


def _install_receive(backend_cls: Any) -> None:
    original = backend_cls.receive_message

    def receive_message(
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        queue = self.get_queue(queue_name)
        if queue.fifo_queue:
            moto_result: list[Any] = original(
                self,
                queue_name,
                count,
                wait_seconds_timeout,
                visibility_timeout,
                message_attribute_names,
            )
            return moto_result
        deadline = unix_time() + wait_seconds_timeout
        while True:
            result = _take(queue, count, visibility_timeout, message_attribute_names or [])
            remaining = deadline - unix_time()
            if result or wait_seconds_timeout == 0 or remaining <= 0:
                return result
            with queue._messages_lock:  # add_message notifies
                queue._messages_lock.wait(timeout=min(1.0, remaining))

    backend_cls.receive_message = receive_message


def _install_delete(queue_cls: Any) -> None:
    original = queue_cls.delete_message

    def delete_message(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return  # deleted before: harmless, as in AWS
        index = _index(self)
        message = index.get(receipt_handle)
        if message is None:
            original(self, receipt_handle)  # a handle from before the index (or invalid)
            return
        try:
            self._messages.remove(message)
        except ValueError:
            index.pop(receipt_handle, None)
            raise ReceiptHandleIsInvalid() from None  # purged, or moved to the DLQ
        self.pending_messages.discard(message)
        handles = [h for h in message.all_receipt_handles if h is not None]
        self.deleted_messages.update(handles)
        for handle in handles:
            index.pop(handle, None)

    queue_cls.delete_message = delete_message
