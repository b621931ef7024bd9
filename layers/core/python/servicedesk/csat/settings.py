"""Per-tenant CSAT settings, kept in tenants.settings under "csat"."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenant_settings import Section

Scale = Literal["1-5", "good-bad"]
MAX_DELAY_MINUTES = 7 * 24 * 60
DEFAULT_QUESTION = "How would you rate the support you received?"


class CsatSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A survey is sent when a ticket is resolved.
    enabled: bool = True
    question: str = Field(default=DEFAULT_QUESTION, min_length=1, max_length=200)
    # "1-5": five links, 1 (very dissatisfied) to 5 (very satisfied); "good-bad": two,
    # stored as 5 (good) and 1 (bad) so that "satisfied = 4 or 5" holds for both.
    scale: Scale = "1-5"
    # Minutes after the resolution before the survey is mailed (the CSAT sender's schedule
    # mails it; a ticket reopened meanwhile is not surveyed). 0: at once. At most a week.
    delay_minutes: int = Field(default=0, ge=0, le=MAX_DELAY_MINUTES)
    # How long a survey link stays valid.
    expires_days: int = Field(default=30, ge=1, le=365)


SECTION = Section(
    "csat", CsatSettings, read=Permission.DESK_ACCESS, noun="csat", what="CSAT settings"
)
