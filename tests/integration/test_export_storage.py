"""The exports bucket's writer against an S3 emulator of its own (moto, 127.0.0.1): a small
file is one PutObject; a large one streams as a multipart upload in 8 MiB parts, the bytes
read back equal; a stream that fails half-way aborts the upload and leaves nothing.

Its own emulator: moto's state dump (/moto-api/data.json, which other tests read) fails
while a multipart upload's parts are alive in its process."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from servicedesk.exports import storage
from servicedesk.platform.aws import reset as reset_aws_clients
from tests.conftest import reset_caches

CHUNK = 64 * 1024


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from local import aws

    process, url = aws.start_moto()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        bucket = f"sd-exports-{uuid.uuid4().hex[:8]}"
        monkeypatch.setenv("SERVICEDESK_EXPORTS_BUCKET", bucket)
        reset_caches()
        reset_aws_clients()
        import boto3

        client = boto3.client("s3", endpoint_url=url)
        client.create_bucket(Bucket=bucket)
        yield client
    finally:
        reset_caches()
        reset_aws_clients()
        process.terminate()
        process.wait(timeout=10)


def _chunks(total: int, *, fail_at: int | None = None) -> Iterator[bytes]:
    sent = 0
    n = 0
    while sent < total:
        if fail_at is not None and sent >= fail_at:
            raise RuntimeError("the database went away")
        data = hashlib.sha256(str(n).encode()).digest() * (CHUNK // 32)
        data = data[: total - sent]
        yield data
        sent += len(data)
        n += 1


def test_a_small_file_is_one_put(s3):
    size = storage.upload("exports/t/small.csv", _chunks(300_000), content_type="text/csv")
    assert size == 300_000
    head = s3.head_object(Bucket=storage.bucket(), Key="exports/t/small.csv")
    assert head["ContentLength"] == 300_000
    assert "-" not in head["ETag"]  # not a multipart ETag
    assert head["ServerSideEncryption"] == "AES256"


def test_a_large_file_streams_in_parts_and_reads_back_equal(s3):
    total = 2 * storage.PART_BYTES + 123_457
    size = storage.upload("exports/t/large.csv", _chunks(total), content_type="text/csv")
    assert size == total
    head = s3.head_object(Bucket=storage.bucket(), Key="exports/t/large.csv")
    assert head["ETag"].strip('"').endswith("-3")  # three parts: 8 MiB, 8 MiB, the rest
    assert head["ContentType"] == "text/csv"
    assert storage.read("exports/t/large.csv") == b"".join(_chunks(total))


def test_a_failing_stream_aborts_and_leaves_nothing(s3):
    with pytest.raises(RuntimeError, match="went away"):
        storage.upload(
            "exports/t/broken.csv",
            _chunks(3 * storage.PART_BYTES, fail_at=storage.PART_BYTES + CHUNK),
            content_type="text/csv",
        )
    listed = s3.list_objects_v2(Bucket=storage.bucket())
    assert listed.get("KeyCount", 0) == 0
    assert s3.list_multipart_uploads(Bucket=storage.bucket()).get("Uploads", []) == []
