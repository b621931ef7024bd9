"""Approvals API schemas: flows (named stage templates), requests with their stages and
decisions, decisions, delegations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from servicedesk.platform.schemas import Input, Output, not_null

RuleName = Literal["any", "all", "quorum"]
DecisionName = Literal["approve", "reject"]
ApproverRole = Literal["agent", "manager", "admin"]
FlowName = Annotated[str, StringConstraints(min_length=1, max_length=120)]
StageName = Annotated[str, StringConstraints(min_length=1, max_length=120)]
Description = Annotated[str, StringConstraints(max_length=2000)]
Comment = Annotated[str, StringConstraints(max_length=4000)]
MAX_STAGES = 10
MAX_USERS = 50


class ApproversSpec(Input):
    """Who approves a stage: the union of what is named (resolved when the stage starts;
    the requester is never their own approver)."""

    users: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_USERS)
    role: ApproverRole | None = Field(default=None, description="Every active member with it")
    team_id: uuid.UUID | None = Field(default=None, description="The team's active members")
    requester_manager: bool = Field(
        default=False, description="The requester's manager (memberships.manager_id)"
    )

    @model_validator(mode="after")
    def _some(self) -> ApproversSpec:
        if not (self.users or self.role or self.team_id or self.requester_manager):
            raise ValueError(
                "name at least one approver: users, role, team_id or requester_manager"
            )
        return self


class StageSpec(Input):
    name: StageName
    rule: RuleName = Field(
        default="any",
        description="any: the first decision decides; all: everyone approves;"
        " quorum: `quorum` approvals",
    )
    quorum: int | None = Field(default=None, ge=1, le=MAX_USERS)
    approvers: ApproversSpec
    due_hours: int | None = Field(
        default=None,
        ge=1,
        le=8760,
        description="Waiting longer reminds the approvers, then escalates (none: never)",
    )

    @model_validator(mode="after")
    def _quorum(self) -> StageSpec:
        if (self.rule == "quorum") != (self.quorum is not None):
            raise ValueError("quorum is given with the quorum rule, and only with it")
        return self


StageList = Annotated[list[StageSpec], Field(min_length=1, max_length=MAX_STAGES)]


class FlowCreate(Input):
    name: FlowName
    description: Description = ""
    stages: StageList
    escalation_role: ApproverRole | None = Field(
        default=None, description="Who a stage waiting past twice its due time escalates to"
    )
    escalation_user_id: uuid.UUID | None = Field(
        default=None, description="A fallback approver for escalations"
    )


class FlowUpdate(Input):
    name: FlowName | None = None
    description: Description | None = None
    stages: StageList | None = None
    escalation_role: ApproverRole | None = None
    escalation_user_id: uuid.UUID | None = None
    active: bool | None = None
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator("name", "description", "stages", "active", mode="before")(not_null)


class FlowPublic(Output):
    id: uuid.UUID
    name: str
    description: str
    stages: list[StageSpec]
    escalation_role: ApproverRole | None
    escalation_user_id: uuid.UUID | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class DecisionPublic(Output):
    id: uuid.UUID
    stage_id: uuid.UUID
    approver_id: uuid.UUID
    on_behalf_of: uuid.UUID | None = Field(description="The seat decided for (delegation)")
    decision: DecisionName
    comment: str
    channel: Literal["web", "email"]
    created_at: datetime


class StagePublic(Output):
    id: uuid.UUID
    position: int
    name: str
    rule: RuleName
    quorum: int | None
    state: Literal["waiting", "pending", "approved", "rejected", "cancelled"]
    approver_ids: list[uuid.UUID]
    due_at: datetime | None
    started_at: datetime | None
    reminded_at: datetime | None
    escalated_at: datetime | None
    decided_at: datetime | None
    decisions: list[DecisionPublic]


class SubjectPublic(Output):
    """What the approver reads of the subject (they may not see the ticket itself)."""

    type: Literal["ticket", "change"]
    id: uuid.UUID
    number: str | None = None
    title: str
    description: str = ""
    status: str | None = None
    category: str | None = None
    requester_name: str | None = None


class ApprovalPublic(Output):
    id: uuid.UUID
    subject_type: Literal["ticket", "change"]
    subject_id: uuid.UUID
    title: str
    state: Literal["pending", "approved", "rejected", "cancelled"]
    current_stage: int | None
    requested_by: uuid.UUID
    flow_id: uuid.UUID | None
    version: int
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime
    stages: list[StagePublic]
    subject: SubjectPublic | None
    my_seats: list[uuid.UUID] = Field(
        description="The seats of the current stage the caller may decide now (theirs, or"
        " a delegator's)"
    )


class DecisionCreate(Input):
    decision: DecisionName
    comment: Comment = ""
    stage_id: uuid.UUID | None = Field(
        default=None, description="The stage decided (refused unless it is the current one)"
    )
    on_behalf_of: uuid.UUID | None = Field(
        default=None, description="Decide as this approver's delegate (default: your own seat)"
    )
    version: int | None = Field(default=None, ge=1, description="The request's, or If-Match")


class DelegationCreate(Input):
    delegate_id: uuid.UUID
    user_id: uuid.UUID | None = Field(
        default=None, description="Whose decisions are delegated (yours unless you are an admin)"
    )
    starts_at: datetime | None = Field(default=None, description="Default: now")
    ends_at: datetime
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class ManagerSet(Input):
    manager_id: uuid.UUID | None = Field(description="The member's manager; null clears it")


class ManagerPublic(Output):
    user_id: uuid.UUID
    manager_id: uuid.UUID | None


class DelegationPublic(Output):
    id: uuid.UUID
    user_id: uuid.UUID
    delegate_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_at: datetime


class ApprovalLinkPublic(Output):
    """The confirmation page of an e-mailed decision link."""

    approval_id: uuid.UUID
    title: str
    decision: DecisionName
    stage: str
    state: str
    decided: bool
    expires_at: datetime
    subject: SubjectPublic | None


class ApprovalLinkDecision(Input):
    comment: Comment = ""


def dump_stages(stages: list[StageSpec]) -> list[dict[str, Any]]:
    return [s.model_dump(mode="json") for s in stages]
