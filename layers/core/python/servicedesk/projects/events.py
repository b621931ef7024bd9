"""Project events through the outbox: webhooks, the realtime room ``project:{id}`` and
in-app notifications all read them from there."""

from __future__ import annotations

import uuid
from typing import Any

from servicedesk.platform import outbox
from servicedesk.platform.tenancy import RequestContext


def emit(
    ctx: RequestContext,
    event_type: str,
    *,
    project_id: uuid.UUID,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    **payload: Any,
) -> None:
    """``project.*`` / ``task.*``; every payload names its project and the actor."""
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload={"project_id": project_id, "actor_id": ctx.user_id, **payload},
    )
