"""Per-tenant ticket settings, kept in tenants.settings under "tickets"."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform.db import TENANT_SETTINGS

Level = Literal["low", "medium", "high", "critical"]

# ITIL-style impact x urgency -> priority.
DEFAULT_MATRIX: dict[Level, dict[Level, Level]] = {
    "critical": {"critical": "critical", "high": "critical", "medium": "high", "low": "high"},
    "high": {"critical": "critical", "high": "high", "medium": "high", "low": "medium"},
    "medium": {"critical": "high", "high": "high", "medium": "medium", "low": "low"},
    "low": {"critical": "medium", "high": "medium", "medium": "low", "low": "low"},
}


class TicketSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number_prefix: str = Field(default="TCK", pattern=r"^[A-Z]{2,8}$")
    priority_matrix: dict[Level, dict[Level, Level]] = Field(default_factory=lambda: DEFAULT_MATRIX)
    reopen_window_days: int = Field(default=7, ge=0, le=365)
    comment_edit_window_minutes: int = Field(default=15, ge=0, le=10080)
    agents_see_all: bool = False
    # Who is told of a ticket with no team and no assignee; unset: every agent and manager.
    triage_team_id: uuid.UUID | None = None

    def priority_for(self, impact: str | None, urgency: str | None) -> Level:
        row = self.priority_matrix.get(impact, {}) if impact else {}  # type: ignore[call-overload]
        chosen: Level = row.get(urgency, "medium") if urgency else "medium"
        return chosen


def load(session: Session, tenant_id: uuid.UUID) -> TicketSettings:
    raw = session.execute(
        text("SELECT settings -> 'tickets' FROM tenants WHERE id = :t"), {"t": tenant_id}
    ).scalar()
    return TicketSettings.model_validate(raw or {})


def from_snapshot(session: Session, tenant_id: uuid.UUID) -> TicketSettings:
    """The settings as the request's principal statement read them (no round trip), or
    from the database when this transaction has no snapshot of this tenant."""
    snapshot = session.info.get(TENANT_SETTINGS)
    if isinstance(snapshot, dict) and session.info.get("tenant_id") == tenant_id:
        return TicketSettings.model_validate(snapshot.get("tickets") or {})
    return load(session, tenant_id)


def etag(value: TicketSettings) -> str:
    import hashlib

    digest = hashlib.sha256(value.model_dump_json().encode()).hexdigest()[:16]
    return f'"{digest}"'


def save(session: Session, tenant_id: uuid.UUID, value: TicketSettings) -> None:
    session.execute(
        text(
            "UPDATE tenants SET settings = jsonb_set(settings, '{tickets}', CAST(:v AS jsonb)),"
            " updated_at = now() WHERE id = :t"
        ),
        {"v": value.model_dump_json(), "t": tenant_id},
    )
    snapshot = session.info.get(TENANT_SETTINGS)
    if isinstance(snapshot, dict):
        snapshot["tickets"] = value.model_dump(mode="json")
