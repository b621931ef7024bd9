"""Per-tenant e-mail settings, kept in tenants.settings under "mail"."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenant_settings import Section


class MailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # An unknown sender becomes a requester (no password) and opens a ticket; off: held.
    unknown_senders_may_open: bool = True
    # A reply to a finished ticket: reopen it (within the tickets' reopen window; after it,
    # a new linked ticket), always open a new linked ticket, or hold it for an agent.
    closed_ticket_reply: Literal["reopen", "new_ticket", "hold"] = "reopen"
    # More messages than this from one sender within the window are held, and staff are
    # told once per window.
    sender_max_messages: int = Field(default=30, ge=1, le=10_000)
    sender_window_minutes: int = Field(default=60, ge=1, le=1440)


SECTION = Section(
    "mail",
    MailSettings,
    noun="mail",
    what="e-mail settings",
    read=Permission.CONFIG_READ,
    write=Permission.ADMIN_SETTINGS,
)
