"""Webhook API schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from servicedesk.platform.config import get_settings
from servicedesk.platform.schemas import Input, Output, not_null
from servicedesk.webhooks import ssrf

# The events an endpoint may subscribe to; "*" is all of them (and only them).
EventType = Literal[
    "ticket.created",
    "ticket.assigned",
    "ticket.status_changed",
    "comment.public",
    "comment.internal",
    "sla.warning",
    "sla.breached",
    "sla.escalation",
    "mail.received",
    "mail.held",
    "mail.rejected",
    "csat.rated",
    # Identity administration (servicedesk.identity.providers, servicedesk.scim): who
    # changed sign-in and who an identity provider provisioned, for SIEMs and audits.
    "identity_provider.created",
    "identity_provider.updated",
    "identity_provider.deleted",
    "scim.user.provisioned",
    "scim.user.updated",
    "scim.user.deactivated",
    "scim.user.role_changed",
    "scim.group.created",
    "scim.group.updated",
    "scim.group.deleted",
    "scim.group.members_changed",
    "scim.group.mapped",
    "role.created",
    "role.updated",
    "role.deleted",
    "ci.created",
    "ci.updated",
    "ci.deleted",
    "ci.imported",
    "ci.relationship.created",
    "ci.relationship.deleted",
    # GitHub and Slack (servicedesk.integrations): connected, changed, disconnected, the
    # Slack app installed, a ticket linked to a GitHub issue or pull request.
    "integration.created",
    "integration.updated",
    "integration.deleted",
    "integration.installed",
    "integration.linked",
    "approval.requested",
    "approval.decided",
    "approval.approved",
    "approval.rejected",
    "approval.escalated",
    # Change management (servicedesk.changes): created, edited (``changed``: the fields),
    # moved between states (``previous_state``, ``reason``).
    "change.created",
    "change.updated",
    "change.state_changed",
    # Projects (servicedesk.projects): projects created and edited (columns, members),
    # tasks created, edited, moved, deleted and commented, dependencies added and removed.
    "project.created",
    "project.updated",
    "task.created",
    "task.updated",
    "task.moved",
    "task.deleted",
    "task.commented",
    "task.dependency_added",
    "task.dependency_removed",
    "*",
]
KNOWN_EVENT_TYPES: frozenset[str] = frozenset(get_args(EventType)) - {"*"}
# Each entry at most once (duplicates are dropped): the whole catalogue, "*" included.
MAX_EVENT_TYPES = len(get_args(EventType))


def _strict_url(value: str) -> str:
    """Syntax (ssrf.parse) at the edge, so a bad URL is a 422 naming the field; the service
    then resolves the host and applies the SSRF address rules."""
    try:
        ssrf.parse(value, local=ssrf.allow_local(get_settings()))
    except ssrf.UnsafeUrl as exc:
        raise PydanticCustomError("url", str(exc)) from exc
    return value


# Every request field that takes an outbound URL uses this type; its "format": "uri" in
# the OpenAPI document is how tests/integration/test_webhook_isolation.py finds them all.
WebhookUrl = Annotated[
    str,
    StringConstraints(min_length=1, max_length=ssrf.MAX_URL_LENGTH, strip_whitespace=True),
    AfterValidator(_strict_url),
    Field(json_schema_extra={"format": "uri"}),
]
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=MAX_EVENT_TYPES)]


def _unique(value: list[str] | None) -> list[str] | None:
    return None if value is None else list(dict.fromkeys(value))


class WebhookCreate(Input):
    url: WebhookUrl = Field(description="https URL that receives the signed POSTs")
    event_types: EventTypes
    active: bool = True

    _unique = field_validator("event_types")(_unique)


class WebhookUpdate(Input):
    url: WebhookUrl | None = None
    event_types: EventTypes | None = None
    active: bool | None = Field(default=None, description="true re-enables a disabled endpoint")
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator("url", "event_types", "active", mode="before")(not_null)
    _unique = field_validator("event_types")(_unique)


class WebhookPublic(Output):
    id: uuid.UUID
    url: str
    event_types: list[str]
    active: bool
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookPublic):
    secret: str = Field(description="Shown only now: store it to verify signatures")


class DeliveryPublic(Output):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    seq: int
    attempt: int
    trigger: Literal["event", "retry", "redeliver", "ping"]
    success: bool
    status_code: int | None
    latency_ms: int
    response_snippet: str
    error: str | None
    retry_in_seconds: int | None = Field(description="Delay of the scheduled next attempt")
    created_at: datetime
