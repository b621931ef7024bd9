"""Catalog API schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from servicedesk.platform.schemas import Input, Output, not_null
from servicedesk.teams.schemas import Description, TeamName

CategoryName = TeamName
# A ticket type's key: what tickets, filters, reports and SLA conditions name.
TypeKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
TYPE_KEY_DOC = "A ticket type's key (GET /v1/ticket-types): lower-case letters, digits, _"
MAX_DEPTH = 5
FIELDS_SCHEMA_DOC = (
    "JSON Schema subset for the category's custom fields: an object with properties of type"
    " string, integer, number, boolean or array of strings"
)


class CategoryCreate(Input):
    name: CategoryName
    description: Description = ""
    fields_schema: dict[str, Any] | None = Field(default=None, description=FIELDS_SCHEMA_DOC)
    default_team_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = Field(
        default=None, description=f"The parent category (a tree of at most {MAX_DEPTH} levels)"
    )
    position: int | None = Field(
        default=None, ge=0, le=100000, description="Order among its siblings; default: last"
    )
    default_type: TypeKey | None = Field(
        default=None, description="The type of the category's new tickets when none is given"
    )
    approval_flow_id: uuid.UUID | None = Field(
        default=None, description="New tickets in it wait for this approval flow (pending_approval)"
    )


class CategoryUpdate(Input):
    name: CategoryName | None = None
    description: Description | None = None
    fields_schema: dict[str, Any] | None = Field(default=None, description=FIELDS_SCHEMA_DOC)
    default_team_id: uuid.UUID | None = Field(default=None, description="null clears it")
    active: bool | None = Field(
        default=None, description="false archives the category and its subtree (as /archive)"
    )
    parent_id: uuid.UUID | None = Field(
        default=None, description="Move under another category; null: to the top level"
    )
    position: int | None = Field(default=None, ge=0, le=100000)
    default_type: TypeKey | None = Field(default=None, description="null clears it")
    approval_flow_id: uuid.UUID | None = Field(default=None, description="null clears it")
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator(
        "name", "description", "fields_schema", "active", "position", mode="before"
    )(not_null)


class CategoryPublic(Output):
    id: uuid.UUID
    name: str
    description: str
    fields_schema: dict[str, Any]
    default_team_id: uuid.UUID | None
    parent_id: uuid.UUID | None = None
    position: int = 0
    depth: int = Field(default=0, description="0 at the top level")
    default_type: str | None = None
    approval_flow_id: uuid.UUID | None = None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class CategoryOrder(Input):
    parent_id: uuid.UUID | None = Field(
        default=None, description="Whose children these are (null: the top level)"
    )
    ids: list[uuid.UUID] = Field(
        min_length=1, max_length=1000, description="Every child of the parent, once, in order"
    )


class TicketTypeCreate(Input):
    key: TypeKey = Field(description=TYPE_KEY_DOC + "; never changes")
    name: TeamName
    description: Description = ""
    position: int | None = Field(default=None, ge=0, le=100000, description="Default: last")


class TicketTypeUpdate(Input):
    name: TeamName | None = None
    description: Description | None = None
    position: int | None = Field(default=None, ge=0, le=100000)
    archived: bool | None = Field(
        default=None,
        description="Archived types are not offered for new tickets; tickets keep them",
    )
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator("name", "description", "position", "archived", mode="before")(
        not_null
    )


class TicketTypeOrder(Input):
    ids: list[uuid.UUID] = Field(
        min_length=1, max_length=1000, description="Every type of the tenant, once, in order"
    )


class TicketTypePublic(Output):
    id: uuid.UUID
    key: str
    name: str
    description: str
    position: int
    builtin: bool = Field(description="One of the four every tenant has: renamable, not deletable")
    archived: bool = False
    archived_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
