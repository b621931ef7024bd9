"""Rooms that are not a ticket's: the change room (``changes``), where staff who may read
changes hear every change of their tenant being created, edited or moved.

Who hears is decided per connection at every push (a role can lose ``change:read`` after
joining): the member's access, read with the connection, must hold ``change:read``, the
permission the REST reads of changes need. Frames carry the change's id, number and small
scalars; the screens refetch the rest through the API.
"""

from __future__ import annotations

from typing import Any

from servicedesk.platform.consumer import Envelope
from servicedesk.platform.permissions import Access, Permission

CHANGES = "changes"
CHANGE_EVENTS = frozenset({"change.created", "change.updated", "change.state_changed"})
CHANGE_KEYS = ("change_id", "number", "type", "state", "previous_state", "risk_level")


def room_of(event_type: str) -> str | None:
    """The room an event is pushed to, if it belongs to one of these rooms."""
    return CHANGES if event_type in CHANGE_EVENTS else None


def hears(room: str, granted: Access | None) -> bool:
    """Whether a member with this access may hear the room's events now."""
    return room == CHANGES and granted is not None and Permission.CHANGE_READ in granted.permissions


def frame(envelope: Envelope, room: str) -> dict[str, Any]:
    payload = envelope.payload
    data: dict[str, Any] = {
        k: payload[k] for k in CHANGE_KEYS if isinstance(payload.get(k), str | int)
    }
    changed = payload.get("changed")
    if isinstance(changed, list) and all(isinstance(f, str) for f in changed):
        data["changed"] = changed[:50]
    return {
        "type": "event",
        "event": envelope.type,
        "event_id": str(envelope.event_id),
        "seq": envelope.seq,
        "change_id": data.get("change_id"),
        "channels": [room],
        "at": envelope.created_at.isoformat(),
        "data": data,
    }
