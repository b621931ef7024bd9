"""Integration tables (the schema itself is owned by migrations/0049)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from servicedesk.platform.db import Base

GEN_UUID = text("gen_random_uuid()")


class Integration(Base):
    """A tenant's connection to a GitHub repository or a Slack workspace."""

    __tablename__ = "integrations"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str]
    name: Mapped[str]
    enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    secret_arn: Mapped[str | None]
    external_id: Mapped[str | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    @property
    def installed(self) -> bool:
        return self.kind == "github" or self.external_id is not None

    @property
    def inbound_url(self) -> str:
        """Where the service sends its requests (the web app's origin serves /v1)."""
        from servicedesk.platform.config import get_settings

        return f"{get_settings().web_origin.rstrip('/')}/v1/hooks/{self.kind}/{self.id}"


class IntegrationLink(Base):
    """A ticket's link to a GitHub issue or pull request, or to its Slack thread."""

    __tablename__ = "integration_links"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    integration_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str]
    external_id: Mapped[str]
    status: Mapped[str] = mapped_column(server_default=text("'linked'"))
    url: Mapped[str | None]
    title: Mapped[str | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
