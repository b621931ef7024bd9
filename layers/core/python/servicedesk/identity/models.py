"""Identity tables (the schema itself is owned by migrations/)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, ForeignKey, LargeBinary, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from servicedesk.platform.db import Base

GEN_UUID = text("gen_random_uuid()")


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID
    )
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str]
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class User(Base):
    __tablename__ = "users"
    # No RETURNING on insert: a new person is not yet visible to the inserting tenant.
    __mapper_args__ = {"eager_defaults": False}

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str]
    password_hash: Mapped[str | None]
    idp_issuer: Mapped[str | None]
    idp_subject: Mapped[str | None]
    email_verified_at: Mapped[datetime | None]
    # Signed into magic links; a new password bumps it (identity/magic.py).
    link_generation: Mapped[int] = mapped_column(server_default=text("0"))
    # The dates the web app shows (migrations/0035); None: the browser's.
    time_zone: Mapped[str | None]
    locale: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class Membership(Base):
    __tablename__ = "memberships"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), primary_key=True
    )
    role: Mapped[str]
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    # Access tokens issued before it are refused (a new password ends every session).
    sessions_revoked_at: Mapped[datetime | None]
    # The member's avatar in this organisation (an attachment with purpose 'avatar', 0040).
    avatar_attachment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # The member's custom role (identity/roles.py, 0046): exactly its permissions; None:
    # the built-in role's. ``role`` stays the tier either way.
    custom_role_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class Invitation(Base):
    __tablename__ = "user_invitations"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("tenants.id"))
    email: Mapped[str]
    role: Mapped[str]
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class IdentityProvider(Base):
    """A tenant's sign-in provider (migrations/0042; identity/providers.py)."""

    __tablename__ = "identity_providers"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str]
    name: Mapped[str]
    slug: Mapped[str]
    domains: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    secret_arn: Mapped[str | None]
    jit_enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    default_role: Mapped[str] = mapped_column(server_default=text("'requester'"))
    role_claim: Mapped[str | None]
    role_map: Mapped[dict[str, str]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    @property
    def has_secret(self) -> bool:
        return self.secret_arn is not None

    @property
    def redirect_uri(self) -> str:
        from servicedesk.identity.sso import callback_url
        from servicedesk.platform.config import get_settings

        return callback_url(self.kind, get_settings())

    @property
    def sp_entity_id(self) -> str | None:
        if self.kind != "saml":
            return None
        from servicedesk.identity.saml_kind import sp_entity_id
        from servicedesk.platform.config import get_settings

        return sp_entity_id(get_settings())

    @property
    def sp_metadata_url(self) -> str | None:
        if self.kind != "saml":
            return None
        from servicedesk.identity.saml_kind import METADATA_PATH
        from servicedesk.platform.config import get_settings

        return f"{get_settings().web_origin.rstrip('/')}{METADATA_PATH}"


class CustomRole(Base):
    """A tenant's own permission set (identity/roles.py, migrations/0046)."""

    __tablename__ = "roles"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("tenants.id"))
    name: Mapped[str]
    description: Mapped[str] = mapped_column(server_default=text("''"))
    permissions: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # A team scope: the role's ticket permissions apply to this team's tickets only.
    team_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
