"""Per-tenant branding, kept in tenants.settings under "branding".

Every field is optional: what is not set falls back to the tenant's name and the design
tokens. Colours are ``#rrggbb``, checked for contrast (``branding.contrast``) when saved;
the welcome text is plain text, shown as written (line breaks kept; no Markdown or HTML).
"""

from __future__ import annotations

import unicodedata
import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenant_settings import Section

MAX_WELCOME = 2000


def _one_line(value: str) -> str:
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise ValueError("must be one line without control characters")
    return value


def _text(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        raise ValueError("must not contain control characters")
    return value.replace("\r\n", "\n")


Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$", to_lower=True)]


class BrandingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    display_name: Annotated[
        str | None,
        StringConstraints(min_length=1, max_length=100),
        AfterValidator(lambda v: None if v is None else _one_line(v)),
    ] = Field(default=None, description="Shown in the app and e-mails (default: the tenant's name)")
    logo_attachment_id: uuid.UUID | None = Field(
        default=None,
        description="A completed logo upload (POST /v1/attachments/branding-logo, then complete)",
    )
    primary_color: Colour | None = Field(
        default=None,
        description="Buttons, links and focus: #rrggbb, 4.5:1 against white and the light theme",
    )
    accent_color: Colour | None = Field(
        default=None,
        description="The brand bar of the app and e-mails: #rrggbb, 3:1 against both themes",
    )
    welcome_text: Annotated[
        str | None,
        StringConstraints(max_length=MAX_WELCOME),
        AfterValidator(lambda v: None if v is None else _text(v)),
    ] = Field(default=None, description="The portal home's welcome: plain text, shown as written")


# Everyone signed in reads it (the shell applies it); anonymous callers read the public
# part by slug (GET /v1/branding/{slug}).
SECTION = Section("branding", BrandingSettings, read=Permission.DESK_ACCESS, what="branding")
