"""Keyset pagination: every list answers ``{"items": [...], "next_cursor": ...}``.

A page orders by (sort key..., unique key) in one direction and continues strictly after
the last row's keys, so concurrent inserts never shift a page or repeat a row. The cursor
is those keys as base64url JSON; decoding checks each value's type before it reaches SQL,
so a cursor that decodes but holds the wrong values is a 422 naming ``cursor``, never a
database error.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, literal, tuple_
from sqlalchemy.orm import Session

from servicedesk.platform.errors import ValidationProblem, field_error

T = TypeVar("T")
R = TypeVar("R")
MAX_LIMIT = 100
MAX_CURSOR = 512
BIGINT = 2**63


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class BadCursor(ValueError):
    pass


def malformed(detail: str = "is not a cursor from a previous page") -> ValidationProblem:
    return ValidationProblem(
        f"cursor {detail}", errors=[{**field_error("cursor", detail), "in": "query"}]
    )


# --- the value kinds a key may hold: cursor JSON -> the Python value SQL compares ----------


def _text(value: Any) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise BadCursor
    return value


def _uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise BadCursor
    return uuid.UUID(value)


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise BadCursor
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise BadCursor
    return parsed


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -BIGINT <= value < BIGINT:
        raise BadCursor
    return value


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadCursor
    if isinstance(value, float) and not math.isfinite(value):
        raise BadCursor
    parsed = Decimal(str(value))
    if not parsed.is_finite() or len(parsed.as_tuple().digits) > 40:
        raise BadCursor
    return parsed


TEXT: Callable[[Any], Any] = _text
UUID: Callable[[Any], Any] = _uuid
TIMESTAMP: Callable[[Any], Any] = _timestamp
INTEGER: Callable[[Any], Any] = _integer
DECIMAL: Callable[[Any], Any] = _decimal


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    return value


@dataclass(frozen=True)
class Key:
    """One ordering key: the SQL expression, the kind of value, and how to read it from
    a result row (an attribute of the same name unless told)."""

    expr: Any
    kind: Callable[[Any], Any]
    read: Callable[[Any], Any] | None = None

    def value(self, row: Any) -> Any:
        if self.read is not None:
            return self.read(row)
        return attrgetter(self.expr.key)(row)


@dataclass(frozen=True)
class Keyset:
    """The ordering of one list: keys (the last one unique), all ascending or descending."""

    keys: Sequence[Key]
    descending: bool = False

    def decode(self, cursor: str | None) -> list[Any] | None:
        """The typed key values a cursor holds, or a 422 naming ``cursor``."""
        if cursor is None:
            return None
        if len(cursor) > MAX_CURSOR:
            raise malformed(f"must be at most {MAX_CURSOR} characters")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            values = json.loads(raw)
        except (binascii.Error, ValueError, RecursionError) as exc:
            raise malformed() from exc
        if not isinstance(values, list) or len(values) != len(self.keys):
            raise malformed()
        try:
            return [key.kind(v) for key, v in zip(self.keys, values, strict=True)]
        except (BadCursor, ValueError, TypeError, InvalidOperation, OverflowError) as exc:
            raise malformed() from exc

    def encode(self, row: Any) -> str:
        return encode_cursor([_plain(key.value(row)) for key in self.keys])

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """The predicate "strictly after these keys" in this ordering."""
        left = tuple_(*(key.expr for key in self.keys))
        right = tuple_(*(literal(v) for v in values))
        return left < right if self.descending else left > right

    def order_by(self) -> list[Any]:
        return [key.expr.desc() if self.descending else key.expr.asc() for key in self.keys]


def paginate(
    session: Session,
    query: Select[Any],
    keyset: Keyset,
    *,
    limit: int,
    cursor: str | None,
    scalars: bool = True,
) -> tuple[list[Any], str | None]:
    """One page of ``query`` in ``keyset`` order after ``cursor``: (rows, next cursor).

    ``scalars`` returns the first column of each row (an ORM entity); otherwise whole rows.
    """
    after = keyset.decode(cursor)
    if after is not None:
        query = query.where(keyset.after(after))
    query = query.order_by(*keyset.order_by()).limit(limit + 1)
    rows: list[Any] = list(session.scalars(query) if scalars else session.execute(query).all())
    nxt = keyset.encode(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], nxt


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
