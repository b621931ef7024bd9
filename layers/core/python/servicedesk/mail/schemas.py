"""Request and response bodies of the e-mail API (addresses, held mail, the mail log)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from servicedesk.platform.schemas import Email, Input, Output, not_null

Outcome = Literal["ticket", "comment", "held", "ignored", "rejected"]


class AddressCreate(Input):
    address: Email = Field(
        description="The full address: <slug>-<word>@<inbound domain>, or an address on your"
        " own domain whose mail you forward to <slug>@<inbound domain>"
    )
    category_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    description: str = Field(default="", max_length=200)


class AddressUpdate(Input):
    category_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    description: str | None = Field(default=None, max_length=200)
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator("description", mode="before")(not_null)


class AddressPublic(Output):
    id: uuid.UUID
    address: str
    category_id: uuid.UUID | None
    team_id: uuid.UUID | None
    description: str
    version: int
    created_at: datetime
    updated_at: datetime


class Addresses(Output):
    """The tenant's default address (always there) and the first page of its aliases."""

    default_address: str
    items: list[AddressPublic]
    next_cursor: str | None = None


class InboundMailPublic(Output):
    id: uuid.UUID
    door: str
    message_id: str | None
    mail_from: str
    from_address: str | None
    from_name: str
    subject: str
    recipients: list[str]
    size_bytes: int
    verdicts: dict[str, Any]
    auto: str | None
    outcome: Outcome
    reason: str
    detail: str
    notes: list[Any]
    sender_id: uuid.UUID | None
    alias_id: uuid.UUID | None
    ticket_id: uuid.UUID | None
    comment_id: uuid.UUID | None
    resolution: Literal["comment", "ticket", "discarded"] | None
    resolved_by: uuid.UUID | None
    resolved_at: datetime | None
    received_at: datetime
    created_at: datetime
    version: int


class Original(Output):
    """A received message as it came (for staff): its headers, its whole text, and a link
    to download the raw message (valid a few minutes)."""

    mail: InboundMailPublic
    headers: list[tuple[str, str]]
    text: str
    reply_text: str
    attachments: list[dict[str, Any]]
    defects: list[str]
    raw_url: str | None


class AcceptAsComment(Input):
    ticket_id: uuid.UUID
    version: int | None = Field(default=None, ge=1, description="The held mail's version")


class AcceptAsTicket(Input):
    title: str | None = Field(
        default=None, min_length=1, max_length=200, description="Instead of the subject"
    )
    version: int | None = Field(default=None, ge=1, description="The held mail's version")


class Discard(Input):
    note: str = Field(default="", max_length=500, description="Why (kept in the audit log)")
    version: int | None = Field(default=None, ge=1, description="The held mail's version")
