"""Automation tables (the schema itself is owned by migrations/0033)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from servicedesk.platform.db import Base

GEN_UUID = text("gen_random_uuid()")
NOW = text("now()")


class Rule(Base):
    __tablename__ = "automation_rules"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    name: Mapped[str]
    description: Mapped[str] = mapped_column(server_default="")
    kind: Mapped[str]
    triggers: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONB)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    position: Mapped[int]
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    loop_limit: Mapped[int] = mapped_column(server_default=text("1"))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class RunRow(Base):
    __tablename__ = "automation_runs"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    rule_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    trigger: Mapped[str]
    status: Mapped[str]
    outcomes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    error: Mapped[str | None]
    depth: Mapped[int]
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
