"""Tenants' credentials in Secrets Manager (the mail doors' provider hook secrets and IMAP
passwords, the directory's service password: identity/directory.py): the database keeps
only the ARN, and no API ever returns a value.

Names are ``<prefix>/<tenant id>/<kind>-<id>`` (``mail_secret_prefix``, or
``directory_secret_prefix`` for the directory's), so each function's IAM policy is
scoped to its prefix. Reads are cached per process for ``CACHE_SECONDS`` (a hook is
called per message); a write or delete in this process drops the cached value, and another
process sees a new value within ``CACHE_SECONDS``.
"""

from __future__ import annotations

import threading
import time
import uuid

from servicedesk.platform import aws
from servicedesk.platform.config import Settings

CACHE_SECONDS = 300.0
_cache: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


def create(
    settings: Settings,
    *,
    tenant_id: uuid.UUID,
    kind: str,
    object_id: uuid.UUID,
    value: str,
    prefix: str | None = None,
) -> str:
    """A new secret holding ``value`` under ``prefix`` (the mail doors' by default); its ARN."""
    name = f"{prefix or settings.mail_secret_prefix}/{tenant_id}/{kind}-{object_id}"
    answer = aws.client("secretsmanager").create_secret(
        Name=name,
        SecretString=value,
        Description=f"Servicedesk {kind} credential",
        Tags=[{"Key": "servicedesk_tenant", "Value": str(tenant_id)}],
    )
    return str(answer["ARN"])


def replace(arn: str, value: str) -> None:
    aws.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=value)
    with _lock:
        _cache.pop(arn, None)


def read(arn: str) -> str:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(arn)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = str(aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    with _lock:
        _cache[arn] = (now, value)
    return value


def delete(arn: str) -> None:
    """Gone at once: the credential is not wanted any more, and a recovery window would
    keep the name (and the value) for days."""
    with _lock:
        _cache.pop(arn, None)
    client = aws.client("secretsmanager")
    try:
        client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    except client.exceptions.ResourceNotFoundException:
        return
