"""The exports bucket: a multipart upload fed chunk by chunk (memory bounded by one part),
and the presigned download."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

from servicedesk.attachments.storage import content_disposition
from servicedesk.platform import aws
from servicedesk.platform.config import get_settings

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
    """Stream ``chunks`` to ``key`` as a multipart upload; the bytes written. A failure
    aborts the upload (no part is left behind, and nothing half-written is visible)."""
    s3 = aws.s3()
    name = bucket()
    upload_id = s3.create_multipart_upload(
        Bucket=name, Key=key, ContentType=content_type, ServerSideEncryption="AES256"
    )["UploadId"]
    parts: list[CompletedPartTypeDef] = []
    size = 0
    buffer = bytearray()
    try:
        for chunk in chunks:
            buffer += chunk
            size += len(chunk)
            if len(buffer) >= PART_BYTES:
                parts.append(_part(name, key, upload_id, len(parts) + 1, bytes(buffer)))
                buffer.clear()
        if buffer or not parts:  # the last part may be small (or the only, empty one)
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
