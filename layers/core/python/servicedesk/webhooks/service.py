"""Webhook endpoint rules: CRUD, secret rotation, the delivery log, ping and redeliver.
No HTTP framework here, and never a commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from servicedesk.platform import audit, crud
from servicedesk.platform.config import get_settings
from servicedesk.platform.errors import NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.webhooks import delivery, signing, ssrf
from servicedesk.webhooks.models import WebhookDelivery, WebhookEndpoint
from servicedesk.webhooks.schemas import WebhookCreate, WebhookUpdate

# After a rotation the old secret still signs (as a second v1) for this long, so receivers
# can switch over without dropping deliveries.
ROTATION_GRACE = timedelta(hours=24)


def _vetted_url(url: str) -> str:
    try:
        ssrf.vet(url, local=ssrf.allow_local(get_settings()))
    except ssrf.UnsafeUrl as exc:
        raise ValidationProblem(f"url {exc}", errors=[field_error("url", str(exc))]) from exc
    return url


ENDPOINTS_OLDEST = Keyset(
    [Key(WebhookEndpoint.created_at, TIMESTAMP), Key(WebhookEndpoint.id, UUID)]
)
DELIVERIES_NEWEST = Keyset(
    [Key(WebhookDelivery.created_at, TIMESTAMP), Key(WebhookDelivery.id, UUID)], descending=True
)


def list_endpoints(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[WebhookEndpoint], str | None]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, ENDPOINTS_OLDEST, limit=limit, cursor=cursor)


def get_endpoint(
    ctx: RequestContext, *, webhook_id: uuid.UUID, lock: bool = False
) -> WebhookEndpoint:
    endpoint = ctx.session.get(WebhookEndpoint, webhook_id, with_for_update=lock or None)
    if endpoint is None or endpoint.tenant_id != ctx.tenant_id:
        raise NotFound("no such webhook")
    return endpoint


def create_endpoint(ctx: RequestContext, *, data: WebhookCreate) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        url=_vetted_url(data.url),
        event_types=list(data.event_types),
        active=data.active,
        secret=signing.generate_secret(),
        created_by=ctx.user_id,
    )
    return crud.created(
        ctx, endpoint, crud.flushed(ctx.session), "webhook", after=data.model_dump(mode="json")
    )


def update_endpoint(
    ctx: RequestContext, *, webhook_id: uuid.UUID, data: WebhookUpdate, if_match: int | None
) -> WebhookEndpoint:
    endpoint, diff = crud.changes(
        lambda: get_endpoint(ctx, webhook_id=webhook_id, lock=True),
        data,
        if_match,
        "webhook",
        "json",
    )
    after = diff["after"]
    if not after:
        return endpoint
    if "url" in after:
        _vetted_url(after["url"])
    # Re-enabling starts a fresh streak.
    fresh = {"consecutive_failures": 0, "disabled_at": None, "disabled_reason": None}
    written = {**after, **fresh} if after.get("active") is True else after
    crud.changed(ctx, endpoint, written, guard=crud.flushed(ctx.session))
    audit.record(
        ctx,
        action="webhook.updated",
        entity_type="webhook",
        entity_id=webhook_id,
        data=diff,
    )
    return endpoint


def delete_endpoint(ctx: RequestContext, *, webhook_id: uuid.UUID) -> None:
    endpoint = get_endpoint(ctx, webhook_id=webhook_id, lock=True)
    ctx.session.delete(endpoint)
    ctx.session.flush()
    audit.record(
        ctx,
        action="webhook.deleted",
        entity_type="webhook",
        entity_id=webhook_id,
        data={"before": {"url": endpoint.url, "event_types": endpoint.event_types}},
    )


def rotate_secret(ctx: RequestContext, *, webhook_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = get_endpoint(ctx, webhook_id=webhook_id, lock=True)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = datetime.now(UTC) + ROTATION_GRACE
    endpoint.secret = signing.generate_secret()
    endpoint.version = endpoint.version + 1
    endpoint.updated_at = func.now()
    ctx.session.flush()
    ctx.session.refresh(endpoint)
    audit.record(
        ctx,
        action="webhook.secret_rotated",
        entity_type="webhook",
        entity_id=webhook_id,
        data={"previous_valid_until": endpoint.previous_secret_expires_at},
    )
    return endpoint


def list_deliveries(
    ctx: RequestContext, *, webhook_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[WebhookDelivery], str | None]:
    """Newest first."""
    get_endpoint(ctx, webhook_id=webhook_id)
    query = select(WebhookDelivery).where(
        WebhookDelivery.tenant_id == ctx.tenant_id, WebhookDelivery.endpoint_id == webhook_id
    )
    return paginate(ctx.session, query, DELIVERIES_NEWEST, limit=limit, cursor=cursor)


def redeliver(
    ctx: RequestContext, *, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """The same event and body again, now, signed afresh."""
    endpoint = get_endpoint(ctx, webhook_id=webhook_id)
    original = ctx.session.get(WebhookDelivery, delivery_id)
    if original is None or original.endpoint_id != endpoint.id:
        raise NotFound("no such delivery")
    event = delivery.Event(
        original.event_id, original.event_type, original.seq, original.request_body
    )
    row = delivery.deliver_now(ctx.session, endpoint, event, trigger="redeliver")
    audit.record(
        ctx,
        action="webhook.redelivered",
        entity_type="webhook",
        entity_id=webhook_id,
        data={"delivery_id": delivery_id, "new_delivery_id": row.id},
    )
    return row


def ping(ctx: RequestContext, *, webhook_id: uuid.UUID) -> WebhookDelivery:
    """A ``webhook.ping`` delivered in the request. Not an outbox event: it changes no
    state, it is the request itself, and its result is the answer."""
    endpoint = get_endpoint(ctx, webhook_id=webhook_id)
    event_id = uuid.uuid4()
    body = delivery.render(
        event_id=event_id,
        event_type=delivery.PING_TYPE,
        seq=0,
        tenant_id=ctx.tenant_id,
        created_at=datetime.now(UTC),
        data={"webhook_id": str(endpoint.id)},
    )
    event = delivery.Event(event_id, delivery.PING_TYPE, 0, body)
    return delivery.deliver_now(ctx.session, endpoint, event, trigger="ping")
