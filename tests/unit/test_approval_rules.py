"""The approval state machine, exhaustively: every rule, every seat count up to 5 and every
assignment of approve / reject / undecided to the seats, against a direct reading of the
rule (docs/approvals.md)."""

from __future__ import annotations

import itertools
import uuid

import pytest

from servicedesk.approvals.rules import (
    Decision,
    Next,
    Outcome,
    Rule,
    after_stage,
    needed,
    stage_outcome,
)

SEATS = [uuid.UUID(int=i + 1) for i in range(5)]


def _oracle(rule: Rule, quorum: int | None, n: int, approve: int, reject: int) -> Outcome:
    if rule is Rule.ANY:
        return Outcome.APPROVED if approve else Outcome.REJECTED if reject else Outcome.PENDING
    need = n if rule is Rule.ALL else min(quorum or 1, n)
    if approve >= need:
        return Outcome.APPROVED
    if n - reject < need:
        return Outcome.REJECTED
    return Outcome.PENDING


CASES = [(Rule.ANY, None), (Rule.ALL, None)] + [(Rule.QUORUM, q) for q in range(1, 7)]


@pytest.mark.parametrize(("rule", "quorum"), CASES)
def test_every_assignment_of_decisions(rule: Rule, quorum: int | None) -> None:
    for n in range(1, 6):
        seats = SEATS[:n]
        for votes in itertools.product((None, Decision.APPROVE, Decision.REJECT), repeat=n):
            decided = {s: v for s, v in zip(seats, votes, strict=True) if v is not None}
            approve = sum(1 for v in decided.values() if v is Decision.APPROVE)
            expected = _oracle(rule, quorum, n, approve, len(decided) - approve)
            if rule is Rule.ANY and approve and len(decided) > 1:
                continue  # unreachable: the first decision ended the stage
            assert stage_outcome(rule, quorum, seats, decided) is expected, (n, votes)


def test_decisions_of_non_seats_do_not_count() -> None:
    outsider = uuid.uuid4()
    assert stage_outcome(Rule.ANY, None, SEATS[:2], {outsider: Decision.APPROVE}) is Outcome.PENDING


def test_all_rejects_on_the_first_rejection() -> None:
    got = stage_outcome(Rule.ALL, None, SEATS[:3], {SEATS[0]: Decision.REJECT})
    assert got is Outcome.REJECTED


def test_quorum_two_of_three() -> None:
    one = {SEATS[0]: Decision.APPROVE}
    assert stage_outcome(Rule.QUORUM, 2, SEATS[:3], one) is Outcome.PENDING
    two = one | {SEATS[1]: Decision.APPROVE}
    assert stage_outcome(Rule.QUORUM, 2, SEATS[:3], two) is Outcome.APPROVED
    # One rejection leaves two seats for two approvals; two rejections do not.
    assert stage_outcome(Rule.QUORUM, 2, SEATS[:3], {SEATS[0]: Decision.REJECT}) is Outcome.PENDING
    both = {SEATS[0]: Decision.REJECT, SEATS[1]: Decision.REJECT}
    assert stage_outcome(Rule.QUORUM, 2, SEATS[:3], both) is Outcome.REJECTED


def test_needed_is_bounded_by_the_seats() -> None:
    assert needed(Rule.QUORUM, 9, 3) == 3
    assert needed(Rule.ALL, None, 0) == 1
    assert needed(Rule.ANY, None, 4) == 1


def test_a_request_moves_stage_by_stage() -> None:
    assert after_stage(Outcome.APPROVED, 0, 3) == Next("pending", 1)
    assert after_stage(Outcome.APPROVED, 2, 3) == Next("approved", None)
    assert after_stage(Outcome.REJECTED, 0, 3) == Next("rejected", None)
    assert after_stage(Outcome.PENDING, 1, 3) == Next("pending", None)
