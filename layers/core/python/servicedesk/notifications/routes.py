"""Notifications API: the caller's inbox and preferences. Thin. (Caught mail is read through
the local runtime's dev mail viewer, local/devmail.py.)"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from servicedesk.notifications import service
from servicedesk.notifications.schemas import (
    NotificationPublic,
    PreferencesPublic,
    PreferencesUpdate,
    ReadAll,
    UnreadCount,
)
from servicedesk.platform.context import Ctx
from servicedesk.platform.pagination import Cursor, Limit, Page
from servicedesk.platform.rbac import Role, requires

router = APIRouter(prefix="/v1", tags=["notifications"])


@router.get(
    "/notifications",
    dependencies=[requires(Role.REQUESTER)],
    summary="The caller's notifications, newest first",
)
def list_notifications(
    ctx: Ctx,
    limit: Limit = 25,
    cursor: Cursor = None,
    unread: Annotated[bool | None, Query(description="true: unread only; false: read only")] = None,
) -> Page[NotificationPublic]:
    rows, nxt = service.list_notifications(ctx, unread=unread, limit=limit, cursor=cursor)
    return Page(items=[NotificationPublic.model_validate(r) for r in rows], next_cursor=nxt)


@router.get(
    "/notifications/unread-count",
    dependencies=[requires(Role.REQUESTER)],
    summary="How many of the caller's notifications are unread",
)
def unread_count(ctx: Ctx) -> UnreadCount:
    return UnreadCount(count=service.unread_count(ctx))


@router.post(
    "/notifications/read-all",
    dependencies=[requires(Role.REQUESTER)],
    summary="Mark all the caller's notifications read",
)
def read_all(ctx: Ctx) -> ReadAll:
    return ReadAll(updated=service.mark_all_read(ctx))


@router.post(
    "/notifications/{notification_id}/read",
    dependencies=[requires(Role.REQUESTER)],
    summary="Mark one notification read (idempotent)",
)
def read_one(notification_id: uuid.UUID, ctx: Ctx) -> NotificationPublic:
    found = service.mark_read(ctx, notification_id=notification_id)
    return NotificationPublic.model_validate(found)


@router.get(
    "/notification-preferences",
    dependencies=[requires(Role.REQUESTER)],
    summary="The caller's notification preferences per event type and channel",
)
def get_preferences(ctx: Ctx) -> PreferencesPublic:
    items = service.get_preferences(ctx)
    return PreferencesPublic.model_validate({"items": [i.model_dump() for i in items]})


@router.put(
    "/notification-preferences",
    dependencies=[requires(Role.REQUESTER)],
    summary="Switch notifications on or off per event type and channel (listed items only)",
)
def put_preferences(body: PreferencesUpdate, ctx: Ctx) -> PreferencesPublic:
    items = service.set_preferences(ctx, body.items)
    return PreferencesPublic.model_validate({"items": [i.model_dump() for i in items]})
