"""S3 objects: presigned upload forms and download links, and object reads, in the
attachments bucket by default (or the bucket a caller names: the exports bucket's import
files). Shared by every domain that keeps files (attachments, branding, mail, exports, the
CMDB's import jobs), so it lives in the platform: a domain that uploads need not import
another domain.

boto3 finds the endpoint itself (AWS_ENDPOINT_URL locally: moto or LocalStack; nothing in
AWS), so nothing here knows where S3 is. The client is created on first use: functions
that never touch S3 (the tickets function lists attachments) never import boto3.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import BaseModel

from servicedesk.platform import aws
from servicedesk.platform.config import get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

UPLOAD_TTL_SECONDS = 300
DOWNLOAD_TTL_SECONDS = 60
CHUNK_BYTES = 1024 * 1024
# Served with their own type (still as an attachment); anything else is octet-stream, so
# no browser renders HTML, SVG or script from our bucket whatever the upload claimed.
SAFE_INLINE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}
)
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._ ()+-]+")


class UploadForm(BaseModel):
    """POST ``fields`` and then the file (as the last field, ``file``) to ``url``."""

    url: str
    fields: dict[str, str]
    expires_at: datetime


def client() -> S3Client:
    """The process's S3 client (``platform.aws``: SigV4, made on first use)."""
    return aws.s3()


def bucket() -> str:
    return get_settings().attachments_bucket


def object_key(tenant_id: object, ticket_id: object, token: str) -> str:
    return f"t/{tenant_id}/{ticket_id}/{token}"


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]
    expires_at: datetime


def presign_upload(
    key: str,
    *,
    content_type: str,
    size: int,
    ttl: int = UPLOAD_TTL_SECONDS,
    bucket_name: str | None = None,
) -> PresignedPost:
    """A browser form: S3 refuses any other key, type or size, and the form after ``ttl``.
    ``bucket_name``: another bucket than the attachments' (a CMDB import's CSV)."""
    expires_at = datetime.now(UTC) + timedelta(seconds=ttl)
    post = client().generate_presigned_post(
        Bucket=bucket_name or bucket(),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", size, size],
        ],
        ExpiresIn=ttl,
    )
    return PresignedPost(url=post["url"], fields=dict(post["fields"]), expires_at=expires_at)


def ascii_filename(filename: str) -> str:
    """A quoting-safe ASCII stand-in for ``filename`` (for the plain ``filename=``)."""
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE_ASCII.sub("_", folded).strip(" ._")
    return cleaned[:150] or "download"


def content_disposition(filename: str) -> str:
    return (
        f'attachment; filename="{ascii_filename(filename)}"; '
        f"filename*=UTF-8''{quote(filename, safe='')}"
    )


def served_type(content_type: str) -> str:
    return content_type if content_type in SAFE_INLINE_TYPES else "application/octet-stream"


def presign_download(
    key: str,
    *,
    filename: str,
    content_type: str,
    version_id: str | None,
    ttl: int = DOWNLOAD_TTL_SECONDS,
) -> tuple[str, datetime]:
    params: dict[str, Any] = {
        "Bucket": bucket(),
        "Key": key,
        "ResponseContentDisposition": content_disposition(filename),
        "ResponseContentType": served_type(content_type),
    }
    if version_id:
        params["VersionId"] = version_id
    expires_at = datetime.now(UTC) + timedelta(seconds=ttl)
    url = client().generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)
    return url, expires_at


@dataclass(frozen=True)
class ObjectHead:
    size: int
    content_type: str
    etag: str
    version_id: str | None


# What S3 answers for an object, a version or a bucket that is not there (HEAD answers
# carry no body: only the status). Needs s3:ListBucket; without it S3 answers 403.
_MISSING = frozenset({"404", "NoSuchKey", "NoSuchVersion", "NoSuchBucket", "NotFound"})


def head(
    key: str, *, version_id: str | None = None, bucket_name: str | None = None
) -> ObjectHead | None:
    """The object's metadata (of ``version_id`` if given), or None if nothing is stored
    under ``key`` (or that version is gone)."""
    from botocore.exceptions import ClientError

    params: dict[str, Any] = {"Bucket": bucket_name or bucket(), "Key": key}
    if version_id:
        params["VersionId"] = version_id
    try:
        meta = client().head_object(**params)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _MISSING:
            return None
        raise
    version = meta.get("VersionId")
    return ObjectHead(
        size=int(meta["ContentLength"]),
        content_type=str(meta.get("ContentType", "")),
        etag=str(meta["ETag"]),
        # "null" is the version id of an object in an unversioned bucket.
        version_id=version if version and version != "null" else None,
    )


def _pinned(key: str, found: ObjectHead, bucket_name: str | None = None) -> dict[str, Any]:
    """Read exactly the object that ``head`` described, even if it is replaced meanwhile
    (S3 answers 412). If-Match, not VersionId: it needs no s3:GetObjectVersion."""
    return {"Bucket": bucket_name or bucket(), "Key": key, "IfMatch": found.etag}


def first_bytes(
    key: str, found: ObjectHead, count: int, *, bucket_name: str | None = None
) -> bytes:
    response = client().get_object(**_pinned(key, found, bucket_name), Range=f"bytes=0-{count - 1}")
    data: bytes = response["Body"].read()
    return data


def stream(key: str, found: ObjectHead, *, bucket_name: str | None = None) -> Iterator[bytes]:
    body = client().get_object(**_pinned(key, found, bucket_name))["Body"]
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()


def delete(keys: list[str]) -> set[str]:
    """Delete objects (their current version); the keys that S3 confirmed."""
    done: set[str] = set()
    for start in range(0, len(keys), 1000):
        batch = keys[start : start + 1000]
        result = client().delete_objects(
            Bucket=bucket(), Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
        failed = {error.get("Key") for error in result.get("Errors", [])}
        done.update(k for k in batch if k not in failed)
    return done
