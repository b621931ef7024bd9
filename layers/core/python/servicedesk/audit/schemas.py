"""Audit log API schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from servicedesk.platform.schemas import Output


class AuditActor(Output):
    id: uuid.UUID
    # None: the person is no longer a member (their name is not the tenant's to show).
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
