"""Article (knowledge base), ConfigurationItem (CMDB) and Attachment, read through their
REST lists' service functions (``kb.service.list_articles``, ``cmdb.service.list_cis``,
``attachments.service.list_for_ticket``) and so through their visibility rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON


def _id(value: Any) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


@strawberry.type(description="A knowledge base article, without its body (GET /v1/kb/articles)")
class Article:
    id: strawberry.ID
    title: str
    summary: str
    tags: list[str]
    audience: str
    state: str
    category_id: strawberry.ID | None
    owner_id: strawberry.ID | None
    published_version: int
    published_at: datetime | None
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, row: Any) -> Article:
        return cls(
            id=strawberry.ID(str(row.id)),
            title=row.title,
            summary=row.summary,
            tags=list(row.tags or []),
            audience=row.audience,
            state=row.state,
            category_id=_id(row.category_id),
            owner_id=_id(row.owner_id),
            published_version=row.published_version,
            published_at=row.published_at,
            version=row.version,
            updated_at=row.updated_at,
        )


@strawberry.type(description="A configuration item of the CMDB (GET /v1/cis)")
class ConfigurationItem:
    id: strawberry.ID
    class_id: strawberry.ID
    name: str
    state: str
    owner_id: strawberry.ID | None
    location: str
    serial: str | None
    asset_tag: str | None
    external_id: str | None
    attributes: JSON
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, row: Any) -> ConfigurationItem:
        return cls(
            id=strawberry.ID(str(row.id)),
            class_id=strawberry.ID(str(row.class_id)),
            name=row.name,
            state=row.state,
            owner_id=_id(row.owner_id),
            location=row.location,
            serial=row.serial,
            asset_tag=row.asset_tag,
            external_id=row.external_id,
            attributes=JSON(dict(row.attributes or {})),
            version=row.version,
            updated_at=row.updated_at,
        )


@strawberry.type(description="A ticket's file (GET /v1/tickets/{id}/attachments)")
class Attachment:
    id: strawberry.ID
    comment_id: strawberry.ID | None
    uploader_id: strawberry.ID
    filename: str
    content_type: str
    size: int
    sha256: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> Attachment:
        return cls(
            id=strawberry.ID(str(row.id)),
            comment_id=_id(row.comment_id),
            uploader_id=strawberry.ID(str(row.uploader_id)),
            filename=row.filename,
            content_type=row.content_type,
            size=row.size_bytes,
            sha256=row.sha256,
            created_at=row.created_at,
        )
