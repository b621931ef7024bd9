"""Catalog API schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from servicedesk.platform.schemas import Input, Output, not_null
from servicedesk.teams.schemas import Description, TeamName

CategoryName = TeamName
FIELDS_SCHEMA_DOC = (
    "JSON Schema subset for the category's custom fields: an object with properties of type"
    " string, integer, number, boolean or array of strings"
)


class CategoryCreate(Input):
    name: CategoryName
    description: Description = ""
    fields_schema: dict[str, Any] | None = Field(default=None, description=FIELDS_SCHEMA_DOC)
    default_team_id: uuid.UUID | None = None


class CategoryUpdate(Input):
    name: CategoryName | None = None
    description: Description | None = None
    fields_schema: dict[str, Any] | None = Field(default=None, description=FIELDS_SCHEMA_DOC)
    default_team_id: uuid.UUID | None = Field(default=None, description="null clears it")
    active: bool | None = None
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator("name", "description", "fields_schema", "active", mode="before")(
        not_null
    )


class CategoryPublic(Output):
    id: uuid.UUID
    name: str
    description: str
    fields_schema: dict[str, Any]
    default_team_id: uuid.UUID | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime
