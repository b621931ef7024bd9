"""Notification API schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, get_args

from pydantic import Field, field_validator

from servicedesk.platform.schemas import Input, Output

# The events a member can be notified of, each switchable per channel. `user.invited`
# is not here: it goes to an address that is not a member yet, and always goes.
EventType = Literal[
    "ticket.received",
    "ticket.created",
    "ticket.assigned",
    "ticket.status_changed",
    "comment.public",
    "comment.internal",
    "ticket.invitation_created",
    "sla.warning",
    "sla.breached",
    "sla.escalation",
    "mail.held",
    "automation.notify",
    "approval.requested",
    "approval.escalated",
    # Projects (servicedesk.projects): a task's assignee and watchers.
    "task.created",
    "task.updated",
    "task.moved",
    "task.commented",
]
Channel = Literal["in_app", "email"]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
CHANNELS: tuple[str, ...] = get_args(Channel)


class PreferenceItem(Input):
    event_type: EventType
    channel: Channel
    enabled: bool


class PreferenceKey(Input):
    event_type: EventType
    channel: Channel


class PreferencesUpdate(Input):
    items: list[PreferenceItem] = Field(max_length=len(EVENT_TYPES) * len(CHANNELS))
    reset: list[PreferenceKey] = Field(
        default_factory=list,
        max_length=len(EVENT_TYPES) * len(CHANNELS),
        description="Choices to forget: these follow the organisation's default again",
    )

    @field_validator("items")
    @classmethod
    def _no_duplicates(cls, items: list[PreferenceItem]) -> list[PreferenceItem]:
        seen: set[tuple[str, str]] = set()
        for n, item in enumerate(items):
            key = (item.event_type, item.channel)
            if key in seen:
                raise ValueError(f"item {n} repeats {item.event_type}/{item.channel}")
            seen.add(key)
        return items


class PreferencePublic(Output):
    event_type: str
    channel: str
    enabled: bool = Field(description="In force: the person's choice, or the default")
    tenant_default: bool = Field(
        default=True, description="The organisation's default for this pair"
    )
    customised: bool = Field(
        default=False, description="The person chose it (false: it follows the default)"
    )


class PreferencesPublic(Output):
    items: list[PreferencePublic]


class NotificationPublic(Output):
    id: uuid.UUID
    event_type: str
    ticket_id: uuid.UUID | None
    project_id: uuid.UUID | None = Field(
        description="With task_id: the task a task.* notification is about"
    )
    task_id: uuid.UUID | None
    title: str
    body: str
    read_at: datetime | None
    created_at: datetime


class UnreadCount(Output):
    count: int


class ReadAll(Output):
    updated: int
