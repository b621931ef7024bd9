"""Webhooks API (admin) and the public inbound hook. Thin: parse, call, shape."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from servicedesk.platform.config import get_settings
from servicedesk.platform.context import Ctx
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.rbac import Role, public, requires
from servicedesk.platform.endpoints import Once, page_of, route, tagged
from servicedesk.platform.versioning import parse_if_match
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
ADMIN = [requires(Role.ADMIN)]


@route(router.get, "/webhooks", Role.ADMIN, "List webhook endpoints")
def list_webhooks(ctx: Ctx, limit: Limit = 50, cursor: Cursor = None) -> Page[WebhookPublic]:
    return page_of(WebhookPublic, service.list_endpoints(ctx, limit=limit, cursor=cursor))


@route(
    router.post,
    "/webhooks",
    Role.ADMIN,
    "Create a webhook endpoint (the response shows its secret, once)",
    status_code=201,
)
def create_webhook(body: WebhookCreate, ctx: Ctx, once: Once) -> WebhookWithSecret:
    return once(
        body, lambda: WebhookWithSecret.model_validate(service.create_endpoint(ctx, data=body))
    )


@route(router.get, "/webhooks/{webhook_id}", Role.ADMIN, "Get a webhook endpoint")
def get_webhook(webhook_id: uuid.UUID, ctx: Ctx, response: Response) -> WebhookPublic:
    endpoint = service.get_endpoint(ctx, webhook_id=webhook_id)
    return tagged(response, WebhookPublic.model_validate(endpoint))


@route(
    router.patch,
    "/webhooks/{webhook_id}",
    Role.ADMIN,
    "Change a webhook endpoint (needs If-Match or version)",
)
def update_webhook(
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> WebhookPublic:
    version = parse_if_match(if_match)
    endpoint = service.update_endpoint(ctx, webhook_id=webhook_id, data=body, if_match=version)
    return tagged(response, WebhookPublic.model_validate(endpoint))


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    dependencies=ADMIN,
    summary="Delete a webhook endpoint and its delivery log",
)
def delete_webhook(webhook_id: uuid.UUID, ctx: Ctx) -> Response:
    service.delete_endpoint(ctx, webhook_id=webhook_id)
    return Response(status_code=204)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    dependencies=ADMIN,
    summary="New signing secret (shown once); the old one keeps signing for 24 h",
)
def rotate_secret(webhook_id: uuid.UUID, ctx: Ctx) -> WebhookWithSecret:
    return WebhookWithSecret.model_validate(service.rotate_secret(ctx, webhook_id=webhook_id))


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    dependencies=ADMIN,
    summary="The endpoint's delivery log, newest first",
)
def list_deliveries(
    webhook_id: uuid.UUID, ctx: Ctx, limit: Limit = 50, cursor: Cursor = None
) -> Page[DeliveryPublic]:
    found = service.list_deliveries(ctx, webhook_id=webhook_id, limit=limit, cursor=cursor)
    return page_of(DeliveryPublic, found)


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    dependencies=ADMIN,
    summary="Send a logged delivery's payload again, now",
)
def redeliver(webhook_id: uuid.UUID, delivery_id: uuid.UUID, ctx: Ctx) -> DeliveryPublic:
    row = service.redeliver(ctx, webhook_id=webhook_id, delivery_id=delivery_id)
    return DeliveryPublic.model_validate(row)


@router.post(
    "/webhooks/{webhook_id}/ping",
    dependencies=ADMIN,
    summary="Deliver a webhook.ping now and return the delivery",
)
def ping(webhook_id: uuid.UUID, ctx: Ctx) -> DeliveryPublic:
    return DeliveryPublic.model_validate(service.ping(ctx, webhook_id=webhook_id))


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
