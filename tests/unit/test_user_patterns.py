"""User-written regular expressions run on RE2: linear time, refused when RE2 cannot run them."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicedesk.catalog.jsonschema import validate
from servicedesk.platform.patterns import (
    MAX_PATTERN_LENGTH,
    MAX_SUBJECT_LENGTH,
    PatternError,
    compile_user_pattern,
    linear,
    user_search,
)

CATASTROPHIC = [
    (r"^(a+)+$", "a" * 50 + "!"),
    (r"^(a|a)*$", "a" * 50 + "!"),
    (r"^(a|aa)+$", "a" * 60 + "!"),
    (r"(x+x+)+y", "x" * 60),
    (r"^([a-z]+\d*)+@$", "abc1" * 30 + "!"),
]


@pytest.mark.parametrize(("pattern", "text"), CATASTROPHIC)
def test_catastrophic_patterns_answer_in_milliseconds(pattern, text):
    started = time.perf_counter()
    assert user_search(pattern, text) is False
    # Also at the largest input we match: linear, so still far below a second.
    user_search(pattern, text * (MAX_SUBJECT_LENGTH // len(text)))
    assert time.perf_counter() - started < 0.25


@pytest.mark.parametrize(
    "pattern",
    [r"(a)\1", r"(?P<x>a)(?P=x)", "a(?=b)", "a(?!b)", "(?<=a)b", "(?<!a)b", "(unclosed", "a{1001}"],
)
def test_patterns_re2_cannot_run_are_refused(pattern):
    with pytest.raises(PatternError):
        compile_user_pattern(pattern)


def test_pattern_length_and_program_size_are_bounded():
    with pytest.raises(PatternError, match="at most"):
        compile_user_pattern("a" * (MAX_PATTERN_LENGTH + 1))
    compile_user_pattern("a" * MAX_PATTERN_LENGTH)
    # Short to write, megabytes to compile: refused by RE2's memory budget.
    with pytest.raises(PatternError):
        compile_user_pattern("((((a{100}){100}){100}){100})")


def test_input_matched_is_bounded_and_named_on_the_field():
    schema = {"type": "object", "properties": {"f": {"type": "string", "pattern": "a"}}}
    assert validate(schema, {"f": "a" * MAX_SUBJECT_LENGTH}) == []
    errors = validate(schema, {"f": "a" * (MAX_SUBJECT_LENGTH + 1)})
    assert [e["field"] for e in errors] == ["custom_fields.f"]


def test_a_stored_pattern_re2_refuses_fails_the_value_not_the_request():
    # Saved before RE2: the field is refused with a message, nothing raises.
    schema = {"type": "object", "properties": {"f": {"type": "string", "pattern": r"(a)\1"}}}
    errors = validate(schema, {"f": "aa"})
    assert [e["field"] for e in errors] == ["custom_fields.f"]


def test_linear_scans_long_text_in_linear_time():
    email = linear(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
    started = time.perf_counter()
    assert email.sub("[email]", "a" * 200_000) == "a" * 200_000
    assert time.perf_counter() - started < 0.5
    assert email.sub("[email]", "mail x@y.org now") == "mail [email] now"


# --- RE2 agrees with Python's re on the patterns both can run ---------------------------

ATOMS = st.sampled_from(["a", "b", "c", ".", "[ab]", "[^a]", r"\d", "1", r"\w", "[a-c]"])


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return (
        st.tuples(children, children).map("".join)
        | st.tuples(children, children).map("|".join)
        | children.map(lambda p: f"({p})")
        | children.map(lambda p: f"(?:{p})")
        | st.tuples(children, st.sampled_from(["*", "+", "?", "{2}", "{1,3}", "*?", "+?"])).map(
            lambda t: f"(?:{t[0]}){t[1]}"
        )
    )


PATTERNS = st.tuples(
    st.sampled_from(["", "^"]),
    st.recursive(ATOMS, _combine, max_leaves=8),
    st.sampled_from(["", "$"]),
).map("".join)


@settings(max_examples=400, deadline=None)
@given(PATTERNS, st.text(alphabet="abc1 ", max_size=20))
def test_re2_agrees_with_re_on_simple_patterns(pattern, text):
    expected = re.search(pattern, text, re.ASCII)
    assert user_search(pattern, text) is (expected is not None)
