"""The change state machine (pure): which moves a person may ask for, by change type.

``draft → assessment → approval → scheduled → implementing → review → closed``, with
``cancelled`` (before implementing) and ``failed`` (while implementing). A standard change
(from a pre-approved template) goes from draft straight to scheduled. ``approval →
scheduled`` (approved) and ``approval → draft`` (rejected) are the approval's outcome,
never a person's request.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    ASSESSMENT = "assessment"
    APPROVAL = "approval"
    SCHEDULED = "scheduled"
    IMPLEMENTING = "implementing"
    REVIEW = "review"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Type(StrEnum):
    STANDARD = "standard"
    NORMAL = "normal"
    EMERGENCY = "emergency"


S = State
# Finished: no move leaves them; their windows no longer collide.
FINISHED = frozenset({S.CLOSED, S.CANCELLED, S.FAILED})
# A person's moves, whatever the type (the type-specific ones below).
_COMMON: dict[State, frozenset[State]] = {
    S.DRAFT: frozenset({S.CANCELLED}),
    S.ASSESSMENT: frozenset({S.DRAFT, S.APPROVAL, S.CANCELLED}),
    S.APPROVAL: frozenset({S.CANCELLED}),
    S.SCHEDULED: frozenset({S.IMPLEMENTING, S.CANCELLED}),
    S.IMPLEMENTING: frozenset({S.REVIEW, S.FAILED}),
    S.REVIEW: frozenset({S.CLOSED}),
}
# States whose planned window must be set and outside every blackout (non-emergency).
SCHEDULING = frozenset({S.APPROVAL, S.SCHEDULED})
# States in which the plans, window, CIs and risk answers may still be edited.
EDITABLE = frozenset({S.DRAFT, S.ASSESSMENT})


def allowed(change_type: Type, current: State) -> frozenset[State]:
    """Where a person may move a change of ``change_type`` from ``current``."""
    moves = set(_COMMON.get(current, frozenset()))
    if current is S.DRAFT:
        moves.add(S.SCHEDULED if change_type is Type.STANDARD else S.ASSESSMENT)
    return frozenset(moves)


def can_move(change_type: Type, current: State, target: State) -> bool:
    return target in allowed(change_type, current)


def after_approval(decision: str) -> State:
    """An approval's outcome: approved schedules the change, rejected sends it back."""
    return S.SCHEDULED if decision == "approved" else S.DRAFT
