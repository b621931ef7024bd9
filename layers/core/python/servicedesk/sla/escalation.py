"""Escalation rules run on a warning or a breach; each action is a timeline event."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform import outbox
from servicedesk.platform.db import jsonable
from servicedesk.sla.models import Policy

if TYPE_CHECKING:
    from servicedesk.sla.evaluator import Crossing

RAISE = {"low": "medium", "medium": "high", "high": "critical", "critical": "critical"}


def _applies(rule: dict[str, Any], crossing: Crossing) -> bool:
    if rule.get("target") and rule["target"] != crossing.target:
        return False
    if crossing.kind == "breached":
        return bool(rule["on"] == "breach")
    if rule["on"] != "warning":
        return False
    threshold = rule.get("threshold")
    return threshold is None or crossing.kind == f"warning_{threshold}"


def _event(
    session: Session, tenant_id: uuid.UUID, ticket_id: uuid.UUID, kind: str, payload: dict[str, Any]
) -> None:
    session.execute(
        text(
            "INSERT INTO ticket_events (tenant_id, ticket_id, type, visibility, payload)"
            " VALUES (:t, :i, :ty, 'internal', CAST(:p AS jsonb))"
        ),
        {"t": tenant_id, "i": ticket_id, "ty": kind, "p": json.dumps(jsonable(payload))},
    )


def escalate(session: Session, tenant_id: uuid.UUID, crossing: Crossing, policy: Policy) -> None:
    for rule in policy.escalations or []:
        if not _applies(rule, crossing):
            continue
        action = rule["action"]
        base = {
            "action": action,
            "target": crossing.target,
            "kind": crossing.kind,
            "policy_id": policy.id,
        }
        if action.startswith("notify_"):
            outbox.emit(
                session,
                tenant_id=tenant_id,
                event_type="sla.escalation",
                aggregate_type="ticket",
                aggregate_id=crossing.ticket_id,
                payload={
                    **base,
                    "ticket_id": crossing.ticket_id,
                    "audience": action.removeprefix("notify_"),
                },
            )
            _event(session, tenant_id, crossing.ticket_id, "escalated", base)
        elif action == "reassign_team":
            session.execute(
                text(
                    "UPDATE tickets SET team_id = :team, assignee_id = NULL,"
                    " version = version + 1, updated_at = now()"
                    " WHERE tenant_id = :t AND id = :i AND NOT assignment_locked"
                ),
                {"team": rule["team_id"], "t": tenant_id, "i": crossing.ticket_id},
            )
            _event(
                session,
                tenant_id,
                crossing.ticket_id,
                "escalated",
                {**base, "team_id": rule["team_id"]},
            )
        elif action == "raise_priority":
            row = session.execute(
                text("SELECT priority FROM tickets WHERE tenant_id = :t AND id = :i FOR UPDATE"),
                {"t": tenant_id, "i": crossing.ticket_id},
            ).one()
            raised = RAISE[row.priority]
            if raised != row.priority:
                session.execute(
                    text(
                        "UPDATE tickets SET priority = :p, version = version + 1,"
                        " updated_at = now() WHERE tenant_id = :t AND id = :i"
                    ),
                    {"p": raised, "t": tenant_id, "i": crossing.ticket_id},
                )
            _event(
                session,
                tenant_id,
                crossing.ticket_id,
                "escalated",
                {**base, "from": row.priority, "to": raised},
            )
