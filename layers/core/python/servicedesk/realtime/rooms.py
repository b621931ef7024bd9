"""Rooms that are not a ticket's, in one mechanism: the change room (``changes``), where
staff who may read changes hear every change of their tenant being created, edited or
moved, and each project's room (``project:<id>``), where its members and the holders of
``project:read_all`` hear its tasks move.

A room kind says which events it takes, the room an event goes to, and who hears it. Who
hears is decided per connection at every push (a role can lose a permission, a member can
leave a project after joining): ``listeners`` reads what the decision needs once per event
(the project's members) and answers per connection. Frames carry ids and small scalars,
never text; the screens refetch the rest through the API.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform.consumer import Envelope
from servicedesk.platform.permissions import Access, Permission

# Whether one connection's member (their user id, their access read with the connection)
# hears this event now.
Hears = Callable[[uuid.UUID, Access | None], bool]


@dataclass(frozen=True)
class RoomKind:
    matches: Callable[[str], bool]  # the event types it takes
    room: Callable[[Envelope], str | None]  # the room of one event (None: not routable)
    listeners: Callable[[Session, Envelope], Hears]  # once per event
    id_key: str  # the subject's id, also at the frame's top level
    keys: tuple[str, ...]  # the payload's small scalars the frame carries


CHANGES = "changes"
CHANGE_EVENTS = frozenset({"change.created", "change.updated", "change.state_changed"})
CHANGE_KEYS = ("change_id", "number", "type", "state", "previous_state", "risk_level")


def _change_listeners(_session: Session, _envelope: Envelope) -> Hears:
    # The permission the REST reads of changes need.
    return lambda _user, granted: (
        granted is not None and Permission.CHANGE_READ in granted.permissions
    )


PROJECT_PREFIXES = ("project.", "task.")
PROJECT_KEYS = (
    "project_id",
    "task_id",
    "key",
    "column_id",
    "from_column_id",
    "status_category",
    "rank",
    "assignee_id",
    "actor_id",
    "comment_id",
    "dependency_id",
    "predecessor_id",
    "successor_id",
)


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


def project_room(project_id: uuid.UUID) -> str:
    return f"project:{project_id}"


def _project_room(envelope: Envelope) -> str | None:
    project_id = _uuid(envelope.payload.get("project_id"))
    return project_room(project_id) if project_id is not None else None


def _project_listeners(session: Session, envelope: Envelope) -> Hears:
    # The projects' own rule (projects/access.py): a member, or project:read_all.
    members = set(
        session.execute(
            text("SELECT user_id FROM project_members WHERE project_id = :p"),
            {"p": _uuid(envelope.payload.get("project_id"))},
        ).scalars()
    )
    return lambda user, granted: (
        granted is not None
        and (user in members or Permission.PROJECT_READ_ALL in granted.permissions)
    )


KINDS: tuple[RoomKind, ...] = (
    RoomKind(
        matches=CHANGE_EVENTS.__contains__,
        room=lambda _envelope: CHANGES,
        listeners=_change_listeners,
        id_key="change_id",
        keys=CHANGE_KEYS,
    ),
    RoomKind(
        matches=lambda event_type: event_type.startswith(PROJECT_PREFIXES),
        room=_project_room,
        listeners=_project_listeners,
        id_key="project_id",
        keys=PROJECT_KEYS,
    ),
)


def kind_of(event_type: str) -> RoomKind | None:
    """The room kind an event belongs to, if any."""
    return next((kind for kind in KINDS if kind.matches(event_type)), None)


def frame(envelope: Envelope, kind: RoomKind, room: str) -> dict[str, Any]:
    payload = envelope.payload
    data: dict[str, Any] = {
        k: payload[k] for k in kind.keys if isinstance(payload.get(k), str | int)
    }
    changed = payload.get("changed")
    if isinstance(changed, list) and all(isinstance(f, str) for f in changed):
        data["changed"] = changed[:50]
    return {
        "type": "event",
        "event": envelope.type,
        "event_id": str(envelope.event_id),
        "seq": envelope.seq,
        kind.id_key: data.get(kind.id_key),
        "channels": [room],
        "at": envelope.created_at.isoformat(),
        "data": data,
    }
