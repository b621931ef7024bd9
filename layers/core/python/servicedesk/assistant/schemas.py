"""Assistant API schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from servicedesk.platform.schemas import Input, Output

MAX_MESSAGE_CHARS = 4000
Content = Annotated[str, StringConstraints(min_length=1, max_length=MAX_MESSAGE_CHARS)]


class ConversationCreate(Input):
    title: Annotated[str, StringConstraints(max_length=200)] | None = None
    message: Content | None = Field(
        default=None, description="The first message: the reply comes in the response"
    )


class MessageCreate(Input):
    content: Content


class ToolCallPublic(Output):
    id: str
    name: str


class MessagePublic(Output):
    id: uuid.UUID
    seq: int
    role: Literal["user", "assistant", "tool"]
    content: str = Field(description="Markdown text (render it as text, never as HTML)")
    tool_calls: list[ToolCallPublic] = Field(
        default_factory=list, description="role assistant: the tools it called"
    )
    tool_name: str | None = Field(default=None, description="role tool: the tool answering")
    created_at: datetime

    @field_validator("tool_calls", mode="before")
    @classmethod
    def _names_only(cls, value: Any) -> Any:
        # The stored calls carry their arguments; the API shows which tools ran.
        if isinstance(value, list):
            return [{"id": c.get("id", ""), "name": c.get("name", "")} for c in value]
        return value


class ConversationPublic(Output):
    id: uuid.UUID
    title: str
    ticket_id: uuid.UUID | None = Field(description="The ticket the assistant opened in it")
    message_count: int
    input_tokens: int
    output_tokens: int
    created_at: datetime
    updated_at: datetime


class ConversationDetail(ConversationPublic):
    messages: list[MessagePublic]


class ReplyPublic(Output):
    """One turn's outcome: the assistant's final message, and the conversation as it is now."""

    conversation: ConversationPublic
    message: MessagePublic
