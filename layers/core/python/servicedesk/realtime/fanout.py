"""Large fan-outs in chunks: one event's frames for many connections, split so that
several broadcaster invocations post them at once.

The broadcaster decides who hears an event once, then posts the first ``CHUNK``
connections itself and puts the others on the realtime queue as ``realtime.fanout``
messages (the event's id, the chunk's number, and the frames with the connection ids
allowed to receive them: nothing is decided again from them but a connection's expiry).
Each chunk is claimed in ``deliveries`` as (event, "realtime", "chunk:<n>"), so a
redelivered chunk pushes nothing twice.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from servicedesk.platform import aws
from servicedesk.platform.config import get_settings
from servicedesk.platform.consumer import Envelope

FANOUT_TYPE = "realtime.fanout"
# Connections per chunk: a fan-out to more is split. Each chunk costs a queue round trip
# and a transaction, so small fan-outs stay in one invocation.
CHUNK = 50
# SQS takes 256 KiB per message and per SendMessageBatch call; a chunk's frames stay
# under this (counted as if every character needed escaping in the JSON message).
CHUNK_BYTES = 192 * 1024
BATCH_ENTRIES, BATCH_BYTES = 10, 250 * 1024


def queue_url() -> str | None:
    return get_settings().realtime_queue_url


def split(frames: dict[str, bytes], size: int | None = None) -> list[dict[str, bytes]]:
    """Chunks of at most ``size`` connections and ``CHUNK_BYTES``, in connection order
    (a redelivered event splits the same connections the same way)."""
    size = size or CHUNK
    chunks: list[dict[str, bytes]] = [{}]
    used = 0
    for connection_id in sorted(frames):
        data = frames[connection_id]
        cost = 2 * len(data) + len(connection_id) + 8
        if chunks[-1] and (len(chunks[-1]) >= size or used + cost > CHUNK_BYTES):
            chunks.append({})
            used = 0
        chunks[-1][connection_id] = data
        used += cost
    return chunks


def message(envelope: Envelope, index: int, total: int, frames: dict[str, bytes]) -> str:
    """One chunk as a queue message: the event's envelope, each distinct frame once with
    the connections it goes to."""
    groups: dict[bytes, list[str]] = defaultdict(list)
    for connection_id, data in frames.items():
        groups[data].append(connection_id)
    return json.dumps(
        {
            "event_id": str(envelope.event_id),
            "seq": envelope.seq,
            "tenant_id": str(envelope.tenant_id),
            "type": FANOUT_TYPE,
            "aggregate": {"type": envelope.aggregate_type, "id": envelope.aggregate_id},
            "payload": {
                "event_type": envelope.type,
                "chunk": index,
                "chunks": total,
                "frames": [{"data": d.decode(), "to": ids} for d, ids in groups.items()],
            },
            "created_at": envelope.created_at.isoformat(),
            # The chunks are pushed on the trace of the request that wrote the event.
            **({"trace": envelope.trace} if envelope.trace else {}),
        },
        separators=(",", ":"),
    )


def enqueue(url: str, envelope: Envelope, chunks: list[dict[str, bytes]]) -> None:
    """Put chunks 1..n on the queue (chunk 0 is the caller's). Raises if SQS refuses any:
    the caller has posted nothing yet, so the whole event is retried."""
    total = len(chunks) + 1
    bodies = [message(envelope, n, total, chunk) for n, chunk in enumerate(chunks, start=1)]
    batch: list[dict[str, Any]] = []
    size = 0
    for body in bodies:
        if batch and (len(batch) >= BATCH_ENTRIES or size + len(body) > BATCH_BYTES):
            _send(url, batch)
            batch, size = [], 0
        batch.append(
            {
                "Id": str(len(batch)),
                "MessageBody": body,
                "MessageAttributes": {"type": {"DataType": "String", "StringValue": FANOUT_TYPE}},
            }
        )
        size += len(body)
    if batch:
        _send(url, batch)


def _send(url: str, entries: list[dict[str, Any]]) -> None:
    failed = aws.sqs().send_message_batch(QueueUrl=url, Entries=entries).get("Failed") or []
    if failed:
        codes = sorted({str(f.get("Code")) for f in failed})
        raise RuntimeError(f"{len(failed)} fan-out chunk(s) not enqueued: {', '.join(codes)}")


def addressed(envelope: Envelope) -> tuple[int, dict[str, bytes]]:
    """A chunk message's number and its frames by connection id."""
    payload = envelope.payload
    frames: dict[str, bytes] = {}
    for group in payload.get("frames") or []:
        data = str(group.get("data") or "").encode()
        if data:
            frames.update(dict.fromkeys((str(c) for c in group.get("to") or []), data))
    return int(payload.get("chunk") or 0), frames
