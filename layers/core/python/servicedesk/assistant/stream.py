"""The assistant's answer as it is written, to the caller's own WebSocket connections.

Frames go straight to the connections (API Gateway's @connections, ``realtime.push``),
not through the outbox: a delta is worth something only now, and only to the person who
asked. Recipients are the caller's live connections in this tenant, read once per turn
(the registry is per tenant under RLS, and the caller is the user the rows name).

- ``assistant.delta``: ``{conversation_id, round, seq, delta}``; ``round`` grows when the
  model called tools and starts its answer again (a client shows the newest round);
- ``assistant.done``: ``{conversation_id, message_id, data: {content}}``;
- ``assistant.error``: ``{conversation_id, status, detail}``: the turn failed, nothing of
  it was kept.

Deltas are coalesced (``FLUSH_CHARS`` or ``FLUSH_SECONDS``) so a fast model does not cost
one HTTP call per token. A push that fails is logged by ``push`` and never fails a turn.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import text

from servicedesk.platform.config import get_settings
from servicedesk.platform.tenancy import RequestContext
from servicedesk.realtime import push

FLUSH_CHARS = 48
FLUSH_SECONDS = 0.15

_LIVE = text(
    "SELECT connection_id FROM realtime_connections"
    " WHERE tenant_id = :t AND user_id = :u AND expires_at > now()"
)


class Stream:
    def __init__(self, ctx: RequestContext, conversation_id: uuid.UUID) -> None:
        self.conversation_id = str(conversation_id)
        self.connections: list[str] = []
        if get_settings().websocket_management_url:
            rows = ctx.session.execute(_LIVE, {"t": ctx.tenant_id, "u": ctx.user_id})
            self.connections = [str(c) for c in rows.scalars()]
        self.round = 0
        self.seq = 0
        self._buffer: list[str] = []
        self._size = 0
        self._flushed_at = time.monotonic()

    @property
    def listening(self) -> bool:
        return bool(self.connections)

    def _send(self, frame: dict[str, Any]) -> None:
        data = push.encode(frame)
        if data is None or not self.connections:
            return
        outcome = push.post_all(dict.fromkeys(self.connections, data))
        if outcome.gone:  # closed meanwhile: the broadcaster forgets them on its next push
            self.connections = [c for c in self.connections if c not in outcome.gone]

    def start_round(self, number: int) -> None:
        self.flush()
        self.round = number

    def delta(self, piece: str) -> None:
        if not self.connections:
            return
        self._buffer.append(piece)
        self._size += len(piece)
        if self._size >= FLUSH_CHARS or time.monotonic() - self._flushed_at >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        self.seq += 1
        text_ = "".join(self._buffer)
        self._buffer, self._size = [], 0
        self._flushed_at = time.monotonic()
        self._send(
            {
                "type": "assistant.delta",
                "conversation_id": self.conversation_id,
                "round": self.round,
                "seq": self.seq,
                "delta": text_,
            }
        )

    def done(self, message_id: uuid.UUID, content: str) -> None:
        self.flush()
        self._send(
            {
                "type": "assistant.done",
                "conversation_id": self.conversation_id,
                "message_id": str(message_id),
                "data": {"content": content},
            }
        )

    def failed(self, status: int, detail: str) -> None:
        self._buffer, self._size = [], 0
        self._send(
            {
                "type": "assistant.error",
                "conversation_id": self.conversation_id,
                "status": status,
                "detail": detail,
            }
        )
