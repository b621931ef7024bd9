"""AuditEvent: the audit log's rows, read through GET /v1/audit-events's service function
(``audit.service.list_events``), for admins only (``audit:read``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON


@strawberry.type(description="Who did it: id and name (null when no membership makes them visible)")
class AuditActor:
    id: strawberry.ID
    name: str | None


@strawberry.type(description="One audit log row (GET /v1/audit-events/{id})")
class AuditEvent:
    id: strawberry.ID
    action: str
    entity_type: str
    entity_id: str | None
    actor: AuditActor | None
    data: JSON
    request_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> AuditEvent:
        actor = row["actor"]
        return cls(
            id=strawberry.ID(str(row["id"])),
            action=row["action"],
            entity_type=row["entity_type"],
            entity_id=row["entity_id"],
            actor=AuditActor(id=strawberry.ID(str(actor["id"])), name=actor["name"])
            if actor
            else None,
            data=JSON(dict(row["data"] or {})),
            request_id=row["request_id"],
            created_at=row["created_at"],
        )
