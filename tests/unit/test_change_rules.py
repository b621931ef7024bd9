"""The pure rules of change management: the state machine by change type, and risk
scoring from a questionnaire to a score and level."""

from __future__ import annotations

import itertools

import pytest

from servicedesk.changes import risk, states
from servicedesk.platform.errors import ValidationProblem

S = states.State
T = states.Type


def test_a_normal_change_walks_the_whole_path():
    path = [S.DRAFT, S.ASSESSMENT, S.APPROVAL]
    for current, target in itertools.pairwise(path):
        assert states.can_move(T.NORMAL, current, target)
    # Approval's outcome is the engine's, never a person's move.
    assert states.allowed(T.NORMAL, S.APPROVAL) == {S.CANCELLED}
    assert states.after_approval("approved") is S.SCHEDULED
    assert states.after_approval("rejected") is S.DRAFT
    rest = [S.SCHEDULED, S.IMPLEMENTING, S.REVIEW, S.CLOSED]
    for current, target in itertools.pairwise(rest):
        assert states.can_move(T.NORMAL, current, target)


def test_only_a_standard_change_skips_assessment_and_approval():
    assert states.allowed(T.STANDARD, S.DRAFT) == {S.SCHEDULED, S.CANCELLED}
    for kind in (T.NORMAL, T.EMERGENCY):
        assert not states.can_move(kind, S.DRAFT, S.SCHEDULED)
        assert states.can_move(kind, S.DRAFT, S.ASSESSMENT)


@pytest.mark.parametrize("kind", list(T))
def test_finished_states_move_nowhere_and_failure_only_while_implementing(kind):
    for finished in states.FINISHED:
        assert states.allowed(kind, finished) == frozenset()
    for current in S:
        assert states.can_move(kind, current, S.FAILED) == (current is S.IMPLEMENTING)
    # Once implementing, a change can no longer be cancelled.
    assert not states.can_move(kind, S.IMPLEMENTING, S.CANCELLED)
    assert not states.can_move(kind, S.REVIEW, S.CANCELLED)


def test_risk_score_and_level():
    questions = risk.DEFAULT_QUESTIONS
    low = {"impact": "few", "tested": "yes", "backout": "yes", "done_before": "often"}
    assert risk.score(questions, low) == 0
    high = {"impact": "all", "tested": "no", "backout": "no", "done_before": "never"}
    assert risk.score(questions, high) == risk.max_score(questions) == 18
    assert risk.level(0, 5, 10) == "low"
    assert risk.level(5, 5, 10) == "medium"
    assert risk.level(9, 5, 10) == "medium"
    assert risk.level(10, 5, 10) == "high"


def test_risk_answers_are_checked_all_at_once():
    with pytest.raises(ValidationProblem) as caught:
        risk.score(risk.DEFAULT_QUESTIONS, {"impact": "huge", "colour": "blue"})
    fields = [e["field"] for e in caught.value.errors]
    assert fields == [
        "risk_answers.colour",
        "risk_answers.impact",
        "risk_answers.tested",
        "risk_answers.backout",
        "risk_answers.done_before",
    ]
