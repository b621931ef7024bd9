"""Every pydantic error type reads as a phrase a person understands, never pydantic's own
wording ("String should have at least 3 characters")."""

from __future__ import annotations

import re
import typing
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import PydanticKnownError, core_schema

from servicedesk.platform.errors import (
    VALIDATION_MESSAGES,
    validation_errors,
    validation_message,
)

ERROR_TYPES = typing.get_args(core_schema.ErrorType)
CONTEXT_SAMPLES: dict[str, Any] = {
    "expected": "'low', 'normal' or 'high'",
    "expected_tags": "'a', 'b'",
    "expected_schemes": "'https'",
    "field_type": "List",
    "error": "must be HH:MM (00:00-24:00)",  # our validators phrase their own errors
}


def _known_error(kind: str) -> PydanticKnownError:
    """The error as pydantic builds it, with a sample for each context value it needs."""
    ctx: dict[str, Any] = {}
    for _ in range(6):
        try:
            return PydanticKnownError(kind, ctx or None)  # type: ignore[arg-type]
        except (KeyError, TypeError) as exc:
            missing = re.search(r"'(\w+)' required in context", str(exc))
            wrong = re.search(r"'(\w+)' context value must be a String", str(exc))
            if wrong:
                ctx[wrong.group(1)] = CONTEXT_SAMPLES.get(wrong.group(1), "sample")
                continue
            assert missing, exc
            ctx[missing.group(1)] = CONTEXT_SAMPLES.get(missing.group(1), 3)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ERROR_TYPES)
def test_every_pydantic_error_type_has_a_human_message(kind):
    known = _known_error(kind)
    error = {"type": kind, "loc": ("body", "x"), "msg": known.message(), "ctx": known.context}
    message = validation_message(error)
    assert kind in VALIDATION_MESSAGES or kind in ("value_error", "assertion_error")
    assert message != known.message()
    assert not re.search(r"\b(should|Input|Field required)\b", message), message
    assert message[0].islower() and "{" not in message, message


class _Form(BaseModel):
    title: Annotated[str, Field(min_length=3, max_length=5)]
    count: Annotated[int, Field(ge=1)]
    tags: Annotated[list[str], Field(min_length=1)]
    kind: typing.Literal["a", "b"]


@pytest.mark.parametrize(
    ("data", "field", "message", "code"),
    [
        ({"title": "ab"}, "title", "must be at least 3 characters", "string_too_short"),
        ({"title": "abcdefg"}, "title", "must be at most 5 characters", "string_too_long"),
        ({}, "count", "is required", "missing"),
        ({"count": 0}, "count", "must be at least 1", "greater_than_equal"),
        ({"count": "x"}, "count", "must be a whole number", "int_parsing"),
        ({"tags": []}, "tags", "must have at least one item", "too_short"),
        ({"kind": "c"}, "kind", "must be one of 'a' or 'b'", "literal_error"),
    ],
)
def test_real_errors_keep_field_and_code_and_read_as_phrases(data, field, message, code):
    with pytest.raises(ValidationError) as caught:
        _Form.model_validate(data)
    errors = {e["field"]: e for e in validation_errors(caught.value.errors())}
    assert errors[field]["detail"] == message and errors[field]["code"] == code
