"""Notifications API: the caller's inbox and preferences. Thin. (Caught mail is read through
the local runtime's dev mail viewer, local/devmail.py.)"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse

from servicedesk.notifications import service, unsubscribe
from servicedesk.notifications.schemas import (
    NotificationPublic,
    PreferenceItem,
    PreferencesPublic,
    PreferencesUpdate,
    ReadAll,
    UnreadCount,
)
from servicedesk.platform.config import get_settings
from servicedesk.platform.context import Ctx, Tx
from servicedesk.platform.endpoints import listing, operation, route
from servicedesk.platform.rbac import Permission, public

router = APIRouter(prefix="/v1", tags=["notifications"])


listing(
    router,
    "/notifications",
    Permission.DESK_ACCESS,
    "The caller's notifications, newest first",
    NotificationPublic,
    service.list_notifications,
    limit=25,
    query={
        "unread": Annotated[bool | None, Query(description="true: unread only; false: read only")]
    },
)


@route(
    router.get,
    "/notifications/unread-count",
    Permission.DESK_ACCESS,
    "How many of the caller's notifications are unread",
)
def unread_count(ctx: Ctx) -> UnreadCount:
    return UnreadCount(count=service.unread_count(ctx))


@route(
    router.post,
    "/notifications/read-all",
    Permission.DESK_ACCESS,
    "Mark all the caller's notifications read",
)
def read_all(ctx: Ctx) -> ReadAll:
    return ReadAll(updated=service.mark_all_read(ctx))


operation(
    router.post,
    "/notifications/{notification_id}/read",
    Permission.DESK_ACCESS,
    "Mark one notification read (idempotent)",
    service.mark_read,
    public=NotificationPublic,
    name="read_one",
)


@route(
    router.get,
    "/notification-preferences",
    Permission.DESK_ACCESS,
    "The caller's notification preferences per event type and channel",
)
def get_preferences(ctx: Ctx) -> PreferencesPublic:
    return PreferencesPublic.model_validate({"items": service.preference_rows(ctx)})


@route(
    router.put,
    "/notification-preferences",
    Permission.DESK_ACCESS,
    "Switch notifications on or off per event type and channel (listed items only)",
)
def put_preferences(body: PreferencesUpdate, ctx: Ctx) -> PreferencesPublic:
    service.reset_preferences(ctx, body.reset)
    service.set_preferences(ctx, body.items)
    return PreferencesPublic.model_validate({"items": service.preference_rows(ctx)})


UnsubscribeToken = Annotated[
    str,
    Query(
        min_length=1,
        max_length=unsubscribe.MAX_TOKEN_LENGTH,
        description="The signed token from the e-mail's List-Unsubscribe link",
    ),
]


@router.post(
    "/notifications/unsubscribe",
    dependencies=[public("one-click unsubscribe (RFC 8058): the signed token names the member")],
    summary="Switch off the e-mail a List-Unsubscribe link names (one click, no sign-in)",
)
def one_click_unsubscribe(token: UnsubscribeToken, session: Tx) -> PreferenceItem:
    # The RFC 8058 body (List-Unsubscribe=One-Click) carries nothing the token does not.
    return service.unsubscribe_by_token(session, token)


@router.get(
    "/notifications/unsubscribe",
    dependencies=[public("leads a browser to the app's unsubscribe page; changes nothing")],
    summary="A browser that opens the List-Unsubscribe link is sent to the app's page",
    status_code=303,
    response_class=RedirectResponse,
)
def unsubscribe_page(token: UnsubscribeToken) -> RedirectResponse:
    # A GET never unsubscribes: link scanners open every link in a mail.
    origin = get_settings().web_origin.rstrip("/")
    return RedirectResponse(f"{origin}/unsubscribe?{urlencode({'token': token})}", status_code=303)
