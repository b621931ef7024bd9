"""The API Gateway management API (@connections): post frames, close connections.

Only the broadcaster calls this module (it alone holds execute-api:ManageConnections).
The endpoint is ``websocket_management_url``: ``https://{domain}/{stage}`` in AWS, the
local gateway in ``make dev``; both are called the same way.

The calls are SigV4-signed with botocore's own signer (service ``execute-api``, the
credentials chain boto3 uses) and sent over a pooled keep-alive urllib3 client, in
parallel. A boto3 ``post_to_connection`` costs ~0.6 ms of CPU per call (its event hooks,
request model and response parsing), this ~0.3 ms (docs/benchmarks.md, Realtime): a
fan-out is mostly that cost times its recipients. The requests are the ones boto3 sends
(a test compares the signatures); the answers map as boto3's errors did: 410 is gone,
anything else not 2xx is a logged failure, after one retry of throttling, 5xx and
connection errors (boto3's "standard" mode with two attempts). No proxy support: the
broadcaster reaches @connections through the NAT gateways.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from servicedesk.platform import aws
from servicedesk.platform.config import get_settings
from servicedesk.platform.logging import get_logger

SERVICE = "execute-api"
GONE_STATUS = 410
# Retried once (as boto3's standard mode with max_attempts=2 did): throttling and 5xx.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONNECT_TIMEOUT, READ_TIMEOUT = 2.0, 5.0


@dataclass
class Outcome:
    sent: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)


def _region(host: str) -> str:
    """The signing region: an execute-api host names it; otherwise the session's."""
    parts = host.split(".")
    if len(parts) > 3 and parts[1] == SERVICE:
        return parts[2]
    return str(aws.botocore_session().get_config_variable("region") or "us-east-1")


@functools.cache
def _pool(concurrency: int) -> Any:
    import urllib3
    from botocore.httpsession import get_cert_path

    retry = urllib3.Retry(
        total=1,
        connect=1,
        read=1,
        status=1,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,  # POST too: a repeated frame is dropped by its event_id
        backoff_factor=0.05,
        respect_retry_after_header=False,  # a throttled push must not stall the fan-out
        raise_on_status=False,
        raise_on_redirect=False,
        redirect=0,
    )
    # The CA bundle boto3 would use (AWS_CA_BUNDLE, else botocore's).
    ca_certs = aws.botocore_session().get_config_variable("ca_bundle") or get_cert_path(True)
    return urllib3.PoolManager(
        num_pools=4,
        maxsize=concurrency,
        block=True,  # at most `concurrency` keep-alive connections per endpoint
        retries=retry,
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
        ca_certs=ca_certs,
        cert_reqs="CERT_REQUIRED",
    )


