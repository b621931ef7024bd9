"""The actions a macro or an automation rule may take on a ticket, one pydantic model each,
discriminated by ``type``. Shape checks only; references (teams, users, custom fields,
macros, webhooks) are checked against the tenant by ``executor.check``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from servicedesk.platform.schemas import Input
from servicedesk.tickets.schemas import MAX_TAGS, Tag
from servicedesk.tickets.states import Status

# A reply or note template: the body after rendering is a comment body (max 50,000).
Template = Annotated[str, StringConstraints(min_length=1, max_length=20000)]
Subject = Annotated[str, StringConstraints(min_length=1, max_length=200)]
MAX_ACTIONS = 20
# Ticket fields an action may set: TicketUpdate's, by name, or one custom field as
# ``custom_fields.<key>``. Locks and the version are not actions.
SETTABLE_FIELDS = ("title", "priority", "impact", "urgency", "category_id", "type")
FieldName = Annotated[
    str,
    StringConstraints(
        pattern=r"^(title|priority|impact|urgency|category_id|type|custom_fields\.[A-Za-z_][A-Za-z0-9_]{0,63})$"
    ),
]


class SetField(Input):
    type: Literal["set_field"]
    field: FieldName
    value: Any = Field(description="The new value; null clears a custom field")


class AddTags(Input):
    type: Literal["add_tags"]
    tags: list[Tag] = Field(min_length=1, max_length=MAX_TAGS)


class RemoveTags(Input):
    type: Literal["remove_tags"]
    tags: list[Tag] = Field(min_length=1, max_length=MAX_TAGS)


class SetStatus(Input):
    type: Literal["set_status"]
    status: Status


AssigneeRule = Literal["current_user", "team_rule", "round_robin", "least_open"]


class Assign(Input):
    """Team and/or assignee. ``assignee_id`` names a person; ``assignee_rule`` picks one:
    the user applying the action (``current_user``: macros only), the team's own strategy
    (``team_rule``), or a strategy over the team's members (``round_robin``,
    ``least_open``). Absent keys leave that part as it is; ``null`` clears it."""

    type: Literal["assign"]
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    assignee_rule: AssigneeRule | None = None

    @model_validator(mode="after")
    def _one_assignee(self) -> Assign:
        fields = self.model_fields_set - {"type"}
        if not fields:
            raise ValueError("set team_id, assignee_id or assignee_rule")
        if "assignee_id" in fields and self.assignee_rule is not None:
            raise ValueError("assignee_id and assignee_rule exclude each other")
        return self


class Reply(Input):
    """A public reply, rendered from the template (placeholders.render)."""

    type: Literal["reply"]
    body: Template


class Note(Input):
    """An internal note, rendered from the template."""

    type: Literal["note"]
    body: Template


Recipient = Literal["requester", "assignee", "team", "participants"]


class Notify(Input):
    """A message to people of the ticket (in-app and by e-mail, by their preferences),
    delivered through the outbox after the change commits."""

    type: Literal["notify"]
    to: list[Recipient | uuid.UUID] = Field(min_length=1, max_length=20)
    subject: Subject
    body: Template


class Webhook(Input):
    """A delivery to one of the tenant's webhooks, through the outbox."""

    type: Literal["webhook"]
    webhook_id: uuid.UUID


class ApplyMacro(Input):
    """Every action of a shared macro (automation rules only; a macro cannot nest one)."""

    type: Literal["apply_macro"]
    macro_id: uuid.UUID


Action = Annotated[
    SetField
    | AddTags
    | RemoveTags
    | SetStatus
    | Assign
    | Reply
    | Note
    | Notify
    | Webhook
    | ApplyMacro,
    Field(discriminator="type"),
]
ActionList = Annotated[list[Action], Field(min_length=1, max_length=MAX_ACTIONS)]
# What a macro may do (issue 20: fields, tags, status, assignment, reply or note).
MACRO_TYPES = frozenset(
    {"set_field", "add_tags", "remove_tags", "set_status", "assign", "reply", "note"}
)
# Side effects that reach outside the ticket: run through the outbox, after commit.
SIDE_EFFECT_TYPES = frozenset({"notify", "webhook"})


def action_types(actions: list[Any]) -> list[str]:
    return [str(getattr(a, "type", "")) for a in actions]


def dump(actions: list[Any]) -> list[dict[str, Any]]:
    """The stored form (JSONB): only what was set, ids as strings."""
    return [a.model_dump(mode="json", exclude_unset=True) | {"type": a.type} for a in actions]
