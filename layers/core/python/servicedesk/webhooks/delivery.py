"""Delivering events to webhook endpoints: the SQS consumer's work, and manual deliveries.

For each active endpoint subscribed to an event, in a transaction of its own: claim
(event, "webhook", endpoint) so a redelivered message posts nothing twice, POST the signed
body, log the attempt, commit. Endpoints are isolated from each other: whatever goes wrong
with one (a URL stored before the strict rules, a refused address, a timeout, an error
building the request) is that endpoint's failed attempt, never an exception that would
redo the event for every endpoint: a new message for just that endpoint goes back to the
webhook queue with a capped, fully jittered exponential delay, until
``webhook_max_attempts``. Only our own trouble (the database, SQS) fails the record, and
then only the endpoints whose claim did not commit are posted again.
``webhook_disable_after`` failed attempts in a row disable the endpoint and emit
``webhook.disabled`` for its admins.

Delivery is at least once: a crash between the POST and the commit repeats the POST, so
receivers dedupe on ``Servicedesk-Event-Id``.
"""

from __future__ import annotations

import json
import math
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from servicedesk.platform import aws, metrics, outbox
from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.consumer import Envelope, Incomplete, claim
from servicedesk.platform.db import set_tenant, transaction
from servicedesk.platform.logging import get_logger
from servicedesk.platform.metric_names import WEBHOOK_DELIVERIES
from servicedesk.webhooks import signing, ssrf
from servicedesk.webhooks.models import WebhookDelivery, WebhookEndpoint
from servicedesk.webhooks.schemas import KNOWN_EVENT_TYPES

CHANNEL = "webhook"
RETRY_TYPE = "webhook.retry"
DISABLED_TYPE = "webhook.disabled"
PING_TYPE = "webhook.ping"
AUTOMATION_TYPE = "automation.webhook"
SNIPPET_CHARS = 500
SQS_MAX_DELAY = 900
USER_AGENT = "Servicedesk-Webhooks/1"


@dataclass(frozen=True)
class Policy:
    """The delivery settings one consumer invocation works with."""

    max_attempts: int
    disable_after: int
    timeout_seconds: float
    retry_base_seconds: float
    retry_cap_seconds: float
    local: bool
    queue_url: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            max_attempts=settings.webhook_max_attempts,
            disable_after=settings.webhook_disable_after,
            timeout_seconds=settings.webhook_timeout_seconds,
            retry_base_seconds=settings.webhook_retry_base_seconds,
            retry_cap_seconds=settings.webhook_retry_cap_seconds,
            local=ssrf.allow_local(settings),
            queue_url=settings.webhook_queue_url,
        )


@dataclass(frozen=True)
class Event:
    """What is posted: the event's identity and the exact body bytes."""

    event_id: uuid.UUID
    event_type: str
    seq: int
    body: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    snippet: str
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def render(
    *,
    event_id: uuid.UUID,
    event_type: str,
    seq: int,
    tenant_id: uuid.UUID,
    created_at: datetime,
    data: dict[str, Any],
) -> str:
    document = {
        "id": str(event_id),
        "type": event_type,
        "seq": seq,
        "tenant_id": str(tenant_id),
        "created_at": created_at.isoformat(),
        "data": data,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True, default=str)


def retry_delay(
    attempt: int, *, base: float, cap: float, rand: Callable[[], float] = random.random
) -> int:
    """Seconds before attempt ``attempt + 1``: full jitter over a capped exponential."""
    growth: float = 2.0 ** max(0, attempt - 1)
    ceiling = min(cap, base * growth, float(SQS_MAX_DELAY))
    return min(SQS_MAX_DELAY, math.ceil(rand() * ceiling))


def _read_snippet(response: Any) -> str:
    """At most SNIPPET_CHARS of the response, without reading a huge body."""
    collected = b""
    for chunk in response.iter_bytes():
        collected += chunk
        if len(collected) >= SNIPPET_CHARS * 4:
            break
    return collected.decode("utf-8", errors="replace")[:SNIPPET_CHARS]


