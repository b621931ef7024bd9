"""The e-mail API: addresses and settings (admins), held mail (agents), the mail log
(managers), the original of a received message (staff). Thin: parse, call, shape."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Request, Response

from servicedesk.mail import addresses, held
from servicedesk.mail.schemas import (
    AcceptAsComment,
    AcceptAsTicket,
    AddressCreate,
    Addresses,
    AddressPublic,
    AddressUpdate,
    Discard,
    InboundMailPublic,
    Original,
)
from servicedesk.mail.settings import SECTION
from servicedesk.platform import idempotency
from servicedesk.platform.config import get_settings
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import Once
from servicedesk.platform.pagination import Page
from servicedesk.platform.params import Cursor, IfMatch, Limit
from servicedesk.platform.rbac import Permission, requires
from servicedesk.platform.settings_routes import add_settings_routes
from servicedesk.platform.versioning import parse_if_match
from servicedesk.tickets.schemas import TicketPublic

router = APIRouter(prefix="/v1/mail", tags=["mail"])
ADMIN = [requires(Permission.MAIL_MANAGE)]
AGENT = [requires(Permission.MAIL_TRIAGE)]
MANAGER = [requires(Permission.MAIL_LOG)]


@router.get(
    "/addresses",
    dependencies=ADMIN,
    summary="The tenant's default address and its aliases (by address)",
)
def list_addresses(ctx: Ctx, limit: Limit = 50, cursor: Cursor = None) -> Addresses:
    rows, nxt = addresses.list_addresses(ctx, limit=limit, cursor=cursor)
    return Addresses(
        default_address=addresses.default_address(addresses.tenant_slug(ctx), get_settings()),
        items=[AddressPublic.model_validate(r) for r in rows],
        next_cursor=nxt,
    )


@router.post(
    "/addresses",
    status_code=201,
    dependencies=ADMIN,
    summary="Add an alias (409 when the address is in use anywhere)",
    response_model=AddressPublic,
)
def create_address(
    body: AddressCreate, request: Request, ctx: Ctx, key: idempotency.IdempotencyKey = None
) -> AddressPublic:
    return idempotency.once(
        ctx,
        request.url.path,
        key,
        body,
        lambda: AddressPublic.model_validate(addresses.create_address(ctx, data=body)),
    )


@router.get("/addresses/{address_id}", dependencies=ADMIN, summary="Get an alias")
def get_address(address_id: uuid.UUID, ctx: Ctx, response: Response) -> AddressPublic:
    found = AddressPublic.model_validate(addresses.get_address(ctx, address_id))
    response.headers["ETag"] = f'"{found.version}"'
    return found


@router.patch(
    "/addresses/{address_id}",
    dependencies=ADMIN,
    summary="Change an alias's category, team or description (needs If-Match or version)",
)
def update_address(
    address_id: uuid.UUID,
    body: AddressUpdate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> AddressPublic:
    updated = AddressPublic.model_validate(
        addresses.update_address(
            ctx, address_id=address_id, data=body, if_match=parse_if_match(if_match)
        )
    )
    response.headers["ETag"] = f'"{updated.version}"'
    return updated


@router.delete(
    "/addresses/{address_id}", status_code=204, dependencies=ADMIN, summary="Remove an alias"
)
def delete_address(address_id: uuid.UUID, ctx: Ctx) -> Response:
    addresses.delete_address(ctx, address_id=address_id)
    return Response(status_code=204)


@router.get("/held", dependencies=AGENT, summary="Held mail waiting for an agent, newest first")
def list_held(ctx: Ctx, limit: Limit = 50, cursor: Cursor = None) -> Page[InboundMailPublic]:
    rows, nxt = held.list_held(ctx, limit=limit, cursor=cursor)
    return Page(items=[InboundMailPublic.model_validate(r) for r in rows], next_cursor=nxt)


def _original(view: held.OriginalView) -> Original:
    return Original(
        mail=InboundMailPublic.model_validate(view.mail),
        headers=view.headers,
        text=view.text,
        reply_text=view.reply_text,
        attachments=view.attachments,
        defects=view.defects,
        raw_url=view.raw_url,
    )


@router.get("/held/{mail_id}", dependencies=AGENT, summary="A held message with its original")
def get_held(mail_id: uuid.UUID, ctx: Ctx) -> Original:
    held.get_message(ctx, mail_id)
    return _original(held.original(ctx, mail_id))


@router.post(
    "/held/{mail_id}/accept-comment",
    dependencies=AGENT,
    summary="Accept a held message as its sender's public comment on a ticket you may edit",
)
def accept_comment(
    mail_id: uuid.UUID, body: AcceptAsComment, ctx: Ctx, once: Once
) -> InboundMailPublic:
    def accept() -> InboundMailPublic:
        row = held.accept_as_comment(
            ctx, mail_id=mail_id, ticket_id=body.ticket_id, version=body.version
        )
        return InboundMailPublic.model_validate(row)

    return once(body, accept, status=200)


@router.post(
    "/held/{mail_id}/accept-ticket",
    status_code=201,
    dependencies=AGENT,
    summary="Accept a held message as a new ticket by its sender",
)
def accept_ticket(mail_id: uuid.UUID, body: AcceptAsTicket, ctx: Ctx, once: Once) -> TicketPublic:
    """A retry with the same Idempotency-Key answers the ticket the first call created."""

    def accept() -> TicketPublic:
        return TicketPublic.model_validate(
            held.accept_as_ticket(ctx, mail_id=mail_id, version=body.version, title=body.title)
        )

    return once(body, accept)


@router.post("/held/{mail_id}/discard", dependencies=AGENT, summary="Discard a held message")
def discard(mail_id: uuid.UUID, body: Discard, ctx: Ctx) -> InboundMailPublic:
    return InboundMailPublic.model_validate(
        held.discard(ctx, mail_id=mail_id, version=body.version, note=body.note)
    )


@router.get(
    "/log",
    dependencies=MANAGER,
    summary="Every message the intake took, newest first (ignored and rejected ones only here)",
)
def list_log(
    ctx: Ctx,
    outcome: Literal["ticket", "comment", "held", "ignored", "rejected"] | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[InboundMailPublic]:
    rows, nxt = held.list_log(ctx, outcome=outcome, limit=limit, cursor=cursor)
    return Page(items=[InboundMailPublic.model_validate(r) for r in rows], next_cursor=nxt)


@router.get(
    "/messages/{mail_id}",
    dependencies=AGENT,
    summary="A received message as it came: headers, whole text, a link to the raw message",
)
def get_original(mail_id: uuid.UUID, ctx: Ctx) -> Original:
    return _original(held.original(ctx, mail_id))


@router.get(
    "/tickets/{ticket_id}/messages",
    dependencies=AGENT,
    summary="The messages a ticket and its comments were made of (received by e-mail)",
)
def list_ticket_messages(ticket_id: uuid.UUID, ctx: Ctx) -> list[InboundMailPublic]:
    return [
        InboundMailPublic.model_validate(r) for r in held.list_for_ticket(ctx, ticket_id=ticket_id)
    ]


add_settings_routes(router, SECTION, path="/settings")
