"""The exports bucket: a multipart upload fed chunk by chunk (memory bounded by one part),
and the presigned download."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

from servicedesk.platform import aws
from servicedesk.platform.config import get_settings
from servicedesk.platform.storage import content_disposition

# S3's smallest part but the last is 5 MiB; 8 MiB parts: a 1,000,000-ticket CSV (~250 MB)
# is ~30 parts, far below the 10,000 part limit.
PART_BYTES = 8 * 1024 * 1024
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "pdf": "application/pdf",
}


def bucket() -> str:
    return get_settings().exports_bucket


def upload(key: str, chunks: Iterable[bytes], *, content_type: str) -> int:
    """Write ``chunks`` to ``key``; the bytes written. A file smaller than one part is one
    PutObject; a larger one streams as a multipart upload, one part in memory at a time. A
    failure aborts the upload: no part is left behind, nothing half-written is visible."""
    stream = iter(chunks)
    buffer = bytearray()
    for chunk in stream:
        buffer += chunk
        if len(buffer) >= PART_BYTES:
            return _multipart(key, buffer, stream, content_type)
    aws.s3().put_object(
        Bucket=bucket(),
        Key=key,
        Body=bytes(buffer),
        ContentType=content_type,
        ServerSideEncryption="AES256",
    )
    return len(buffer)


def _multipart(key: str, buffer: bytearray, rest: Iterator[bytes], content_type: str) -> int:
    s3 = aws.s3()
    name = bucket()
    upload_id = s3.create_multipart_upload(
        Bucket=name, Key=key, ContentType=content_type, ServerSideEncryption="AES256"
    )["UploadId"]
    parts: list[CompletedPartTypeDef] = []
    size = len(buffer)
    try:
        for chunk in rest:
            if len(buffer) >= PART_BYTES:
                parts.append(_part(name, key, upload_id, len(parts) + 1, bytes(buffer)))
                buffer.clear()
            buffer += chunk
            size += len(chunk)
        parts.append(_part(name, key, upload_id, len(parts) + 1, bytes(buffer)))
        s3.complete_multipart_upload(
            Bucket=name, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        s3.abort_multipart_upload(Bucket=name, Key=key, UploadId=upload_id)
        raise
    return size


def _part(name: str, key: str, upload_id: str, number: int, data: bytes) -> CompletedPartTypeDef:
    etag = aws.s3().upload_part(
        Bucket=name, Key=key, UploadId=upload_id, PartNumber=number, Body=data
    )["ETag"]
    return {"ETag": etag, "PartNumber": number}


def read(key: str) -> bytes:
    body = aws.s3().get_object(Bucket=bucket(), Key=key)["Body"]
    try:
        return bytes(body.read())
    finally:
        body.close()


def presign(key: str, filename: str, fmt: str) -> tuple[str, datetime]:
    ttl = get_settings().export_link_seconds
    url = aws.s3().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket(),
            "Key": key,
            "ResponseContentDisposition": content_disposition(filename),
            "ResponseContentType": MEDIA_TYPES[fmt],
        },
        ExpiresIn=ttl,
    )
    return url, datetime.now(UTC) + timedelta(seconds=ttl)
