"""Team API schemas."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from servicedesk.platform.roles import Role
from servicedesk.platform.schemas import Input, Output, not_null

# The bounds of the columns' CHECK constraints, so a violation is a 422, not a 500.
TeamName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(max_length=2000)]


class AssignmentStrategy(enum.StrEnum):
    MANUAL = "manual"
    ROUND_ROBIN = "round_robin"
    LEAST_OPEN = "least_open"


class TeamCreate(Input):
    name: TeamName
    description: Description = ""
    assignment_strategy: AssignmentStrategy = AssignmentStrategy.MANUAL


class TeamUpdate(Input):
    name: TeamName | None = None
    description: Description | None = None
    assignment_strategy: AssignmentStrategy | None = None
    active: bool | None = None
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator(
        "name", "description", "assignment_strategy", "active", mode="before"
    )(not_null)


class TeamPublic(Output):
    id: uuid.UUID
    name: str
    description: str
    assignment_strategy: AssignmentStrategy
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class TeamMemberPublic(Output):
    user_id: uuid.UUID
    name: str
    email: str
    role: Role
    active: bool = Field(description="Active in the team")
    user_active: bool = Field(description="Active in the tenant")
    created_at: datetime


class TeamDetail(TeamPublic):
    members: list[TeamMemberPublic]
