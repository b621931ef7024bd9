"""Mail sources API: admins' provider hooks and IMAP mailboxes. Thin: parse, call, shape."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from servicedesk.mail import hooks, mailboxes
from servicedesk.mail.source_schemas import (
    MailboxCreate,
    MailboxPublic,
    MailboxTest,
    MailboxUpdate,
    MailHookCreate,
    MailHookPublic,
    MailHookUpdate,
    MailHookWithSecret,
)
from servicedesk.platform import idempotency
from servicedesk.platform.context import Ctx
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.rbac import Permission, requires
from servicedesk.platform.versioning import parse_if_match

router = APIRouter(prefix="/v1/mail", tags=["mail sources"])
ADMIN = [requires(Permission.MAIL_MANAGE)]


# --- provider hooks ------------------------------------------------------------------------


@router.get("/hooks", dependencies=ADMIN, summary="List inbound-mail provider hooks")
def list_hooks(ctx: Ctx, limit: Limit = 50, cursor: Cursor = None) -> Page[MailHookPublic]:
    rows, nxt = hooks.list_hooks(ctx, limit=limit, cursor=cursor)
    return Page(
        items=[MailHookPublic.model_validate(hooks.public(r)) for r in rows], next_cursor=nxt
    )


@router.post(
    "/hooks",
    status_code=201,
    dependencies=ADMIN,
    summary="Create a provider hook (the response shows its generated secret, once)",
    response_model=MailHookWithSecret,
)
def create_hook(
    body: MailHookCreate, request: Request, ctx: Ctx, key: idempotency.IdempotencyKey = None
) -> MailHookWithSecret:
    def create() -> MailHookWithSecret:
        hook, secret = hooks.create_hook(ctx, data=body)
        return MailHookWithSecret.model_validate(hooks.public(hook, secret))

    return idempotency.once(ctx, request.url.path, key, body, create)


@router.get("/hooks/{hook_id}", dependencies=ADMIN, summary="Get a provider hook")
def get_hook(hook_id: uuid.UUID, ctx: Ctx, response: Response) -> MailHookPublic:
    hook = MailHookPublic.model_validate(hooks.public(hooks.get_hook(ctx, hook_id=hook_id)))
    response.headers["ETag"] = f'"{hook.version}"'
    return hook


@router.patch(
    "/hooks/{hook_id}", dependencies=ADMIN, summary="Change a provider hook (If-Match or version)"
)
def update_hook(
    hook_id: uuid.UUID, body: MailHookUpdate, ctx: Ctx, response: Response, if_match: IfMatch = None
) -> MailHookPublic:
    updated = hooks.update_hook(ctx, hook_id=hook_id, data=body, if_match=parse_if_match(if_match))
    hook = MailHookPublic.model_validate(hooks.public(updated))
    response.headers["ETag"] = f'"{hook.version}"'
    return hook


@router.post(
    "/hooks/{hook_id}/rotate-secret",
    dependencies=ADMIN,
    summary="New generated secret (shown once); the old one stops within five minutes",
)
def rotate_hook_secret(hook_id: uuid.UUID, ctx: Ctx) -> MailHookWithSecret:
    hook, secret = hooks.rotate_secret(ctx, hook_id=hook_id)
    return MailHookWithSecret.model_validate(hooks.public(hook, secret))


@router.delete(
    "/hooks/{hook_id}", status_code=204, dependencies=ADMIN, summary="Delete a provider hook"
)
def delete_hook(hook_id: uuid.UUID, ctx: Ctx) -> Response:
    hooks.delete_hook(ctx, hook_id=hook_id)
    return Response(status_code=204)


# --- IMAP mailboxes --------------------------------------------------------------------------


@router.get("/mailboxes", dependencies=ADMIN, summary="List polled IMAP mailboxes")
def list_mailboxes(ctx: Ctx, limit: Limit = 50, cursor: Cursor = None) -> Page[MailboxPublic]:
    rows, nxt = mailboxes.list_mailboxes(ctx, limit=limit, cursor=cursor)
    return Page(items=[MailboxPublic.model_validate(r) for r in rows], next_cursor=nxt)


@router.post(
    "/mailboxes",
    status_code=201,
    dependencies=ADMIN,
    summary="Add an IMAP mailbox to poll (the password is stored, never returned)",
)
def create_mailbox(
    body: MailboxCreate, request: Request, ctx: Ctx, key: idempotency.IdempotencyKey = None
) -> MailboxPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: MailboxPublic.model_validate(mailboxes.create_mailbox(ctx, data=body)),
    )


@router.get("/mailboxes/{mailbox_id}", dependencies=ADMIN, summary="Get an IMAP mailbox")
def get_mailbox(mailbox_id: uuid.UUID, ctx: Ctx, response: Response) -> MailboxPublic:
    found = mailboxes.get_mailbox(ctx, mailbox_id=mailbox_id)
    mailbox = MailboxPublic.model_validate(found)
    response.headers["ETag"] = f'"{mailbox.version}"'
    return mailbox


@router.patch(
    "/mailboxes/{mailbox_id}",
    dependencies=ADMIN,
    summary="Change an IMAP mailbox (If-Match or version)",
)
def update_mailbox(
    mailbox_id: uuid.UUID,
    body: MailboxUpdate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> MailboxPublic:
    updated = mailboxes.update_mailbox(
        ctx, mailbox_id=mailbox_id, data=body, if_match=parse_if_match(if_match)
    )
    mailbox = MailboxPublic.model_validate(updated)
    response.headers["ETag"] = f'"{mailbox.version}"'
    return mailbox


@router.delete(
    "/mailboxes/{mailbox_id}", status_code=204, dependencies=ADMIN, summary="Delete a mailbox"
)
def delete_mailbox(mailbox_id: uuid.UUID, ctx: Ctx) -> Response:
    mailboxes.delete_mailbox(ctx, mailbox_id=mailbox_id)
    return Response(status_code=204)


@router.post(
    "/mailboxes/{mailbox_id}/test",
    dependencies=ADMIN,
    summary="Test connection: connect, log in, open the folder, count unseen messages",
)
def test_mailbox(mailbox_id: uuid.UUID, ctx: Ctx) -> MailboxTest:
    poll = mailboxes.test_mailbox(ctx, mailbox_id=mailbox_id)
    return MailboxTest(
        ok=poll.error is None, unseen=None if poll.error else poll.unseen, error=poll.error
    )


test_mailbox.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
