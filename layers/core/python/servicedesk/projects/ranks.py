"""Fractional ranks: board order as strings compared bytewise (the column is COLLATE "C"),
so a task moves between two neighbours by taking a key between theirs and no other row is
renumbered.

Keys are base-62 fractions (digits ``0-9A-Za-z``, ascending in byte order) with no
trailing ``0``, read as 0.d1d2d3...; ``between(a, b)`` is a key strictly between them
(``None``: the start or the end). Inserting again and again at one spot lengthens keys by
about one digit per six inserts, so a key longer than ``MAX_LENGTH`` asks the caller to
re-spread a small run of neighbours (``spread``) instead: a local rebalance.
"""

from __future__ import annotations

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE = len(DIGITS)
INDEX = {d: i for i, d in enumerate(DIGITS)}
MAX_LENGTH = 24  # longer: re-spread the neighbours (the column allows 200)


def valid(key: str) -> bool:
    return bool(key) and all(c in INDEX for c in key) and not key.endswith("0")


def _midpoint(a: str, b: str | None) -> str:
    """A key strictly between fractions ``a`` ("" is 0) and ``b`` (None is 1)."""
    if b is not None:
        n = 0  # the common prefix, ``a`` padded with zeros
        while n < len(b) and (a[n] if n < len(a) else "0") == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:])
    low = INDEX[a[0]] if a else 0
    high = INDEX[b[0]] if b is not None else BASE
    if high - low > 1:
        return DIGITS[(low + high) // 2]
    if b is not None and len(b) > 1:
        return b[0]  # b is b[0] followed by more digits: b[0] alone is below it
    return DIGITS[low] + _midpoint(a[1:], None)


def between(a: str | None, b: str | None) -> str:
    """A key strictly between ``a`` and ``b`` (None: open end); ``a < b``."""
    if a is not None and b is not None and a >= b:
        raise ValueError(f"{a!r} is not below {b!r}")
    return _midpoint(a or "", b)


def spread(a: str | None, b: str | None, count: int) -> list[str]:
    """``count`` ascending keys strictly between ``a`` and ``b``, as short as bisection
    allows (about log62(count) digits beyond the bounds' common prefix)."""
    if count <= 0:
        return []
    middle = between(a, b)
    half = count // 2
    return [*spread(a, middle, half), middle, *spread(middle, b, count - half - 1)]
