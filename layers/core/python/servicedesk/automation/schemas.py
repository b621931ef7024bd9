"""Automation API schemas. Conditions are JSON checked by ``conditions.parse`` (their
grammar is recursive and its errors name the path); actions are the shared vocabulary."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from servicedesk.actions.schemas import ActionList
from servicedesk.platform.schemas import Input, Output, not_null

Kind = Literal["event", "time"]
TriggerEvent = Literal[
    "created", "updated", "commented", "status_changed", "assigned", "sla_warning", "sla_breached"
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=2000)]
MAX_TRIGGERS = 10
MAX_LOOP_LIMIT = 10
FieldName = Annotated[
    str,
    StringConstraints(
        pattern=r"^(title|description|status|priority|impact|urgency|category_id|assignee_id"
        r"|team_id|tags|type|custom_fields\.[A-Za-z_][A-Za-z0-9_]{0,63})$"
    ),
]


class Trigger(Input):
    """What fires an event rule. ``fields``: for ``updated``, only a change of one of these
    fields; ``visibility``/``by``: for ``commented``, only such comments."""

    event: TriggerEvent
    fields: list[FieldName] | None = Field(default=None, min_length=1, max_length=20)
    visibility: Literal["public", "internal"] | None = None
    by: Literal["requester", "agent"] | None = None

    @model_validator(mode="after")
    def _options_fit(self) -> Trigger:
        if self.fields is not None and self.event != "updated":
            raise ValueError("fields is for the updated event")
        if (self.visibility or self.by) and self.event != "commented":
            raise ValueError("visibility and by are for the commented event")
        return self


Conditions = dict[str, Any]
CONDITIONS_DOC = (
    'A group {"all": [...]} or {"any": [...]} of groups and tests {"field", "op", "value"}'
    " (docs/automation.md)"
)


class RuleCreate(Input):
    name: Name
    description: Description = ""
    kind: Kind
    triggers: list[Trigger] = Field(default_factory=list, max_length=MAX_TRIGGERS)
    conditions: Conditions = Field(default_factory=lambda: {"all": []}, description=CONDITIONS_DOC)
    actions: ActionList
    active: bool = True
    loop_limit: int = Field(default=1, ge=1, le=MAX_LOOP_LIMIT)
    position: int | None = Field(default=None, ge=0, description="Default: after the others")


class RuleUpdate(Input):
    name: Name | None = None
    description: Description | None = None
    triggers: list[Trigger] | None = Field(default=None, max_length=MAX_TRIGGERS)
    conditions: Conditions | None = Field(default=None, description=CONDITIONS_DOC)
    actions: ActionList | None = None
    active: bool | None = None
    loop_limit: int | None = Field(default=None, ge=1, le=MAX_LOOP_LIMIT)
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator(
        "name",
        "description",
        "triggers",
        "conditions",
        "actions",
        "active",
        "loop_limit",
        mode="before",
    )(not_null)


class RuleProblem(Output):
    field: str
    detail: str


class RulePublic(Output):
    id: uuid.UUID
    name: str
    description: str
    kind: Kind
    triggers: list[dict[str, Any]]
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    position: int
    active: bool
    loop_limit: int
    version: int
    created_at: datetime
    updated_at: datetime
    last_run_at: datetime | None
    problems: list[RuleProblem] = Field(
        default_factory=list,
        description="References that no longer resolve (a deleted team, custom field...): "
        "the rule skips them when it runs",
    )


class Reorder(Input):
    kind: Kind
    ids: list[uuid.UUID] = Field(min_length=1, max_length=1000)


class DryRun(Input):
    kind: Kind = "time"
    conditions: Conditions = Field(description=CONDITIONS_DOC)
    limit: int = Field(default=20, ge=1, le=100)


class DryRunTicket(Output):
    id: uuid.UUID
    number: str
    title: str
    status: str
    priority: str
    updated_at: datetime


class DryRunResult(Output):
    count: int
    items: list[DryRunTicket]
    note: str | None = None


class RunPublic(Output):
    id: uuid.UUID
    rule_id: uuid.UUID
    ticket_id: uuid.UUID | None
    trigger: str
    status: str
    outcomes: list[dict[str, Any]]
    error: str | None
    depth: int
    at: datetime