def post(
    url: str,
    event: Event,
    *,
    signing_secrets: list[str],
    policy: Policy,
    now: float | None = None,
) -> Outcome:
    """One signed POST. SSRF is checked again here (DNS may have changed since creation) and
    the connection goes to the vetted address; redirects are not followed."""
    try:
        target = ssrf.vet(url, local=policy.local)
    except ssrf.UnsafeUrl as exc:
        return Outcome(None, 0, "", f"refused: {exc}"[:SNIPPET_CHARS])
    started = time.perf_counter()
    status: int | None
    try:
        status, snippet = _send(
            target, event, signing_secrets=signing_secrets, policy=policy, now=now
        )
        error = None if 200 <= status < 300 else f"HTTP {status}"
    except Exception as exc:  # noqa: BLE001 - this endpoint's failed attempt, logged and retried
        if not _expected(exc):
            get_logger().warning(
                "webhook delivery raised; recorded as a failed attempt",
                exc_info=True,
                extra={"event_id": str(event.event_id), "event_type": event.event_type},
            )
        status, snippet = None, ""
        error = f"{type(exc).__name__}: {exc}"[:SNIPPET_CHARS]
    latency = round((time.perf_counter() - started) * 1000)
    outcome = Outcome(status, latency, snippet, error)
    metrics.count(WEBHOOK_DELIVERIES, Outcome="ok" if outcome.ok else "failed")
    return outcome


def _expected(exc: Exception) -> bool:
    """Network trouble on the receiver's side: not worth a stack trace in our log."""
    import httpx

    return isinstance(exc, httpx.HTTPError)


def _send(
    target: ssrf.Target,
    event: Event,
    *,
    signing_secrets: list[str],
    policy: Policy,
    now: float | None,
) -> tuple[int, str]:
    import httpx

    connect_url, pinned_headers, extensions = target.request()
    body = event.body.encode("utf-8")
    timestamp = int(time.time() if now is None else now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.SIGNATURE_HEADER: signing.sign(signing_secrets, timestamp, body),
        signing.EVENT_ID_HEADER: str(event.event_id),
        signing.EVENT_TYPE_HEADER: event.event_type,
        signing.SEQ_HEADER: str(event.seq),
        **pinned_headers,
    }
    # trust_env=False: no proxy from the environment may bypass the pinned address.
    with (
        httpx.Client(
            timeout=policy.timeout_seconds, follow_redirects=False, trust_env=False
        ) as client,
        client.stream(
            "POST", connect_url, content=body, headers=headers, extensions=extensions
        ) as response,
    ):
        return response.status_code, _read_snippet(response)


def _log(
    session: Session,
    endpoint: WebhookEndpoint,
    event: Event,
    outcome: Outcome,
    *,
    attempt: int,
    trigger: str,
    retry_in: int | None = None,
) -> WebhookDelivery:
    row = WebhookDelivery(
        id=uuid.uuid4(),
        tenant_id=endpoint.tenant_id,
        endpoint_id=endpoint.id,
        event_id=event.event_id,
        event_type=event.event_type,
        seq=event.seq,
        attempt=attempt,
        trigger=trigger,
        request_body=event.body,
        success=outcome.ok,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        response_snippet=outcome.snippet,
        error=outcome.error,
        retry_in_seconds=retry_in,
    )
    session.add(row)
    session.flush()
    return row


def deliver_now(
    session: Session, endpoint: WebhookEndpoint, event: Event, *, trigger: str
) -> WebhookDelivery:
    """A manual delivery (ping, redeliver): posted and logged now; no retry, and the
    endpoint's failure count is left alone."""
    policy = Policy.from_settings(get_settings())
    outcome = post(
        endpoint.url,
        event,
        signing_secrets=endpoint.signing_secrets(datetime.now(UTC)),
        policy=policy,
    )
    row = _log(session, endpoint, event, outcome, attempt=1, trigger=trigger)
    session.refresh(row)
    return row


