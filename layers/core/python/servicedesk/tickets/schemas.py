"""Ticket API schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from servicedesk.platform.schemas import Input, Output, not_null
from servicedesk.tickets.states import Status

Level = Literal["low", "medium", "high", "critical"]
# How a ticket came in, the one list (tickets.create's callers: the API "web", the mail
# intake "email", the assistant's create_ticket tool "assistant", Slack's /ticket "slack";
# reports filter by it).
Channel = Literal["web", "email", "assistant", "slack"]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=20000)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[\w.:-]+$")]
Body = Annotated[str, StringConstraints(min_length=1, max_length=50000)]
MAX_TAGS = 20
# A ticket type's key (servicedesk.catalog.types; GET /v1/ticket-types).
TypeKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
TYPE_DOC = (
    "The ticket type's key (GET /v1/ticket-types); omitted on creation: the category's"
    " default type, else incident"
)


def _unique_tags(tags: list[str] | None) -> list[str] | None:
    if tags is None:
        return None
    seen: list[str] = []
    for tag in tags:
        if tag.lower() not in seen:
            seen.append(tag.lower())
    return seen


class TicketCreate(Input):
    title: Title
    description: Description = ""
    priority: Level | None = None
    impact: Level | None = None
    urgency: Level | None = None
    category_id: uuid.UUID | None = None
    type: TypeKey | None = Field(default=None, description=TYPE_DOC)
    requester_id: uuid.UUID | None = Field(default=None, description="Staff only: on behalf of")
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    notify_requester: bool | None = Field(
        default=None,
        description="Send the requester the 'request received' e-mail (also when staff open"
        " the ticket on their behalf); absent or null: yes; false: open it silently",
    )

    @field_validator("tags")
    @classmethod
    def _lower_unique_tags(cls, value: list[str] | None) -> list[str] | None:
        return _unique_tags(value)


class TicketUpdate(Input):
    title: Title | None = None
    description: Description | None = None
    priority: Level | None = None
    impact: Level | None = None
    urgency: Level | None = None
    category_id: uuid.UUID | None = None
    type: TypeKey | None = Field(default=None, description="Staff only: the ticket type's key")
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)
    custom_fields: dict[str, Any] | None = None
    priority_locked: bool | None = None
    category_locked: bool | None = None
    assignment_locked: bool | None = None
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator(
        "title",
        "description",
        "priority",
        "type",
        "tags",
        "custom_fields",
        "priority_locked",
        "category_locked",
        "assignment_locked",
        mode="before",
    )(not_null)

    @field_validator("tags")
    @classmethod
    def _lower_unique_tags(cls, value: list[str] | None) -> list[str] | None:
        return _unique_tags(value)


class TransitionRequest(Input):
    to: Status
    version: int | None = Field(default=None, ge=1)
    resolve_incidents: bool | None = Field(
        default=None,
        description="Staff, moving a problem to resolved or closed: move its linked"
        " incidents that may go there too, in the same transaction (absent or null: no)",
    )


class AssignRequest(Input):
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    version: int | None = Field(
        default=None, ge=1, description="Required to replace an existing assignee"
    )


class TicketPublic(Output):
    id: uuid.UUID
    number: str
    title: str
    description: str
    status: Status
    priority: Level
    impact: Level | None
    urgency: Level | None
    category_id: uuid.UUID | None
    type: str = Field(default="incident", description="The ticket type's key")
    requester_id: uuid.UUID
    assignee_id: uuid.UUID | None
    team_id: uuid.UUID | None
    tags: list[str]
    custom_fields: dict[str, Any]
    priority_locked: bool
    category_locked: bool
    assignment_locked: bool
    merged_into_id: uuid.UUID | None
    channel: Channel = Field(
        default="web",
        description="How the ticket came in: the app or API, by e-mail, or through the assistant",
    )
    version: int
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla_due_at: datetime | None = Field(
        description="The earliest due time of the ticket's open SLA targets (null if none)"
    )
    incident_count: int | None = Field(
        default=None,
        description="Staff, on a problem: how many incidents it links (problem_of); else null",
    )
    allowed_transitions: list[Status] = Field(
        default_factory=list,
        description="The statuses the caller may move this ticket to now (POST /transitions)",
    )
    csat_survey_scheduled_for: datetime | None = Field(
        default=None,
        description="Staff, on one ticket's answer (not in lists): when its satisfaction"
        " survey, held back by the CSAT delay, is due to be mailed; null when none is pending",
    )


class CommentCreate(Input):
    body: Body
    visibility: Literal["public", "internal"] = "public"


class CommentUpdate(Input):
    body: Body


class CommentPublic(Output):
    id: uuid.UUID
    ticket_id: uuid.UUID
    author_id: uuid.UUID
    visibility: Literal["public", "internal"]
    body: str
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    editable_until: datetime | None = Field(
        default=None, description="Until when the caller may edit it (None: they may not)"
    )
    can_delete: bool = Field(default=False, description="Whether the caller may delete it")


class EventPublic(Output):
    id: int
    type: str
    actor_id: uuid.UUID | None
    visibility: Literal["public", "internal", "personal"]
    payload: dict[str, Any]
    created_at: datetime


class ParticipantAdd(Input):
    user_id: uuid.UUID
    kind: Literal["cc", "participant"] = "participant"
    can_comment: bool = True
    can_edit: bool = False


class ParticipantPublic(Output):
    user_id: uuid.UUID
    role: Literal["requester", "assignee", "cc", "participant"]
    can_comment: bool
    can_edit: bool
    added_at: datetime | None
    name: str = Field(default="", description="Their name (empty: no longer a member)")
    avatar_url: str | None = Field(
        default=None, description="Their picture in this organisation (none: show initials)"
    )


class TicketInvitationCreate(Input):
    user_id: uuid.UUID
    can_comment: bool = True
    can_edit: bool = False


class TicketInvitationPublic(Output):
    id: uuid.UUID
    ticket_id: uuid.UUID
    user_id: uuid.UUID
    invited_by: uuid.UUID
    can_comment: bool
    can_edit: bool
    status: Literal["pending", "accepted", "declined", "cancelled"]
    created_at: datetime
    responded_at: datetime | None


class LinkCreate(Input):
    target_id: uuid.UUID
    kind: Literal[
        "relates_to", "duplicate_of", "parent_of", "child_of", "problem_of", "incident_of"
    ] = Field(
        description="problem_of: this problem ticket causes the target incident; incident_of:"
        " this incident is caused by the target problem (stored as problem_of)"
    )


class LinkPublic(Output):
    id: uuid.UUID
    source_id: uuid.UUID
    target_id: uuid.UUID
    kind: Literal["relates_to", "duplicate_of", "parent_of", "problem_of"]
    created_by: uuid.UUID | None
    created_at: datetime


class MergeRequest(Input):
    target_id: uuid.UUID
