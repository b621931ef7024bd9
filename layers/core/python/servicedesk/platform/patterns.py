"""Regular expressions over input we do not control run on RE2: linear time, no backtracking.

Python's ``re`` backtracks, so a pattern such as ``^(a+)+$`` against ``"a" * 50 + "!"``
takes longer than the universe has left, holding the GIL the whole time (health checks go
unanswered, SIGTERM waits). Every pattern a user writes (a custom field's ``pattern``
today; search or automation rules when they come) is compiled here, by RE2 (the
``google-re2`` wheel): matching is linear in the input, a pattern's compiled program is
bounded by ``max_mem``, and what RE2 cannot run (back-references, look-around) is refused
when the pattern is saved, never discovered when it is matched. ``linear()`` is the same
engine for our own fixed patterns that scan unbounded user text (log redaction).

RE2 is ECMAScript-like where Python is not: ``\\d``, ``\\w`` and ``\\s`` are ASCII
(as in JSON Schema), and ``\\Z`` is spelled ``\\z``.
"""

from __future__ import annotations

import functools
from typing import Protocol, cast

import re2

MAX_PATTERN_LENGTH = 500
# Matching is linear, but linear in what a requester sends: bound it as well.
MAX_SUBJECT_LENGTH = 10_000
# RE2's budget for one compiled pattern (its default is 8 MiB); a pattern past it is refused.
MAX_PROGRAM_MEMORY = 1 << 20


class Match(Protocol):
    def group(self, index: int = 0, /) -> str: ...


class Pattern(Protocol):
    """What we use of ``re2._Regexp`` (the package ships no type information)."""

    def search(self, text: str, /) -> Match | None: ...

    def fullmatch(self, text: str, /) -> Match | None: ...

    def sub(self, repl: str, text: str, /) -> str: ...


class PatternError(ValueError):
    """A pattern RE2 will not run, with a message fit for a field error."""


def _options() -> re2.Options:
    options = re2.Options()
    options.max_mem = MAX_PROGRAM_MEMORY
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    return options


@functools.lru_cache(maxsize=512)
def compile_user_pattern(pattern: str) -> Pattern:
    """The compiled pattern, or PatternError saying why it cannot be used."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"must be at most {MAX_PATTERN_LENGTH} characters")
    try:
        return cast(Pattern, re2.compile(pattern, _options()))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(
            f"not a regular expression the server can run ({reason}); back-references"
            " and look-around are not supported"
        ) from exc


def user_search(pattern: str, text: str) -> bool:
    """JSON Schema's unanchored match of a user's pattern; PatternError if it cannot run.

    Text longer than MAX_SUBJECT_LENGTH is a PatternError too: the caller names the field.
    """
    compiled = compile_user_pattern(pattern)
    if len(text) > MAX_SUBJECT_LENGTH:
        raise PatternError(
            f"must be at most {MAX_SUBJECT_LENGTH} characters to be checked against its pattern"
        )
    return compiled.search(text) is not None


def linear(pattern: str) -> Pattern:
    """One of our own patterns, compiled by RE2 for scanning text of any length."""
    return cast(Pattern, re2.compile(pattern, _options()))