def _schedule_retry(
    envelope: Envelope, endpoint: WebhookEndpoint, event: Event, *, attempt: int, delay: int
) -> None:
    """A new message for this endpoint only; it goes through the same consumer."""
    policy_url = get_settings().webhook_queue_url
    if not policy_url:
        get_logger().warning("no webhook queue configured; retry dropped")
        return
    message = {
        "event_id": str(event.event_id),
        "seq": event.seq,
        "tenant_id": str(envelope.tenant_id),
        "type": RETRY_TYPE,
        "aggregate": {"type": "webhook_endpoint", "id": str(endpoint.id)},
        "payload": {
            "endpoint_id": str(endpoint.id),
            "attempt": attempt,
            "event_type": event.event_type,
            "body": event.body,
        },
        "created_at": datetime.now(UTC).isoformat(),
        **({"trace": envelope.trace} if envelope.trace else {}),  # the retry keeps the trace
    }
    aws.sqs().send_message(
        QueueUrl=policy_url,
        MessageBody=json.dumps(message),
        DelaySeconds=delay,
        MessageAttributes={"type": {"DataType": "String", "StringValue": RETRY_TYPE}},
    )


def _record_outcome(
    session: Session,
    envelope: Envelope,
    endpoint: WebhookEndpoint,
    event: Event,
    outcome: Outcome,
    *,
    attempt: int,
    policy: Policy,
) -> None:
    trigger = "event" if attempt == 1 else "retry"
    # The endpoint may have been deleted while its POST was in flight (no lock is held
    # during the POST): then there is nothing to record. KEY SHARE keeps it until commit.
    still_there = session.execute(
        text("SELECT 1 FROM webhook_endpoints WHERE id = :id FOR KEY SHARE"), {"id": endpoint.id}
    ).first()
    if still_there is None:
        return
    if outcome.ok:
        # Only touch (and lock) the endpoint row when there is a streak to reset.
        session.execute(
            text(
                "UPDATE webhook_endpoints SET consecutive_failures = 0"
                " WHERE id = :id AND consecutive_failures <> 0"
            ),
            {"id": endpoint.id},
        )
        _log(session, endpoint, event, outcome, attempt=attempt, trigger=trigger)
        return
    failures = session.execute(
        text(
            "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1"
            " WHERE id = :id RETURNING consecutive_failures"
        ),
        {"id": endpoint.id},
    ).scalar_one()
    if failures >= policy.disable_after:
        _log(session, endpoint, event, outcome, attempt=attempt, trigger=trigger)
        _disable(session, endpoint, failures=failures, last_error=outcome.error)
        return
    retry_in = None
    if attempt < policy.max_attempts:
        retry_in = retry_delay(
            attempt, base=policy.retry_base_seconds, cap=policy.retry_cap_seconds
        )
    _log(session, endpoint, event, outcome, attempt=attempt, trigger=trigger, retry_in=retry_in)
    if retry_in is not None:
        _schedule_retry(envelope, endpoint, event, attempt=attempt + 1, delay=retry_in)


def _disable(
    session: Session, endpoint: WebhookEndpoint, *, failures: int, last_error: str | None
) -> None:
    reason = f"{failures} consecutive failed deliveries"
    disabled = session.execute(
        text(
            "UPDATE webhook_endpoints SET active = false, disabled_at = now(),"
            " disabled_reason = :r, version = version + 1, updated_at = now()"
            " WHERE id = :id AND active RETURNING disabled_at"
        ),
        {"id": endpoint.id, "r": reason},
    ).first()
    if disabled is None:
        return  # already disabled by a concurrent delivery: notify once
    outbox.emit(
        session,
        tenant_id=endpoint.tenant_id,
        event_type=DISABLED_TYPE,
        aggregate_type="webhook",
        aggregate_id=endpoint.id,
        payload={
            "webhook_id": endpoint.id,
            "url": endpoint.url,
            "consecutive_failures": failures,
            "last_error": last_error,
            "disabled_at": disabled.disabled_at,
            "notify_roles": ["admin"],
        },
    )


