"""The publisher's batching (platform.publisher): SQS's limits of ten entries and 256 KiB a
batch (the publishing itself runs over the emulator's SQS in tests/integration/test_outbox.py)."""

from __future__ import annotations

import uuid

from servicedesk.platform import publisher


def test_batches_hold_at_most_ten_entries_and_256_kib():
    big = "x" * (publisher.BATCH_BYTES // 2)
    entries = [
        publisher._Entry(uuid.uuid4(), "ticket.created", body)
        for body in ["a"] * 12 + [big, big, "b", big]
    ]
    grouped = list(publisher.batches(entries))
    assert [len(b) for b in grouped] == [10, 3, 2, 1]  # 12 small, then the size limit
    assert [e for b in grouped for e in b] == entries  # in order, none lost
    assert all(sum(e.size for e in b) <= publisher.BATCH_BYTES for b in grouped)
