"""Branding API schemas (the settings section itself is ``branding.settings``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from servicedesk.attachments.schemas import Filename
from servicedesk.platform.schemas import Input


class LogoCreate(Input):
    """The body of ``POST /v1/attachments/branding-logo``."""

    filename: Filename
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=255, to_lower=True)]
    size: int = Field(gt=0, le=100 * 1024 * 1024, description="Exact size in bytes")


class BrandingPublic(BaseModel):
    """What anyone may read of an organisation's branding (the login page, the portal)."""

    display_name: str | None = Field(
        description="null: the default look (no branding set, or no such organisation)"
    )
    primary_color: str | None
    accent_color: str | None
    welcome_text: str | None
    logo_url: str | None = Field(
        description="Same-origin address of the logo (redirects to a short-lived link)"
    )
    self_registration: bool = Field(
        description='The sign-in page offers "Create an account" (POST /v1/signup/requester)'
    )
