"""Catalog tables (the schema itself is owned by migrations/)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from servicedesk.platform.db import Base

EMPTY_FIELDS_SCHEMA = text("""'{"type": "object", "properties": {}}'::jsonb""")


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("tenants.id"))
    name: Mapped[str]
    description: Mapped[str] = mapped_column(server_default=text("''"))
    fields_schema: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=EMPTY_FIELDS_SCHEMA)
    default_team_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    position: Mapped[int] = mapped_column(server_default=text("0"))
    default_type: Mapped[str | None]
    # Tickets in it wait for this approval flow first (servicedesk/approvals).
    approval_flow_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    @property
    def depth(self) -> int:
        """0 at the top level; set by the catalog service when it reads the tree."""
        return int(self.__dict__.get("_tree_depth", 0))

    def at_depth(self, depth: int) -> Category:
        self.__dict__["_tree_depth"] = depth
        return self


class TicketType(Base):
    __tablename__ = "ticket_types"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("tenants.id"))
    key: Mapped[str]
    name: Mapped[str]
    description: Mapped[str] = mapped_column(server_default=text("''"))
    position: Mapped[int] = mapped_column(server_default=text("0"))
    builtin: Mapped[bool] = mapped_column(server_default=text("false"))
    archived_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    @property
    def archived(self) -> bool:
        return self.archived_at is not None
