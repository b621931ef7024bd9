"""Risk assessment (pure): a tenant's questionnaire (questions, each with weighted
options), the answers given (question key -> option key), their score (the sum of the
chosen weights) and level (low / medium / high by the tenant's thresholds)."""

from __future__ import annotations

from typing import Any

from servicedesk.platform.errors import ValidationProblem, field_error

DEFAULT_QUESTIONS: list[dict[str, Any]] = [
    {
        "key": "impact",
        "text": "How many users does the change affect if it goes wrong?",
        "options": [
            {"key": "few", "label": "A few", "weight": 0},
            {"key": "team", "label": "A team or a site", "weight": 3},
            {"key": "all", "label": "Everyone", "weight": 6},
        ],
    },
    {
        "key": "tested",
        "text": "Was the change tested in a non-production environment?",
        "options": [
            {"key": "yes", "label": "Yes", "weight": 0},
            {"key": "partly", "label": "Partly", "weight": 2},
            {"key": "no", "label": "No", "weight": 4},
        ],
    },
    {
        "key": "backout",
        "text": "Can the change be backed out quickly?",
        "options": [
            {"key": "yes", "label": "Yes, in minutes", "weight": 0},
            {"key": "slow", "label": "Yes, in hours", "weight": 2},
            {"key": "no", "label": "No", "weight": 5},
        ],
    },
    {
        "key": "done_before",
        "text": "Has this kind of change been done before?",
        "options": [
            {"key": "often", "label": "Often", "weight": 0},
            {"key": "once", "label": "Once or twice", "weight": 1},
            {"key": "never", "label": "Never", "weight": 3},
        ],
    },
]
DEFAULT_MEDIUM_FROM = 5
DEFAULT_HIGH_FROM = 10


def score(questions: list[dict[str, Any]], answers: dict[str, str]) -> int:
    """The sum of the chosen options' weights. Every question answered with one of its
    options, no unknown question: else 422 naming ``risk_answers.<key>`` (all at once)."""
    errors = []
    total = 0
    known = {q["key"] for q in questions}
    for key in sorted(set(answers) - known):
        errors.append(field_error(f"risk_answers.{key}", "no such question"))
    for question in questions:
        chosen = answers.get(question["key"])
        weights = {o["key"]: int(o["weight"]) for o in question["options"]}
        if chosen is None:
            errors.append(field_error(f"risk_answers.{question['key']}", "required"))
        elif chosen not in weights:
            errors.append(field_error(f"risk_answers.{question['key']}", "not one of the options"))
        else:
            total += weights[chosen]
    if errors:
        raise ValidationProblem(errors=errors)
    return total


def level(value: int, medium_from: int, high_from: int) -> str:
    if value >= high_from:
        return "high"
    if value >= medium_from:
        return "medium"
    return "low"


def max_score(questions: list[dict[str, Any]]) -> int:
    return sum(max(int(o["weight"]) for o in q["options"]) for q in questions)
