"""Per-tenant assistant settings, kept in tenants.settings under "assistant"."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenant_settings import Section


class AssistantSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # On by default: the deployment decides whether there is a model at all (llm_provider
    # unset = no assistant anywhere); a tenant's admin may switch it off for the tenant.
    enabled: bool = True
    # Tokens (input + output, as the model reports them) per calendar month (UTC); the
    # turn that finds it spent answers 429. 0: no assistant this month.
    monthly_token_budget: int = Field(default=2_000_000, ge=0, le=10_000_000_000)
    # Messages a user may send per minute (429 with Retry-After beyond).
    messages_per_minute: int = Field(default=10, ge=1, le=600)


SECTION = Section(
    "assistant",
    AssistantSettings,
    read=Permission.DESK_ACCESS,
    noun="assistant",
    what="assistant settings",
)
