"""Custom role API schemas (identity/roles.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from servicedesk.platform.permissions import Permission
from servicedesk.platform.roles import Role
from servicedesk.platform.schemas import Input, Output, not_null

# The bounds of the columns' CHECK constraints, so a violation is a 422, not a 500.
RoleName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
RoleDescription = Annotated[str, StringConstraints(max_length=1000)]
_KNOWN = frozenset(p.value for p in Permission)


def _known(value: str) -> str:
    if value not in _KNOWN:
        raise ValueError("is not a permission (GET /v1/roles/permissions lists them)")
    return value


def _distinct(values: list[str]) -> list[str]:
    """Once each, in catalogue order (a set, stored and shown the same way every time)."""
    chosen = set(values)
    return [p.value for p in Permission if p.value in chosen]


PermissionName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known)]
Permissions = Annotated[
    list[PermissionName],
    Field(min_length=1, max_length=len(_KNOWN) * 2, description="At least one permission"),
    AfterValidator(_distinct),
]


TeamScope = Annotated[
    uuid.UUID | None,
    Field(
        description="A team: the role's ticket permissions apply to that team's tickets only"
        " (none: to every ticket they reach)"
    ),
]


class RoleCreate(Input):
    name: RoleName
    description: RoleDescription = ""
    permissions: Permissions
    team_id: TeamScope = None


class RoleUpdate(Input):
    name: RoleName | None = None
    description: RoleDescription | None = None
    permissions: Permissions | None = None
    team_id: TeamScope = None
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator("name", "description", "permissions", mode="before")(not_null)


class RolePublic(Output):
    """A custom role (``id``) or a built-in one (``builtin``, read-only, no id)."""

    id: uuid.UUID | None = None
    builtin: Role | None = Field(default=None, description="The built-in role this is, if one")
    name: str
    description: str
    permissions: list[str]
    team_id: uuid.UUID | None = None
    members: int = Field(default=0, description="Active and inactive members holding it")
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None


class PermissionPublic(Output):
    name: str
    area: str
    description: str
    floor: Role = Field(description="The lowest built-in role that holds it")
