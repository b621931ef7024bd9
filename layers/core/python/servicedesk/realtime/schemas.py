"""The WebSocket protocol: frames a client sends, and the error codes it may hear back.

Every server frame is a JSON object with a ``type``: ``ack``, ``pong``, ``error``,
``event``, ``typing``, ``presence`` or ``closing`` (docs/api.md, "Realtime").
"""

from __future__ import annotations

import enum
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ACTIONS = ("subscribe", "unsubscribe", "typing", "presence", "ping")
SUBPROTOCOL = "servicedesk.v1"
# GraphQL subscriptions (docs/graphql.md): https://github.com/enisdenjo/graphql-ws PROTOCOL.md
GRAPHQL_WS = "graphql-transport-ws"
BEARER_PROTOCOL_PREFIX = "bearer."


class ErrorCode(enum.StrEnum):
    INVALID_JSON = "invalid_json"
    UNKNOWN_ACTION = "unknown_action"
    INVALID_FIELD = "invalid_field"
    FRAME_TOO_LARGE = "frame_too_large"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
    NOT_SUBSCRIBED = "not_subscribed"
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 - an error code, not a secret
    UNAUTHORIZED = "unauthorized"


class ClientFrame(BaseModel):
    """One frame from a client. ``id`` (optional) is echoed in the reply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["subscribe", "unsubscribe", "typing", "presence", "ping"]
    ticket_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    # Staff: new and (re)assigned tickets that belong to no team (the triage queue).
    queue: Literal["untriaged"] | None = None
    # A project's room (servicedesk.projects): its members and project:read_all holders.
    project_id: uuid.UUID | None = None
    # Staff with change:read: every change of the tenant created, edited or moved.
    room: Literal["changes"] | None = None
    visibility: Literal["public", "internal"] = "public"
    # presence (staff): on the ticket, and whether editing it; "left" when the screen closes.
    state: Literal["viewing", "editing", "left"] | None = None
    id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")

    @model_validator(mode="after")
    def _room(self) -> ClientFrame:
        if self.action in ("subscribe", "unsubscribe"):
            rooms = (self.ticket_id, self.team_id, self.queue, self.project_id, self.room)
            if sum(room is not None for room in rooms) != 1:
                raise ValueError(
                    "name exactly one of ticket_id, team_id, queue, project_id or room"
                )
        elif self.action in ("typing", "presence"):
            others = (self.team_id, self.queue, self.project_id, self.room)
            if self.ticket_id is None or any(room is not None for room in others):
                raise ValueError(f"{self.action} needs ticket_id (and no other room)")

        elif any(
            r is not None
            for r in (self.ticket_id, self.team_id, self.queue, self.project_id, self.room)
        ):
            raise ValueError("ping takes no room")
        return self

    @property
    def channel(self) -> str:
        if self.team_id is not None:
            return f"team:{self.team_id}"
        if self.queue is not None:
            return f"queue:{self.queue}"
        if self.project_id is not None:
            return f"project:{self.project_id}"
        if self.room is not None:
            return self.room
        return f"ticket:{self.ticket_id}"
