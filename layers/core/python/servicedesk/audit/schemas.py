"""Audit log API schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from servicedesk.audit.service import MAX_ACTION, MAX_ENTITY, AuditFilter
from servicedesk.platform.schemas import Input, Output


class AuditActor(Output):
    id: uuid.UUID
    # None: users' RLS hides the person (no membership left in this tenant).
    name: str | None = None


class AuditEventPublic(Output):
    id: int
    action: str
    entity_type: str
    entity_id: str | None
    actor: AuditActor | None
    data: dict[str, Any]
    request_id: str | None
    created_at: datetime


class AuditQuery(Input):
    """GET /v1/audit-events's filters by their query names (GraphQL's ``filter``)."""

    actor_id: uuid.UUID | None = None
    action: Annotated[str | None, Field(min_length=1, max_length=MAX_ACTION)] = None
    entity_type: Annotated[str | None, Field(min_length=1, max_length=MAX_ENTITY)] = None
    entity_id: Annotated[str | None, Field(min_length=1, max_length=MAX_ENTITY)] = None
    since: datetime | None = Field(default=None, alias="from")
    until: datetime | None = Field(default=None, alias="to")

    def where(self) -> AuditFilter:
        return AuditFilter(
            self.actor_id, self.action, self.entity_type, self.entity_id, self.since, self.until
        )
