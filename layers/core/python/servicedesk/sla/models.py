"""SLA tables (schema owned by migrations/0003_sla.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Integer, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TIMESTAMP, UUID
from sqlalchemy.orm import Mapped, mapped_column

from servicedesk.platform.db import Base

GEN_UUID = text("gen_random_uuid()")
NOW = text("now()")


class Calendar(Base):
    __tablename__ = "business_calendars"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    name: Mapped[str]
    timezone: Mapped[str]
    week: Mapped[list[list[dict[str, str]]]] = mapped_column(JSONB)
    holidays: Mapped[list[date]] = mapped_column(ARRAY(Date), server_default="{}")
    yearly_holidays: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    version: Mapped[int] = mapped_column(server_default="1")
    created_at: Mapped[datetime] = mapped_column(server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(server_default=NOW)


class Policy(Base):
    __tablename__ = "sla_policies"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    name: Mapped[str]
    position: Mapped[int]
    active: Mapped[bool] = mapped_column(server_default="true")
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    calendar_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    first_response_minutes: Mapped[int | None]
    next_response_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]
    warning_thresholds: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default="{75,90}")
    pause_statuses: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{pending}")
    escalations: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    version: Mapped[int] = mapped_column(server_default="1")
    created_at: Mapped[datetime] = mapped_column(server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(server_default=NOW)


class SlaTarget(Base):
    __tablename__ = "ticket_sla_targets"

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    target: Mapped[str] = mapped_column(primary_key=True)
    cycle: Mapped[int] = mapped_column(server_default="1")
    policy_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    budget_seconds: Mapped[int]
    elapsed_seconds: Mapped[int] = mapped_column(server_default="0")
    clock_at: Mapped[datetime]
    paused_since: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    warn_at: Mapped[list[datetime]] = mapped_column(
        ARRAY(TIMESTAMP(timezone=True)), server_default="{}"
    )
    warn_levels: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default="{}")
    next_check_at: Mapped[datetime | None]
    met_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=NOW)


class Pause(Base):
    __tablename__ = "ticket_sla_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    reason: Mapped[str]
