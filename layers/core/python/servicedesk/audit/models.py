"""The audit table (the schema itself is owned by migrations/0001; append-only by trigger)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from servicedesk.platform.db import Base


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    action: Mapped[str]
    entity_type: Mapped[str]
    entity_id: Mapped[str | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    request_id: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