def _subscribed(session: Session, tenant_id: uuid.UUID, event_type: str) -> list[WebhookEndpoint]:
    query = (
        select(WebhookEndpoint)
        .where(
            WebhookEndpoint.tenant_id == tenant_id,
            WebhookEndpoint.active.is_(True),
            WebhookEndpoint.event_types.overlap([event_type, "*"]),
        )
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return list(session.scalars(query))


def _fan_out(session: Session, envelope: Envelope, policy: Policy) -> None:
    event = Event(
        envelope.event_id,
        envelope.type,
        envelope.seq,
        render(
            event_id=envelope.event_id,
            event_type=envelope.type,
            seq=envelope.seq,
            tenant_id=envelope.tenant_id,
            created_at=envelope.created_at,
            data=envelope.payload,
        ),
    )
    endpoint_ids = [e.id for e in _subscribed(session, envelope.tenant_id, envelope.type)]
    failed = 0
    for endpoint_id in endpoint_ids:
        try:
            _deliver_to(endpoint_id, envelope, event, policy)
        except Exception:  # noqa: BLE001 - raised below as Incomplete, after the other endpoints
            failed += 1
            get_logger().warning(
                "webhook bookkeeping failed; the event will be retried for this endpoint",
                exc_info=True,
                extra={"event_id": str(envelope.event_id), "endpoint_id": str(endpoint_id)},
            )
    if failed:
        raise Incomplete(f"{failed} of {len(endpoint_ids)} webhook endpoints not recorded")


def _deliver_to(endpoint_id: uuid.UUID, envelope: Envelope, event: Event, policy: Policy) -> None:
    """Claim, POST, record, commit: one endpoint, one transaction. A redelivery of the record
    finds this endpoint claimed and posts nothing to it again."""
    with transaction() as session:
        set_tenant(session, tenant_id=envelope.tenant_id, user_id=None)
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None or not endpoint.active:
            return  # deleted or disabled since the list was read
        if not claim(session, envelope, channel=CHANNEL, recipient=str(endpoint_id)):
            return
        secrets = endpoint.signing_secrets(datetime.now(UTC))
        outcome = post(endpoint.url, event, signing_secrets=secrets, policy=policy)
        _record_outcome(session, envelope, endpoint, event, outcome, attempt=1, policy=policy)
    emitted = session.info.get("outbox_ids")
    if emitted:  # webhook.disabled: out now, not at the next sweep
        from servicedesk.platform.publisher import publish_committed

        publish_committed(envelope.tenant_id, list(emitted))


def _retry(session: Session, envelope: Envelope, policy: Policy) -> None:
    payload = envelope.payload
    endpoint_id = uuid.UUID(str(payload["endpoint_id"]))
    attempt = int(payload["attempt"])
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not endpoint.active or endpoint.tenant_id != envelope.tenant_id:
        return  # deleted or disabled since: the retry lapses
    if not claim(session, envelope, channel=CHANNEL, recipient=f"{endpoint_id}#{attempt}"):
        return
    event = Event(envelope.event_id, str(payload["event_type"]), envelope.seq, str(payload["body"]))
    outcome = post(
        endpoint.url,
        event,
        signing_secrets=endpoint.signing_secrets(datetime.now(UTC)),
        policy=policy,
    )
    _record_outcome(session, envelope, endpoint, event, outcome, attempt=attempt, policy=policy)


def process(session: Session, envelope: Envelope) -> None:
    """The webhook queue's consumer: retries, inbound e-mail outcomes, and events."""
    from servicedesk.webhooks import inbound

    policy = Policy.from_settings(get_settings())
    if envelope.type == RETRY_TYPE:
        _retry(session, envelope, policy)
    elif envelope.type in inbound.EVENT_TYPES:
        inbound.apply(session, envelope)
    elif envelope.type == AUTOMATION_TYPE:
        _to_one(envelope, policy)
    elif envelope.type in KNOWN_EVENT_TYPES:
        _fan_out(session, envelope, policy)


def _to_one(envelope: Envelope, policy: Policy) -> None:
    """An automation rule's webhook action: a delivery to the one endpoint it names, whatever
    the endpoint subscribes to (it is logged, retried and counted like any other)."""
    try:
        endpoint_id = uuid.UUID(str(envelope.payload.get("webhook_id")))
    except ValueError:
        return
    event = Event(
        envelope.event_id,
        envelope.type,
        envelope.seq,
        render(
            event_id=envelope.event_id,
            event_type=envelope.type,
            seq=envelope.seq,
            tenant_id=envelope.tenant_id,
            created_at=envelope.created_at,
            data=envelope.payload,
        ),
    )
    _deliver_to(endpoint_id, envelope, event, policy)
