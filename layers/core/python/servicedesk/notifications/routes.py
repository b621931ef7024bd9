"""Notifications API: the caller's inbox and preferences; the dev mail catcher. Thin."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, RedirectResponse

from servicedesk.notifications import mailer, service, unsubscribe
from servicedesk.notifications.schemas import (
    CaughtMail,
    NotificationPublic,
    PreferenceItem,
    PreferencesPublic,
    PreferencesUpdate,
    ReadAll,
    UnreadCount,
)
from servicedesk.platform.config import Environment, get_settings
from servicedesk.platform.context import Ctx, Tx
from servicedesk.platform.errors import NotFound
from servicedesk.platform.pagination import TEXT, Cursor, Key, Keyset, Limit, Page, encode_cursor
from servicedesk.platform.rbac import Role, public, requires

router = APIRouter(prefix="/v1", tags=["notifications"])
dev_router = APIRouter(prefix="/v1/dev", tags=["dev"])


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


def _dev_only() -> None:
    """The mail catcher exists in dev and test only; elsewhere these routes are unknown."""
    if get_settings().environment not in (Environment.DEV, Environment.TEST):
        raise NotFound()


# Caught mail lives in files, not a table: only the cursor's decoding is shared.
CAUGHT_NEWEST = Keyset([Key(None, TEXT, lambda item: item["name"])], descending=True)


def _catcher() -> Path | None:
    directory = get_settings().mail_catcher_dir
    return Path(directory) if directory else None


@dev_router.get(
    "/mail",
    dependencies=[Depends(_dev_only), requires(Role.ADMIN)],
    summary="Dev only: the e-mails caught for this tenant, newest first",
)
def list_mail(ctx: Ctx, limit: Limit = 50, cursor: Cursor = None) -> Page[CaughtMail]:
    after = CAUGHT_NEWEST.decode(cursor)
    directory = _catcher()
    if directory is None:
        return Page(items=[])
    items, last = mailer.caught(
        directory, ctx.tenant_id, limit=limit, before=after[0] if after else None
    )
    return Page(
        items=[CaughtMail.model_validate(i) for i in items],
        next_cursor=encode_cursor([last]) if last else None,
    )


@dev_router.get(
    "/mail/{name}",
    dependencies=[Depends(_dev_only), requires(Role.ADMIN)],
    summary="Dev only: one caught e-mail, raw (the .eml text)",
    response_class=PlainTextResponse,
)
def get_mail(name: str, ctx: Ctx) -> PlainTextResponse:
    directory = _catcher()
    raw = mailer.read_caught(directory, name, ctx.tenant_id) if directory else None
    if raw is None:
        raise NotFound("no such message")
    return PlainTextResponse(raw)
