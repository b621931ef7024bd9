"""Request and response bodies of sign-in providers and the SSO flow."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from servicedesk.platform.roles import Role
from servicedesk.platform.schemas import Input, Output, not_null

ProviderKind = Literal["oidc", "saml"]
ProviderName = Annotated[str, StringConstraints(min_length=1, max_length=80)]
ProviderSlug = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
]
Domain = Annotated[
    str,
    StringConstraints(
        min_length=3,
        max_length=253,
        to_lower=True,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    ),
]
Domains = Annotated[list[Domain], Field(max_length=20)]
ClientSecret = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Claim = Annotated[str, StringConstraints(min_length=1, max_length=100)]
RoleMap = Annotated[
    dict[Annotated[str, StringConstraints(max_length=200)], Role], Field(max_length=50)
]

SECRET_NOTE = "Kept in Secrets Manager; never returned (has_secret says whether one is set)"  # noqa: S105


class _Roles(Input):
    @model_validator(mode="after")
    def _map_needs_claim(self) -> Any:
        role_map = getattr(self, "role_map", None)
        if role_map and not getattr(self, "role_claim", None):
            raise ValueError("role_map needs role_claim")
        return self


class ProviderCreate(_Roles):
    kind: ProviderKind = "oidc"
    name: ProviderName = Field(description="The button's label: Sign in with <name>")
    slug: ProviderSlug = Field(description="Unique in the organisation; in the sign-in URLs")
    domains: Domains = Field(
        default_factory=list, description="E-mail domains whose people are offered this provider"
    )
    enabled: bool = True
    config: dict[str, Any] = Field(
        description="Per kind (unknown keys refused). oidc: issuer, client_id, scopes, "
        "token_auth_method, email_claim, name_claim. saml: metadata_xml (the IdP's metadata; "
        "stored as entity_id, sso_url and certificates, so an update may omit it), "
        "require_signed_assertion, allow_idp_initiated, sign_requests, email_attribute, "
        "name_attribute"
    )
    client_secret: ClientSecret | None = Field(default=None, description=SECRET_NOTE)
    jit_enabled: bool = Field(
        default=True, description="Create the account and membership at first sign-in"
    )
    default_role: Role = Role.REQUESTER
    role_claim: Claim | None = None
    role_map: RoleMap = Field(
        default_factory=dict,
        description="Value of role_claim -> role. Without a mapped value the desk's role "
        "stands (an IdP claim never overwrites it on its own)",
    )

    @field_validator("domains")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class ProviderUpdate(_Roles):
    name: ProviderName | None = None
    slug: ProviderSlug | None = None
    domains: Domains | None = None
    enabled: bool | None = None
    config: dict[str, Any] | None = None
    client_secret: ClientSecret | None = Field(
        default=None, description=f"{SECRET_NOTE}; send one to replace it"
    )
    remove_client_secret: bool = False
    jit_enabled: bool | None = None
    default_role: Role | None = None
    role_claim: Claim | None = None
    role_map: RoleMap | None = None
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator(
        "name",
        "slug",
        "domains",
        "enabled",
        "config",
        "jit_enabled",
        "default_role",
        "role_map",
        mode="before",
    )(not_null)

    @field_validator("domains")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted(set(value))


class ProviderPublic(Output):
    id: uuid.UUID
    kind: ProviderKind
    name: str
    slug: str
    domains: list[str]
    enabled: bool
    config: dict[str, Any]
    has_secret: bool
    jit_enabled: bool
    default_role: Role
    role_claim: str | None
    role_map: dict[str, Role]
    redirect_uri: str = Field(
        description="The redirect URI to register at the IdP (SAML: the ACS URL)"
    )
    sp_entity_id: str | None = Field(
        default=None, description="SAML: our entity id (the audience) to give the IdP"
    )
    sp_metadata_url: str | None = Field(
        default=None, description="SAML: the URL of our SP metadata, for the IdP to import"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class SsoOffer(Output):
    tenant: str = Field(description="The organisation's slug")
    tenant_name: str
    provider: str = Field(description="The provider's slug")
    name: str = Field(description="The button's label")
    kind: ProviderKind
    start_url: str = Field(description="Where the button leads (a GET)")


class SsoOffers(Output):
    providers: list[SsoOffer]
    directory_user_names: bool = Field(
        default=False,
        description=(
            "Asked with `tenant`: the organisation signs in with its directory (LDAP), so "
            "the sign-in page accepts a user name as well as an e-mail (sent with `tenant`)"
        ),
    )


class SsoExchange(Input):
    code: Annotated[str, StringConstraints(min_length=10, max_length=200)]


class SsoSession(Output):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105
    expires_in: int
    return_to: str | None = None


class OidcCallback(BaseModel):
    """The query of an OIDC provider's redirect back: the code (or the error) and the state,
    and what IdPs add besides (declared, since an unknown query parameter is a 422):
    RFC 9207's ``iss`` (checked against the issuer), Entra's and Keycloak's
    ``session_state``, Google's ``authuser``, ``hd``, ``prompt`` and ``scope``."""

    model_config = ConfigDict(extra="ignore")

    code: str | None = Field(default=None, max_length=4096)
    state: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, max_length=200)
    error_description: str | None = Field(default=None, max_length=2000)
    error_uri: str | None = Field(default=None, max_length=2000)
    iss: str | None = Field(default=None, max_length=500)
    session_state: str | None = Field(default=None, max_length=500)
    scope: str | None = Field(default=None, max_length=2000)
    authuser: str | None = Field(default=None, max_length=20)
    hd: str | None = Field(default=None, max_length=253)
    prompt: str | None = Field(default=None, max_length=100)
