"""Project tables (the schema itself is owned by migrations/0054)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, Date, DateTime, Numeric, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from servicedesk.platform.db import Base

NOW = text("now()")
GEN_UUID = text("gen_random_uuid()")


def _id() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID)


def _uuid() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True))


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _uuid()
    key: Mapped[str]
    name: Mapped[str]
    description: Mapped[str] = mapped_column(server_default=text("''"))
    owner_id: Mapped[uuid.UUID] = _uuid()
    status: Mapped[str] = mapped_column(server_default=text("'planned'"))
    start_date: Mapped[date | None] = mapped_column(Date)
    target_date: Mapped[date | None] = mapped_column(Date)
    archived: Mapped[bool] = mapped_column(server_default=text("false"))
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB)
    task_seq: Mapped[int] = mapped_column(server_default=text("0"))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class ProjectColumn(Base):
    __tablename__ = "project_columns"

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _uuid()
    project_id: Mapped[uuid.UUID] = _uuid()
    name: Mapped[str]
    category: Mapped[str]
    position: Mapped[int]
    wip_limit: Mapped[int | None]


class ProjectMember(Base):
    __tablename__ = "project_members"

    tenant_id: Mapped[uuid.UUID] = _uuid()
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    role: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class Task(Base):
    __tablename__ = "project_tasks"

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _uuid()
    project_id: Mapped[uuid.UUID] = _uuid()
    number: Mapped[int]
    title: Mapped[str]
    description: Mapped[str] = mapped_column(server_default=text("''"))
    column_id: Mapped[uuid.UUID] = _uuid()
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    estimate_days: Mapped[Decimal] = mapped_column(Numeric(7, 2), server_default=text("1"))
    start_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(server_default=text("'normal'"))
    labels: Mapped[list[str]] = mapped_column(ARRAY(String), server_default=text("'{}'"))
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'"))
    rank: Mapped[str] = mapped_column(String(collation="C"))
    change_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class Dependency(Base):
    __tablename__ = "task_dependencies"

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _uuid()
    project_id: Mapped[uuid.UUID] = _uuid()
    predecessor_id: Mapped[uuid.UUID] = _uuid()
    successor_id: Mapped[uuid.UUID] = _uuid()
    type: Mapped[str] = mapped_column(server_default=text("'finish_to_start'"))
    lag_days: Mapped[int] = mapped_column(server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class TaskComment(Base):
    __tablename__ = "task_comments"

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _uuid()
    task_id: Mapped[uuid.UUID] = _uuid()
    author_id: Mapped[uuid.UUID] = _uuid()
    body: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)


class TaskTicketLink(Base):
    __tablename__ = "task_ticket_links"

    tenant_id: Mapped[uuid.UUID] = _uuid()
    task_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    waits: Mapped[bool] = mapped_column(server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=NOW)
