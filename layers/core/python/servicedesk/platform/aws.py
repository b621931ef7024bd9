"""Every AWS client the application uses: created on first use, once per process.

boto3 is imported here only, and only when a client is first asked for, so a function
whose requests never reach AWS (most routes, the authorizer) never pays for it. The
endpoint is boto3's own choice: ``AWS_ENDPOINT_URL`` locally (moto or LocalStack), nothing
on Lambda. Clients are thread-safe once made; making them is not, hence the lock.

``reset()`` drops the clients, the session and the credentials it resolved: the tests call
it between configurations, and the SnapStart restore hook (``platform.snapstart``) calls it
so that a restored snapshot never signs with the credentials it was taken with.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_lock = threading.RLock()
_clients: dict[tuple[str, str | None], Any] = {}
_state: dict[str, Any] = {}


def _boto3_session() -> Any:
    with _lock:
        session = _state.get("boto3")
        if session is None:
            import boto3.session

            session = _state["boto3"] = boto3.session.Session()
        return session


def botocore_session() -> Any:
    """The botocore session behind every client (region, CA bundle, credentials chain)."""
    return _boto3_session()._session


def credentials() -> Any:
    """The default chain's credentials (environment, shared files, container/instance
    roles), resolved once: a role's set refreshes itself; ``None`` when there are none."""
    with _lock:
        if "credentials" not in _state:
            _state["credentials"] = botocore_session().get_credentials()
        return _state["credentials"]


def client(service: str, *, region: str | None = None) -> Any:
    """The process's client for ``service`` (in ``region``, or the configured one)."""
    key = (service, region)
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(key)
        if found is None:
            config = None
            if service == "s3":
                from botocore.config import Config

                # SigV4 everywhere: in us-east-1 boto3 would otherwise presign with SigV2.
                config = Config(signature_version="s3v4")
            found = _clients[key] = _boto3_session().client(
                service, region_name=region, config=config
            )
        return found


def assumed_client(service: str, *, region: str, credentials: dict[str, Any]) -> Any:
    """A client for ``service`` in ``region`` signing with an assumed role's temporary
    ``credentials`` (STS ``Credentials``): made per use, never cached (they expire, and
    they are another account's). The endpoint is chosen as for every other client."""
    with _lock:
        return _boto3_session().client(
            service,
            region_name=region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )


def sqs() -> Any:
    return client("sqs")


def ses() -> Any:
    return client("sesv2")


def s3() -> S3Client:
    s3_client: S3Client = client("s3")
    return s3_client


def rds(region: str | None = None) -> Any:
    return client("rds", region=region)


def reset() -> None:
    """Forget every client, the session and its credentials; the next use makes new ones."""
    with _lock:
        _clients.clear()
        _state.clear()
