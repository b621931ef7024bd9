"""The e-mail channel's tables (the schema itself is owned by migrations/0014_mail_intake.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from servicedesk.platform.db import Base

NOW = text("now()")


class MailAddress(Base):
    __tablename__ = "mail_addresses"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    address: Mapped[str]
    category_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    team_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    description: Mapped[str] = mapped_column(server_default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    version: Mapped[int] = mapped_column(server_default="1")
    created_at: Mapped[datetime] = mapped_column(server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(server_default=NOW)


class InboundMail(Base):
    __tablename__ = "inbound_mail"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    door: Mapped[str]
    object_key: Mapped[str]
    bucket: Mapped[str]
    ses_message_id: Mapped[str]
    message_id: Mapped[str | None]
    mail_from: Mapped[str] = mapped_column(server_default="")
    from_address: Mapped[str | None]
    from_name: Mapped[str] = mapped_column(server_default="")
    subject: Mapped[str] = mapped_column(server_default="")
    recipients: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    size_bytes: Mapped[int]
    verdicts: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    auto: Mapped[str | None]
    outcome: Mapped[str]
    reason: Mapped[str] = mapped_column(server_default="")
    detail: Mapped[str] = mapped_column(server_default="")
    body: Mapped[str] = mapped_column(server_default="")
    reply_text: Mapped[str] = mapped_column(server_default="")
    notes: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    sender_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    alias_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    comment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    resolution: Mapped[str | None]
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    resolved_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(server_default=NOW)
    version: Mapped[int] = mapped_column(server_default="1")
