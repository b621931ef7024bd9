"""Per-tenant ticket settings, kept in tenants.settings under "tickets"."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenant_settings import Section

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
    # Assignment defaults (issue 20 point 6): the team of a new ticket that names none and
    # whose category names none, so that team's assignment strategy applies; and whether
    # the first public reply by staff on an unassigned ticket makes its author the assignee.
    default_team_id: uuid.UUID | None = Field(
        default=None,
        description="New tickets with no team (none given, none from the category) go to"
        " this team, and its assignment strategy picks the assignee",
    )
    assign_on_first_reply: bool = Field(
        default=False,
        description="An agent's first public reply on an unassigned ticket assigns it to them",
    )

    def priority_for(self, impact: str | None, urgency: str | None) -> Level:
        row = self.priority_matrix.get(impact, {}) if impact else {}  # type: ignore[call-overload]
        chosen: Level = row.get(urgency, "medium") if urgency else "medium"
        return chosen


SECTION = Section("tickets", TicketSettings, read=Permission.CONFIG_READ)
