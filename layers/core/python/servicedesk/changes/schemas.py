"""Change management API schemas: changes (with their CIs, tickets, risk, collisions and
approvals), state moves, the post-implementation review, settings (approval flows, the risk
questionnaire and thresholds), templates, blackout windows and the calendar."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StringConstraints, field_validator, model_validator

from servicedesk.approvals.schemas import ApprovalPublic
from servicedesk.platform.schemas import Input, Output, not_null

TypeName = Literal["standard", "normal", "emergency"]
StateName = Literal[
    "draft",
    "assessment",
    "approval",
    "scheduled",
    "implementing",
    "review",
    "closed",
    "cancelled",
    "failed",
]
RiskLevel = Literal["low", "medium", "high"]
Outcome = Literal["successful", "partially_successful", "failed"]
Title = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=120)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")]
Plan = Annotated[str, StringConstraints(max_length=20000)]
Reason = Annotated[str, StringConstraints(max_length=4000)]
MAX_CIS = 100
MAX_QUESTIONS = 30
MAX_OPTIONS = 10
Answers = Annotated[dict[Key, Key], Field(max_length=MAX_QUESTIONS)]


def _window(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise ValueError("planned_end must be after planned_start")


class ChangeCreate(Input):
    title: Title
    description: Plan = ""
    type: TypeName = "normal"
    template_id: uuid.UUID | None = Field(
        default=None, description="A standard change's pre-approved template (its plans copied)"
    )
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    implementation_plan: Plan = ""
    backout_plan: Plan = ""
    test_plan: Plan = ""
    ci_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_CIS)
    ticket_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_CIS)

    @model_validator(mode="after")
    def _checks(self) -> ChangeCreate:
        _window(self.planned_start, self.planned_end)
        if (self.type == "standard") != (self.template_id is not None):
            raise ValueError("a standard change names its template_id; other types do not")
        return self


class ChangeUpdate(Input):
    title: Title | None = None
    description: Plan | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    implementation_plan: Plan | None = None
    backout_plan: Plan | None = None
    test_plan: Plan | None = None
    ci_ids: list[uuid.UUID] | None = Field(default=None, max_length=MAX_CIS)
    risk_answers: Answers | None = Field(
        default=None, description="Question key -> option key; every question answered"
    )
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator(
        "title",
        "description",
        "implementation_plan",
        "backout_plan",
        "test_plan",
        "ci_ids",
        "risk_answers",
        mode="before",
    )(not_null)

    @model_validator(mode="after")
    def _checks(self) -> ChangeUpdate:
        _window(self.planned_start, self.planned_end)
        return self


class TransitionCreate(Input):
    state: StateName
    reason: Reason = Field(default="", description="Why (cancelled, failed)")
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")


class ReviewSet(Input):
    outcome: Outcome
    notes: Plan = ""
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")


class TicketLink(Input):
    ticket_id: uuid.UUID


class CIRef(Output):
    id: uuid.UUID
    name: str
    class_key: str


class TicketRef(Output):
    id: uuid.UUID
    number: str
    title: str
    status: str
    type: str | None = None


class Collision(Output):
    change_id: uuid.UUID
    number: int
    title: str
    state: str
    planned_start: datetime
    planned_end: datetime
    other_ci_id: uuid.UUID = Field(description="The other change's CI that ours reach")
    depth: int = Field(description="0: one of our CIs; n: n relationships from ours")


class ChangeSummary(Output):
    id: uuid.UUID
    number: int
    title: str
    type: TypeName
    state: StateName
    planned_start: datetime | None
    planned_end: datetime | None
    risk_score: int | None
    risk_level: RiskLevel | None
    requested_by: uuid.UUID
    version: int
    created_at: datetime
    updated_at: datetime


class ChangePublic(ChangeSummary):
    description: str
    template_id: uuid.UUID | None
    implementation_plan: str
    backout_plan: str
    test_plan: str
    risk_answers: dict[str, str]
    review_outcome: Outcome | None
    review_notes: str
    reason: str
    cis: list[CIRef]
    tickets: list[TicketRef]
    collisions: list[Collision]
    blackouts: list[BlackoutWindow] = Field(description="Blackout windows the plan overlaps")
    approvals: list[ApprovalPublic] = Field(description="Approval requests, newest first")
    allowed_states: list[StateName]


class OptionSpec(Input):
    key: Key
    label: Name
    weight: int = Field(ge=0, le=100)


class QuestionSpec(Input):
    key: Key
    text: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    options: list[OptionSpec] = Field(min_length=2, max_length=MAX_OPTIONS)

    @model_validator(mode="after")
    def _unique(self) -> QuestionSpec:
        if len({o.key for o in self.options}) != len(self.options):
            raise ValueError("option keys must be unique")
        return self


class SettingsUpdate(Input):
    cab_flow_id: uuid.UUID | None = Field(default=None, description="Normal changes' flow")
    emergency_flow_id: uuid.UUID | None = Field(
        default=None, description="Emergency changes' flow (none: the CAB flow's first stage)"
    )
    questions: list[QuestionSpec] | None = Field(
        default=None, min_length=1, max_length=MAX_QUESTIONS
    )
    medium_from: int | None = Field(default=None, ge=0, le=10000)
    high_from: int | None = Field(default=None, ge=1, le=10000)
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator("questions", "medium_from", "high_from", mode="before")(not_null)

    @model_validator(mode="after")
    def _unique(self) -> SettingsUpdate:
        if self.questions and len({q.key for q in self.questions}) != len(self.questions):
            raise ValueError("question keys must be unique")
        return self


class SettingsPublic(Output):
    cab_flow_id: uuid.UUID | None
    emergency_flow_id: uuid.UUID | None
    questions: list[QuestionSpec]
    medium_from: int
    high_from: int
    version: int


class TemplateCreate(Input):
    name: Name
    description: Annotated[str, StringConstraints(max_length=4000)] = ""
    implementation_plan: Plan = ""
    backout_plan: Plan = ""
    test_plan: Plan = ""


class TemplateUpdate(Input):
    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=4000)] | None = None
    implementation_plan: Plan | None = None
    backout_plan: Plan | None = None
    test_plan: Plan | None = None
    active: bool | None = None
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator(
        "name",
        "description",
        "implementation_plan",
        "backout_plan",
        "test_plan",
        "active",
        mode="before",
    )(not_null)


class TemplatePublic(Output):
    id: uuid.UUID
    name: str
    description: str
    implementation_plan: str
    backout_plan: str
    test_plan: str
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


Weekday = Annotated[int, Field(ge=0, le=6, description="0 = Monday")]


class Recurrence(Input):
    """A recurring blackout (changes.recurrence): weekly on ``weekdays``, or monthly on
    ``monthday`` or on the ``nth`` ``weekday`` (-1: the last); from ``start_time`` local for
    ``duration_minutes``, in ``time_zone``, from ``starts_on``, until ``until`` (inclusive)
    or with no end. Which fields go with which frequency is checked when created (422
    naming ``recurrence.<field>``)."""

    frequency: Literal["weekly", "monthly"]
    weekdays: list[Weekday] | None = Field(default=None, min_length=1, max_length=7)
    monthday: int | None = Field(default=None, ge=1, le=31)
    nth: Literal[1, 2, 3, 4, -1] | None = None
    weekday: Weekday | None = None
    start_time: time = Field(description="Local wall-clock start, HH:MM")
    duration_minutes: int = Field(ge=1, le=7 * 24 * 60)
    time_zone: str = Field(max_length=64, description="An IANA time zone")
    starts_on: date
    until: date | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("is not an IANA time zone") from exc
        return value

    @field_validator("start_time")
    @classmethod
    def _minutes(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("is a local time (the zone is time_zone)")
        return value.replace(second=0, microsecond=0)


class BlackoutCreate(Input):
    """A one-off window (``starts_at``, ``ends_at``) or a recurring one (``recurrence``)."""

    name: Name
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    recurrence: Recurrence | None = None


class BlackoutUpdate(Input):
    """What is sent is changed, checked as a new window would be. Sending ``recurrence``
    makes the window recurring (the one-off times are dropped unless sent too); sending
    ``starts_at`` or ``ends_at`` without it makes the window one-off (the recurrence is
    dropped)."""

    name: Name | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    recurrence: Recurrence | None = None
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator("name", mode="before")(not_null)


class BlackoutPublic(Output):
    id: uuid.UUID
    name: str
    starts_at: datetime = Field(description="One-off: the start; recurring: the first day's")
    ends_at: datetime | None = Field(
        description="One-off: the end; recurring: the last occurrence's end (null: no end)"
    )
    recurrence: Recurrence | None
    version: int
    created_at: datetime
    updated_at: datetime


class BlackoutWindow(Output):
    """One blackout window in time: a one-off window or one occurrence of a recurring one."""

    id: uuid.UUID = Field(description="The blackout's id")
    name: str
    starts_at: datetime
    ends_at: datetime
    recurring: bool


class ChangeCalendar(Output):
    changes: list[ChangeSummary]
    blackouts: list[BlackoutWindow]


ChangePublic.model_rebuild()
