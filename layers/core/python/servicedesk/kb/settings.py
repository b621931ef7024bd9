"""Per-tenant knowledge base settings, kept in tenants.settings under "kb"."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenant_settings import Section

DEFAULT_RETENTION_DAYS = 400
MIN_RETENTION_DAYS = 30


class KbSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Publishing goes through review (draft -> in_review -> published); a manager or admin
    # may publish straight from a draft only when this is off.
    require_review: bool = True
    # The knowledge consumer proposes a draft when a ticket is resolved.
    drafts_from_tickets: bool = True
    # The portal shows matching articles while a requester types a new request's title.
    deflection_enabled: bool = True
    # How many articles a deflection or an agent's side panel suggests.
    suggestions: int = Field(default=5, ge=1, le=10)
    # Days the search log and the deflection outcomes are kept (the search and deflection
    # reports read the last 30); older rows are deleted by the daily retention job.
    activity_retention_days: int = Field(
        default=DEFAULT_RETENTION_DAYS, ge=MIN_RETENTION_DAYS, le=3650
    )


SECTION = Section(
    "kb", KbSettings, read=Permission.DESK_ACCESS, noun="kb", what="knowledge base settings"
)
