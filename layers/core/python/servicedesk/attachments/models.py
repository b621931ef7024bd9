"""The attachments table (the schema itself is owned by migrations/0004_attachments.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from servicedesk.platform.db import Base


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # A ticket's file (maybe on one of its comments) or an article's (migrations/0018).
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    article_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    comment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # A project task's file (migrations/0059): the task's project, and the task (NULL once
    # the task is deleted: only its tombstone stays, until the cleanup removes the object).
    project_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    task_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    uploader_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    filename: Mapped[str]
    content_type: Mapped[str]
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    object_key: Mapped[str]
    status: Mapped[str] = mapped_column(server_default="pending")
    sha256: Mapped[str | None]
    version_id: Mapped[str | None]
    etag: Mapped[str | None]
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    completed_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    deleted_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    object_removed_at: Mapped[datetime | None]
    # A file of the tenant itself rather than of a ticket or article ("logo"; migrations/0035).
    purpose: Mapped[str | None]
