"""Append-only audit trail (invariant 8): the app role may only INSERT and SELECT."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform.db import jsonable
from servicedesk.platform.tenancy import RequestContext

_INSERT = text(
    "INSERT INTO audit_log (tenant_id, actor_user_id, action, entity_type, entity_id,"
    " data, request_id) VALUES (:t, :u, :a, :et, :eid, CAST(:d AS jsonb), :rid)"
)


def write(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    action: str,
    entity_type: str,
    entity_id: object,
    request_id: str | None,
    data: dict[str, Any] | None = None,
) -> None:
    """One audit row; for paths that run before a RequestContext exists (login, signup)."""
    session.execute(
        _INSERT,
        {
            "t": tenant_id,
            "u": actor_id,
            "a": action,
            "et": entity_type,
            "eid": str(entity_id),
            "d": json.dumps(jsonable(data or {})),
            "rid": request_id,
        },
    )


def record(
    ctx: RequestContext,
    *,
    action: str,
    entity_type: str,
    entity_id: object,
    data: dict[str, Any] | None = None,
) -> None:
    write(
        ctx.session,
        tenant_id=ctx.tenant_id,
        actor_id=ctx.user_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        request_id=ctx.request_id,
        data=data,
    )


_INSERT_MANY = text(
    "INSERT INTO audit_log (tenant_id, actor_user_id, action, entity_type, entity_id,"
    " data, request_id) SELECT :t, :u, :a, :et, :eid, d.value, :rid"
    " FROM jsonb_array_elements(CAST(:d AS jsonb)) WITH ORDINALITY AS d(value, n) ORDER BY d.n"
)


def record_many(
    ctx: RequestContext,
    *,
    action: str,
    entity_type: str,
    entity_id: object,
    data: list[dict[str, Any]],
) -> None:
    """One audit row per ``data`` item, in order, for one entity: one statement, however
    many (the assistant's tool calls of a turn)."""
    if not data:
        return
    ctx.session.execute(
        _INSERT_MANY,
        {
            "t": ctx.tenant_id,
            "u": ctx.user_id,
            "a": action,
            "et": entity_type,
            "eid": str(entity_id),
            "d": json.dumps(jsonable(data)),
            "rid": ctx.request_id,
        },
    )
