"""Saved views: the API's shapes. ``filters`` is the ticket list's query as a JSON object,
checked by the one model of those filters (``exports.schemas.TicketExportParams``, which
mirrors GET /v1/tickets' query, sort included) when a view is saved."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from servicedesk.platform.schemas import Input

Scope = Literal["personal", "team", "tenant"]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
FILTERS_DESCRIPTION = (
    "GET /v1/tickets' query as an object (status, priority, assignee, team_id, tag, q,"
    " sla, ..., sort); lists are arrays. Checked at save: an unknown or bad filter is 422"
    " naming filters.<name>"
)


class ViewCreate(Input):
    name: Name
    scope: Scope = Field(
        default="personal",
        description="personal (yours only), team (its members; you must be one, or an admin)"
        " or tenant (all staff; admins share these)",
    )
    team_id: uuid.UUID | None = Field(default=None, description="The team (scope team only)")
    filters: dict[str, Any] = Field(default_factory=dict, description=FILTERS_DESCRIPTION)


class ViewUpdate(Input):
    name: Name | None = None
    scope: Scope | None = None
    team_id: uuid.UUID | None = None
    filters: dict[str, Any] | None = Field(default=None, description=FILTERS_DESCRIPTION)
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")


class ViewPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    scope: Scope
    team_id: uuid.UUID | None
    filters: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
