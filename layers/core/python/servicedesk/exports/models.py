"""Export jobs (the schema is owned by migrations/0024_exports_subscriptions.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from servicedesk.platform.db import Base


class ExportJob(Base):
    __tablename__ = "export_jobs"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str]
    report: Mapped[str | None]
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    format: Mapped[str]
    status: Mapped[str] = mapped_column(server_default="queued")
    rows_done: Mapped[int] = mapped_column(server_default="0")
    rows_total: Mapped[int | None]
    s3_key: Mapped[str | None]
    size_bytes: Mapped[int | None]
    error: Mapped[str | None]
    attempts: Mapped[int] = mapped_column(server_default="0")
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    slot: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class ReportSubscription(Base):
    __tablename__ = "report_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    report: Mapped[str]
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    format: Mapped[str]
    frequency: Mapped[str]
    hour: Mapped[int]
    weekday: Mapped[int | None]
    monthday: Mapped[int | None]
    tz: Mapped[str]
    recipients: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    next_run_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
    last_error: Mapped[str | None]
    version: Mapped[int] = mapped_column(server_default="1")
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
