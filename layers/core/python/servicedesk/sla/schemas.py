"""SLA API schemas: calendars, policies, a ticket's SLA, compliance figures."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from servicedesk.platform.schemas import Input, Output, not_null

Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
Level = Literal["low", "medium", "high", "critical"]
Target = Literal["first_response", "next_response", "resolution"]


class WorkInterval(Input):
    start: str = Field(description="HH:MM local time")
    end: str = Field(description="HH:MM local time; 24:00 for midnight")

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not HHMM.match(value):
            raise ValueError("must be HH:MM (00:00-24:00)")
        return value


Week = Annotated[list[list[WorkInterval]], Field(min_length=7, max_length=7)]


class CalendarCreate(Input):
    name: Name
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    week: Week = Field(description="Seven days, Monday first; each a list of intervals")
    holidays: list[date] = Field(default_factory=list, max_length=366)
    yearly_holidays: list[str] = Field(
        default_factory=list, max_length=366, description="MM-DD, every year"
    )

    @field_validator("yearly_holidays")
    @classmethod
    def _month_days(cls, values: list[str]) -> list[str]:
        for value in values:
            if not MONTH_DAY.match(value):
                raise ValueError(f"{value!r} is not MM-DD")
        return values


class CalendarUpdate(Input):
    name: Name | None = None
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    week: Week | None = None
    holidays: list[date] | None = Field(default=None, max_length=366)
    yearly_holidays: list[str] | None = Field(default=None, max_length=366)
    version: int | None = Field(default=None, ge=1)

    _not_null = field_validator(
        "name", "timezone", "week", "holidays", "yearly_holidays", mode="before"
    )(not_null)


class CalendarPublic(Output):
    id: uuid.UUID
    name: str
    timezone: str
    week: list[list[WorkInterval]]
    holidays: list[date]
    yearly_holidays: list[str]
    version: int
    created_at: datetime


class Conditions(Input):
    """All given lists must match (a missing list matches anything)."""

    priorities: list[Level] | None = None
    category_ids: list[uuid.UUID] | None = None
    team_ids: list[uuid.UUID] | None = None
    types: list[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]] | None = (
        Field(default=None, description="Ticket type keys (GET /v1/ticket-types)")
    )
    requester_tags: list[Annotated[str, StringConstraints(min_length=1, max_length=50)]] | None = (
        None
    )


class Escalation(Input):
    on: Literal["warning", "breach"]
    threshold: int | None = Field(
        default=None, ge=1, le=99, description="warning level; any if omitted"
    )
    target: Target | None = Field(default=None, description="any target if omitted")
    action: Literal[
        "notify_assignee", "notify_team", "notify_managers", "reassign_team", "raise_priority"
    ]
    team_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _team_for_reassign(self) -> Escalation:
        if self.action == "reassign_team" and self.team_id is None:
            raise ValueError("reassign_team needs team_id")
        return self


class PolicyCreate(Input):
    name: Name
    position: int = Field(ge=0, le=10000, description="Precedence: lowest first")
    active: bool = True
    conditions: Conditions = Field(default_factory=Conditions)
    calendar_id: uuid.UUID | None = Field(default=None, description="None: 24x7")
    first_response_minutes: int | None = Field(default=None, gt=0, le=525600)
    next_response_minutes: int | None = Field(default=None, gt=0, le=525600)
    resolution_minutes: int | None = Field(default=None, gt=0, le=5256000)
    warning_thresholds: list[int] = Field(default_factory=lambda: [75, 90], max_length=5)
    pause_statuses: list[Literal["new", "open", "in_progress", "pending"]] = Field(
        default_factory=lambda: ["pending"]  # type: ignore[arg-type]
    )
    escalations: list[Escalation] = Field(default_factory=list, max_length=20)

    @field_validator("warning_thresholds")
    @classmethod
    def _thresholds(cls, values: list[int]) -> list[int]:
        if any(not 1 <= v <= 99 for v in values):
            raise ValueError("thresholds are percentages between 1 and 99")
        return sorted(set(values))

    @model_validator(mode="after")
    def _some_target(self) -> PolicyCreate:
        if not (
            self.first_response_minutes or self.next_response_minutes or self.resolution_minutes
        ):
            raise ValueError("a policy needs at least one target")
        return self


class PolicyUpdate(PolicyCreate):
    version: int | None = Field(default=None, ge=1)


class PolicyOrder(Input):
    ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=1000,
        description="Every policy of the tenant (active or not), first to last; the"
        " policies keep the set of positions they hold, in this order",
    )


class PolicyPublic(Output):
    id: uuid.UUID
    name: str
    position: int
    active: bool
    conditions: Conditions
    calendar_id: uuid.UUID | None
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    warning_thresholds: list[int]
    pause_statuses: list[str]
    escalations: list[Escalation]
    version: int
    created_at: datetime


class TargetPublic(Output):
    target: Target
    policy_id: uuid.UUID | None
    budget_seconds: int
    elapsed_seconds: int
    running: bool
    due_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None
    paused_since: datetime | None


class PausePublic(Output):
    started_at: datetime
    ended_at: datetime | None
    reason: str


class TicketSlaPublic(Output):
    ticket_id: uuid.UUID
    policy_id: uuid.UUID | None
    targets: list[TargetPublic]
    pauses: list[PausePublic]


class ComplianceRow(Output):
    group: str | None
    target: Target
    met: int
    breached: int
    compliance: float | None


class ComplianceReport(Output):
    group_by: Literal["policy", "team", "priority"]
    since: datetime
    until: datetime
    rows: list[ComplianceRow]


class PolicyOrderPublic(Output):
    items: list[PolicyPublic]
