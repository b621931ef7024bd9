"""The approval state machine, pure: a stage's outcome from its rule and its decisions, and
what a request does when a stage ends. No database, no clock; the service applies it under
row locks (service.decide), the tests walk it exhaustively (tests/unit/test_approval_rules.py).

A stage has a set of seats (the approvers resolved when it started, plus those an
escalation adds) and at most one decision per seat:

- ``any``: the first decision decides (approve approves the stage, reject rejects it);
- ``all``: every seat approves; one reject rejects;
- ``quorum`` N: N approvals approve; once more than ``seats - N`` seats rejected, N can no
  longer be reached and the stage is rejected. N above the number of seats is read as all.

A rejected stage rejects the request; an approved stage starts the next one, and the last
one approved approves the request.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass


class Rule(enum.StrEnum):
    ANY = "any"
    ALL = "all"
    QUORUM = "quorum"


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Outcome(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def needed(rule: Rule, quorum: int | None, seats: int) -> int:
    """Approvals the stage needs (at least 1, at most the seats)."""
    if rule is Rule.ANY:
        return 1
    if rule is Rule.ALL:
        return max(seats, 1)
    return max(1, min(quorum or 1, max(seats, 1)))


def stage_outcome(
    rule: Rule,
    quorum: int | None,
    seats: Collection[uuid.UUID],
    decisions: Mapping[uuid.UUID, Decision],
) -> Outcome:
    """The stage's outcome given one decision per seat (decisions of non-seats are
    ignored: a seat removed since cannot count)."""
    counted = {seat: d for seat, d in decisions.items() if seat in seats}
    approvals = sum(1 for d in counted.values() if d is Decision.APPROVE)
    rejections = len(counted) - approvals
    if rule is Rule.ANY:
        if approvals:
            return Outcome.APPROVED
        return Outcome.REJECTED if rejections else Outcome.PENDING
    need = needed(rule, quorum, len(seats))
    if approvals >= need:
        return Outcome.APPROVED
    if len(seats) - rejections < need:
        return Outcome.REJECTED
    return Outcome.PENDING


@dataclass(frozen=True)
class Next:
    """What a request does after a stage's outcome: its new state and the stage to start
    (None when it ends or waits)."""

    state: str
    start: int | None


def after_stage(outcome: Outcome, position: int, stages: int) -> Next:
    if outcome is Outcome.REJECTED:
        return Next("rejected", None)
    if outcome is Outcome.PENDING:
        return Next("pending", None)
    if position + 1 < stages:
        return Next("pending", position + 1)
    return Next("approved", None)
