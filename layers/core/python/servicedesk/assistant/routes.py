"""Assistant API (``/v1/assistant``): conversations and their messages.

Every route is the caller's own: a conversation of another user (staff included) or of
another tenant is 404. A turn that the model fails answers 502/503 with the conversation's
id; the transaction still commits, keeping the user's message (``service.send``).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from servicedesk.assistant import service
from servicedesk.assistant import settings as assistant_settings
from servicedesk.assistant.models import Conversation
from servicedesk.assistant.schemas import (
    ConversationCreate,
    ConversationDetail,
    ConversationPublic,
    MessageCreate,
    MessagePublic,
    ReplyPublic,
)
from servicedesk.platform.app import PROBLEM_RESPONSES, problem_response
from servicedesk.platform.context import Ctx
from servicedesk.platform.endpoints import listing, route
from servicedesk.platform.errors import PROBLEM_JSON
from servicedesk.platform.rbac import Permission
from servicedesk.platform.settings_routes import add_settings_routes

router = APIRouter(prefix="/v1/assistant", tags=["assistant"])

_PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
TURN_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: PROBLEM_RESPONSES[403],
    409: PROBLEM_RESPONSES[409],
    429: {"description": "Rate limit or monthly token budget reached", "content": _PROBLEM},
    502: {"description": "The language model failed (message kept)", "content": _PROBLEM},
    503: {"description": "The language model is unavailable (message kept)", "content": _PROBLEM},
}


def _detail(ctx: Ctx, conversation: Conversation) -> ConversationDetail:
    public = ConversationPublic.model_validate(conversation).model_dump()
    rows = [MessagePublic.model_validate(m) for m in service.messages(ctx, conversation)]
    return ConversationDetail(**public, messages=rows)


def _turn(ctx: Ctx, conversation: Conversation, content: str) -> Response | ReplyPublic:
    try:
        result = service.send(ctx, conversation=conversation, content=content)
    except service.TurnFailed as failed:
        # Answered, not raised: the request's transaction commits the user's message.
        problem = failed.problem
        return problem_response(problem.status, problem.body(), problem.headers)
    return ReplyPublic(
        conversation=ConversationPublic.model_validate(result.conversation),
        message=MessagePublic.model_validate(result.message),
    )


@route(
    router.post,
    "/conversations",
    Permission.ASSISTANT_USE,
    "Start a conversation with the assistant (with a first message: its reply too)",
    status_code=201,
    response_model=ConversationDetail,
    responses=TURN_RESPONSES,
)
def create_conversation(body: ConversationCreate, ctx: Ctx) -> Response | ConversationDetail:
    conversation = service.create(ctx, title=body.title, message=body.message)
    if body.message is not None:
        answered = _turn(ctx, conversation, body.message)
        if isinstance(answered, Response):
            return answered
    return _detail(ctx, conversation)


listing(
    router,
    "/conversations",
    Permission.ASSISTANT_USE,
    "The caller's own conversations, most recent first",
    ConversationPublic,
    service.list_conversations,
)


@route(
    router.get,
    "/conversations/{conversation_id}",
    Permission.ASSISTANT_USE,
    "One of the caller's conversations, with its messages",
)
def get_conversation(conversation_id: uuid.UUID, ctx: Ctx) -> ConversationDetail:
    return _detail(ctx, service.get(ctx, conversation_id=conversation_id))


@route(
    router.post,
    "/conversations/{conversation_id}/messages",
    Permission.ASSISTANT_USE,
    "Send the assistant a message: runs the model and its tools as the caller, streams the"
    " answer to the caller's WebSocket connections and answers with the final message",
    response_model=ReplyPublic,
    responses=TURN_RESPONSES,
)
def send_message(
    conversation_id: uuid.UUID, body: MessageCreate, ctx: Ctx
) -> Response | ReplyPublic:
    conversation = service.get(ctx, conversation_id=conversation_id, for_update=True)
    return _turn(ctx, conversation, body.content)


add_settings_routes(router, assistant_settings.SECTION, path="/settings")
