"""Attachment API schemas and the per-tenant attachment settings."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from servicedesk.attachments.magic import ALLOWED_TYPES, AllowedType
from servicedesk.platform.schemas import Input, Output
from servicedesk.platform.storage import UploadForm

MIB = 1024 * 1024
# A ceiling for every tenant: completion streams the whole object through a Lambda to hash
# it, within API Gateway's 29 s.
HARD_MAX_BYTES = 100 * MIB
MAX_FILENAME_BYTES = 255
# Invisible characters that reorder text ("invoice\u202egpj.exe" shows as "invoiceexe.jpg").
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _filename(value: str) -> str:
    if "/" in value or "\\" in value:
        raise ValueError("must not contain path separators")
    if value in (".", ".."):
        raise ValueError("must be a file name")
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in BIDI_CONTROLS for c in value):
        raise ValueError("must not contain control characters")
    if len(value.encode()) > MAX_FILENAME_BYTES:
        raise ValueError(f"must not exceed {MAX_FILENAME_BYTES} bytes in UTF-8")
    return value


Filename = Annotated[
    str, StringConstraints(min_length=1, max_length=1024), AfterValidator(_filename)
]


class AttachmentSettings(BaseModel):
    """Per-tenant limits, kept in tenants.settings under "attachments"."""

    model_config = ConfigDict(extra="forbid")

    max_size_bytes: int = Field(default=25 * MIB, ge=1, le=HARD_MAX_BYTES)
    max_per_ticket: int = Field(default=50, ge=1, le=1000)
    allowed_types: list[AllowedType] = Field(
        default_factory=lambda: list(ALLOWED_TYPES), max_length=len(ALLOWED_TYPES)
    )

    @field_validator("allowed_types")
    @classmethod
    def _unique(cls, value: list[AllowedType]) -> list[AllowedType]:
        return list(dict.fromkeys(value))


class AttachmentCreate(Input):
    """The body of ``POST /v1/tickets/{ticket_id}/attachments``."""

    comment_id: uuid.UUID | None = Field(default=None, description="Attach to this comment")
    filename: Filename
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=255, to_lower=True)]
    size: int = Field(gt=0, le=HARD_MAX_BYTES, description="Exact size in bytes")


class ArticleAttachmentCreate(Input):
    """The body of ``POST /v1/kb/articles/{article_id}/attachments``."""

    filename: Filename
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=255, to_lower=True)]
    size: int = Field(gt=0, le=HARD_MAX_BYTES, description="Exact size in bytes")


class TaskAttachmentCreate(ArticleAttachmentCreate):
    """The body of ``POST /v1/projects/{project_id}/tasks/{task_id}/attachments`` (an
    article's file and a task's say the same: name, type, exact size)."""


class AttachmentPublic(Output):
    id: uuid.UUID
    ticket_id: uuid.UUID | None = Field(description="The ticket's file (else an article's)")
    article_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    task_id: uuid.UUID | None = Field(default=None, description="A project task's file")
    comment_id: uuid.UUID | None
    uploader_id: uuid.UUID
    filename: str
    content_type: str
    size: int = Field(validation_alias="size_bytes")
    status: Literal["pending", "available", "rejected", "deleted"]
    sha256: str | None
    created_at: datetime
    completed_at: datetime | None
    deleted_at: datetime | None


class AttachmentUpload(BaseModel):
    attachment: AttachmentPublic
    upload: UploadForm


class DownloadLink(BaseModel):
    url: str
    expires_at: datetime
