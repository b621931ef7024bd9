"""Change management tables (the schema itself is owned by migrations/0052)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from servicedesk.platform.db import Base

NOW = text("now()")
GEN_UUID = text("gen_random_uuid()")


def _id() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID)


class ChangeSettings(Base):
    __tablename__ = "change_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    cab_flow_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    emergency_flow_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    medium_from: Mapped[int]
    high_from: Mapped[int]
    version: Mapped[int] = mapped_column(server_default=text("1"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class ChangeTemplate(Base):
    __tablename__ = "change_templates"

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    name: Mapped[str]
    description: Mapped[str] = mapped_column(server_default=text("''"))
    implementation_plan: Mapped[str] = mapped_column(server_default=text("''"))
    backout_plan: Mapped[str] = mapped_column(server_default=text("''"))
    test_plan: Mapped[str] = mapped_column(server_default=text("''"))
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class ChangeBlackout(Base):
    __tablename__ = "change_blackouts"

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    name: Mapped[str]
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A recurring window (changes.recurrence): the series' outer bounds, no end when open.
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recurrence: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class Change(Base):
    __tablename__ = "changes"

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    number: Mapped[int]
    title: Mapped[str]
    description: Mapped[str] = mapped_column(server_default=text("''"))
    type: Mapped[str]
    state: Mapped[str] = mapped_column(server_default=text("'draft'"))
    template_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    requested_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    planned_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    planned_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    implementation_plan: Mapped[str] = mapped_column(server_default=text("''"))
    backout_plan: Mapped[str] = mapped_column(server_default=text("''"))
    test_plan: Mapped[str] = mapped_column(server_default=text("''"))
    risk_answers: Mapped[dict[str, str]] = mapped_column(JSONB, server_default=text("'{}'"))
    risk_score: Mapped[int | None]
    risk_level: Mapped[str | None]
    review_outcome: Mapped[str | None]
    review_notes: Mapped[str] = mapped_column(server_default=text("''"))
    reason: Mapped[str] = mapped_column(server_default=text("''"))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class ChangeCI(Base):
    __tablename__ = "change_cis"

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    change_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    ci_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)


class ChangeTicket(Base):
    __tablename__ = "change_tickets"

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    change_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
