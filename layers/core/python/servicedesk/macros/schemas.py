"""Macros API schemas. A macro's ``actions`` are the shared action vocabulary
(``servicedesk.actions.schemas``), limited to ``MACRO_TYPES`` when saved."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, TypeAdapter, field_validator

from servicedesk.actions.schemas import Action, ActionList
from servicedesk.platform.schemas import Input, Output, not_null
from servicedesk.tickets.schemas import TicketPublic

Scope = Literal["personal", "team", "tenant"]
MacroName = Annotated[str, StringConstraints(min_length=1, max_length=120)]
Description = Annotated[str, StringConstraints(max_length=1000)]
Position = Annotated[int, Field(ge=0, le=100000)]


class MacroCreate(Input):
    scope: Scope = Field(
        default="personal",
        description="personal (you only), team (its members; managers and admins edit),"
        " tenant (all staff; managers and admins edit)",
    )
    team_id: uuid.UUID | None = Field(default=None, description="The team of a team macro")
    name: MacroName
    description: Description = ""
    actions: ActionList = Field(
        description="set_field, add_tags, remove_tags, set_status, assign, reply, note"
        " (docs/actions.md), applied in order"
    )
    position: Position = Field(default=0, description="Order in the picker (lowest first)")


class MacroUpdate(Input):
    scope: Scope | None = None
    team_id: uuid.UUID | None = None
    name: MacroName | None = None
    description: Description | None = None
    actions: ActionList | None = None
    position: Position | None = None
    archived: bool | None = Field(
        default=None, description="true hides it from the picker; false brings it back"
    )
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator(
        "scope", "name", "description", "actions", "position", "archived", mode="before"
    )(not_null)


class MacroDraft(Input):
    actions: ActionList


class MacroProblem(Output):
    field: str = Field(description="actions.<i>.<field>, or team_id for the macro's team")
    detail: str
    unknown: list[str] | None = Field(default=None, description="Unknown placeholder names")


class MacroPublic(Output):
    id: uuid.UUID
    scope: Scope
    owner_id: uuid.UUID | None
    team_id: uuid.UUID | None
    name: str
    description: str
    actions: list[Action]
    position: int
    usage_count: int
    last_used_at: datetime | None
    archived: bool
    archived_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    canned: bool = Field(description="Only reply/note actions: can be inserted into the composer")
    can_edit: bool = Field(description="Whether you may change or delete it")
    problems: list[MacroProblem] = Field(
        description="References that no longer resolve (a deactivated team, an inactive agent,"
        " a custom field no category has): applying it is refused until fixed"
    )


class ActionOutcome(Output):
    index: int
    type: str
    status: Literal["applied", "unchanged", "skipped"]
    detail: str | None = None


class MacroApplied(Output):
    ticket: TicketPublic
    outcomes: list[ActionOutcome]


class FieldChange(Output):
    field: str
    before: Any
    after: Any


class RenderedText(Output):
    type: Literal["reply", "note"]
    body: str


class MacroPreview(Output):
    changes: list[FieldChange] = Field(description="Ticket fields the macro would change")
    comments: list[RenderedText] = Field(description="The replies and notes it would post")
    outcomes: list[ActionOutcome]


class MacroRendered(Output):
    items: list[RenderedText] = Field(description="Each reply/note's text, rendered")


class PlaceholderPublic(Output):
    name: str
    description: str


ACTIONS: TypeAdapter[list[Any]] = TypeAdapter(list[Action])


def actions_of(stored: list[dict[str, Any]]) -> list[Any]:
    """The stored JSON read back as actions (only the keys that were set, as saved)."""
    return list(ACTIONS.validate_python(stored))