@functools.cache
def _workers(concurrency: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ws-push")


class ManagementApi:
    """POST / DELETE ``@connections/{id}`` of one endpoint, signed per request."""

    def __init__(self, endpoint: str, concurrency: int) -> None:
        from botocore.auth import SigV4Auth

        self.endpoint = endpoint.rstrip("/")
        self.concurrency = concurrency
        parts = urlsplit(self.endpoint)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.prefix = f"{parts.path}/@connections/"
        # The endpoint's own pool: each call then skips the manager's URL routing.
        self.http = _pool(concurrency).connection_from_url(self.endpoint)
        credentials = aws.credentials()
        region = _region(parts.hostname or "")
        # Frozen once per fan-out: a refreshable set (a role's) is renewed between them.
        self.signer = (
            SigV4Auth(credentials.get_frozen_credentials(), SERVICE, region)
            if credentials is not None
            else None
        )

    def path(self, connection_id: str) -> str:
        return self.prefix + quote(connection_id, safe="")

    def url(self, connection_id: str) -> str:
        return self.origin + self.path(connection_id)

    def signed_headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        from botocore.awsrequest import AWSRequest
        from botocore.exceptions import NoCredentialsError

        if self.signer is None:
            raise NoCredentialsError()
        request = AWSRequest(method=method, url=url, data=body)
        self.signer.add_auth(request)
        return dict(request.headers.items())

    def call(self, method: str, connection_id: str, body: bytes = b"") -> str:
        """``sent``, ``gone`` or ``failed`` (logged): never raises for one connection."""
        from botocore.exceptions import BotoCoreError
        from urllib3.exceptions import HTTPError

        path = self.path(connection_id)
        action = "push" if method == "POST" else "close"
        try:
            headers = self.signed_headers(method, self.origin + path, body)
            response = self.http.urlopen(method, path, body=body or None, headers=headers)
        except (HTTPError, BotoCoreError) as exc:
            get_logger().warning(
                f"realtime {action} failed",
                extra={"connection_id": connection_id, "error": type(exc).__name__},
            )
            return "failed"
        status = int(response.status)
        if 200 <= status < 300:
            return "sent"
        if status == GONE_STATUS:
            return "gone"
        error = str(response.headers.get("x-amzn-ErrorType") or "").split(":", 1)[0]
        get_logger().warning(
            f"realtime {action} failed",
            extra={
                "connection_id": connection_id,
                "error": error or f"HTTP {status}",
                "status": status,
            },
        )
        return "failed"

    def each(self, method: str, items: list[tuple[str, bytes]]) -> Outcome:
        outcome = Outcome()
        if not items:
            return outcome

        def one(item: tuple[str, bytes]) -> tuple[str, str]:
            return item[0], self.call(method, item[0], item[1])

        if self.concurrency <= 1 or len(items) == 1:
            results = [one(item) for item in items]
        else:
            results = list(_workers(self.concurrency).map(one, items))
        for connection_id, result in results:
            getattr(outcome, result).add(connection_id)
        return outcome


def api() -> ManagementApi:
    settings = get_settings()
    if not settings.websocket_management_url:
        raise RuntimeError(
            "no WebSocket management endpoint (SERVICEDESK_WEBSOCKET_MANAGEMENT_URL)"
        )
    return ManagementApi(settings.websocket_management_url, settings.websocket_push_concurrency)


def encode(frame: dict[str, Any], *, limit: int | None = None) -> bytes | None:
    """Compact JSON under the push limit: a frame that outgrows it loses its summary
    (``data``) and says so; one still too large is not sent (None)."""
    limit = limit or get_settings().websocket_max_push_bytes
    body = json.dumps(frame, separators=(",", ":"), default=str).encode()
    if len(body) <= limit:
        return body
    slim = {k: v for k, v in frame.items() if k != "data"} | {"truncated": True}
    body = json.dumps(slim, separators=(",", ":"), default=str).encode()
    if len(body) <= limit:
        return body
    get_logger().warning("realtime frame over the limit dropped", extra={"bytes": len(body)})
    return None


def post_all(frames: dict[str, bytes]) -> Outcome:
    """Post each connection its frame, in parallel. Gone connections are reported (the
    caller forgets them); other failures are logged, never raised: one bad connection
    must not make the queue redeliver the event to everyone else."""
    if not frames:
        return Outcome()
    return api().each("POST", list(frames.items()))


def post_each(messages: list[tuple[str, bytes]]) -> Outcome:
    """Post several messages, some to the same connection (a GraphQL socket hears one
    ``next`` per matching subscription), in parallel; as ``post_all``."""
    if not messages:
        return Outcome()
    return api().each("POST", messages)


def close_all(connection_ids: Iterable[str], *, reason: str, notice: bool = True) -> Outcome:
    """Tell each connection why (the app's ``closing`` frame, unless ``notice`` is False:
    a GraphQL socket has no such message), then close it (DeleteConnection). Gone counts
    as closed."""
    ids = list(dict.fromkeys(connection_ids))
    if not ids:
        return Outcome()
    management = api()
    if not notice:
        return management.each("DELETE", [(c, b"") for c in ids])
    frame = encode({"type": "closing", "reason": reason}) or b"{}"
    posted = management.each("POST", [(c, frame) for c in ids])
    closed = management.each("DELETE", [(c, b"") for c in ids if c not in posted.gone])
    closed.gone |= posted.gone
    return closed
