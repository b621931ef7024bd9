"""Append-only audit trail (invariant 8): the app role may only INSERT and SELECT."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from servicedesk.platform.context import RequestContext
from servicedesk.platform.db import jsonable


def record(
    ctx: RequestContext,
    *,
    action: str,
    entity_type: str,
    entity_id: object,
    data: dict[str, Any] | None = None,
) -> None:
    ctx.session.execute(
        text(
            "INSERT INTO audit_log (tenant_id, actor_user_id, action, entity_type, entity_id,"
            " data, request_id) VALUES (:t, :u, :a, :et, :eid, CAST(:d AS jsonb), :rid)"
        ),
        {
            "t": ctx.tenant_id,
            "u": ctx.user_id,
            "a": action,
            "et": entity_type,
            "eid": str(entity_id),
            "d": _json(data or {}),
            "rid": ctx.request_id,
        },
    )


def _json(value: dict[str, Any]) -> str:
    import json

    return json.dumps(jsonable(value))
