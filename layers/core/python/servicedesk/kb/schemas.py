"""Knowledge base API schemas: categories, articles, versions, votes, related tickets."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from servicedesk.platform.schemas import Input, Output, not_null

Audience = Literal["public", "internal"]
State = Literal["draft", "in_review", "published", "archived"]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Summary = Annotated[str, StringConstraints(max_length=500)]
Body = Annotated[str, StringConstraints(max_length=100_000)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[\w .:+#/-]+$")]
CategoryName = Annotated[str, StringConstraints(min_length=1, max_length=120)]
CategoryDescription = Annotated[str, StringConstraints(max_length=1000)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
MAX_TAGS = 20
VERSION_DOC = "Or send If-Match"


def normalised_tags(tags: list[str] | None) -> list[str] | None:
    """Lower case, inner spaces collapsed, duplicates dropped (first one kept)."""
    if tags is None:
        return None
    seen: list[str] = []
    for sent in tags:
        tag = " ".join(sent.lower().split())
        if tag not in seen:
            seen.append(tag)
    return seen


# --- categories -------------------------------------------------------------------------


class KbCategoryCreate(Input):
    name: CategoryName
    description: CategoryDescription = ""
    parent_id: uuid.UUID | None = None
    position: int = Field(default=0, ge=0, le=100_000)


class KbCategoryUpdate(Input):
    name: CategoryName | None = None
    description: CategoryDescription | None = None
    parent_id: uuid.UUID | None = Field(default=None, description="null: a top-level category")
    position: int | None = Field(default=None, ge=0, le=100_000)
    version: int | None = Field(default=None, ge=1, description=VERSION_DOC)

    _not_null = field_validator("name", "description", "position", mode="before")(not_null)


class KbCategoryPublic(Output):
    id: uuid.UUID
    parent_id: uuid.UUID | None
    name: str
    description: str
    position: int
    version: int
    created_at: datetime
    updated_at: datetime


# --- articles ---------------------------------------------------------------------------


class ArticleCreate(Input):
    title: Title
    summary: Summary = ""
    body: Body = Field(default="", description="Markdown (rendered and sanitised on read)")
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    audience: Audience = "internal"
    category_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = Field(default=None, description="By default the author")

    _tags = field_validator("tags")(normalised_tags)


class ArticleUpdate(Input):
    title: Title | None = None
    summary: Summary | None = None
    body: Body | None = None
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)
    audience: Audience | None = None
    category_id: uuid.UUID | None = Field(default=None, description="null: uncategorised")
    owner_id: uuid.UUID | None = None
    version: int | None = Field(default=None, ge=1, description=VERSION_DOC)

    _not_null = field_validator("title", "summary", "body", "tags", "audience", mode="before")(
        not_null
    )
    _tags = field_validator("tags")(normalised_tags)


class ArticleSummary(Output):
    """An article in a list: everything but the body."""

    id: uuid.UUID
    title: str
    summary: str
    tags: list[str]
    audience: Audience
    state: State
    category_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    published_version: int
    published_at: datetime | None
    archived_at: datetime | None
    source_ticket_id: uuid.UUID | None
    view_count: int
    helpful_count: int
    not_helpful_count: int
    version: int
    created_at: datetime
    updated_at: datetime


class ArticlePublic(ArticleSummary):
    body: str = Field(description="The Markdown source")
    html: str = Field(default="", description="The body rendered and sanitised")
    created_by: uuid.UUID | None = None
    updated_by: uuid.UUID | None = None
    my_vote: bool | None = Field(default=None, description="The caller's vote, if any")
    allowed_actions: list[str] = Field(
        default_factory=list, description="Workflow actions the caller may take now"
    )


class TransitionBody(Input):
    version: int | None = Field(default=None, ge=1, description=VERSION_DOC)
    note: Annotated[str, StringConstraints(max_length=1000)] = Field(
        default="", description="A note for the reviewer or the history (kept in the audit)"
    )


class RejectBody(TransitionBody):
    reason: Reason


# --- versions ---------------------------------------------------------------------------


class VersionSummary(Output):
    number: int
    title: str
    published_by: uuid.UUID | None
    published_at: datetime


class VersionPublic(VersionSummary):
    summary: str
    body: str
    html: str = ""
    tags: list[str]
    audience: Audience
    category_id: uuid.UUID | None


class VersionDiff(Output):
    from_version: int
    to_version: int
    diff: str = Field(description="Unified diff of title, summary, tags and body")
    truncated: bool = Field(description="The diff was cut at its size bound")


# --- votes, views, related tickets -------------------------------------------------------


class FeedbackCreate(Input):
    helpful: bool
    comment: Annotated[str, StringConstraints(max_length=1000)] = ""


class FeedbackPublic(Output):
    article_id: uuid.UUID
    helpful: bool
    comment: str
    helpful_count: int
    not_helpful_count: int


class FeedbackEntry(Output):
    """One person's vote, as staff see it."""

    user_id: uuid.UUID
    helpful: bool
    comment: str
    created_at: datetime
    updated_at: datetime


class ViewCount(Output):
    article_id: uuid.UUID
    view_count: int
    counted: bool = Field(description="False when this reader was already counted today")


class TicketLinkCreate(Input):
    ticket_id: uuid.UUID


class ArticleTicketPublic(Output):
    article_id: uuid.UUID
    ticket_id: uuid.UUID
    created_by: uuid.UUID | None
    created_at: datetime
