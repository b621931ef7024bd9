"""Webhooks API (admin) and the public inbound hook. Thin: parse, call, shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from servicedesk.platform.config import get_settings
from servicedesk.platform.endpoints import Resource, listing, operation
from servicedesk.platform.rbac import Permission, public, requires
from servicedesk.webhooks import inbound, service
from servicedesk.webhooks.schemas import (
    DeliveryPublic,
    WebhookCreate,
    WebhookPublic,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/v1", tags=["webhooks"])
hooks_router = APIRouter(prefix="/v1", tags=["hooks"])
ADMIN = [requires(Permission.WEBHOOK_MANAGE)]
webhooks = Resource(
    router,
    "/webhooks",
    "webhook_id",
    "webhook",
    WebhookPublic,
    Permission.WEBHOOK_MANAGE,
    Permission.WEBHOOK_MANAGE,
)
webhooks.list("List webhook endpoints", service.list_endpoints, name="list_webhooks")
webhooks.create(
    "Create a webhook endpoint (the response shows its secret, once)",
    WebhookCreate,
    service.create_endpoint,
    public=WebhookWithSecret,
)
webhooks.get("Get a webhook endpoint", service.get_endpoint)
webhooks.update(
    "Change a webhook endpoint (needs If-Match or version)", WebhookUpdate, service.update_endpoint
)
webhooks.delete("Delete a webhook endpoint and its delivery log", service.delete_endpoint)


operation(
    router.post,
    "/webhooks/{webhook_id}/rotate-secret",
    Permission.WEBHOOK_MANAGE,
    "New signing secret (shown once); the old one keeps signing for 24 h",
    service.rotate_secret,
    public=WebhookWithSecret,
)


listing(
    router,
    "/webhooks/{webhook_id}/deliveries",
    Permission.WEBHOOK_MANAGE,
    "The endpoint's delivery log, newest first",
    DeliveryPublic,
    service.list_deliveries,
)


operation(
    router.post,
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    Permission.WEBHOOK_MANAGE,
    "Send a logged delivery's payload again, now",
    service.redeliver,
    public=DeliveryPublic,
)


operation(
    router.post,
    "/webhooks/{webhook_id}/ping",
    Permission.WEBHOOK_MANAGE,
    "Deliver a webhook.ping now and return the delivery",
    service.ping,
    public=DeliveryPublic,
)


class HookAccepted(BaseModel):
    accepted: int
    duplicates: int


@hooks_router.post(
    "/hooks/{provider}",
    status_code=202,
    dependencies=[public("inbound hooks carry their own HMAC signature, verified first")],
    summary="Inbound e-mail delivery events (bounces, complaints); signed, see docs/webhooks.md",
)
async def receive_hook(
    provider: Annotated[str, Path(max_length=32)], request: Request
) -> HookAccepted:
    # Async and database-free until the raw body's signature is verified (invariant 9).
    body = await request.body()
    notices = inbound.verified_notices(provider, body, request.headers, settings=get_settings())
    accepted, duplicates = await run_in_threadpool(inbound.record, provider, notices)
    return HookAccepted(accepted=accepted, duplicates=duplicates)
