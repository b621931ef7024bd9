"""Per-tenant CSAT settings, kept in tenants.settings under "csat"."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from servicedesk.platform.roles import Role
from servicedesk.platform.tenant_settings import Section

DEFAULT_QUESTION = "How would you rate the support you received?"


class CsatSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A survey is sent when a ticket is resolved.
    enabled: bool = True
    question: str = Field(default=DEFAULT_QUESTION, min_length=1, max_length=200)
    scale: Literal["1-5"] = "1-5"
    # How long a survey link stays valid.
    expires_days: int = Field(default=30, ge=1, le=365)


SECTION = Section("csat", CsatSettings, read_role=Role.REQUESTER, noun="csat", what="CSAT settings")
