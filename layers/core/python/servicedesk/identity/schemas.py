"""Identity API schemas."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, computed_field, field_validator

from servicedesk.platform.roles import Role
from servicedesk.platform.schemas import (
    Email,
    Input,
    Name,
    Output,
    Password,
    Slug,
    email_address,
    not_null,
)


def avatar_path(attachment_id: uuid.UUID) -> str:
    """The address of an avatar (``/v1/avatars/{id}``: a redirect to a short-lived link)."""
    return f"/v1/avatars/{attachment_id}"


class SignupRequest(Input):
    organization_name: Name
    slug: Slug
    name: Name
    email: Email
    password: Password


class SignupAccepted(Output):
    status: str = Field(
        default="confirmation_sent", description="Always the same, whoever owns the address"
    )
    email: str = Field(description="Where the confirmation link was sent")
    detail: str = (
        "Check your e-mail: follow the link we sent to create the organisation and sign in."
    )


class SignupConfirm(Input):
    token: str = Field(min_length=20, max_length=200)
    slug: Slug | None = Field(
        default=None, description="Another slug, if the one chosen at sign-up was taken since"
    )


def _identifier(value: str) -> str:
    """An e-mail, or a directory user name (an LDAP sign-in with ``tenant``:
    identity/directory_login.py)."""
    if "@" in value:
        return email_address(value)
    if not USERNAME_RE.fullmatch(value):
        raise ValueError("must be a valid e-mail address or user name")
    return value


# A directory user name: printable, no spaces at the ends (RFC 4515 escaping makes any
# character safe in a filter; the limit is for sanity, not for safety).
USERNAME_RE = re.compile(r"^[^\x00-\x1f\x7f\s][^\x00-\x1f\x7f]{0,253}(?<!\s)$")
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=254), AfterValidator(_identifier)
]


class LoginRequest(Input):
    email: Identifier = Field(
        description="E-mail; or, for an organisation that signs in through its directory "
        "(LDAP), a user name with `tenant`"
    )
    password: Password
    tenant: Slug | None = Field(default=None, description="Tenant slug; needed if in several")


class SwitchTenantRequest(Input):
    tenant: Slug


class TokenResponse(Output):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class TenantPublic(Output):
    id: uuid.UUID
    slug: str
    name: str


class UserPublic(Output):
    id: uuid.UUID
    email: str
    name: str
    role: Role
    custom_role_id: uuid.UUID | None = Field(
        default=None, description="The member's custom role, if any (its permissions apply)"
    )
    active: bool
    version: int
    created_at: datetime
    avatar_attachment_id: uuid.UUID | None = Field(default=None, exclude=True)

    @computed_field(  # type: ignore[prop-decorator]
        description="The person's picture in this organisation (none: show their initials)"
    )
    @property
    def avatar_url(self) -> str | None:
        if self.avatar_attachment_id is None:
            return None
        return avatar_path(self.avatar_attachment_id)


class TeamRef(Output):
    id: uuid.UUID
    name: str


class MeResponse(Output):
    user: UserPublic
    tenant: TenantPublic
    role: Role
    permissions: list[str] = Field(
        default_factory=list,
        description="What the caller may do (their custom role's, else their role's)",
    )
    time_zone: str | None = Field(
        default=None, description="IANA time zone for the dates shown (none: the browser's)"
    )
    locale: str | None = Field(
        default=None, description="BCP 47 language tag for dates and numbers (none: browser's)"
    )
    teams: list[TeamRef] = Field(
        default_factory=list, description="The caller's active teams in this tenant, by name"
    )


class UserCreate(Input):
    email: Email
    name: Name
    role: Role = Role.REQUESTER
    password: Password


class UserUpdate(Input):
    role: Role | None = None
    active: bool | None = None
    custom_role_id: uuid.UUID | None = Field(
        default=None,
        description="A custom role (GET /v1/roles): exactly its permissions; null: none, the"
        " built-in role's. Omitted: unchanged",
    )
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator("role", "active", mode="before")(not_null)


class InvitationCreate(Input):
    email: Email
    role: Role = Role.REQUESTER


class InvitationPublic(Output):
    id: uuid.UUID
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class AcceptInvitation(Input):
    token: str = Field(min_length=20, max_length=200)
    name: Name | None = None
    password: Password


class HealthResponse(Output):
    status: str
    database: str | None = None
    migration: str | None = None


class AccountMailAccepted(Output):
    """The answer to every request that mails an account link: the same for any address."""

    status: str = Field(default="sent_if_known", description="Always the same, for any address")
    detail: str = "If this address belongs to an account, a link is on its way. Check your e-mail."


class PasswordForgot(Input):
    email: Email


class PasswordReset(Input):
    token: str = Field(min_length=20, max_length=200)
    password: Password


class VerifyEmailRequest(Input):
    email: Email


class VerifyEmail(Input):
    token: str = Field(min_length=20, max_length=200)


class MagicExchange(Input):
    token: str = Field(min_length=40, max_length=200)


class MagicSession(Output):
    """An access token limited to one ticket; no refresh cookie (follow the link again)."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    ticket_id: uuid.UUID
    user_id: uuid.UUID
    name: str = Field(description="The person's name, for the greeting")
    email: str


class MagicPassword(Input):
    password: Password


class ProfileUpdate(Input):
    """``PATCH /v1/me``: the caller's own name, time zone and locale (an omitted field
    stays; ``null`` time zone or locale: the browser's)."""

    name: Annotated[Name | None, AfterValidator(not_null)] = None
    time_zone: str | None = Field(default=None, min_length=1, max_length=64)
    locale: str | None = Field(
        default=None, pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$", max_length=6, examples=["en-GB"]
    )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Europe/Paris") from None
        return value


class PasswordChange(Input):
    current_password: Password
    new_password: Password


class MyTenant(Output):
    slug: str
    name: str
    role: Role
    current: bool


class SessionPublic(Output):
    """One sign-in of the caller (a refresh-token family)."""

    id: uuid.UUID
    user_agent: str | None = Field(description="The browser or client, as it said")
    ip_address: str | None = Field(description="The address of the sign-in or latest refresh")
    created_at: datetime = Field(description="When the person signed in")
    last_used_at: datetime = Field(description="The sign-in, then its latest token refresh")
    current: bool = Field(description="The session of the access token making this request")


class SessionsRevoked(Output):
    revoked: int = Field(description="How many sessions ended")


class RegistrationRequest(Input):
    """``POST /v1/signup/requester``: register as a requester of an existing organisation."""

    tenant: Slug = Field(description="The organisation's slug (its sign-in page names it)")
    name: Name
    email: Email
    password: Password = Field(
        description="Your password when the address is new (ignored for an existing account)"
    )


class RegistrationAccepted(Output):
    status: str = Field(
        default="confirmation_sent", description="Always the same, whoever owns the address"
    )
    email: str = Field(description="Where the confirmation link was sent")
    detail: str = "Check your e-mail: follow the link we sent to finish registering and sign in."


class RegistrationConfirm(Input):
    token: str = Field(min_length=20, max_length=200)


class AvatarSet(Input):
    """``PUT /v1/me/avatar``: a completed avatar upload of the caller's becomes their avatar."""

    attachment_id: uuid.UUID
