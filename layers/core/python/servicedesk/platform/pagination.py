"""Cursor pagination: every list answers ``{"items": [...], "next_cursor": ...}``."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from servicedesk.platform.errors import ValidationProblem, field_error

T = TypeVar("T")
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1-100)")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="Opaque cursor from a previous page")
]


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise ValidationProblem(errors=[field_error("cursor", "malformed cursor")]) from exc
    if not isinstance(values, list) or len(values) != arity:
        raise ValidationProblem(errors=[field_error("cursor", "malformed cursor")])
    return values
